"""The not-English test (clinic_nlu/language.py): false positives, catches and cost per message.

    .venv/bin/python bench/language_check.py [--repeats 20]

False positives: every example of data/nlu.yml, every text of clinic_triage/corpus/ and the development
sets tests/data/not_covered_dev.yml and tests/data/unanswered/dev.yml (misspelt, non-native and slang
English). The held-out sets are not read (tests/test_not_covered.py checks that callback answers are
never flagged, over HTTP). Catches: the
development set tests/data/not_english_dev.yml (per language). Short messages: the development set
tests/data/not_english_short_dev.yml (one to three words; its foreign messages caught per language, its
English ones, chat words, typos and names, that must not be flagged). Typos: the English texts with
seeded phone-typing slips (clinic_nlu/typo_noise.py, seeds 1 to 5, as the typo split of the NLU
evaluation makes them), flagged with and without the list of other languages' words
(clinic_nlu/foreign_words.txt; without it the test is the one before the list). Cost: the median and p90 time of one
message's test, over all of these texts, after the word lists are built (built once per process).
No held-out set is read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List

import dataclasses

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_nlu.language import language_check  # noqa: E402
from clinic_nlu.typo_noise import add_typos  # noqa: E402


def _strings(node: Any, key: str = "text") -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _strings(v, key)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, str):
                yield v
            else:
                yield from _strings(v, key)


def english_sets() -> Dict[str, List[str]]:
    """The English texts, by source."""
    out: Dict[str, List[str]] = {}
    nlu = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]
    out["data/nlu.yml"] = [
        line.strip()[2:].strip()
        for block in nlu
        for line in (block.get("examples") or "").splitlines()
        if line.strip().startswith("- ")
    ]
    corpus: List[str] = []
    for path in sorted((ROOT / "clinic_triage" / "corpus").glob("*.yml")):
        corpus += list(_strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
    out["clinic_triage/corpus"] = corpus
    for name in ("tests/data/not_covered_dev.yml", "tests/data/unanswered/dev.yml"):
        out[name] = list(_strings(yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))))
    return out


def foreign_set() -> Dict[str, List[str]]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "not_english_dev.yml").read_text(encoding="utf-8"))
    return {lang: list(texts) for lang, texts in data["messages"].items()}


def short_set() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "tests" / "data" / "not_english_short_dev.yml").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    check = language_check()
    print(f"word lists built in {time.perf_counter() - started:.2f} s")
    everything: List[str] = []
    english = english_sets()
    without_list = dataclasses.replace(check, listed={})
    for name in ("data/nlu.yml", "clinic_triage/corpus"):
        for seed in range(1, 6):
            noisy = [add_typos(t, seed) for t in english[name]]
            new = [t for t in noisy if check.not_english(t) and not without_list.not_english(t)]
            print(
                f"typos seed {seed}, {name}: {sum(map(without_list.not_english, noisy))} flagged without the list, "
                f"{sum(map(check.not_english, noisy))} with it"
            )
            for t in new:
                print(f"    newly {check.read(t)} | {t}")
    for name, texts in english.items():
        wrong = [t for t in texts if check.not_english(t)]
        everything += texts
        print(f"English {name}: {len(wrong)} of {len(texts)} flagged")
        for t in wrong:
            print(f"    {check.read(t)} | {t}")
    caught = total = 0
    for lang, texts in foreign_set().items():
        hits = [t for t in texts if check.not_english(t)]
        caught, total = caught + len(hits), total + len(texts)
        everything += texts
        print(f"not English {lang}: {len(hits)} of {len(texts)} caught")
        for t in texts:
            if t not in hits:
                print(f"    missed {check.read(t)} | {t}")
    print(f"caught {caught} of {total} ({100 * caught / total:.0f} %)")
    short = short_set()
    caught = total = 0
    for lang, texts in short["not_english"].items():
        hits = [t for t in texts if check.not_english(t)]
        caught, total = caught + len(hits), total + len(texts)
        everything += texts
        print(f"short, not English {lang}: {len(hits)} of {len(texts)} caught")
        for t in texts:
            if t not in hits:
                print(f"    missed {check.read(t)} | {t}")
    print(f"short: caught {caught} of {total} ({100 * caught / total:.0f} %)")
    wrong = [t for t in short["english"] if check.not_english(t)]
    everything += short["english"]
    print(f"short, English: {len(wrong)} of {len(short['english'])} flagged")
    for t in wrong:
        print(f"    {check.read(t)} | {t}")
    times: List[float] = []
    for _ in range(args.repeats):
        for text in everything:
            t0 = time.perf_counter_ns()
            check.not_english(text)
            times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    p90 = times[int(0.9 * len(times))]
    print(f"cost per message over {len(times)} tests: median {statistics.median(times):.1f} us, p90 {p90:.1f} us")


if __name__ == "__main__":
    main()
