"""Per-message cost of typo robustness: two models' in-process parse time, measured in alternation.

    .venv/bin/python bench/typo_cost.py var/model-before.tar.gz models/spine-clinic.tar.gz [--repeats 3]

Both models are loaded in one process and parse the held-out messages (tests/nlu_test.yml and its
typo split) one at a time, alternating A, B, B, A ... so that the machine's drift hits both the
same. Prints the median and p90 parse time per message of each, and, for the spelling corrector
alone (clinic_nlu/spelling.py, vocabulary from data/nlu.yml), its median cost per message: the word
step only, and with config.yml's settings (its context step).
A parse here is the whole NLU pipeline of a turn (corrector, features, classifier, triage); a turn
over HTTP adds the policies, the action server and the tracker store (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from run_bench import load_examples  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    texts = load_examples(ROOT / "tests" / "nlu_test.yml")[0] + load_examples(ROOT / "tests" / "nlu_test_typos.yml")[0]
    agents = {str(args.a): Agent.load(str(args.a)), str(args.b): Agent.load(str(args.b))}
    times: Dict[str, List[float]] = {name: [] for name in agents}

    async def run() -> None:
        for name, agent in agents.items():  # warm-up
            for text in texts[:20]:
                await agent.parse_message(text)
        order = list(agents)
        for round_ in range(args.repeats):
            for text in texts:
                for name in order if round_ % 2 == 0 else order[::-1]:
                    started = time.perf_counter()
                    await agents[name].parse_message(text)
                    times[name].append((time.perf_counter() - started) * 1000)

    asyncio.run(run())
    print(f"Command: `{' '.join(sys.argv)}`\n")
    print(f"{len(texts)} held-out messages (clean + typo) x {args.repeats}, alternating\n")
    print("| model | parse ms/message, median | p90 |\n|---|---|---|")
    for name, values in times.items():
        values = sorted(values)
        print(f"| {name} | {statistics.median(values):.2f} | {values[int(0.9 * len(values))]:.2f} |")

    from clinic_nlu.spelling import build_speller
    from config_speller import config_speller, corrector_settings

    training = load_examples(ROOT / "data" / "nlu.yml")[0]
    spellers = {
        "word step only": build_speller(training, int(corrector_settings().get("english_words", 50000))),
        "config.yml (with its context step, if on)": config_speller(training),
    }
    for name, speller in spellers.items():
        for label, part in (("clean", texts[: len(texts) // 2]), ("typo", texts[len(texts) // 2 :])):
            costs = []
            for _ in range(args.repeats):
                for text in part:
                    started = time.perf_counter()
                    speller.correct(text)
                    costs.append((time.perf_counter() - started) * 1000)
            changed = sum(1 for text in part if speller.correct(text)[1])
            print(
                f"\nspelling corrector alone ({name}), {label} held-out: median {statistics.median(costs):.3f} ms "
                f"per message, p90 {sorted(costs)[int(0.9 * len(costs))]:.3f} ms; "
                f"{changed}/{len(part)} messages changed"
            )


if __name__ == "__main__":
    main()
