"""App-wide settings of the Rasa server (the Sanic app) that the guarded channels run in.

Rasa builds the Sanic app itself; the channels reach it only through their blueprint listeners, so
:func:`install` is called from a ``before_server_start`` listener (idempotent: both guarded channels
call it). It changes three things Rasa does not let us configure:

- **Errors**: Sanic's own errors (404 unknown path, 405 wrong method, 413 body over the size cap,
  400 malformed request, an unhandled exception's 500) are answered like the channels' errors: JSON
  with a stable ``error``/``code`` and the patient-facing ``message`` from messages.yml, which
  includes the emergency line. Sanic's default body (an HTML page or ``{"description": ...}``)
  gives the widget nothing it can show. Rasa's own API errors (``ErrorResponse``) and sanic-jwt's
  keep their more specific handlers, and CORS preflights (OPTIONS) are still answered by Sanic-CORS.
- **No version on the root page**: Rasa's ``GET /`` answers ``Hello from Rasa: <version>``, which
  tells a scanner which advisories apply. It still answers 200 (probes and the test harness poll
  it), with ``ok``.
- **No CORS credentials**: Rasa turns on ``Access-Control-Allow-Credentials: true`` for socket.io.
  Nothing here uses cookies or HTTP authentication across origins, so it is switched off.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from sanic import response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

ErrorResponder = Callable[[int, str], HTTPResponse]

# Error codes (keys of messages.yml) for the statuses Sanic itself answers.
SANIC_ERROR_CODES: Dict[int, str] = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}
ROOT_PATH = ""  # how Sanic's router names the path "/"
ROOT_REPLY = "ok"


def error_code(status: int) -> str:
    """The ``error`` code for an HTTP status Sanic produced (``invalid_request`` / ``server_error`` by class)."""
    return SANIC_ERROR_CODES.get(status) or ("server_error" if status >= 500 else "invalid_request")


def json_error_handler(respond: ErrorResponder) -> Callable[[Request, Exception], HTTPResponse]:
    """A Sanic exception handler answering with ``respond(status, code)`` (the channels' JSON errors).

    Synchronous on purpose: Sanic-CORS adds its headers only to the responses of synchronous
    handlers, and the widget must be able to read these errors across origins.
    """

    def handle(request: Optional[Request], exception: Exception) -> HTTPResponse:
        status = exception.status_code if isinstance(exception, SanicException) else 500
        if status >= 500:
            # The type only: an exception's text may quote what the patient wrote.
            logger.error("http.error status=%d error=%s", status, type(exception).__name__)
            logger.debug("http.error traceback", exc_info=exception)
        answer = respond(status, error_code(status))
        for name, value in (getattr(exception, "headers", None) or {}).items():
            answer.headers.setdefault(name, value)  # e.g. Allow (405), WWW-Authenticate (401)
        return answer

    return handle


async def _alive(request: Request) -> HTTPResponse:
    """The root page without the Rasa version (still 200: probes and scripts poll it)."""
    return response.text(ROOT_REPLY)


def hide_version(app: Any) -> int:
    """Point Rasa's ``GET /`` route at :func:`_alive`; returns how many routes were changed."""
    changed = 0
    for route in app.router.routes:
        handler = getattr(route, "handler", None)
        if route.path == ROOT_PATH and getattr(handler, "__module__", "") == "rasa.server":
            route.handler = _alive
            changed += 1
    return changed


def drop_cors_credentials(app: Any) -> None:
    """Stop Sanic-CORS sending ``Access-Control-Allow-Credentials: true`` (Rasa sets it for socket.io)."""
    app.config.CORS_SUPPORTS_CREDENTIALS = False
    context = getattr(app.ctx, "sanic_cors", None)
    if context is None:
        return  # CORS was not configured
    context.options["supports_credentials"] = False
    for _pattern, options in context.resources:
        options["supports_credentials"] = False


def install(app: Any, respond: ErrorResponder) -> None:
    """Install the JSON error handler, the version-free root page and CORS without credentials (once per app)."""
    if getattr(app.ctx, "clinic_hardened", False):
        return
    app.ctx.clinic_hardened = True
    handler = json_error_handler(respond)
    # Sanic looks handlers up by the exception's class hierarchy: the more specific handlers Rasa
    # (ErrorResponse) and sanic-jwt registered still win for their exceptions.
    app.error_handler.add(SanicException, handler)
    app.error_handler.add(Exception, handler)
    if not hide_version(app):
        logger.warning("server_hardening.root_route_not_found")
    drop_cors_credentials(app)
