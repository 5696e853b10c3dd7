"""What staff do on a conversation's page: mark it reviewed (or not), assign it, add a note with an
optional label, correct the intent of a patient message. Each change is audited and ends in a
redirect back to the conversation with a notice (:func:`~review.web.respond.change_audit_redirect`).
"""

from __future__ import annotations

from typing import Optional

from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sqlalchemy.engine import Connection

from review import auth, store
from review.web.respond import AuditEntry, change_audit_redirect, conversation_url, form_value, redirect
from review.web.state import state_of

bp = Blueprint("review_actions")


def sender_from_form(request: Request) -> str:
    """The form's conversation id; 404 unless the conversation is indexed."""
    sender_id = form_value(request, "id", 255)
    if not sender_id or store.get_summary(state_of(request).engine, sender_id, state_of(request).threshold) is None:
        raise NotFound("no such conversation")
    return sender_id


@bp.post("/conversation/review")
async def mark_reviewed(request: Request) -> response.HTTPResponse:
    """Mark the conversation reviewed or not reviewed."""
    sender_id = sender_from_form(request)
    reviewed = form_value(request, "reviewed") == "1"
    username = request.ctx.session.username

    def change(conn: Connection) -> AuditEntry:
        store.set_reviewed(conn, sender_id, reviewed, username)
        return AuditEntry("mark_reviewed" if reviewed else "mark_unreviewed", sender_id)

    return change_audit_redirect(request, change, conversation_url(sender_id, "reviewed" if reviewed else "unreviewed"))


@bp.post("/conversation/assign")
async def assign(request: Request) -> response.HTTPResponse:
    """Assign the conversation to a staff member (or nobody)."""
    sender_id = sender_from_form(request)
    assignee = form_value(request, "assignee", 64)
    if assignee and assignee not in auth.list_usernames(state_of(request).engine):
        return redirect(conversation_url(sender_id, "bad_input"))

    def change(conn: Connection) -> AuditEntry:
        store.set_assignee(conn, sender_id, assignee)
        return AuditEntry("assign", sender_id, {"assignee": assignee or None})

    return change_audit_redirect(request, change, conversation_url(sender_id, "assigned"))


@bp.post("/conversation/note")
async def note(request: Request) -> response.HTTPResponse:
    """Add a note, a label or both."""
    sender_id = sender_from_form(request)
    text = form_value(request, "text", 2000)
    tag = form_value(request, "tag", 40).lower()
    if (tag and not store.TAG_RE.fullmatch(tag)) or (not text and not tag):
        return redirect(conversation_url(sender_id, "bad_input"))
    username = request.ctx.session.username

    def change(conn: Connection) -> AuditEntry:
        store.add_note(conn, sender_id, username, text, tag)
        return AuditEntry("add_note", sender_id, {"tag": tag or None})

    return change_audit_redirect(request, change, conversation_url(sender_id, "noted"))


@bp.post("/conversation/correct")
async def correct(request: Request) -> response.HTTPResponse:
    """Correct the intent of one patient message."""
    sender_id = sender_from_form(request)
    intent = form_value(request, "intent", 255)
    try:
        event_id = int(form_value(request, "event_id", 20))
    except ValueError:
        return redirect(conversation_url(sender_id, "bad_input"))
    if intent not in state_of(request).domain_intents:
        return redirect(conversation_url(sender_id, "bad_input"))
    username = request.ctx.session.username

    def change(conn: Connection) -> Optional[AuditEntry]:
        if not store.save_correction(conn, sender_id, event_id, intent, username):
            return None  # not a patient message, or an answer to the callback form
        return AuditEntry("correct_intent", sender_id, {"event_id": event_id, "intent": intent})

    return change_audit_redirect(
        request, change, conversation_url(sender_id, "corrected"), otherwise=conversation_url(sender_id, "bad_input")
    )
