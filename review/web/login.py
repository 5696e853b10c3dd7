"""Logging in and out.

The login form gets an anonymous session (for its CSRF token), replaced by a fresh one on success
(no session fixation). Failed and throttled attempts are audited under the name tried; after
logging in the browser returns to the page it asked for, if that page is on this site.
"""

from __future__ import annotations

import math

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.engine import Connection

from review import auth, store
from review.web.respond import (
    AuditEntry,
    change_audit_redirect,
    client_ip,
    form_value,
    forwarded_ip,
    redirect,
    render,
    safe_next,
    set_session_cookie,
)
from review.web.state import state_of

bp = Blueprint("login")


@bp.get("/login")
async def login_form(request: Request) -> response.HTTPResponse:
    """The login form (a logged-in user goes on to the page asked for)."""
    state = state_of(request)
    session = request.ctx.session
    wanted = safe_next(request.args.get("next"))
    if session and session.user_id:
        return redirect(wanted or "/")
    token = None
    if session is None:
        with state.engine.begin() as conn:
            token = auth.new_session(conn, state.settings, None)
        request.ctx.session = auth.load_session(state.engine, state.settings, token)
    resp = render(request, "login.html", next=wanted)
    if token:
        set_session_cookie(request, resp, token, 3600)
    return resp


@bp.post("/login")
async def login(request: Request) -> response.HTTPResponse:
    """Check the password (throttled per account); on success a fresh session."""
    state = state_of(request)
    username = form_value(request, "username", 64).lower()
    password = (request.form.get("password") or "")[:1024]
    ip = client_ip(request)
    wanted = safe_next(form_value(request, "next", 2000))
    throttle_ip = forwarded_ip(request)  # None unless a trusted proxy named the client
    with state.engine.begin() as conn:
        wait = auth.login_wait(conn, state.settings, username, throttle_ip)
        if wait > 0:
            store.write_audit(conn, None, "login_blocked", username, ip)
            blocked = render(
                request,
                "login.html",
                status=429,
                error="blocked",
                username=username,
                wait_minutes=max(1, math.ceil(wait / 60)),
                next=wanted,
            )
            blocked.headers["Retry-After"] = str(math.ceil(wait))
            return blocked
        user_id = auth.authenticate(conn, username, password) if username and password else None
        if user_id is None:
            auth.record_failure(conn, username, throttle_ip)
            store.write_audit(conn, None, "login_failed", username, ip)
            return render(request, "login.html", status=401, error="failed", username=username, next=wanted)
        auth.clear_failures(conn, username)
        auth.end_session(conn, request.ctx.session.token_hash)
        token = auth.new_session(conn, state.settings, user_id)
        store.write_audit(conn, username, "login", username, ip)
    resp = redirect(wanted or "/")
    set_session_cookie(request, resp, token, state.settings.session_hours * 3600)
    return resp


@bp.post("/logout")
async def logout(request: Request) -> response.HTTPResponse:
    """End the session and clear the cookie."""
    state = state_of(request)

    def end_session(conn: Connection) -> AuditEntry:
        auth.end_session(conn, request.ctx.session.token_hash)
        return AuditEntry("logout")

    resp = change_audit_redirect(request, end_session, "/login")
    name = state.cookie_name
    resp.cookies[name] = ""
    resp.cookies[name]["max-age"] = 0
    resp.cookies[name]["path"] = "/"
    if state.settings.secure_cookies:
        resp.cookies[name]["secure"] = True
    return resp
