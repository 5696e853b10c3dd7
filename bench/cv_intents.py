"""Per-intent cross-validation on the training data: where data/nlu.yml has gaps.

    .venv/bin/python bench/cv_intents.py [--data data/nlu.yml] [--folds 5] [--typos] [--confusions 25]

The pipeline's features and classifier outside Rasa (TF-IDF word 1-2 + char_wb 2-5, MiniLM sentence
embedding x dense_weight, logistic regression with the config's C; bench/multi_topic_eval.py's
Model), with the pipeline's own decisions around them: the spelling corrector built on the training
folds corrects training and test texts (clinic_nlu/spelling.py), then the FallbackClassifier's
threshold and ambiguity rule and TopicMargin's rule (clinic_nlu/topic_margin.py), all read from
config.yml. A fallback counts as an error. Stratified k-fold (shuffle, seed 42); the held-out sets
are never read here.

Prints the macro-F1 (mean ± sd over the folds), each intent's precision, recall and F1 over the
pooled folds (weakest first), the not-covered honesty (share of the ``ask_not_covered`` examples
that come out as such; and those given a fact topic instead), the topic questions turned into
"not covered", and the most frequent confusions with an example each. ``--typos`` scores every
test fold a second time with the typo split's noise (clinic_nlu/typo_noise.py, seed 14).
``--sweep`` also prints, on the same folds' rankings, the macro-F1 and not-covered figures for other
values of TopicMargin's ``min_topic_confidence`` and the FallbackClassifier's threshold (how these
are tuned: by CV on the training data, never on the held-out sets).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score, precision_recall_fscore_support  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from multi_topic_eval import CONFIG, FALLBACK, MIN_TOPIC, Model  # noqa: E402
from config_speller import config_speller  # noqa: E402
from run_bench import load_examples  # noqa: E402

from clinic_nlu.minilm import MiniLMEncoder  # noqa: E402
from clinic_nlu.topic_margin import not_covered_instead  # noqa: E402
from clinic_nlu.typo_noise import add_typos  # noqa: E402
from clinic_vocabulary import FACT_TOPIC_INTENTS, NOT_COVERED_INTENT  # noqa: E402

TYPO_SEED = 14  # the seed of tests/nlu_test_typos.yml (scripts/make_typos.py)
_SPELLER = next(c for c in CONFIG["pipeline"] if c["name"].endswith("SpellingCorrector"))
ENGLISH_WORDS = int(_SPELLER.get("english_words", 50000))


MARGIN_GRID = (0.4, 0.5, 0.6, 0.7, 0.8)
FALLBACK_GRID = (0.2, 0.25, 0.3, 0.35, 0.4)


def decide(ranking: List[Dict], min_topic: float = MIN_TOPIC, fallback: float = float(FALLBACK["threshold"])) -> str:
    """The intent the pipeline sets from a ranking: the FallbackClassifier's threshold and ambiguity
    rule, then TopicMargin's rule (clinic_nlu/topic_margin.py)."""
    top, second = ranking[0], ranking[1] if len(ranking) > 1 else {"confidence": 0.0}
    margin = top["confidence"] - second["confidence"]
    unsure = top["confidence"] < fallback or margin < FALLBACK["ambiguity_threshold"]
    name = "nlu_fallback" if unsure else str(top["name"])
    if not_covered_instead(name, float(top["confidence"]), ranking, FACT_TOPIC_INTENTS, NOT_COVERED_INTENT, min_topic):
        return NOT_COVERED_INTENT
    return name


RANKINGS: Dict[str, List[Tuple[int, str, List[Dict]]]] = {}  # per set: (fold, gold, ranking)


def sweep(name: str) -> None:
    """Macro-F1 and not-covered figures for other margins and fallback thresholds, same rankings."""
    rows = RANKINGS[name]
    print(f"\n== {name}: sweep (config: min_topic_confidence {MIN_TOPIC}, fallback threshold {FALLBACK['threshold']})")
    print(
        "min_topic_confidence | fallback threshold | macro-F1 (mean of folds) | not covered honest | "
        "not covered given a topic | topics turned into not covered"
    )
    for m in MARGIN_GRID:
        for fb in FALLBACK_GRID:
            pred = [decide(r, m, fb) for _, _, r in rows]
            gold = [g for _, g, _ in rows]
            folds = sorted({k for k, _, _ in rows})
            f1 = np.mean(
                [
                    f1_score(
                        [g for (k, g, _) in rows if k == f],
                        [p for (k, _, _), p in zip(rows, pred) if k == f],
                        labels=sorted(set(gold)),
                        average="macro",
                        zero_division=0,
                    )
                    for f in folds
                ]
            )
            nc = [p for g, p in zip(gold, pred) if g == NOT_COVERED_INTENT]
            topic = [p for g, p in zip(gold, pred) if g in FACT_TOPIC_INTENTS]
            honest = np.mean([p == NOT_COVERED_INTENT for p in nc])
            given_topic = np.mean([p in FACT_TOPIC_INTENTS for p in nc])
            lost = np.mean([p == NOT_COVERED_INTENT for p in topic])
            print(f"{m:.2f} | {fb:.2f} | {f1:.4f} | {honest:.3f} | {given_topic:.3f} | {lost:.3f}")


def run(data: Path, folds: int, typos: bool) -> Dict[str, Tuple[List[str], List[str], List[str], List[float]]]:
    texts, labels = load_examples(data)
    y = np.array(labels)
    encoder, cache = MiniLMEncoder(), {}
    out: Dict[str, Tuple[List[str], List[str], List[str], List[float]]] = {"clean": ([], [], [], [])}
    if typos:
        out["typo"] = ([], [], [], [])
    for k, (tr, te) in enumerate(StratifiedKFold(n_splits=folds, shuffle=True, random_state=42).split(texts, y)):
        speller = config_speller([texts[i] for i in tr])  # config.yml's settings, context step included
        fix = lambda t: speller.correct(t)[0]  # noqa: E731
        model = Model(encoder, cache).fit([fix(texts[i]) for i in tr], y[tr])
        sets = {"clean": [texts[i] for i in te]}
        if typos:
            sets["typo"] = [add_typos(texts[i], seed=TYPO_SEED) for i in te]
        for name, raw in sets.items():
            rankings = model.rankings([fix(t) for t in raw])
            pred = [decide(r) for r in rankings]
            gold = [labels[i] for i in te]
            RANKINGS.setdefault(name, []).extend((k, g, r) for g, r in zip(gold, rankings))
            out[name][0].extend(gold)
            out[name][1].extend(pred)
            out[name][2].extend(raw)
            out[name][3].append(float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0)))
        print(f"fold {k + 1}/{folds} done", file=sys.stderr)
    return out


def report(name: str, gold: List[str], pred: List[str], raw: List[str], fold_f1: List[float], confusions: int) -> Dict:
    intents = sorted(set(gold))
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=intents, zero_division=0)
    nc = [g == NOT_COVERED_INTENT for g in gold]
    honest = np.mean([q == NOT_COVERED_INTENT for q, m in zip(pred, nc) if m])
    wrong_topic = np.mean([q in FACT_TOPIC_INTENTS for q, m in zip(pred, nc) if m])
    topic_lost = np.mean([q == NOT_COVERED_INTENT for g, q in zip(gold, pred) if g in FACT_TOPIC_INTENTS])
    print(
        f"\n== {name}: {len(gold)} examples, macro-F1 {np.mean(fold_f1):.3f} ± {np.std(fold_f1):.3f} "
        f"(folds: {', '.join(f'{x:.3f}' for x in fold_f1)})"
    )
    print(
        f"not covered: honest {honest:.3f}, given a fact topic {wrong_topic:.3f}; "
        f"topic questions turned into not covered {topic_lost:.3f}"
    )
    print("intent | n | precision | recall | F1")
    for i in sorted(range(len(intents)), key=lambda i: f[i]):
        print(f"{intents[i]:24} | {n[i]:3d} | {p[i]:.3f} | {r[i]:.3f} | {f[i]:.3f}")
    pairs = Counter((g, q) for g, q in zip(gold, pred) if g != q)
    example = {(g, q): t for g, q, t in zip(gold, pred, raw) if g != q}
    print("confusions (gold -> predicted: count, an example)")
    for (g, q), c in pairs.most_common(confusions):
        print(f"  {g} -> {q}: {c}  {example[(g, q)]!r}")
    return {
        "macro_f1": float(np.mean(fold_f1)),
        "macro_f1_sd": float(np.std(fold_f1)),
        "not_covered_honest": float(honest),
        "not_covered_fact_topic": float(wrong_topic),
        "topic_to_not_covered": float(topic_lost),
        "per_intent_f1": {i: float(x) for i, x in zip(intents, f)},
    }


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "nlu.yml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--typos", action="store_true", help="also score each test fold with typo noise")
    parser.add_argument("--confusions", type=int, default=25)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--sweep", action="store_true", help="also other margins and fallback thresholds")
    args = parser.parse_args(list(argv) or None)
    runs = run(args.data, args.folds, args.typos)
    results = {name: report(name, *res, args.confusions) for name, res in runs.items()}
    if args.sweep:
        for name in RANKINGS:
            sweep(name)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
