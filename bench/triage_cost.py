"""Per-message cost of the triage: the rules of a git revision against the working tree's, in one process.

  .venv/bin/python bench/triage_cost.py --against HEAD~1 [--repeats 3]
  # the same rules; A's second reader without the sentence embedding, B's with it (embedding_weight)
  .venv/bin/python bench/triage_cost.py --against HEAD --a-embedding-weight 0 --b-embedding-weight 1

Both pipelines (rules from ``clinic_triage/rules/`` at the revision and in the working tree, each with
the shipped second reader) assess the same messages one at a time, alternating A, B, B, A ... so that
the machine's drift hits both the same. The messages are the tuning corpus and the NLU training
questions (never a held-out part: only the time is measured here). Prints the median and p90 time
of one ``assess`` call for each, over all messages and over the ordinary questions alone. Each text
is new to the embedding cache when it is assessed (the cache holds far fewer texts than one round).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_triage import semantic  # noqa: E402
from clinic_triage.engine import RULES_DIR, Triage, load_rules  # noqa: E402


def rules_at(revision: str) -> Path:
    """``clinic_triage/rules/*.yml`` as they were at ``revision``, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="triage-rules-"))
    for name in ("targets.yml", "context.yml"):
        blob = subprocess.run(
            ["git", "show", f"{revision}:clinic_triage/rules/{name}"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        (folder / name).write_bytes(blob)
    return folder


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD~1", help="git revision whose rules are A")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--a-embedding-weight", type=float, help="A's embedding_weight (default: as shipped)")
    parser.add_argument("--b-embedding-weight", type=float, help="B's embedding_weight (default: as shipped)")
    args = parser.parse_args()
    shipped = semantic.load_settings()
    settings, b_settings = (
        shipped if weight is None else dataclasses.replace(shipped, embedding_weight=weight)
        for weight in (args.a_embedding_weight, args.b_embedding_weight)
    )
    corpus = [m["text"] for m in semantic.load_corpus(settings.corpus_files)]
    questions = semantic.calm_examples(settings)
    pipelines = {
        "A": Triage(load_rules(rules_at(args.against)), settings),
        "B": Triage(load_rules(RULES_DIR), b_settings),
    }
    times: Dict[str, Dict[str, List[float]]] = {k: {"corpus": [], "questions": []} for k in pipelines}
    for repeat in range(args.repeats):
        for kind, texts in (("corpus", corpus), ("questions", questions)):
            for i, text in enumerate(texts):
                order = ("A", "B") if (i + repeat) % 2 == 0 else ("B", "A")
                for name in order:
                    started = time.perf_counter()
                    pipelines[name].assess(text)
                    times[name][kind].append(1000 * (time.perf_counter() - started))
    print(
        f"rules A = {args.against}, B = working tree; {len(corpus)} corpus messages and {len(questions)} "
        f"NLU questions, {args.repeats} repeats, alternated; embedding_weight A {settings.embedding_weight}, "
        f"B {b_settings.embedding_weight}"
    )
    print("| rules | all, median / p90 ms | corpus messages, median | ordinary questions, median |\n|---|---|---|---|")
    for name, kinds in times.items():
        every = kinds["corpus"] + kinds["questions"]
        print(
            f"| {name} | {statistics.median(every):.2f} / {percentile(every, 0.9):.2f} | "
            f"{statistics.median(kinds['corpus']):.2f} | {statistics.median(kinds['questions']):.2f} |"
        )


if __name__ == "__main__":
    main()
