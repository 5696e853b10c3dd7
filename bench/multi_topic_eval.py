"""Two questions in one message: compare the two detectors, calibrate on training data, then test.

    .venv/bin/python bench/multi_topic_eval.py [--folds 5] [--pairs-per-fold 300] [--max-false-split 0.02]

(a) split: sentence + conjunction splitting (clinic_nlu/question_parts.py), each part classified,
    a part's topic kept when its confidence reaches a threshold;
    Like the runtime (clinic_nlu/multi_topic.py), only when the whole message was read as a fact
    topic or not understood, and with a question about the patient's own case put first;
(b) multi-label: every topic of the whole message's intent ranking whose probability reaches a
    threshold (the order asked cannot be read from a ranking).

Both use the pipeline's features and classifier outside Rasa (TF-IDF word 1-2 + char_wb 2-5,
MiniLM sentence embedding x dense_weight, logistic regression with the config's C), as
bench/tune_linear.py does. Thresholds are chosen by stratified k-fold cross-validation on
data/nlu.yml ONLY: in each fold the classifier is trained on the other folds; the held-out fold's
examples are the single-topic questions, and seeded synthetic two-topic messages are made by joining
two of its examples of different topics with the joiners patients use. The chosen threshold is the
one detecting most synthetic pairs while splitting at most ``--max-false-split`` of the single
questions. Only then are the held-out sets read, once, with the classifier trained on all of
data/nlu.yml: tests/data/multi_topic.yml (two- and three-topic messages) and tests/nlu_test.yml
(single questions, which must not be split).

A second table calibrates the same way how a part that the sheet does not answer is read
(``ask_not_covered``, e.g. "how long is recovery and who is the surgeon?"): seeded synthetic
messages join a fact-topic question and a not-covered question of the held-out fold (both orders);
the not-covered part's own threshold and the variants of the runtime's rules (whether a whole
message read as not covered may be split; whether a part gets the topic margin of
clinic_nlu/topic_margin.py) are chosen by the most mixed messages found, in order, with at most
``--max-false-split`` of the single questions and none of the single not-covered questions split.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run_bench import load_examples  # noqa: E402

from clinic_nlu.minilm import MiniLMEncoder  # noqa: E402
from clinic_nlu.question_parts import ordered_topics, ranked_topics, split_parts  # noqa: E402
from clinic_nlu.tfidf_featurizer import _vectorizer  # noqa: E402
from clinic_nlu.topic_margin import not_covered_instead  # noqa: E402
from clinic_vocabulary import FACT_TOPIC_INTENTS, MULTI_TOPIC_INTENTS, NOT_COVERED_INTENT, PERSONAL_INTENT  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
_LINEAR = next(c for c in CONFIG["pipeline"] if c["name"].endswith("LinearIntentClassifier"))
C, DENSE_WEIGHT = float(_LINEAR["C"]), float(_LINEAR["dense_weight"])
FALLBACK = next(c for c in CONFIG["pipeline"] if c["name"] == "FallbackClassifier")
TOPICS = set(MULTI_TOPIC_INTENTS)
_COLLECTOR = next(c for c in CONFIG["pipeline"] if c["name"].endswith("MultiTopicCollector"))
_MARGIN = next(c for c in CONFIG["pipeline"] if c["name"].endswith("TopicMargin"))
TOPIC_THRESHOLD, MIN_TOPIC = float(_COLLECTOR["threshold"]), float(_MARGIN["min_topic_confidence"])
NC_GRID = [round(x, 2) for x in np.arange(0.30, 0.96, 0.05)]
# The runtime rules measured for a not-covered part: (whole message read as not covered may be split,
# parts and whole get the topic margin first).
# parts: the gate reads the classifier's whole-message intent (not covered closes it); +margin: each
# part gets the topic margin; +open: a whole message read as not covered (after the margin) may be split;
# +open<t: only when the classifier reads it as not covered below the not-covered threshold (the runtime).
NC_VARIANTS = {
    "parts": (False, False),
    "parts+margin": (False, True),
    "parts+open": (True, False),
    "parts+open+margin": (True, True),
    "parts+open<t": ("unsure", False),
}
JOINERS = [
    "{a} and {b}",
    "{a}? {b}?",
    "{a}. Also {b}",
    "{a}, and {b}",
    "{a}? and {b}",
    "{a} plus {b}",
    "{a}. {b}",
    "{a} & {b}",
    "{a}, also {b}",
]
SPLIT_GRID = [round(x, 2) for x in np.arange(0.30, 0.96, 0.05)]
RANK_GRID = [round(x, 2) for x in np.arange(0.05, 0.51, 0.025)]


class Model:
    """The pipeline's classifier outside Rasa; MiniLM embeddings are cached by text. ``class_weight``
    is passed to the logistic regression (None, the default, is the pipeline's)."""

    def __init__(
        self, encoder: MiniLMEncoder, cache: Dict[str, np.ndarray], class_weight: Optional[str] = None
    ) -> None:
        self.encoder, self.cache, self.class_weight = encoder, cache, class_weight

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.cache})
        if missing:
            for text, row in zip(missing, self.encoder.encode_texts(missing)):
                self.cache[text] = row
        return np.stack([self.cache[t] for t in texts])

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "Model":
        self.vecs = [_vectorizer("word", [1, 2]), _vectorizer("char_wb", [2, 5])]
        for v in self.vecs:
            v.fit(texts)
        self.clf = LogisticRegression(C=C, max_iter=3000, random_state=42, class_weight=self.class_weight).fit(
            self.features(texts), labels
        )
        return self

    def features(self, texts: Sequence[str]) -> scipy.sparse.csr_matrix:
        sparse = [v.transform(texts) for v in self.vecs]
        return scipy.sparse.hstack([*sparse, scipy.sparse.csr_matrix(self.embed(texts) * DENSE_WEIGHT)]).tocsr()

    def rankings(self, texts: Sequence[str]) -> List[List[Dict[str, object]]]:
        probs = self.clf.predict_proba(self.features(list(texts)))
        names = list(self.clf.classes_)
        return [[{"name": names[i], "confidence": float(p[i])} for i in np.argsort(-p)] for p in probs]


def scored(model: Model, texts: Sequence[str]) -> Tuple[List[List[Tuple[str, float]]], List[List[Dict[str, object]]]]:
    """Per message: each part's (top intent, confidence), and the whole message's ranking."""
    part_rankings, whole = scored_rankings(model, texts)
    return [[(r[0]["name"], r[0]["confidence"]) for r in rs] for rs in part_rankings], whole


def scored_rankings(model: Model, texts: Sequence[str]):
    """Per message: each part's ranking, and the whole message's ranking."""
    parts = [split_parts(t) for t in texts]
    it = iter(model.rankings([p for ps in parts for p in ps]))
    return [[next(it) for _ in ps] for ps in parts], model.rankings(texts)


Detect = Callable[[List[Tuple[str, float]], List[Dict[str, object]], float], List[str]]


def whole_is_open(ranking: List[Dict[str, object]]) -> bool:
    """The runtime's gate (clinic_nlu/multi_topic.py): the whole message was read as a fact topic, or
    not understood (the FallbackClassifier's threshold and ambiguity rule from config.yml)."""
    top, second = ranking[0], ranking[1] if len(ranking) > 1 else {"confidence": 0.0}
    fallback = (
        top["confidence"] < FALLBACK["threshold"]
        or top["confidence"] - second["confidence"] < FALLBACK["ambiguity_threshold"]
    )
    return fallback or top["name"] in FACT_TOPIC_INTENTS


def detect_split(part_tops, ranking, t) -> List[str]:
    if not whole_is_open(ranking):
        return []
    hits = ordered_topics(part_tops, TOPICS, t)
    if not any(h.name in FACT_TOPIC_INTENTS for h in hits):
        return []
    return [h.name for h in sorted(hits, key=lambda h: h.name != PERSONAL_INTENT)]


def runtime_intent(ranking: List[Dict[str, object]], margin: bool) -> Tuple[str, float]:
    """A message's intent as the runtime sets it: the classifier's top, ``nlu_fallback`` when the
    FallbackClassifier would say so, then (``margin``) clinic_nlu/topic_margin.py's rule."""
    top, second = ranking[0], ranking[1] if len(ranking) > 1 else {"confidence": 0.0}
    gap = top["confidence"] - second["confidence"]
    fallback = top["confidence"] < FALLBACK["threshold"] or gap < FALLBACK["ambiguity_threshold"]
    name, confidence = ("nlu_fallback" if fallback else str(top["name"])), float(top["confidence"])
    if margin and not_covered_instead(name, confidence, ranking, FACT_TOPIC_INTENTS, NOT_COVERED_INTENT, MIN_TOPIC):
        return NOT_COVERED_INTENT, next(float(r["confidence"]) for r in ranking if r["name"] == NOT_COVERED_INTENT)
    return name, confidence


def detect_mixed(part_rankings, ranking, t_nc: float, open_nc: object, margin: bool) -> List[str]:
    """The runtime's topics when a not-covered part counts from ``t_nc`` (clinic_nlu/multi_topic.py).
    ``open_nc``: True, False, or "unsure" (open only below ``t_nc``)."""
    whole, whole_confidence = runtime_intent(ranking, margin and open_nc is True)
    opened = open_nc is True or (open_nc == "unsure" and whole_confidence < t_nc)
    if whole not in (*FACT_TOPIC_INTENTS, "nlu_fallback", *((NOT_COVERED_INTENT,) if opened else ())):
        return []
    tops = []
    for r in part_rankings:
        name, confidence = runtime_intent(r, margin)
        if name == "nlu_fallback":  # the collector skips the fallback: the part's best intent
            name, confidence = str(r[0]["name"]), float(r[0]["confidence"])
        tops.append((name, confidence))
    hits = ordered_topics(tops, TOPICS | {NOT_COVERED_INTENT}, TOPIC_THRESHOLD, {NOT_COVERED_INTENT: t_nc})
    if len(hits) < 2 or not any(h.name in FACT_TOPIC_INTENTS for h in hits):
        return []
    return [h.name for h in sorted(hits, key=lambda h: h.name != PERSONAL_INTENT)]


def mixed_pairs(
    texts: Sequence[str], labels: Sequence[str], n: int, rng: random.Random
) -> Tuple[List[str], List[List[str]]]:
    """Seeded messages joining a fact-topic question and a not-covered question (either first)."""
    topic = [i for i, y in enumerate(labels) if y in FACT_TOPIC_INTENTS]
    nc = [i for i, y in enumerate(labels) if y == NOT_COVERED_INTENT]
    out, expected = [], []
    for _ in range(n):
        i, j = rng.choice(topic), rng.choice(nc)
        if rng.random() < 0.5:
            i, j = j, i
        a, b = texts[i].rstrip(" ?.!"), texts[j].rstrip(" ?.!")
        if rng.random() < 0.5:
            b = b[0].lower() + b[1:] if b else b
        out.append(rng.choice(JOINERS).format(a=a, b=b))
        expected.append([labels[i], labels[j]])
    return out, expected


def mixed_rates(variant: str, t_nc: float, mixed, singles, nc_singles) -> Dict[str, float]:
    """found: both topics found; ordered: exactly them in order; false_split: single questions given
    two or more topics; nc_split: the same among single not-covered questions."""
    open_nc, margin = NC_VARIANTS[variant]
    found = [detect_mixed(p, r, t_nc, open_nc, margin) for p, r in mixed["scores"]]
    split = [len(detect_mixed(p, r, t_nc, open_nc, margin)) >= 2 for p, r in singles["scores"]]
    nc_split = [len(detect_mixed(p, r, t_nc, open_nc, margin)) >= 2 for p, r in nc_singles["scores"]]
    return {
        "found": float(np.mean([set(e) <= set(f) for e, f in zip(mixed["expected"], found)])),
        "ordered": float(np.mean([list(e) == f for e, f in zip(mixed["expected"], found)])),
        "false_split": float(np.mean(split)),
        "nc_split": float(np.mean(nc_split) if nc_split else 0.0),
    }


def calibrate_not_covered(args, model_factory: Callable[[], Model]) -> Dict[Tuple[str, float], Dict[str, float]]:
    """The not-covered part's threshold and rule variant, by the same folds as :func:`calibrate`."""
    texts, labels = load_examples(ROOT / "data" / "nlu.yml")
    y = np.array(labels)
    rng = random.Random(43)
    per: Dict[Tuple[str, float], List[Dict[str, float]]] = {}
    for tr, te in StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42).split(texts, y):
        model = model_factory().fit([texts[i] for i in tr], y[tr])
        te_texts, te_labels = [texts[i] for i in te], [labels[i] for i in te]
        mixed_texts, expected = mixed_pairs(te_texts, te_labels, args.pairs_per_fold, rng)
        mixed = {"scores": list(zip(*scored_rankings(model, mixed_texts))), "expected": expected}
        singles = {"scores": list(zip(*scored_rankings(model, te_texts)))}
        nc_singles = {"scores": [s for s, y_ in zip(singles["scores"], te_labels) if y_ == NOT_COVERED_INTENT]}
        for variant in NC_VARIANTS:
            for t_nc in NC_GRID:
                per.setdefault((variant, t_nc), []).append(mixed_rates(variant, t_nc, mixed, singles, nc_singles))
        print("not-covered fold done", file=sys.stderr)
    return {k: {m: float(np.mean([r[m] for r in rs])) for m in rs[0]} for k, rs in per.items()}


def choose_not_covered(
    table: Dict[Tuple[str, float], Dict[str, float]], max_false_split: float, max_nc_split: float = 0.0
) -> Tuple[str, float]:
    """Most mixed messages found, with at most ``max_false_split`` of the single questions split and
    at most ``max_nc_split`` of the single not-covered ones (none by default: a false split there
    states a topic's facts to a question the sheet does not answer)."""
    ok = [k for k, r in table.items() if r["false_split"] <= max_false_split and r["nc_split"] <= max_nc_split]
    pool = ok or list(table)
    return max(pool, key=lambda k: (table[k]["found"], table[k]["ordered"], -table[k]["false_split"], k[1]))


def detect_ranked(part_tops, ranking, t) -> List[str]:
    return [h.name for h in ranked_topics(ranking, TOPICS, t)]


def rates(detect: Detect, t: float, pairs, singles) -> Dict[str, float]:
    """answered: every expected topic found; ordered: exactly the expected topics in order;
    false_split: single questions given two or more topics."""
    found = [detect(p, r, t) for p, r in pairs["scores"]]
    answered = np.mean([set(e) <= set(f) for e, f in zip(pairs["expected"], found)])
    ordered = np.mean([list(e) == f for e, f in zip(pairs["expected"], found)])
    false_split = np.mean([len(detect(p, r, t)) >= 2 for p, r in singles["scores"]])
    return {"answered": float(answered), "ordered": float(ordered), "false_split": float(false_split)}


def synthetic_pairs(
    texts: Sequence[str], labels: Sequence[str], n: int, rng: random.Random
) -> Tuple[List[str], List[List[str]]]:
    idx = [i for i, y in enumerate(labels) if y in TOPICS]
    out, expected = [], []
    while len(out) < n:
        i, j = rng.sample(idx, 2)
        if labels[i] == labels[j]:
            continue
        a, b = texts[i].rstrip(" ?.!"), texts[j].rstrip(" ?.!")
        if rng.random() < 0.5:
            b = b[0].lower() + b[1:] if b else b
        out.append(rng.choice(JOINERS).format(a=a, b=b))
        expected.append([labels[i], labels[j]])
    return out, expected


def calibrate(args, model_factory: Callable[[], Model]) -> Dict[str, Dict[float, Dict[str, float]]]:
    texts, labels = load_examples(ROOT / "data" / "nlu.yml")
    y = np.array(labels)
    rng = random.Random(42)
    per_fold: Dict[str, Dict[float, List[Dict[str, float]]]] = {"split": {}, "ranked": {}}
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42).split(texts, y)
    for k, (tr, te) in enumerate(folds):
        model = model_factory().fit([texts[i] for i in tr], y[tr])
        te_texts, te_labels = [texts[i] for i in te], [labels[i] for i in te]
        pair_texts, expected = synthetic_pairs(te_texts, te_labels, args.pairs_per_fold, rng)
        pairs = {"scores": list(zip(*scored(model, pair_texts))), "expected": expected}
        singles = {"scores": list(zip(*scored(model, te_texts)))}
        for name, detect, grid in (("split", detect_split, SPLIT_GRID), ("ranked", detect_ranked, RANK_GRID)):
            for t in grid:
                per_fold[name].setdefault(t, []).append(rates(detect, t, pairs, singles))
        print(f"fold {k + 1}/{args.folds} done", file=sys.stderr)
    return {
        name: {t: {m: float(np.mean([r[m] for r in rs])) for m in rs[0]} for t, rs in grid.items()}
        for name, grid in per_fold.items()
    }


def choose(table: Dict[float, Dict[str, float]], max_false_split: float) -> float:
    ok = [t for t, r in table.items() if r["false_split"] <= max_false_split]
    if not ok:
        return max(table)
    return max(ok, key=lambda t: (table[t]["answered"], table[t]["ordered"], -table[t]["false_split"], t))


def load_heldout() -> Tuple[List[str], List[List[str]], List[str]]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "multi_topic.yml").read_text(encoding="utf-8"))
    multi = [m["text"] for m in data["messages"]]
    expected = [list(m["topics"]) for m in data["messages"]]
    singles, _ = load_examples(ROOT / "tests" / "nlu_test.yml")
    return multi, expected, singles


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--pairs-per-fold", type=int, default=300)
    parser.add_argument("--max-false-split", type=float, default=0.02)
    parser.add_argument("--show", action="store_true", help="print the held-out messages the split approach misses")
    parser.add_argument("--only-not-covered", action="store_true", help="only the not-covered part's calibration")
    args = parser.parse_args(list(argv) or None)
    encoder, cache = MiniLMEncoder(), {}
    factory = lambda: Model(encoder, cache)  # noqa: E731

    nc = calibrate_not_covered(args, factory)
    nc_chosen = choose_not_covered(nc, args.max_false_split)
    print(
        f"\nNot-covered parts: cross-validation on data/nlu.yml ({args.folds} folds, {args.pairs_per_fold} "
        "synthetic topic + not-covered messages per fold, seed 43; topic threshold "
        f"{TOPIC_THRESHOLD}, margin {MIN_TOPIC})"
    )
    print(
        "variant | not-covered threshold | mixed: both found | in order, exact | singles split | "
        "not-covered singles split"
    )
    for (variant, t_nc), r in sorted(nc.items()):
        mark = " <- chosen" if (variant, t_nc) == nc_chosen else ""
        print(
            f"{variant:17} | {t_nc:.2f} | {r['found']:.3f} | {r['ordered']:.3f} | {r['false_split']:.3f} | "
            f"{r['nc_split']:.3f}{mark}"
        )
    if args.only_not_covered:
        return 0

    cv = calibrate(args, factory)
    chosen = {name: choose(table, args.max_false_split) for name, table in cv.items()}
    print(
        f"\nCross-validation on data/nlu.yml ({args.folds} folds, "
        f"{args.pairs_per_fold} synthetic pairs per fold, seed 42)"
    )
    print("approach | threshold | pairs: all topics found | in order, exact | singles split")
    for name, table in cv.items():
        for t, r in sorted(table.items()):
            mark = " <- chosen" if t == chosen[name] else ""
            print(f"{name:7} | {t:.3f} | {r['answered']:.3f} | {r['ordered']:.3f} | {r['false_split']:.3f}{mark}")

    texts, labels = load_examples(ROOT / "data" / "nlu.yml")
    model = factory().fit(texts, labels)
    multi, expected, singles = load_heldout()
    pairs = {"scores": list(zip(*scored(model, multi))), "expected": expected}
    single_scores = {"scores": list(zip(*scored(model, singles)))}
    two = [i for i, e in enumerate(expected) if len(e) == 2]
    pairs_two = {"scores": [pairs["scores"][i] for i in two], "expected": [expected[i] for i in two]}
    print(
        f"\nHeld-out, read once with the chosen thresholds: {len(multi)} multi-topic messages "
        f"({len(two)} with two topics), {len(singles)} single questions (tests/nlu_test.yml)"
    )
    print(
        "approach | threshold | all topics found (two-topic) | all found (all) | in order, exact (all) "
        "| singles split"
    )
    for name, detect in (("split", detect_split), ("ranked", detect_ranked)):
        t = chosen[name]
        r_all = rates(detect, t, pairs, single_scores)
        r_two = rates(detect, t, pairs_two, single_scores)
        print(
            f"{name:7} | {t:.3f} | {r_two['answered']:.3f} | {r_all['answered']:.3f} | {r_all['ordered']:.3f} | "
            f"{r_all['false_split']:.3f}"
        )
    if args.show:
        for text, e, (p, r) in zip(multi, expected, pairs["scores"]):
            f = detect_split(p, r, chosen["split"])
            if not set(e) <= set(f):
                print("MISS", e, f, p, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
