"""Spelling-corrector variants compared by paired cross-validation: clean and typo macro-F1.

    .venv/bin/python bench/speller_cv.py --folds 3 --variant base:0:0:0 --variant ctx:100:20:5 ... [--json out.json]

A variant is ``name:domain_word_ratio:english_word_ratio:non_word_ratio[:slip]`` (clinic_nlu/spelling.py's
context step; ``0`` switches a kind off, ``base:0:0:0`` is the word-by-word corrector alone; ``slip``:
real words only in a message with an unknown word, ``real_words_after_a_slip``; ``short``: the
context step also reads typed words of two letters, ``context_min_letters: 2``; e.g.
``:slip:short``; ``guard=NAME``: which words the context step leaves alone, ``context_guard``:
triage_words (the default), symptom_words, negations, none; ``slips=N``: training-text slips seen
fewer than N times are not domain words, ``slip_min_count``; ``slipratio=R``: their known neighbour
must be R times as frequent, ``slip_ratio``, default 10). For each fold of
data/nlu.yml (StratifiedKFold, shuffle, seed 42, bench/cv_intents.py's folds) every variant's
speller is built on the training part only (its vocabulary and bigram counts, with domain.yml and
facts/facts.yml), corrects the training texts and the test texts (as written and with the typo
split's noise, seed 14), and the pipeline's classifier outside Rasa (bench/multi_topic_eval.py's
Model: TF-IDF word + char_wb, MiniLM, logistic regression; the FallbackClassifier's and
TopicMargin's rules from config.yml) is trained and scored. A fallback counts as an error.
Prints per variant the mean and worst-fold macro-F1 and the paired difference to the first
variant, how many test messages each variant's context step changed, and how many words of the
whole data/nlu.yml each variant leaves out as slips (with 30 examples). The held-out sets are never
read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from cv_intents import ENGLISH_WORDS, TYPO_SEED, decide  # noqa: E402
from multi_topic_eval import Model  # noqa: E402
from run_bench import load_examples  # noqa: E402

from clinic_nlu.minilm import MiniLMEncoder  # noqa: E402
from clinic_nlu.spelling import build_speller  # noqa: E402
from clinic_nlu.typo_noise import add_typos  # noqa: E402


def parse_variant(text: str) -> Tuple[str, Dict[str, Any]]:
    """A variant's name and its :func:`build_speller` keyword arguments (see the module docstring)."""
    name, domain, english, non, *rest = text.split(":")
    options = dict(r.split("=", 1) for r in rest if "=" in r)
    return name, {
        "ratios": (float(domain), float(english), float(non)),
        "real_words_after_a_slip": "slip" in rest,
        "context_min_letters": 2 if "short" in rest else 3,
        "context_guard": options.get("guard", "triage_words"),
        "slip_min_count": int(options.get("slips", 0)),
        "slip_ratio": float(options.get("slipratio", 10)),
    }


def describe(settings: Dict[str, Any]) -> str:
    """A variant's settings as a table label."""
    label = ", ".join(f"{r:g}" for r in settings["ratios"])
    label += ", after a slip" if settings["real_words_after_a_slip"] else ""
    label += ", 2-letter words" if settings["context_min_letters"] == 2 else ""
    label += f", guard {settings['context_guard']}"
    if settings["slip_min_count"]:
        label += f", slips: count < {settings['slip_min_count']}, ratio {settings['slip_ratio']:g}"
    return label


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "nlu.yml")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--variant",
        action="append",
        required=True,
        help="name:domain:english:non_word[:slip][:short][:guard=NAME][:slips=N][:slipratio=R]",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(list(argv) or None)
    variants = [parse_variant(v) for v in args.variant]
    texts, labels = load_examples(args.data)
    y = np.array(labels)
    encoder, cache = MiniLMEncoder(), {}
    scores: Dict[str, Dict[str, List[float]]] = {v[0]: {"clean": [], "typo": []} for v in variants}
    changed: Dict[str, Dict[str, int]] = {v[0]: {"clean": 0, "typo": 0} for v in variants}
    per_intent: Dict[str, Dict[str, Tuple[List[str], List[str]]]] = {v[0]: {} for v in variants}
    splits = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42).split(texts, y)
    for k, (tr, te) in enumerate(splits):
        train = [texts[i] for i in tr]
        sets = {"clean": [texts[i] for i in te], "typo": [add_typos(texts[i], seed=TYPO_SEED) for i in te]}
        gold = [labels[i] for i in te]
        base = build_speller(train, ENGLISH_WORDS)
        for name, settings in variants:
            speller = build_speller(train, ENGLISH_WORDS, **settings)
            model = Model(encoder, cache).fit([speller.correct(t)[0] for t in train], y[tr])
            for part, raw in sets.items():
                fixed = [speller.correct(t)[0] for t in raw]
                changed[name][part] += sum(1 for t, f in zip(raw, fixed) if f != base.correct(t)[0])
                pred = [decide(r) for r in model.rankings(fixed)]
                scores[name][part].append(
                    float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0))
                )
                g, p = per_intent[name].setdefault(part, ([], []))
                g.extend(gold)
                p.extend(pred)
            print(
                f"fold {k} {name}: clean {scores[name]['clean'][-1]:.4f} typo {scores[name]['typo'][-1]:.4f}",
                file=sys.stderr,
                flush=True,
            )
    first = variants[0][0]
    print(f"Command: `{' '.join(sys.argv)}`\n")
    print(
        "| variant (ratios: domain word, English word, non-word) | CV clean, mean (worst fold) "
        "| CV typo, mean (worst fold) "
        f"| clean minus {first}, mean (worst fold) | typo minus {first}, mean (worst fold) "
        "| test messages changed by the context step, clean / typo |"
    )
    print("|---|---|---|---|---|---|")
    for name, settings in variants:
        c, t = np.array(scores[name]["clean"]), np.array(scores[name]["typo"])
        dc, dt = c - np.array(scores[first]["clean"]), t - np.array(scores[first]["typo"])
        print(
            f"| {name} ({describe(settings)}) | {c.mean():.4f} ({c.min():.4f}) | {t.mean():.4f} ({t.min():.4f}) "
            f"| {dc.mean():+.4f} ({dc.min():+.4f}) | {dt.mean():+.4f} ({dt.min():+.4f}) "
            f"| {changed[name]['clean']} / {changed[name]['typo']} |"
        )
    print("\nper fold, typo minus " + first + " / clean minus " + first)
    for name, _ in variants:
        dt = np.array(scores[name]["typo"]) - np.array(scores[first]["typo"])
        dc = np.array(scores[name]["clean"]) - np.array(scores[first]["clean"])
        print(f"| {name} | " + " | ".join(f"{a:+.4f} / {b:+.4f}" for a, b in zip(dt, dc)) + " |")
    print("\nwords of the whole data/nlu.yml left out as slips (30 examples, alphabetical)")
    for name, settings in variants:
        slips = sorted(build_speller(texts, ENGLISH_WORDS, **settings).slips)
        print(f"| {name} | {len(slips)} | {', '.join(slips[:30])} |")
    weak = ("greet", "out_of_scope", "ask_not_covered")
    print("\nper-intent F1 over the pooled folds, clean / typo: " + ", ".join(weak))
    for name, _ in variants:
        cells = []
        for intent in weak:
            pair = []
            for part in ("clean", "typo"):
                g, p = per_intent[name][part]
                pair.append(f1_score(g, p, labels=[intent], average="macro", zero_division=0))
            cells.append(f"{pair[0]:.3f} / {pair[1]:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"scores": scores, "changed": changed}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
