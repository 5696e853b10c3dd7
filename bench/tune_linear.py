"""Choose the linear classifier's C and MiniLM weight by stratified 5-fold CV on data/nlu.yml.

    .venv/bin/python bench/tune_linear.py

Uses the same features as the Rasa pipeline (clinic_nlu: TF-IDF word 1-2 + char_wb 2-5, MiniLM
sentence embedding) outside Rasa, so a grid takes seconds; the held-out tests/nlu_test.yml is
never looked at here. Prints mean/sd macro-F1 per setting and the MiniLM+LogReg baseline on the
same folds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run_bench import load_examples  # noqa: E402

from clinic_nlu.minilm import MiniLMEncoder  # noqa: E402
from clinic_nlu.tfidf_featurizer import _vectorizer  # noqa: E402


def main() -> None:
    texts, labels = load_examples(ROOT / "data" / "nlu.yml")
    y = np.array(labels)
    emb = MiniLMEncoder().encode_texts(texts)
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=42).split(texts, y))
    grid = [(c, w) for c in (3, 10, 30) for w in (1.0, 1.5, 2.0, 3.0)]
    scores = {g: [] for g in grid}
    base = []
    for tr, te in folds:
        vecs = [_vectorizer("word", [1, 2]), _vectorizer("char_wb", [2, 5])]
        tr_texts = [texts[i] for i in tr]
        te_texts = [texts[i] for i in te]
        for v in vecs:
            v.fit(tr_texts)
        sp_tr = scipy.sparse.hstack([v.transform(tr_texts) for v in vecs]).tocsr()
        sp_te = scipy.sparse.hstack([v.transform(te_texts) for v in vecs]).tocsr()
        for c, w in grid:
            x_tr = scipy.sparse.hstack([sp_tr, scipy.sparse.csr_matrix(emb[tr] * w)]).tocsr()
            x_te = scipy.sparse.hstack([sp_te, scipy.sparse.csr_matrix(emb[te] * w)]).tocsr()
            clf = LogisticRegression(C=c, max_iter=3000, random_state=42).fit(x_tr, y[tr])
            scores[(c, w)].append(f1_score(y[te], clf.predict(x_te), average="macro"))
        clf = LogisticRegression(C=10, max_iter=3000, random_state=42).fit(emb[tr], y[tr])
        base.append(f1_score(y[te], clf.predict(emb[te]), average="macro"))
    print(f"{len(texts)} examples, 5 folds (seed 42); top-intent macro-F1 (no fallback)")
    print(f"MiniLM + LogReg baseline: {np.mean(base):.3f} ± {np.std(base):.3f}")
    for (c, w), s in sorted(scores.items(), key=lambda kv: -np.mean(kv[1])):
        diff = np.array(s) - np.array(base)
        print(
            f"C={c:<4} dense_weight={w:<4} {np.mean(s):.3f} ± {np.std(s):.3f}  "
            f"vs baseline {diff.mean():+.3f} (worst fold {diff.min():+.3f})"
        )


if __name__ == "__main__":
    main()
