"""The staff review web app: Sanic + Jinja2 (autoescaped) + SQLAlchemy Core.

:func:`create_app` puts the shared state on ``app.ctx`` (:mod:`review.web.state`), installs the
middleware (:mod:`review.web.middleware`) and registers the blueprints of :mod:`review.web`.
Every page needs a logged-in staff session except ``/login``, ``/healthz`` and ``/static``. Every
POST must carry the session's CSRF token. Viewing a conversation and every export is written to the
append-only audit log. Log lines carry method, path (never the query string) and status only: no
patient text, phone numbers or search terms.
"""

from __future__ import annotations

import logging
from typing import List, Optional

from sanic import Sanic

from review.settings import Settings, load_settings
from review.web import (
    audit_page,
    callbacks,
    conversations,
    dashboard_pages,
    exports,
    login,
    middleware,
    open_items,
    public,
    review_actions,
)
from review.web.state import STATIC_DIR, make_state

log = logging.getLogger("review")
BLUEPRINTS = (
    public.bp,
    login.bp,
    dashboard_pages.bp,
    open_items.bp,
    conversations.bp,
    review_actions.bp,
    callbacks.bp,
    exports.bp,
    audit_page.bp,
)


def create_app(settings: Optional[Settings] = None, name: str = "review") -> Sanic:
    """The app for ``settings`` (default: read from the environment); creates or upgrades the tables."""
    settings = settings or load_settings()
    state = make_state(settings)
    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.KEEP_ALIVE_TIMEOUT = 5
    app.config.FORWARDED_SECRET = None
    app.ctx.review = state
    app.ctx.settings = settings
    app.ctx.engine = state.engine
    app.static("/static", str(STATIC_DIR), name="static")
    middleware.install(app, state)
    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    return app


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the app (``python -m review.cli serve``): settings from the environment, host and port overridable."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve the staff review app.")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("sanic.access", "sanic.root", "sanic.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = create_app(settings)
    host, port = args.host or settings.host, args.port or settings.port
    from sqlalchemy.engine import make_url

    db = make_url(settings.database_url).render_as_string(hide_password=True)
    log.info("review app on http://%s:%d (database: %s)", host, port, db)
    app.run(host=host, port=port, access_log=False, debug=False, auto_reload=False, workers=1)


if __name__ == "__main__":
    main()
