"""One row per patient message (``review_messages``), folded in from the Rasa ``events`` table.

The dashboard counts messages, conversations, topics, safety answers, fallbacks, ratings and reply
times per local day or week. Those are aggregates over patient *messages*, which the per-conversation
summaries of :mod:`review.store` cannot give, so this index keeps one row per message: its intent and
confidence, the worst triage level of the message or its reply, whether the reply was a fallback,
"not covered" or out-of-scope answer, whether a callback request or a thumbs-down followed, whether
it was a button click or an answer to the callback form, the seconds until the first reply, and
the language the not-English check named on it. It copies no message text.

It has its own high-water mark (``review_meta`` key ``messages_indexed_event_id``), so a database
indexed before this table existed fills it by itself. Local days and weeks are those of
``REVIEW_TIMEZONE``; when that setting changes the table is rebuilt. Every step is idempotent: an
event folded in twice changes nothing, so PostgreSQL's re-read window (events committed out of id
order) is safe here too.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review import store
from review.settings import Settings

HWM_KEY = "messages_indexed_event_id"
TZ_KEY = "messages_timezone"
LEVEL_RANK: Dict[Optional[str], int] = {"crisis": 3, "emergency": 2, "urgent": 1}
# "Not covered": an in-domain question the information sheet does not answer.
NOT_COVERED_INTENTS = {"ask_not_covered"}
NOT_COVERED_ACTIONS = {"utter_not_covered", "utter_recurrence_not_covered", "action_not_covered"}
_LOCK = threading.Lock()
_COLUMNS = [c.name for c in store.messages.columns]


def local_day_week(ts: float, zone: ZoneInfo) -> tuple:
    """The local calendar day and the Monday of its week (ISO dates) of a UTC timestamp."""
    day = datetime.fromtimestamp(ts, zone).date()
    return day.isoformat(), (day - timedelta(days=day.weekday())).isoformat()


def _worse(current: Optional[str], new: Optional[str]) -> Optional[str]:
    if new is None:
        return current
    return new if LEVEL_RANK.get(new, 0) > LEVEL_RANK.get(current, 0) else current


def _new_row(row: Any, data: Dict[str, Any], zone: ZoneInfo) -> Dict[str, Any]:
    intent, conf = store.intent_of(data)
    text = data.get("text") or ""
    ts = row.timestamp or 0.0
    day, week = local_day_week(ts, zone)
    flags = store.event_flags("user", data)
    level = None
    for name in ("urgent", "emergency", "crisis"):
        if name in flags:
            level = _worse(level, name)
    message_id = data.get("message_id")
    return {
        "event_id": row.id,
        "sender_id": row.sender_id,
        "message_id": str(message_id)[:64] if message_id else None,
        "ts": ts,
        "local_day": day,
        "local_week": week,
        "intent": (intent or None) and intent[:255],
        "confidence": conf,
        "level": level,
        "fallback": "fallback" in flags,
        "not_covered": intent in NOT_COVERED_INTENTS,
        "out_of_scope": "out_of_scope" in flags,
        "callback": False,
        "thumbs_down": "feedback" in flags,
        "form_answer": False,
        "payload": text.startswith("/"),
        "latency": None,
        "language": store.language_of(data),
    }


def _apply_reply(msg: Dict[str, Any], row: Any, data: Dict[str, Any], by_message_id: Dict[str, Dict[str, Any]]) -> None:
    """Fold a non-patient event into the patient message it follows (or, for a rating, the one it names)."""
    kind = row.type_name
    flags = store.event_flags(kind, data)
    for level in ("urgent", "emergency", "crisis"):
        if level in flags:
            msg["level"] = _worse(msg["level"], level)
    if kind == "action":
        name = data.get("name")
        if "fallback" in flags:
            msg["fallback"] = True
        if "out_of_scope" in flags:
            msg["out_of_scope"] = True
        if name in NOT_COVERED_ACTIONS:
            msg["not_covered"] = True
    elif kind == "bot":
        if msg["latency"] is None and row.timestamp is not None:
            msg["latency"] = max(0.0, row.timestamp - msg["ts"])
    elif kind == "slot":
        name, value = data.get("name"), data.get("value")
        if name == "callback_request" and isinstance(value, dict) and value:
            msg["callback"] = True
        elif name in store.FORM_DETAIL_SLOTS and value is not None:
            msg["form_answer"] = True
        elif name == "feedback" and value is not None:
            target = msg
            if isinstance(value, dict) and value.get("message_id"):
                target = by_message_id.get(str(value["message_id"])[:64], msg)
            target["thumbs_down"] = store.negative_value(value)


def _reset_if_needed(engine: Engine, settings: Settings) -> None:
    """Start over when the time zone changed, or when retention removed the newest events (SQLite then
    reuses their ids)."""
    with engine.begin() as conn:
        tz = store.get_meta(conn, TZ_KEY)
        hwm = int(store.get_meta(conn, HWM_KEY) or 0)
        max_id = conn.execute(sa.select(sa.func.max(store.events.c.id))).scalar() or 0
        if tz != settings.timezone:
            conn.execute(store.messages.delete())
            store.set_meta(conn, HWM_KEY, "0")
            store.set_meta(conn, TZ_KEY, settings.timezone)
        elif max_id < hwm:
            store.set_meta(conn, HWM_KEY, str(max_id))


def index_messages(
    engine: Engine, settings: Settings, batch: int = 5000, max_events: Optional[int] = None, rescan: bool = False
) -> int:
    """Fold events newer than this index's high-water mark into ``review_messages``; returns how many
    events were read. ``rescan`` (PostgreSQL) re-reads the last ``store.PG_RESCAN_WINDOW`` ids too."""
    if not _LOCK.acquire(timeout=30):
        return 0
    try:
        if not store.events_table_exists(engine):
            return 0
        _reset_if_needed(engine, settings)
        zone = ZoneInfo(settings.timezone)
        rescan = rescan and engine.dialect.name == "postgresql"
        with engine.connect() as conn:
            hwm = int(store.get_meta(conn, HWM_KEY) or 0)
            max_id = conn.execute(sa.select(sa.func.max(store.events.c.id))).scalar()
        if max_id is None or (max_id <= hwm and not rescan):
            return 0
        start = max(0, hwm - store.PG_RESCAN_WINDOW) if rescan else hwm
        done = 0
        while max_events is None or done < max_events:
            limit = batch if max_events is None else min(batch, max_events - done)
            try:
                with engine.begin() as conn:
                    e = store.events.c
                    rows = conn.execute(
                        sa.select(e.id, e.sender_id, e.type_name, e.timestamp, e.data)
                        .where(e.id > start, e.type_name.in_(("user", "action", "bot", "slot")))
                        .order_by(e.id)
                        .limit(limit)
                    ).all()
                    if not rows:
                        if max_id > hwm:
                            store.set_meta(conn, HWM_KEY, str(max_id))
                        break
                    _fold(conn, rows, zone)
                    top = rows[-1].id
                    if top > int(store.get_meta(conn, HWM_KEY) or 0):
                        store.set_meta(conn, HWM_KEY, str(top))
            except sa.exc.IntegrityError:
                return done  # another process (the CLI's index, a second app) folded these rows in first
            start = rows[-1].id
            done += len(rows)
            if len(rows) < limit:
                break
        return done
    finally:
        _LOCK.release()


def _fold(conn: Connection, rows: Sequence[Any], zone: ZoneInfo) -> None:
    m = store.messages.c
    senders = sorted({r.sender_id for r in rows})
    first = rows[0].id
    known: Dict[str, List[Dict[str, Any]]] = {s: [] for s in senders}  # each sender's messages, by event id
    rated = set()
    for r in rows:
        if r.type_name == "slot" and '"feedback"' in (r.data or ""):
            value = store.load_data(r.data).get("value")
            if isinstance(value, dict) and value.get("message_id"):
                rated.add(str(value["message_id"])[:64])
    for chunk in store.chunks(senders, 500):
        latest_before = (
            sa.select(m.sender_id, sa.func.max(m.event_id).label("mx"))
            .where(m.sender_id.in_(chunk), m.event_id < first)
            .group_by(m.sender_id)
            .subquery()
        )
        carried = conn.execute(sa.select(store.messages).join(latest_before, m.event_id == latest_before.c.mx)).all()
        present = conn.execute(sa.select(store.messages).where(m.sender_id.in_(chunk), m.event_id >= first)).all()
        loaded = list(carried) + list(present)
        if rated:  # ratings of messages from earlier batches
            loaded += conn.execute(
                sa.select(store.messages).where(
                    m.sender_id.in_(chunk), m.message_id.in_(sorted(rated)), m.event_id < first
                )
            ).all()
        seen = set()
        for r in loaded:
            if r.event_id not in seen:
                seen.add(r.event_id)
                known[r.sender_id].append(dict(r._mapping))
    originals = {msg["event_id"]: dict(msg) for msgs in known.values() for msg in msgs}
    for msgs in known.values():
        msgs.sort(key=lambda msg: msg["event_id"])
    by_message_id: Dict[str, Dict[str, Dict[str, Any]]] = {s: {} for s in senders}
    for s, msgs in known.items():
        for msg in msgs:
            if msg.get("message_id"):
                by_message_id[s][msg["message_id"]] = msg
    current: Dict[str, Optional[Dict[str, Any]]] = {}
    pointer: Dict[str, int] = {s: 0 for s in senders}
    fresh: List[Dict[str, Any]] = []
    for row in rows:
        s = row.sender_id
        msgs = known[s]
        while pointer[s] < len(msgs) and msgs[pointer[s]]["event_id"] < row.id:
            current[s] = msgs[pointer[s]]
            pointer[s] += 1
        data = store.load_data(row.data)
        if row.type_name == "user":
            if pointer[s] < len(msgs) and msgs[pointer[s]]["event_id"] == row.id:
                current[s] = msgs[pointer[s]]  # already indexed (a re-read)
                pointer[s] += 1
                continue
            if not data.get("text"):
                continue
            msg = _new_row(row, data, zone)
            fresh.append(msg)
            msgs.insert(pointer[s], msg)
            pointer[s] += 1
            current[s] = msg
            if msg["message_id"]:
                by_message_id[s][msg["message_id"]] = msg
            continue
        patient_msg = current.get(s)
        if patient_msg is None:
            continue  # events before the first patient message
        _apply_reply(patient_msg, row, data, by_message_id[s])
    if fresh:
        conn.execute(store.messages.insert(), [{k: msg[k] for k in _COLUMNS} for msg in fresh])
    changed = [
        msg
        for msgs in known.values()
        for msg in msgs
        if msg["event_id"] in originals and msg != originals[msg["event_id"]]
    ]
    if changed:
        stmt = (
            store.messages.update()
            .where(m.event_id == sa.bindparam("b_event_id"))
            .values({k: sa.bindparam(f"b_{k}") for k in _COLUMNS if k not in ("event_id", "sender_id")})
        )
        conn.execute(stmt, [{f"b_{k}": msg[k] for k in _COLUMNS if k != "sender_id"} for msg in changed])


def rebuild(engine: Engine, settings: Settings) -> int:
    """Recompute every row from ``events``."""
    with engine.begin() as conn:
        conn.execute(store.messages.delete())
        store.set_meta(conn, HWM_KEY, "0")
        store.set_meta(conn, TZ_KEY, settings.timezone)
    return index_messages(engine, settings)
