"""How often the unmasked triage reading (clinic_nlu/unmask.py) differs from the typed text, and whether
it raises any message's level: the triage tuning corpus and data/nlu.yml's examples.

    nice -n 10 .venv/bin/python bench/unmask_reading.py

Prints how many texts read differently, the (label, typed level, unmasked level) of every text the
reading raises, and those texts. BENCHMARKS.md (security walk) has the decision it informed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_nlu.unmask import unmasked  # noqa: E402
from clinic_triage.engine import LEVELS, default_triage  # noqa: E402


def texts() -> List[Tuple[str, str, str]]:
    """(source, text, label) of every tuning-corpus message and NLU example."""
    found = []
    for path in sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml")):
        for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]:
            found.append((path.name, m["text"], m["level"]))
    for item in yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]:
        intent = item.get("intent", "")
        for line in (item.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                found.append((f"nlu:{intent}", line.strip()[2:], "report" if intent.startswith("report_") else "none"))
    return found


def main() -> None:
    triage = default_triage()
    all_texts = texts()
    changed, raised = 0, Counter()
    for source, text, label in all_texts:
        plain = unmasked(text)
        if plain is text:
            continue
        changed += 1
        typed, read = triage.assess(text).level, triage.assess(plain).level
        if LEVELS.index(read) < LEVELS.index(typed):
            raised[(label, typed, read)] += 1
            print(f"raised: {source} {label} {typed} -> {read}: {text!r} read {plain!r}")
    print(f"{len(all_texts)} texts, {changed} read differently, raised: {dict(raised)}")


if __name__ == "__main__":
    main()
