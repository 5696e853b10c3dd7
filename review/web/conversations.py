"""All conversations (filtered, searched, keyset-paginated) and one conversation's page.

A search and every view of a conversation are written to the audit log (a search by its filters
only: the words searched for may be patient text).
"""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request

from review import auth, store
from review.web.respond import audit, render
from review.web.state import state_of

bp = Blueprint("conversations")
FILTER_KEYS = ("flag", "intent", "date_from", "date_to", "reviewed", "q", "assignee", "tag")


@bp.get("/conversations")
async def conversation_list(request: Request) -> response.HTTPResponse:
    """All conversations, filtered, newest first."""
    state = state_of(request)
    await state.catch_up_index()
    f = store.ListFilter.from_args({k: request.args.get(k) for k in FILTER_KEYS})
    page = store.list_conversations(
        state.engine,
        f,
        state.threshold,
        state.settings.page_size,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )
    if f.q and not request.args.get("after") and not request.args.get("before"):
        # a search can single out a patient: record that one happened (not the words searched for)
        audit(request, "search", None, f.describe())
    return render(
        request,
        "list.html",
        page=page,
        filter=f,
        intents=state.filter_intents(),
        flag_choices=store.ListFilter.FLAG_CHOICES,
        base_args=f.as_args(),
        staff=auth.list_usernames(state.engine),
        tags=store.known_tags(state.engine),
        status=400 if f.errors else 200,
    )


@bp.get("/conversation")
async def conversation_view(request: Request) -> response.HTTPResponse:
    """One conversation: its transcript, notes, callbacks and actions (audited)."""
    state = state_of(request)
    sender_id = (request.args.get("id") or "")[:255]
    if not sender_id:
        raise NotFound("no id")
    await state.catch_up_index()
    engine = state.engine
    rows = store.conversation_events(engine, sender_id)
    summary = store.get_summary(engine, sender_id, state.threshold)
    if not rows and summary is None:
        raise NotFound("no such conversation")
    audit(request, "view_conversation", sender_id)
    corr = store.corrections_for(engine, sender_id)
    turns = store.build_transcript(rows, state.threshold, state.settings.redact_contact_details, corr)
    return render(
        request,
        "conversation.html",
        sender_id=sender_id,
        summary=summary,
        turns=turns,
        notes=store.notes_for(engine, sender_id),
        callbacks=store.callbacks_for(engine, sender_id),
        callback_history=store.callback_history(engine, sender_id),
        intents=state.domain_intents,
        staff=auth.list_usernames(engine),
    )
