"""What runs around every request: the login and CSRF checks, security headers and the access log
line, the error pages, and the background indexer.

Every page needs a logged-in staff session except ``/login``, ``/healthz``, ``/favicon.ico`` and
``/static``. Every POST must carry the session's CSRF token. Log lines carry method, path (never
the query string) and status only: no patient text, phone numbers or search terms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Optional
from urllib.parse import urlencode

from sanic import Sanic, response
from sanic.exceptions import NotFound, SanicException
from sanic.request import Request

from review import auth, message_index, store
from review.web.respond import render, safe_next, security_headers
from review.web.state import ReviewState, state_of

log = logging.getLogger("review")
PUBLIC_PATHS = {"/login", "/healthz", "/favicon.ico"}
LIVE_PATH = "/live.json"  # polled by static/live.js: not a sign of activity, answers 401 instead of redirecting


async def authenticate(request: Request) -> Optional[response.HTTPResponse]:
    """Load the session; refuse a POST without a logged-in session or a valid CSRF token, and send a
    visitor without a session to the login page (the page asked for comes back after it)."""
    request.ctx.started = time.perf_counter()
    request.ctx.session = None
    path = request.path
    if path.startswith("/static/") or path in ("/healthz", "/favicon.ico"):
        return None
    state = state_of(request)
    request.ctx.session = auth.load_session(
        state.engine, state.settings, request.cookies.get(state.cookie_name), touch=path != LIVE_PATH
    )
    session = request.ctx.session
    if request.method == "POST":
        if path != "/login" and (session is None or session.user_id is None):
            return render(request, "error.html", status=403, code="login_required")
        if not auth.check_csrf(session, request.form.get("csrf_token") if request.form else None):
            log.warning("CSRF check failed on %s", path)
            return render(request, "error.html", status=403, code="csrf")
        return None
    if path in PUBLIC_PATHS:
        return None
    if session is None or session.user_id is None:
        if path == LIVE_PATH:
            return response.json({"error": "login_required"}, status=401)
        wanted = path + ("?" + request.query_string if request.query_string else "")
        target = "/login?" + urlencode({"next": wanted}) if safe_next(wanted) and path != "/" else "/login"
        return response.redirect(target, status=303)
    return None


async def headers_and_log(request: Request, resp: response.BaseHTTPResponse) -> None:
    """Security headers on every answer, then one log line (no query string)."""
    security_headers(request, resp, static=request.path.startswith("/static/"))
    started = getattr(request.ctx, "started", None)
    ms = (time.perf_counter() - started) * 1000 if started else 0.0
    log.info("%s %s %s %.1fms", request.method, request.path, resp.status, ms)


async def not_found(request: Request, exc: Exception) -> response.HTTPResponse:
    """The 404 page."""
    return render(request, "error.html", status=404, code="not_found")


async def server_error(request: Request, exc: Exception) -> response.HTTPResponse:
    """The error page for any other exception (logged by type only)."""
    status = exc.status_code if isinstance(exc, SanicException) else 500
    if status >= 500:
        # the type only: messages of database errors may quote patient text
        log.error("error on %s %s: %s", request.method, request.path, type(exc).__name__)
    return render(request, "error.html", status=status, code="error")


async def index_forever(state: ReviewState) -> None:
    """Fold new events into the summaries and the message index, and clean the auth tables, every
    ``REVIEW_INDEX_INTERVAL_SECONDS`` (in worker threads; an error is logged by type and the loop goes on)."""
    settings, engine = state.settings, state.engine
    loop = asyncio.get_running_loop()
    while True:
        try:
            n = await loop.run_in_executor(None, lambda: store.index_new_events(engine, settings, rescan=True))
            if n:
                log.info("indexed %d events", n)
            await loop.run_in_executor(None, lambda: message_index.index_messages(engine, settings, rescan=True))
            await loop.run_in_executor(None, store.cleanup_auth_tables, engine, settings.login_window_minutes * 60)
        except Exception as exc:  # keep the task alive
            log.error("indexer error: %s", type(exc).__name__)
        await asyncio.sleep(settings.index_interval_seconds)


def install(app: Sanic, state: ReviewState) -> None:
    """Register the middleware, the error pages and (when an interval is set) the background indexer."""
    app.middleware("request")(authenticate)
    app.middleware("response")(headers_and_log)
    app.exception(NotFound)(not_found)
    app.exception(Exception)(server_error)
    if state.settings.index_interval_seconds > 0:

        async def start_indexer(app_: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            app_.add_task(index_forever(state))

        app.after_server_start(start_indexer)
