"""Staff triage of conversations: reviewed, assigned, notes and labels, intent corrections and the
outcome of callback requests. Each function changes rows in the caller's transaction, where the
caller also writes the audit entry (:func:`review.store.audit_log.write_audit`)."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review.store.flags import FORM_DETAIL_SLOTS, intent_of, load_data
from review.store.schema import CALLBACK_OUTCOMES, audit, callbacks, conversations, corrections, events, notes


def set_reviewed(conn: Connection, sender_id: str, reviewed: bool, username: str) -> bool:
    """Mark a conversation reviewed (by whom, when) or not; False when there is no such conversation."""
    values = {
        "reviewed": reviewed,
        "reviewed_by": username if reviewed else None,
        "reviewed_at": time.time() if reviewed else None,
    }
    return (
        conn.execute(conversations.update().where(conversations.c.sender_id == sender_id).values(**values)).rowcount > 0
    )


def set_assignee(conn: Connection, sender_id: str, assignee: Optional[str]) -> bool:
    """Assign a conversation to a staff member (None or "": nobody); False when there is none."""
    return (
        conn.execute(
            conversations.update().where(conversations.c.sender_id == sender_id).values(assignee=assignee or None)
        ).rowcount
        > 0
    )


def add_note(conn: Connection, sender_id: str, author: str, text: str, tag: Optional[str]) -> None:
    """Add a note and/or a label to a conversation (the label joins its tags)."""
    conn.execute(
        notes.insert().values(
            sender_id=sender_id, author=author, created=time.time(), tag=tag or None, text=text or None
        )
    )
    if tag:
        current = conn.execute(sa.select(conversations.c.tags).where(conversations.c.sender_id == sender_id)).scalar()
        tags = set((current or "").split())
        tags.add(tag)
        conn.execute(
            conversations.update()
            .where(conversations.c.sender_id == sender_id)
            .values(tags=" " + " ".join(sorted(tags)) + " ")
        )


def user_event(conn: Connection, sender_id: str, event_id: int) -> Optional[Dict[str, Any]]:
    """The data of patient message ``event_id`` of that conversation, None if it is not one."""
    row = conn.execute(
        sa.select(events.c.id, events.c.type_name, events.c.data).where(
            events.c.id == event_id, events.c.sender_id == sender_id
        )
    ).first()
    if row is None or row.type_name != "user":
        return None
    return load_data(row.data)


def is_form_answer(conn: Connection, sender_id: str, event_id: int) -> bool:
    """Whether the patient message ``event_id`` filled a callback-form detail (their name, phone, time)."""
    rows = conn.execute(
        sa.select(events.c.type_name, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.id > event_id)
        .order_by(events.c.id)
        .limit(30)
    ).all()
    for row in rows:
        if row.type_name == "user":
            break
        if row.type_name == "slot":
            data = load_data(row.data)
            if data.get("name") in FORM_DETAIL_SLOTS and data.get("value") is not None:
                return True
    return False


def save_correction(conn: Connection, sender_id: str, event_id: int, intent: str, author: str) -> bool:
    """Record the intent a patient message should have had (replacing an earlier correction);
    False for anything but a patient message with text that did not answer the callback form."""
    data = user_event(conn, sender_id, event_id)
    if data is None or not data.get("text") or is_form_answer(conn, sender_id, event_id):
        return False
    predicted, _ = intent_of(data)
    values = dict(
        sender_id=sender_id,
        text=data["text"],
        predicted_intent=predicted,
        corrected_intent=intent,
        author=author,
        created=time.time(),
    )
    updated = conn.execute(corrections.update().where(corrections.c.event_id == event_id).values(**values)).rowcount
    if not updated:
        conn.execute(corrections.insert().values(event_id=event_id, **values))
    return True


def mark_callback_done(conn: Connection, callback_id: int, username: str) -> Optional[str]:
    """Record the outcome "done" (see :func:`record_callback_outcome`)."""
    return record_callback_outcome(conn, callback_id, "done", username)


def record_callback_outcome(conn: Connection, callback_id: int, outcome: str, username: str) -> Optional[str]:
    """Record what happened when staff called back (one of CALLBACK_OUTCOMES). "called" and "done"
    close the request; "not_reached" leaves it open. Returns the conversation's id, None if no such
    request."""
    if outcome not in CALLBACK_OUTCOMES:
        raise ValueError("unknown outcome")
    row = conn.execute(
        sa.select(callbacks.c.sender_id, callbacks.c.status).where(callbacks.c.id == callback_id)
    ).first()
    if row is None:
        return None
    now = time.time()
    values: Dict[str, Any] = {"outcome": outcome, "outcome_by": username, "outcome_at": now}
    if outcome != "not_reached":
        values.update(status="done", done_by=username, done_at=now)
    conn.execute(callbacks.update().where(callbacks.c.id == callback_id).values(**values))
    return row.sender_id


def callback_history(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    """The callback outcomes recorded for one conversation, oldest first, from the audit log."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit.c.ts, audit.c.username, audit.c.detail)
            .where(audit.c.target == sender_id, audit.c.action.in_(("callback_outcome", "callback_done")))
            .order_by(audit.c.id)
        ).all()
    out = []
    for r in rows:
        detail = load_data(r.detail)
        out.append(
            {
                "ts": r.ts,
                "username": r.username,
                "callback_id": detail.get("callback_id"),
                "outcome": detail.get("outcome") or "done",
            }
        )
    return out


def list_corrections(engine: Engine, limit: int = 500) -> List[Dict[str, Any]]:
    """The newest intent corrections."""
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.select(corrections).order_by(corrections.c.id.desc()).limit(limit))
        ]
