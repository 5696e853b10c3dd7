"""Conversation exports (CSV / JSONL): one record per patient or bot message, redacted when the
settings say so, cells made safe for spreadsheet programs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review.store.flags import intent_of, load_data
from review.store.listing import ListFilter, filter_conditions
from review.store.redaction import redact
from review.store.schema import conversations, corrections, events


EXPORT_FIELDS = [
    "conversation_id",
    "event_id",
    "time_utc",
    "speaker",
    "text",
    "intent",
    "confidence",
    "bot_action",
    "topic",
    "fact_ids",
    "corrected_intent",
]


def iso(ts: Optional[float]) -> str:
    """A timestamp as ISO 8601 UTC with a Z ("" for None)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_records(
    rows: Sequence[Any], sender_id: str, redact_text: bool, corrections_by_event: Dict[int, str]
) -> Iterator[Dict[str, Any]]:
    """One record per patient or bot message of one conversation."""
    last_action = None
    for row in rows:
        data = load_data(row.data)
        if row.type_name == "action":
            last_action = data.get("name")
        elif row.type_name == "user":
            intent, conf = intent_of(data)
            text = data.get("text") or ""
            yield {
                "conversation_id": sender_id,
                "event_id": row.id,
                "time_utc": iso(row.timestamp),
                "speaker": "patient",
                "text": redact(text) if redact_text else text,
                "intent": intent,
                "confidence": conf,
                "bot_action": None,
                "topic": None,
                "fact_ids": [],
                "corrected_intent": corrections_by_event.get(row.id),
            }
        elif row.type_name == "bot":
            meta = data.get("metadata") or {}
            text = data.get("text") or ""
            raw_ids = meta.get("fact_ids")
            fact_ids: List[Any] = raw_ids if isinstance(raw_ids, list) else []
            yield {
                "conversation_id": sender_id,
                "event_id": row.id,
                "time_utc": iso(row.timestamp),
                "speaker": "bot",
                "text": redact(text) if redact_text else text,
                "intent": None,
                "confidence": None,
                "bot_action": meta.get("utter_action") or last_action,
                "topic": meta.get("topic"),
                "fact_ids": [str(x) for x in fact_ids],
                "corrected_intent": None,
            }


def iter_filtered_senders(engine: Engine, f: ListFilter, threshold: float, chunk: int = 200) -> Iterator[List[str]]:
    """The conversation ids matching ``f``, newest first, ``chunk`` at a time (keyset pages)."""
    c = conversations.c
    conds = filter_conditions(f, threshold)
    cursor: Optional[Tuple[float, str]] = None
    while True:
        q = sa.select(c.sender_id, c.last_ts).where(*conds)
        if cursor:
            q = q.where(sa.or_(c.last_ts < cursor[0], sa.and_(c.last_ts == cursor[0], c.sender_id < cursor[1])))
        with engine.connect() as conn:
            rows = conn.execute(q.order_by(c.last_ts.desc(), c.sender_id.desc()).limit(chunk)).all()
        if not rows:
            return
        yield [r.sender_id for r in rows]
        cursor = (rows[-1].last_ts, rows[-1].sender_id)


def events_for_senders(engine: Engine, senders: Sequence[str]) -> Tuple[Dict[str, List[Any]], Dict[int, str]]:
    """The events of each of ``senders`` (in id order) and their intent corrections by event id."""
    out: Dict[str, List[Any]] = {s: [] for s in senders}
    corr: Dict[int, str] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id.in_(list(senders)))
            .order_by(events.c.id)
        ):
            out[row.sender_id].append(row)
        for r in conn.execute(
            sa.select(corrections.c.event_id, corrections.c.corrected_intent).where(
                corrections.c.sender_id.in_(list(senders))
            )
        ):
            corr[r.event_id] = r.corrected_intent
    return out, corr


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """Cell text that spreadsheet programs will not run as a formula (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text
