""" "What the bot couldn't answer": unanswered patient messages grouped by meaning.

The messages (:func:`review.dashboard.unanswered_candidates`: fallback, "not covered", low
confidence, thumbs-down) are embedded with the all-MiniLM-L6-v2 sentence encoder the assistant
already ships (:mod:`clinic_nlu.minilm`, no Rasa imports) and grouped by scikit-learn's
agglomerative clustering: average linkage on cosine distance, cut at ``DISTANCE_THRESHOLD``, so the
number of groups follows the data. Each group is named by its most central message (the one with
the highest mean similarity to the others). The threshold was chosen on a labelled development
set and measured on a separate held-out set (``bench/unanswered_groups.py``, BENCHMARKS.md).

Texts are redacted (contact details, dates of birth) before they are embedded, so a phone number
never shapes a group; embeddings are cached in memory by event id, never stored.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review import store

DISTANCE_THRESHOLD = 0.60  # cosine distance at which groups stop merging: best adjusted Rand index on dev.yml
EXAMPLES_SHOWN = 5
_CACHE_SIZE = 20000

_encoder_lock = threading.Lock()
_encoder: Any = None
_encoder_error: Optional[str] = None
_cache: "OrderedDict[int, np.ndarray]" = OrderedDict()
_cache_lock = threading.Lock()


def encoder():
    """The shared MiniLM encoder, loaded on first use; None (with the reason kept) if it cannot load."""
    global _encoder, _encoder_error
    with _encoder_lock:
        if _encoder is None and _encoder_error is None:
            try:
                from clinic_nlu.minilm import MiniLMEncoder

                _encoder = MiniLMEncoder()
            except Exception as exc:  # noqa: BLE001 - weights missing or a runtime that cannot start: group by wording
                _encoder_error = type(exc).__name__
        return _encoder


def embed(texts: Sequence[str]) -> Optional[np.ndarray]:
    """L2-normalised sentence embeddings (n, 384), or None without the encoder."""
    enc = encoder()
    if enc is None:
        return None
    return enc.encode_texts(list(texts))


def cluster(vectors: np.ndarray, threshold: float = DISTANCE_THRESHOLD) -> List[List[int]]:
    """Groups of row indices of ``vectors`` (unit vectors), largest first (ties: earliest member first)."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    from sklearn.cluster import AgglomerativeClustering

    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, affinity="precomputed", linkage="average"
    )
    labels = model.fit_predict(distance)
    groups: Dict[int, List[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def medoid(vectors: np.ndarray, members: Sequence[int]) -> int:
    """The member most similar, on average, to the others."""
    sub = vectors[list(members)]
    return list(members)[int(np.argmax((sub @ sub.T).mean(axis=1)))]


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class Group:
    label: str  # the most central message (as shown: redacted when the app redacts)
    count: int
    conversations: int
    examples: List[Dict[str, Any]]  # {event_id, sender_id, text, language}, most central first
    event_ids: List[int]
    trend: List[Dict[str, Any]] = field(default_factory=list)  # [{bucket, count}] over the range
    reasons: Dict[str, int] = field(default_factory=dict)  # fallback / not_covered / low_confidence / thumbs_down


def redacted_texts(engine: Engine, event_ids: Sequence[int]) -> Dict[int, str]:
    """The patient messages' texts by event id, always redacted, whitespace folded, at most 500 characters."""
    out: Dict[int, str] = {}
    with engine.connect() as conn:
        for chunk in store.chunks(list(event_ids), 500):
            for row in conn.execute(
                sa.select(store.events.c.id, store.events.c.data).where(store.events.c.id.in_(list(chunk)))
            ):
                text = store.load_data(row.data).get("text")
                if text:
                    out[row.id] = store.redact(" ".join(str(text).split()))[:500]
    return out


def _vectors(event_ids: Sequence[int], texts: Dict[int, str]) -> Optional[np.ndarray]:
    with _cache_lock:
        missing = [i for i in event_ids if i not in _cache]
    if missing:
        new = embed([texts[i] for i in missing])
        if new is None:
            return None
        with _cache_lock:
            for i, v in zip(missing, new):
                _cache[i] = v
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    with _cache_lock:
        found = [_cache.get(i) for i in event_ids]
    vectors = [v for v in found if v is not None]
    if len(vectors) < len(found):  # evicted meanwhile by another request: compute again
        return embed([texts[i] for i in event_ids])
    return np.stack(vectors)


def _reasons(row: Dict[str, Any], threshold: float) -> List[str]:
    out = []
    if row.get("fallback"):
        out.append("fallback")
    if row.get("not_covered"):
        out.append("not_covered")
    if row.get("confidence") is not None and row["confidence"] < threshold:
        out.append("low_confidence")
    if row.get("thumbs_down"):
        out.append("thumbs_down")
    return out


def group_unanswered(
    engine: Engine,
    candidates: List[Dict[str, Any]],
    bucket_keys: Sequence[str],
    bucket: str,
    threshold: float,
    show_redacted: bool = True,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> List[Group]:
    """Group the candidate messages by meaning (see the module doc); largest group first.

    Without the encoder (weights not installed) messages are grouped by identical wording instead.
    """
    texts = redacted_texts(engine, [c["event_id"] for c in candidates])
    rows = [c for c in candidates if c["event_id"] in texts]
    if not rows:
        return []
    ids = [c["event_id"] for c in rows]
    vectors = _vectors(ids, texts)
    if vectors is not None:
        groups = cluster(vectors, distance_threshold)
    else:
        by_text: Dict[str, List[int]] = {}
        for i, event_id in enumerate(ids):
            by_text.setdefault(_normalise(texts[event_id]), []).append(i)
        groups = sorted(by_text.values(), key=lambda g: (-len(g), g[0]))
    raw: Dict[int, str] = {}
    if not show_redacted:
        with engine.connect() as conn:
            for chunk in store.chunks(ids, 500):
                for row in conn.execute(
                    sa.select(store.events.c.id, store.events.c.data).where(store.events.c.id.in_(list(chunk)))
                ):
                    raw[row.id] = " ".join(str(store.load_data(row.data).get("text") or "").split())[:500]
    shown = (lambda i: raw.get(i, texts[i])) if not show_redacted else (lambda i: texts[i])
    out: List[Group] = []
    key = "local_week" if bucket == "week" else "local_day"
    for members in groups:
        centre = medoid(vectors, members) if vectors is not None else members[0]
        order = [centre] + [i for i in members if i != centre]
        if vectors is not None:
            sims = vectors[order] @ vectors[centre]
            order = [order[0]] + [order[j] for j in np.argsort(-sims[1:]) + 1]
        examples, seen = [], set()
        for i in order:
            text = shown(ids[i])
            if _normalise(text) in seen:
                continue
            seen.add(_normalise(text))
            candidate = rows[i]
            examples.append(
                {
                    "event_id": ids[i],
                    "sender_id": candidate["sender_id"],
                    "text": text,
                    "language": candidate.get("language"),
                }
            )
            if len(examples) >= EXAMPLES_SHOWN:
                break
        counts = {k: 0 for k in bucket_keys}
        reasons: Dict[str, int] = {}
        for i in members:
            counts[rows[i][key]] = counts.get(rows[i][key], 0) + 1
            for reason in _reasons(rows[i], threshold):
                reasons[reason] = reasons.get(reason, 0) + 1
        out.append(
            Group(
                label=shown(ids[centre]),
                count=len(members),
                conversations=len({rows[i]["sender_id"] for i in members}),
                examples=examples,
                event_ids=[ids[i] for i in order],
                trend=[{"bucket": k, "count": counts.get(k, 0)} for k in bucket_keys],
                reasons=reasons,
            )
        )
    return out


def sheet_notes(engine: Engine, limit: int = 200) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.select(store.sheet_notes).order_by(store.sheet_notes.c.id.desc()).limit(limit))
        ]


def add_sheet_note(conn: sa.engine.Connection, author: str, text: str, event_ids: Sequence[int]) -> int:
    result = conn.execute(
        store.sheet_notes.insert().values(
            created=time.time(),
            author=author,
            text=text,
            questions=len(event_ids),
            event_ids=json.dumps([int(i) for i in event_ids][:200]),
        )
    )
    return int(result.inserted_primary_key[0])


def user_messages(engine: Engine, event_ids: Sequence[int]) -> Dict[int, str]:
    """event id -> sender id of the patient messages among ``event_ids`` that are still stored."""
    out: Dict[int, str] = {}
    with engine.connect() as conn:
        for chunk in store.chunks(list(event_ids), 500):
            for row in conn.execute(
                sa.select(store.events.c.id, store.events.c.sender_id).where(
                    store.events.c.id.in_(list(chunk)), store.events.c.type_name == "user"
                )
            ):
                out[row.id] = row.sender_id
    return out
