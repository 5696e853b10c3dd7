"""Triage under typos: the held-out triage messages as written, with phone typos, and corrected.

    .venv/bin/python bench/typo_triage.py [--seed 14]

Reads tests/data/triage/heldout.yml (never tuned on), adds the seeded phone-typing noise of
clinic_nlu/typo_noise.py to each message, and triages (clinic_triage, shipped settings):
1. the messages as written; 2. with typos (what the triage component reads: the typed text);
3. the typo messages after the spelling corrector (clinic_nlu/spelling.py, vocabulary from
data/nlu.yml, domain.yml, facts/facts.yml); 4. the more severe of 2 and 3 (triage of both texts).
Prints clinic_triage.evaluation's table for each and the corrector's median cost per message.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    corpus = semantic.load_corpus([ROOT / "tests" / "data" / "triage" / "heldout.yml"])
    texts, labels = [m["text"] for m in corpus], [m["level"] for m in corpus]
    noisy = [add_typos(t, args.seed) for t in texts]
    speller = config_speller(load_examples(ROOT / "data" / "nlu.yml")[0])  # config.yml's settings
    costs, corrected = [], []
    for text in noisy:
        started = time.perf_counter()
        corrected.append(speller.correct(text)[0])
        costs.append((time.perf_counter() - started) * 1000)
    triage = default_triage()
    level = {}
    for name, part in (("as written", texts), ("with typos", noisy), ("with typos, corrected", corrected)):
        level[name] = [triage.assess(t).level for t in part]
        print(
            evaluation.format_report(
                f"held-out triage messages {name} (seed {args.seed})", evaluation.report(labels, level[name])
            ),
            "\n",
        )
    either = [max(a, b, key=SEVERITY.__getitem__) for a, b in zip(level["with typos"], level["with typos, corrected"])]
    print(
        evaluation.format_report(
            "with typos, the more severe of typed and corrected", evaluation.report(labels, either)
        ),
        "\n",
    )
    print(
        f"spelling corrector: median {statistics.median(costs):.3f} ms per message "
        f"(p90 {sorted(costs)[int(0.9 * len(costs))]:.3f} ms), {len(texts)} messages"
    )


if __name__ == "__main__":
    main()
