"""The staff review app's web layer: Sanic blueprints sharing one state on ``app.ctx``.

:func:`review.app.create_app` builds the state, installs the middleware and registers the blueprints.

- :mod:`~review.web.state`: what the handlers share (settings, engine, templates, domain intents),
  kept on ``app.ctx.review``.
- :mod:`~review.web.respond`: rendering, security headers, client address, form values, the audit
  log, and ``change_audit_redirect`` (apply a change, audit it in the same transaction, redirect).
- :mod:`~review.web.middleware`: login and CSRF checks, headers and the access log, error pages,
  the background indexer.
- Blueprints: :mod:`~review.web.public` (health check, favicon), :mod:`~review.web.login`,
  :mod:`~review.web.dashboard_pages` (the landing page, unanswered questions, sheet notes),
  :mod:`~review.web.open_items` (Open items, bulk review, the live count),
  :mod:`~review.web.conversations` (the list and one conversation),
  :mod:`~review.web.review_actions` (reviewed, assign, note, correct), :mod:`~review.web.callbacks`,
  :mod:`~review.web.exports` (conversations, corrections), :mod:`~review.web.audit_page`.
"""
