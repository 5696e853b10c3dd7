"""Open items (every flagged conversation nobody has reviewed, worst first, with the open callback
requests), marking several reviewed at once, and the live count every page polls."""

from __future__ import annotations

from typing import List

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.engine import Connection

from review import store
from review.web.middleware import LIVE_PATH
from review.web.respond import AuditEntry, change_audit_redirect, render
from review.web.state import state_of

bp = Blueprint("open_items")
BULK_LIMIT = 500  # conversations one "Mark selected as reviewed" may change


@bp.get("/open")
async def open_items(request: Request) -> response.HTTPResponse:
    """Unreviewed flagged conversations, worst first, and the open callback requests."""
    state = state_of(request)
    await state.catch_up_index()
    flag = request.args.get("flag") or "any"
    if flag not in store.ListFilter.FLAG_CHOICES:
        return render(request, "error.html", status=400, code="bad_request")
    page = store.list_open(
        state.engine,
        flag,
        state.threshold,
        state.settings.page_size,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )
    cbs = store.open_callbacks(state.engine)
    for cb in cbs:
        text = cb.get("last_user_text")
        cb["last_user_text"] = store.redact(text) if state.settings.redact_contact_details else text
    return render(
        request,
        "open.html",
        page=page,
        callbacks=cbs,
        flag=flag,
        flag_choices=store.ListFilter.FLAG_CHOICES,
        base_args={"flag": flag} if flag != "any" else {},
    )


@bp.get(LIVE_PATH)
async def live(request: Request) -> response.HTTPResponse:
    """Counts for the live badge and tab title (no patient data)."""
    state = state_of(request)
    await state.catch_up_index()
    try:
        since = max(0, int(request.args.get("since") or 0))
    except ValueError:
        since = 0
    return response.json(store.live_counts(state.engine, since))


@bp.post("/open/review")
async def bulk_review(request: Request) -> response.HTTPResponse:
    """Mark the ticked conversations reviewed; one audit entry per conversation."""
    ids = [i[:255] for i in (request.form.getlist("id") or [])][:BULK_LIMIT]
    username = request.ctx.session.username

    def mark_all(conn: Connection) -> List[AuditEntry]:
        return [
            AuditEntry("mark_reviewed", sender_id, {"bulk": True})
            for sender_id in dict.fromkeys(ids)
            if store.set_reviewed(conn, sender_id, True, username)
        ]

    return change_audit_redirect(
        request, mark_all, lambda done: f"/open?msg={'bulk_reviewed' if done else 'bad_input'}"
    )
