"""Triage under typos: the held-out triage messages as written, with phone typos, and corrected.

    .venv/bin/python bench/typo_triage.py [--seed 14]
    .venv/bin/python bench/typo_triage.py --tuning-check [--seeds 3]

Reads tests/data/triage/heldout.yml (never tuned on), adds the seeded phone-typing noise of
clinic_nlu/typo_noise.py to each message, and triages (clinic_triage, shipped settings):
1. the messages as written; 2. with typos (what the triage component reads: the typed text);
3. the typo messages after the spelling corrector (clinic_nlu/spelling.py, vocabulary from
data/nlu.yml, domain.yml, facts/facts.yml); 4. the more severe of 2 and 3; 5. the most severe of
2, 3 and the word step's text (what the triage component reads: every reading).
Prints clinic_triage.evaluation's table for each and the corrector's median cost per message.

``--tuning-check`` reads the triage tuning parts (clinic_triage/corpus/tune*.yml) with seeds 0 to
``--seeds`` - 1 of the same noise instead, and counts the texts whose level the context step makes
less severe than the word step alone gives (typed text read too): reading the typed and the
corrected text only, and reading every reading (shipped; must be 0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clinic_nlu.typo_noise import add_typos  # noqa: E402
from clinic_triage import evaluation, semantic  # noqa: E402
from clinic_triage.engine import default_triage  # noqa: E402
from config_speller import config_speller  # noqa: E402
from run_bench import load_examples  # noqa: E402

SEVERITY = {"none": 0, "urgent": 1, "crisis": 2, "emergency": 3}


def most_severe(*levels: str) -> str:
    """The most severe of triage levels."""
    return max(levels, key=SEVERITY.__getitem__)


def tuning_check(seeds: int) -> None:
    """Texts of the tuning parts whose level the context step lowers, by what triage reads."""
    corpus = semantic.load_corpus(sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml")))
    speller = config_speller(load_examples(ROOT / "data" / "nlu.yml")[0])
    triage = default_triage()
    texts = changed = lower_two = lower_every = 0
    for message in corpus:
        for seed in range(seeds):
            typed = add_typos(message["text"], seed)
            word_step, corrected, _ = speller.readings(typed)
            texts += 1
            if corrected == word_step:
                continue
            changed += 1
            typed_level, word_level, context_level = (triage.assess(t).level for t in (typed, word_step, corrected))
            without = SEVERITY[most_severe(typed_level, word_level)]
            if SEVERITY[most_severe(typed_level, context_level)] < without:
                lower_two += 1
                print(f"lower when reading typed + corrected only: {typed!r} -> {word_step!r} -> {corrected!r}")
            if SEVERITY[most_severe(typed_level, word_level, context_level)] < without:
                lower_every += 1
    print(
        f"{len(corpus)} tuning messages x {seeds} seeds = {texts} texts; the context step changed "
        f"{changed}; less severe than without it: {lower_two} reading typed + corrected, "
        f"{lower_every} reading every reading (shipped)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--tuning-check", action="store_true")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if args.tuning_check:
        tuning_check(args.seeds)
        return
    corpus = semantic.load_corpus([ROOT / "tests" / "data" / "triage" / "heldout.yml"])
    texts, labels = [m["text"] for m in corpus], [m["level"] for m in corpus]
    noisy = [add_typos(t, args.seed) for t in texts]
    speller = config_speller(load_examples(ROOT / "data" / "nlu.yml")[0])  # config.yml's settings
    costs, corrected, word_step = [], [], []
    for text in noisy:
        started = time.perf_counter()
        word_text, corrected_text, _ = speller.readings(text)
        costs.append((time.perf_counter() - started) * 1000)
        corrected.append(corrected_text)
        word_step.append(word_text)
    triage = default_triage()
    level = {}
    parts = (("as written", texts), ("with typos", noisy), ("with typos, corrected", corrected))
    for name, part in (*parts, ("with typos, word step", word_step)):
        level[name] = [triage.assess(t).level for t in part]
        print(
            evaluation.format_report(
                f"held-out triage messages {name} (seed {args.seed})", evaluation.report(labels, level[name])
            ),
            "\n",
        )
    either = [most_severe(a, b) for a, b in zip(level["with typos"], level["with typos, corrected"])]
    every = [most_severe(a, b) for a, b in zip(either, level["with typos, word step"])]
    for name, part in (("the more severe of typed and corrected", either), ("every reading (shipped)", every)):
        print(evaluation.format_report(f"with typos, {name}", evaluation.report(labels, part)), "\n")
    print(
        f"spelling corrector: median {statistics.median(costs):.3f} ms per message "
        f"(p90 {sorted(costs)[int(0.9 * len(costs))]:.3f} ms), {len(texts)} messages"
    )


if __name__ == "__main__":
    main()
