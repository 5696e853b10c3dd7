"""The incremental indexer: Rasa's events folded into one summary row per conversation.

Reads ``events.id`` above the high-water mark in ``review_meta`` and keeps, per conversation, its
flags, turns, last patient message, search text, lowest confidence, the urgency of its worst flag
with the message it was raised on (Open items' order), the language of its latest message flagged
not in English, its intents and its callback requests.
Conversations that become a crisis or emergency are handed to :mod:`review.notify` once committed.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review.settings import Settings
from review.store.flags import (
    CLASSIFIER_FLAGS,
    FORM_ACTIONS,
    FORM_DETAIL_SLOTS,
    TRIAGE_LEVELS,
    buttons_offered,
    event_flags,
    intent_of,
    language_of,
    load_data,
    triage_reason,
    urgency_rank,
)
from review.store.redaction import redact
from review.store.schema import (
    ALERT_URGENCY,
    FLAGS,
    NO_URGENCY,
    callbacks,
    chunks,
    conversation_intents,
    conversations,
    events,
    get_meta,
    set_meta,
)


_INDEX_LOCK = threading.Lock()
_ENGINES_WITH_EVENTS: "weakref.WeakSet[Engine]" = weakref.WeakSet()
HWM_KEY = "indexed_event_id"
SEARCH_TEXT_CAP = 4000
LAST_TEXT_CAP = 300


def indexed_up_to(engine: Engine) -> int:
    """The id of the last event folded into the summaries (0 before the first pass)."""
    with engine.connect() as conn:
        return int(get_meta(conn, HWM_KEY) or 0)


def _parse_requested_at(value: Any, fallback: float) -> float:
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            return dt.timestamp()
        except ValueError:
            pass
    return fallback


_SUMMARY_COLUMNS = [
    "sender_id",
    "started",
    "last_ts",
    "turns",
    "last_user_text",
    *[f"flag_{f}" for f in FLAGS],
    "min_confidence",
    "search_text",
    "last_event_id",
    "reviewed",
    "reviewed_at",
    "urgency",
    "worst_flag",
    "worst_text",
    "worst_ts",
    "worst_event_id",
    "worst_reason",
    "waiting_since",
    "language",
]


def _apply_events(
    summary: Dict[str, Any],
    rows: Sequence[Any],
    redact_text: bool,
    new_intents: Set[str],
    new_callbacks: List[Dict[str, Any]],
    offered: Optional[Dict[str, str]] = None,
) -> int:
    """Fold stored events (ordered by id) into one conversation's summary, idempotently.

    ``offered``: payload -> title of the buttons the assistant offered before ``rows`` (a click in
    ``rows`` on a button offered in an earlier batch); a click is kept as the title the patient saw.

    Besides the flags, keeps the conversation's worst flag (URGENCY_ORDER) with the patient message
    it was raised on: the message itself, or for a flag raised by the assistant's action, reply or a
    slot, the patient message it answered (passing over answers to the callback form, which hold
    personal details, not a question). Returns how many events were new to this summary."""
    search = summary.get("search_text") or ""
    applied = 0
    # The classifier's flags, confidence and intent of the latest patient message, held until the
    # next action shows whether it was form input (then dropped). Held at the end of ``rows``: counted.
    # With them, the message they were raised on (for the worst message of Open items), and the language
    # the not-English check named on it: kept as the conversation's language with the flag, not without.
    pending: Optional[Tuple[Set[str], Optional[float], Optional[str], Any, Any, int, Optional[str]]] = None
    current_text, current_ts = summary.get("last_user_text"), summary.get("last_ts")
    current_reason: Optional[str] = None  # why the triage escalated the current patient message, if it did
    offered = dict(offered or {})
    # the patient message before the current one
    before_text, before_ts, before_reason = current_text, current_ts, current_reason

    def raise_flag(flag: str, text: Any, at: Any, event_id: int) -> None:
        summary[f"flag_{flag}"] = True
        if urgency_rank(flag) < summary.get("urgency", NO_URGENCY):
            summary.update(
                urgency=urgency_rank(flag),
                worst_flag=flag,
                worst_text=text,
                worst_ts=at,
                worst_event_id=event_id,
                worst_reason=current_reason if flag in TRIAGE_LEVELS else None,
            )

    def settle(form_input: bool) -> None:
        nonlocal pending
        if pending is not None and not form_input:
            held_flags, conf, intent, text, at, event_id, language = pending
            for flag in held_flags:
                raise_flag(flag, text, at, event_id)
            if "not_english" in held_flags and language:
                summary["language"] = language
            if intent:
                new_intents.add(intent)
            if conf is not None:
                current = summary.get("min_confidence")
                summary["min_confidence"] = conf if current is None else min(current, conf)
        pending = None

    for row in rows:
        if row.id <= summary["last_event_id"]:
            continue  # already folded in (another indexer got there first, or a rescan)
        applied += 1
        ts = row.timestamp if row.timestamp is not None else summary["last_ts"] or time.time()
        summary["started"] = min(summary["started"], ts) if summary["started"] else ts
        summary["last_ts"] = max(summary["last_ts"] or ts, ts)
        summary["last_event_id"] = row.id
        data = load_data(row.data)
        if row.type_name == "bot":
            offered.update(buttons_offered(data))
        if row.type_name == "user" and data.get("text"):
            said = str(data["text"])
            said = offered.get(said.strip(), said) if said.startswith("/") else said
            before_text, before_ts, before_reason = current_text, current_ts, current_reason
            current_text, current_ts = (redact(said) if redact_text else said)[:LAST_TEXT_CAP], ts
            current_reason = triage_reason(data)
        elif row.type_name == "slot" and data.get("name") in FORM_DETAIL_SLOTS and data.get("value") is not None:
            # that message answered the callback form (a name, a phone number): never shown as the worst
            current_text, current_ts, current_reason = before_text, before_ts, before_reason
        flags = event_flags(row.type_name, data)
        if row.type_name == "user":
            settle(form_input=False)
            intent, conf = intent_of(data)
            pending = (
                flags & CLASSIFIER_FLAGS,
                conf,
                intent,
                current_text,
                current_ts if current_ts is not None else ts,
                row.id,
                language_of(data),
            )
            flags -= CLASSIFIER_FLAGS
        elif row.type_name == "action" and data.get("name") != "action_listen":
            settle(form_input=data.get("name") in FORM_ACTIONS)
        for flag in flags:
            raise_flag(flag, current_text, current_ts if current_ts is not None else ts, row.id)
        if row.type_name == "user":
            text = data.get("text")
            if text:
                summary["turns"] += 1
                shown = current_text or ""
                summary["last_user_text"] = shown
                if len(search) < SEARCH_TEXT_CAP:
                    search = (search + " " + shown.lower())[:SEARCH_TEXT_CAP]
                # New patient activity after a review re-opens the conversation; it waits from then.
                if summary.get("reviewed") and (summary.get("reviewed_at") or 0) < ts:
                    summary["reviewed"] = False
                    summary["waiting_since"] = ts
                elif summary.get("waiting_since") is None:
                    summary["waiting_since"] = ts
        elif row.type_name == "bot":
            text = data.get("text")
            if text and len(search) < SEARCH_TEXT_CAP:
                shown = redact(text) if redact_text else text
                search = (search + " " + shown.lower())[:SEARCH_TEXT_CAP]
        elif row.type_name == "slot" and data.get("name") == "callback_request":
            value = data.get("value")
            if isinstance(value, dict) and value:
                new_callbacks.append(
                    {
                        "sender_id": summary["sender_id"],
                        "event_id": row.id,
                        "requested_at": _parse_requested_at(value.get("requested_at"), ts),
                        "name": str(value.get("name") or "")[:200],
                        "phone": str(value.get("phone") or "")[:40],
                        "preferred_time": str(value.get("preferred_time") or "")[:200],
                        "status": "open",
                    }
                )
    settle(form_input=False)
    if summary.get("waiting_since") is None and applied:
        summary["waiting_since"] = summary["started"]  # no patient message yet (e.g. only a session start)
    summary["search_text"] = search
    return applied


# On PostgreSQL, ids come from a sequence and transactions may commit out of id order: the background
# pass re-reads this many ids below the high-water mark so a late commit is not skipped. (Per
# conversation, Rasa commits in order, and events already folded in are skipped by last_event_id.)
PG_RESCAN_WINDOW = 1000


def index_new_events(
    engine: Engine,
    settings: Settings,
    batch: int = 5000,
    max_events: Optional[int] = None,
    rescan: bool = False,
    wait: float = 0.0,
    alert: bool = True,
) -> int:
    """Fold events newer than the high-water mark into the summaries; returns how many new ones were read.

    Cheap when nothing is new (one ``max(id)`` on the primary key). ``max_events`` bounds the work
    done in one call (the web app catches up on a request, the background task does the rest).
    ``rescan`` (PostgreSQL only) also re-reads the last ``PG_RESCAN_WINDOW`` ids. ``wait``: seconds
    to wait for another thread's indexing pass to finish (a page request waits, so it shows every
    event committed before it; the background pass does not). ``alert``: conversations that become a
    crisis or emergency in this pass are handed to :func:`review.notify.send_alerts` once committed
    (a rebuild does not alert again).
    """
    alerts: List[Alert] = []
    try:
        return _index_new_events(engine, settings, batch, max_events, rescan, wait, alerts)
    finally:
        if alert and alerts:
            from review import notify

            notify.send_alerts(settings, alerts)


def _index_new_events(
    engine: Engine,
    settings: Settings,
    batch: int,
    max_events: Optional[int],
    rescan: bool,
    wait: float,
    alerts: List[Alert],
) -> int:
    if not (_INDEX_LOCK.acquire(timeout=wait) if wait > 0 else _INDEX_LOCK.acquire(blocking=False)):
        return 0  # another thread of this process is indexing
    try:
        with engine.connect() as conn:
            if engine not in _ENGINES_WITH_EVENTS:
                if not sa.inspect(conn).has_table("events"):
                    return 0  # the Rasa server has not created its table yet
                _ENGINES_WITH_EVENTS.add(engine)
            max_id = conn.execute(sa.select(sa.func.max(events.c.id))).scalar()
            hwm = int(get_meta(conn, HWM_KEY) or 0)
        rescan = rescan and engine.dialect.name == "postgresql"
        if max_id is None or (max_id <= hwm and not rescan):
            return 0
        done = new = 0
        first_hwm = hwm
        start = max(0, hwm - PG_RESCAN_WINDOW) if rescan else hwm
        while max_events is None or done < max_events:
            limit = batch if max_events is None else min(batch, max_events - done)
            with engine.begin() as conn:
                hwm = int(get_meta(conn, HWM_KEY) or 0)
                rows = conn.execute(
                    sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
                    .where(events.c.id > min(start, hwm))
                    .order_by(events.c.id)
                    .limit(limit)
                ).all()
                if not rows:
                    break
                batch_alerts: List[Alert] = []
                _index_rows(conn, rows, settings, batch_alerts)
                if rows[-1].id > hwm:
                    set_meta(conn, HWM_KEY, str(rows[-1].id))
            alerts += batch_alerts  # committed: safe to announce
            start = rows[-1].id
            done += len(rows)
            new += sum(1 for r in rows if r.id > first_hwm)
            if len(rows) < limit:
                break
        if new > 20000 and engine.dialect.name == "postgresql":
            with engine.begin() as conn:  # fresh planner statistics after a big initial build
                conn.execute(sa.text("ANALYZE review_conversations"))
                conn.execute(sa.text("ANALYZE review_conversation_intents"))
        return new
    finally:
        _INDEX_LOCK.release()


@dataclass(frozen=True)
class Alert:
    """A conversation that has just become a crisis or emergency (no patient text: level and time only)."""

    sender_id: str
    level: str
    ts: float


# How many of the assistant's messages before a batch are read for the buttons a click in it chose.
BUTTONS_LOOKBACK = 10


def _buttons_before(conn: Connection, sender: str, rows: Sequence[Any]) -> Dict[str, str]:
    """The buttons offered just before ``rows`` when one of them is a click (a ``/payload`` text) that
    the batch itself does not explain: the offer was folded in an earlier batch. One query then, none
    otherwise."""
    for row in rows:
        if row.type_name == "bot" and buttons_offered(load_data(row.data)):
            return {}
        if row.type_name == "user" and str(load_data(row.data).get("text") or "").startswith("/"):
            break
    else:
        return {}
    earlier = conn.execute(
        sa.select(events.c.data)
        .where(events.c.sender_id == sender, events.c.type_name == "bot", events.c.id < rows[0].id)
        .order_by(events.c.id.desc())
        .limit(BUTTONS_LOOKBACK)
    ).all()
    offered: Dict[str, str] = {}
    for r in reversed(earlier):
        offered.update(buttons_offered(load_data(r.data)))
    return offered


def _index_rows(
    conn: Connection, rows: Sequence[Any], settings: Settings, alerts: Optional[List[Alert]] = None
) -> None:
    """Fold ``rows`` into the summaries; conversations that reach crisis or emergency are appended to
    ``alerts`` (when given)."""
    by_sender: Dict[str, List[Any]] = {}
    for row in rows:
        by_sender.setdefault(row.sender_id, []).append(row)
    senders = list(by_sender)
    existing: Dict[str, Dict[str, Any]] = {}
    known_intents: Set[Tuple[str, str]] = set()
    for chunk in chunks(senders, 500):
        for r in conn.execute(
            sa.select(*[conversations.c[c] for c in _SUMMARY_COLUMNS]).where(conversations.c.sender_id.in_(chunk))
        ):
            existing[r.sender_id] = dict(r._mapping)
        for r in conn.execute(sa.select(conversation_intents).where(conversation_intents.c.sender_id.in_(chunk))):
            known_intents.add((r.sender_id, r.intent))
    inserts: List[Dict[str, Any]] = []
    intent_rows: List[Dict[str, str]] = []
    callback_rows: List[Dict[str, Any]] = []
    for sender, sender_rows in by_sender.items():
        found = existing.get(sender)
        is_new = found is None
        if found is not None:
            summary = found
        else:
            summary = {
                "sender_id": sender,
                "started": 0.0,
                "last_ts": 0.0,
                "turns": 0,
                "last_user_text": None,
                **{f"flag_{f}": False for f in FLAGS},
                "min_confidence": None,
                "search_text": "",
                "last_event_id": 0,
                "reviewed": False,
                "reviewed_at": None,
                "urgency": NO_URGENCY,
                "worst_flag": None,
                "worst_text": None,
                "worst_ts": None,
                "worst_event_id": None,
                "worst_reason": None,
                "waiting_since": None,
                "language": None,
            }
        seen: Set[str] = set()
        was_alert = summary["urgency"] <= ALERT_URGENCY
        offered = _buttons_before(conn, sender, sender_rows)
        if not _apply_events(summary, sender_rows, settings.redact_contact_details, seen, callback_rows, offered):
            continue  # nothing new for this conversation
        if not was_alert and summary["urgency"] <= ALERT_URGENCY and alerts is not None:
            alerts.append(Alert(sender, summary["worst_flag"], summary["worst_ts"] or summary["last_ts"]))
        intent_rows += [{"sender_id": sender, "intent": i} for i in sorted(seen) if (sender, i) not in known_intents]
        if is_new:
            inserts.append(summary)
        else:
            values = {k: v for k, v in summary.items() if k not in ("sender_id", "reviewed_at")}
            conn.execute(conversations.update().where(conversations.c.sender_id == sender).values(**values))
    if inserts:
        conn.execute(conversations.insert(), [{k: v for k, v in s.items() if k != "reviewed_at"} for s in inserts])
    if intent_rows:
        conn.execute(conversation_intents.insert(), intent_rows)
    if callback_rows:
        ids = {
            r.event_id
            for r in conn.execute(
                sa.select(callbacks.c.event_id).where(callbacks.c.event_id.in_([c["event_id"] for c in callback_rows]))
            )
        }
        fresh = [c for c in callback_rows if c["event_id"] not in ids]
        if fresh:
            conn.execute(callbacks.insert(), fresh)


def rebuild_index(engine: Engine, settings: Settings) -> int:
    """Recompute every summary from ``events`` (keeps triage state, notes, corrections, callbacks)."""
    with engine.begin() as conn:
        conn.execute(
            conversations.update().values(
                started=0.0,
                last_ts=0.0,
                turns=0,
                last_user_text=None,
                min_confidence=None,
                search_text="",
                last_event_id=0,
                **{f"flag_{f}": False for f in FLAGS},
                urgency=NO_URGENCY,
                worst_flag=None,
                worst_text=None,
                worst_ts=None,
                worst_event_id=None,
                worst_reason=None,
                waiting_since=None,
                language=None,
            )
        )
        conn.execute(conversation_intents.delete())
        set_meta(conn, HWM_KEY, "0")
    return index_new_events(engine, settings, alert=False)
