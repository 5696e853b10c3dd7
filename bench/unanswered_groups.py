"""How well "What the bot couldn't answer" groups patient questions: the groups found by
review/unanswered.py (MiniLM embeddings + agglomerative clustering, cosine distance, average linkage)
against the known groups of a labelled set (tests/data/unanswered/).

    .venv/bin/python bench/unanswered_groups.py                  # held-out set, the shipped threshold
    .venv/bin/python bench/unanswered_groups.py --set dev --sweep # how the threshold was chosen

Figures: adjusted Rand index (1 = the known grouping exactly, 0 = chance), purity (share of messages
whose group's majority is their own topic), inverse purity (share of each topic found together in one
group), and the number of groups found versus known. Deterministic: no sampling, no timing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review import unanswered  # noqa: E402

DATA = ROOT / "tests" / "data" / "unanswered"


def load(name: str) -> Tuple[List[str], List[str]]:
    doc = yaml.safe_load((DATA / f"{name}.yml").read_text(encoding="utf-8"))
    texts, labels = [], []
    for group, messages in doc["groups"].items():
        for text in messages:
            texts.append(text)
            labels.append(group)
    return texts, labels


def purity(found: Sequence[int], truth: Sequence[str]) -> float:
    by_group: Dict[int, Counter] = {}
    for f, t in zip(found, truth):
        by_group.setdefault(f, Counter())[t] += 1
    return sum(c.most_common(1)[0][1] for c in by_group.values()) / len(truth)


def score(texts: Sequence[str], truth: Sequence[str], threshold: float, vectors=None) -> Dict[str, float]:
    from sklearn.metrics import adjusted_rand_score

    vectors = unanswered.embed(texts) if vectors is None else vectors
    groups = unanswered.cluster(vectors, threshold)
    found = [0] * len(texts)
    for g, members in enumerate(groups):
        for i in members:
            found[i] = g
    return {
        "threshold": threshold,
        "ari": adjusted_rand_score(truth, found),
        "purity": purity(found, truth),
        "inverse_purity": purity(list(truth), [str(f) for f in found]),
        "groups": len(groups),
        "known": len(set(truth)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="heldout", choices=("dev", "heldout"))
    parser.add_argument("--sweep", action="store_true", help="every threshold from 0.30 to 0.80")
    args = parser.parse_args(argv)
    texts, truth = load(args.set)
    vectors = unanswered.embed(texts)
    thresholds = [round(0.30 + 0.05 * i, 2) for i in range(11)] if args.sweep else [unanswered.DISTANCE_THRESHOLD]
    print(f"set={args.set} messages={len(texts)} known groups={len(set(truth))}")
    print("threshold  ARI    purity  inverse_purity  groups_found")
    for t in thresholds:
        r = score(texts, truth, t, vectors)
        mark = "  <- shipped" if t == unanswered.DISTANCE_THRESHOLD else ""
        print(f"{t:9.2f}  {r['ari']:.3f}  {r['purity']:.3f}   {r['inverse_purity']:.3f}           {r['groups']}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
