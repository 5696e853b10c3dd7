"""One conversation: its events as a transcript of turns, with its corrections, notes and
callback requests (and the open callback requests of every conversation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review.store.flags import (
    buttons_offered,
    CLASSIFIER_FLAGS,
    FORM_ACTIONS,
    FORM_DETAIL_SLOTS,
    event_flags,
    failed_action_of,
    intent_of,
    load_data,
    negative_feedback,
    negative_value,
    NOTHING_LEFT_KEY,
    overrides,
    set_aside_parts,
)
from review.store.redaction import redact
from review.store.schema import callbacks, conversations, corrections, events, notes


@dataclass
class Turn:
    """One patient message and what the assistant did next (or the events before the first message)."""

    event_id: Optional[int] = None
    ts: Optional[float] = None
    text: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    ranking: List[Tuple[Optional[str], float]] = field(default_factory=list)  # (intent, confidence), best first
    classifier_intent: Optional[str] = None
    classifier_confidence: Optional[float] = None
    # readings a rule component replaced (review/store/flags.py::overrides): key, intent, confidence, why
    overrides: List[Dict[str, Any]] = field(default_factory=list)
    set_aside: List[str] = field(default_factory=list)  # instruction-like text or markup set aside before reading
    markup_only: bool = False  # nothing but markup was sent: read as not understood
    red_flags: List[str] = field(default_factory=list)
    low_confidence: bool = False
    negative_feedback: bool = False
    rating: Optional[str] = None  # the patient's rating of the replies to this message (widget)
    flags: List[str] = field(default_factory=list)
    correction: Optional[str] = None
    form_answer: bool = False  # an answer to the callback form (name, phone, time): never training data
    form_input: bool = False  # taken by the callback form as a detail: no classifier flags, no low confidence
    button_payload: Optional[str] = None  # set when the patient clicked a button: ``text`` is then its title
    steps: List[Dict[str, Any]] = field(default_factory=list)  # actions, bot messages, slots, sessions


def conversation_events(engine: Engine, sender_id: str) -> List[Any]:
    """A conversation's stored events in id order (id, type, time, data)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id)
            .order_by(events.c.id)
        ).all()


SHOWN_SLOTS = {"handoff_requested", "personal_question", "callback_request", "last_topic", "fact_ids"}


def build_transcript(
    rows: Sequence[Any], threshold: float, redact_text: bool, corrections_by_event: Dict[int, str]
) -> List[Turn]:
    """The events as turns: each patient message with what followed it, flags, ratings and
    corrections; events before the first message form a turn of their own. Text is redacted when asked."""
    turns: List[Turn] = [Turn()]
    show = (lambda t: redact(t)) if redact_text else (lambda t: t)
    parsed = [(row, load_data(row.data)) for row in rows]
    ratings: Dict[str, str] = {}  # message_id -> latest rating (slot feedback = {message_id, rating})
    awaiting_first_action = False  # the latest patient message has not been followed by an action yet
    for row, data in parsed:
        if row.type_name == "slot" and data.get("name") == "feedback" and isinstance(data.get("value"), dict):
            value = data["value"]
            if value.get("message_id") and value.get("rating"):
                ratings[str(value["message_id"])] = str(value["rating"])[:20]
    offered: Dict[str, str] = {}  # payload -> title of the buttons under the assistant's latest message
    for row, data in parsed:
        if row.type_name == "user":
            intent, conf = intent_of(data)
            raw_text = data.get("text") or ""
            title = offered.get(raw_text.strip()) if raw_text.startswith("/") else None
            parse = data.get("parse_data") or {}
            ranking = [
                (r.get("name"), float(r.get("confidence") or 0.0))
                for r in (parse.get("intent_ranking") or [])[:4]
                if isinstance(r, dict)
            ]
            classifier = parse.get("classifier_intent") or {}
            turn = Turn(
                event_id=row.id,
                ts=row.timestamp,
                text=show(title if title is not None else raw_text),
                intent=intent,
                confidence=conf,
                ranking=ranking,
                classifier_intent=classifier.get("name") if isinstance(classifier, dict) else None,
                classifier_confidence=classifier.get("confidence") if isinstance(classifier, dict) else None,
                red_flags=[
                    str(r.get("description") or r.get("flag"))
                    for r in (parse.get("red_flags") or [])
                    if isinstance(r, dict)
                ],
                low_confidence=conf is not None and conf < threshold,
                rating=ratings.get(str(data.get("message_id"))) if data.get("message_id") else None,
                flags=sorted(event_flags("user", data)),
                correction=corrections_by_event.get(row.id),
                button_payload=raw_text if title is not None else None,
                overrides=[
                    {k: show(v) if k in ("about", "symptom", "question") else v for k, v in o.items()}
                    for o in overrides(data)
                ],
                set_aside=[show(p) for p in set_aside_parts(data)],
                markup_only=bool(parse.get(NOTHING_LEFT_KEY)),
            )
            turn.negative_feedback = negative_feedback(data) or negative_value(turn.rating)
            if turn.negative_feedback and "feedback" not in turn.flags:
                turn.flags.append("feedback")
            turns.append(turn)
            awaiting_first_action = True
            continue
        step: Dict[str, Any] = {"type": row.type_name, "ts": row.timestamp, "event_id": row.id}
        if row.type_name == "action":
            name = data.get("name")
            if name == "action_listen":
                continue
            if awaiting_first_action and name in FORM_ACTIONS and turns[-1].event_id:
                form_turn = turns[-1]
                form_turn.form_input = True
                form_turn.low_confidence = False
                form_turn.flags = [f for f in form_turn.flags if f not in CLASSIFIER_FLAGS]
            awaiting_first_action = False
            step.update(
                name=name,
                policy=data.get("policy"),
                confidence=data.get("confidence"),
                flags=sorted(event_flags("action", data)),
            )
        elif row.type_name == "bot":
            meta = data.get("metadata") or {}
            payload = data.get("data") or {}
            failed = failed_action_of(data)
            if failed and "failed_action" not in turns[-1].flags:
                turns[-1].flags.append("failed_action")
            step.update(
                text=show(data.get("text") or ""),
                failed_action=failed,
                utter_action=meta.get("utter_action") or meta.get("template"),
                topic=meta.get("topic"),
                fact_ids=[str(x) for x in meta["fact_ids"]] if isinstance(meta.get("fact_ids"), list) else [],
                buttons=[str(b.get("title")) for b in (payload.get("buttons") or []) if isinstance(b, dict)],
            )
            offered.update(buttons_offered(data))
        elif row.type_name == "slot":
            name = data.get("name")
            if name in FORM_DETAIL_SLOTS and data.get("value") is not None and turns[-1].event_id:
                turns[-1].form_answer = True
            if name not in SHOWN_SLOTS:
                continue
            value = data.get("value")
            if name == "callback_request":
                value = "recorded (see callback request)" if value else "cleared"
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            step.update(name=name, value=value)
        elif row.type_name == "session_started":
            pass
        else:
            continue
        turns[-1].steps.append(step)
    if not turns[0].steps:
        turns.pop(0)
    return turns


def corrections_for(engine: Engine, sender_id: str) -> Dict[int, str]:
    """A conversation's intent corrections by event id."""
    with engine.connect() as conn:
        return {
            r.event_id: r.corrected_intent
            for r in conn.execute(
                sa.select(corrections.c.event_id, corrections.c.corrected_intent).where(
                    corrections.c.sender_id == sender_id
                )
            )
        }


def notes_for(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    """A conversation's notes, oldest first."""
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.select(notes).where(notes.c.sender_id == sender_id).order_by(notes.c.id))
        ]


def callbacks_for(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    """A conversation's callback requests, oldest first."""
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(callbacks).where(callbacks.c.sender_id == sender_id).order_by(callbacks.c.id)
            )
        ]


def open_callbacks(engine: Engine, limit: int = 200) -> List[Dict[str, Any]]:
    """Open callback requests, longest waiting first, with their conversation's last message."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                callbacks,
                conversations.c.last_user_text,
                conversations.c.last_ts,
                conversations.c.flag_emergency,
                conversations.c.flag_not_english,
                conversations.c.language,
            )
            .select_from(callbacks.outerjoin(conversations, conversations.c.sender_id == callbacks.c.sender_id))
            .where(callbacks.c.status == "open")
            .order_by(callbacks.c.requested_at.asc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]


def count_open_callbacks(engine: Engine) -> int:
    """How many callback requests are open."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(callbacks).where(callbacks.c.status == "open")
        ).scalar()
