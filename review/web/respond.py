"""Helpers the handlers share: rendering pages, security headers, client addresses, form values,
the audit log, and :func:`change_audit_redirect` for every POST that changes something.

A change by staff always goes the same way: the change and its audit entry (or entries) are
written in one transaction, then the browser is sent on with a 303 redirect (POST/redirect/GET).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Union
from urllib.parse import urlencode

from sanic import response
from sanic.request import Request
from sqlalchemy.engine import Connection

from review import auth, store
from review.web.state import state_of

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The ``msg`` values a page shows as a notice (anything else is ignored).
MESSAGES = {
    "reviewed",
    "unreviewed",
    "assigned",
    "noted",
    "corrected",
    "callback_done",
    "callback_outcome",
    "bulk_reviewed",
    "bad_input",
}
_NEXT_RE = re.compile(r"/(?![/\\])[\x21-\x7e]*")  # a path on this site: not //host, not /\host, no spaces


def safe_next(raw: Optional[str]) -> Optional[str]:
    """The page to return to after log-in, if it is a relative path on this site (else None: no open
    redirect to another host, e.g. ``//evil.example`` or ``https://evil.example``)."""
    if not raw or len(raw) > 2000 or not _NEXT_RE.fullmatch(raw) or raw.startswith("/login"):
        return None
    return raw


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> response.HTTPResponse:
    """A page from ``templates/``, with the session's user and CSRF token, the notice named by ``msg``
    and, for a logged-in user, what the live count needs."""
    state = state_of(request)
    session = getattr(request.ctx, "session", None)
    ctx.setdefault("user", session.username if session else None)
    ctx.setdefault("csrf_token", session.csrf_token if session else "")
    ctx.setdefault("threshold", state.threshold)
    msg = request.args.get("msg")
    ctx.setdefault("msg", msg if msg in MESSAGES else None)
    if session and session.user_id:
        ctx.setdefault("live_since", store.indexed_up_to(state.engine))
        ctx.setdefault("live_poll", state.settings.live_poll_seconds)
    html = state.jinja.get_template(template).render(**ctx)
    return response.html(html, status=status)


def security_headers(request: Request, resp: response.BaseHTTPResponse, static: bool = False) -> None:
    """The headers every answer carries (CSP, no sniffing, no framing, ...); pages are never cached."""
    headers = resp.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if state_of(request).settings.secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if not static:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"


def forwarded_ip(request: Request) -> Optional[str]:
    """The client's address from a trusted proxy's X-Forwarded-For (REVIEW_TRUSTED_PROXIES), else None."""
    return auth.forwarded_client_ip(
        request.ip, request.headers.get("x-forwarded-for"), state_of(request).settings.trusted_proxies
    )


def client_ip(request: Request) -> str:
    """For the audit log: the client's address if a trusted proxy gave it, else the connection's."""
    return (forwarded_ip(request) or request.ip or "unknown")[:64]


def form_value(request: Request, key: str, limit: int = 2000) -> str:
    """A form field, stripped and cut to ``limit`` characters ("" when absent)."""
    return (request.form.get(key) or "").strip()[:limit]


def username(request: Request) -> Optional[str]:
    """The logged-in staff member's name (None on the public pages)."""
    session = getattr(request.ctx, "session", None)
    return session.username if session else None


def audit(request: Request, action: str, target: Optional[str] = None, detail: Optional[str] = None) -> None:
    """Write one audit entry in its own transaction: for what staff looked at or exported."""
    with state_of(request).engine.begin() as conn:
        store.write_audit(conn, username(request), action, target, client_ip(request), detail)


def set_session_cookie(request: Request, resp: response.HTTPResponse, token: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure (and ``__Host-``) when so configured."""
    name = state_of(request).cookie_name
    resp.cookies[name] = token
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if state_of(request).settings.secure_cookies:
        cookie["secure"] = True


def conversation_url(sender_id: str, msg: str) -> str:
    """The conversation's page with a notice."""
    return "/conversation?" + urlencode({"id": sender_id, "msg": msg})


def redirect(location: str) -> response.HTTPResponse:
    """303 See Other: the browser GETs ``location`` (a POST is never repeated by a reload)."""
    return response.redirect(location, status=303)


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry for a change; ``detail`` is written as JSON."""

    action: str
    target: Optional[str] = None
    detail: Optional[Dict[str, Any]] = None


Change = Callable[[Connection], Union[AuditEntry, Sequence[AuditEntry], None]]


def change_audit_redirect(
    request: Request, change: Change, to: Union[str, Callable[[List[AuditEntry]], str]], otherwise: Optional[str] = None
) -> response.HTTPResponse:
    """Apply a change by the logged-in staff member, audit it, redirect.

    ``change`` runs in one transaction and returns the audit entries for what it changed (one entry,
    a list, possibly empty); each is written in that same transaction, by this user from this
    address. Then a 303 to ``to`` (or to what ``to`` makes of the entries). When ``change`` returns
    None it changed nothing and nothing is audited: the redirect goes to ``otherwise``. An exception
    (e.g. NotFound) rolls everything back.
    """
    with state_of(request).engine.begin() as conn:
        done = change(conn)
        if done is None:
            if otherwise is None:
                raise ValueError("a change that can refuse needs an 'otherwise' page")
            return redirect(otherwise)
        entries = [done] if isinstance(done, AuditEntry) else list(done)
        user, ip = username(request), client_ip(request)
        for entry in entries:
            detail = json.dumps(entry.detail) if entry.detail is not None else None
            store.write_audit(conn, user, entry.action, entry.target, ip, detail)
    return redirect(to(entries) if callable(to) else to)
