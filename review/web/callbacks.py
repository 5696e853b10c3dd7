"""What happened when staff called a patient back: called (reached), not reached (the request stays
open) or done. Who and when go to the audit log; the browser returns to Open items or to the
conversation, whichever the form came from."""

from __future__ import annotations

from typing import List

from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sqlalchemy.engine import Connection

from review import store
from review.web.respond import AuditEntry, change_audit_redirect, conversation_url, form_value, render

bp = Blueprint("callbacks")


def record_outcome(request: Request, outcome: str) -> response.HTTPResponse:
    """Record ``outcome`` for the form's callback request; 404 when there is no such request."""
    try:
        callback_id = int(form_value(request, "callback_id", 20))
    except ValueError:
        raise NotFound("no such callback")
    username = request.ctx.session.username
    action = "callback_done" if outcome == "done" else "callback_outcome"  # also the notice shown after it

    def change(conn: Connection) -> AuditEntry:
        sender_id = store.record_callback_outcome(conn, callback_id, outcome, username)
        if sender_id is None:
            raise NotFound("no such callback")
        return AuditEntry(action, sender_id, {"callback_id": callback_id, "outcome": outcome})

    def back(entries: List[AuditEntry]) -> str:
        sender_id = entries[0].target
        if sender_id is not None and form_value(request, "back") == "conversation":
            return conversation_url(sender_id, action)
        return f"/open?msg={action}"

    return change_audit_redirect(request, change, back)


@bp.post("/callback/done")
async def callback_done(request: Request) -> response.HTTPResponse:
    """The request is done (the older form's button)."""
    return record_outcome(request, "done")


@bp.post("/callback/outcome")
async def callback_outcome(request: Request) -> response.HTTPResponse:
    """Called (reached), not reached (stays open) or done: who and when go to the audit log."""
    outcome = form_value(request, "outcome", 20)
    if outcome not in store.CALLBACK_OUTCOMES:
        return render(request, "error.html", status=400, code="bad_request")
    return record_outcome(request, outcome)
