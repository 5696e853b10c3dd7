"""The audit log's page: the newest 200 entries, then older ones by id (``before``)."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

from review import store
from review.web.respond import render
from review.web.state import state_of

bp = Blueprint("audit_page")
PAGE = 200


@bp.get("/audit")
async def audit_page(request: Request) -> response.HTTPResponse:
    """The audit log, newest first."""
    try:
        before = store.parse_audit_cursor(request.args.get("before"))
    except ValueError:
        return render(request, "error.html", status=400, code="bad_request")
    rows = store.audit_rows(state_of(request).engine, PAGE, before)
    return render(request, "audit.html", rows=rows, older=rows[-1]["id"] if len(rows) == PAGE else None)
