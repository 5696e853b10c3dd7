"""Staff conversation review app.

Reads the conversations the Rasa server writes to its SQL tracker store (table ``events``) and
keeps its own tables (prefix ``review_``) in the same database. Modules:

- :mod:`review.settings`: every setting, read from the environment in one place.
- :mod:`review.store`: the database layer, a package with one module per concern (schema, redaction,
  flags, indexer, listing, transcript, audit log, triage, NLU export, exports, retention); the package
  re-exports their public API (``from review.store import ...``).
- :mod:`review.auth`: password hashing (scrypt), sessions, CSRF tokens, login rate limit.
- :mod:`review.app`: ``create_app``, the Sanic web app (server-rendered Jinja2 templates, autoescaped),
  built from the blueprints of :mod:`review.web`, which share one state on ``app.ctx``.
- :mod:`review.cli`: ``python -m review.cli serve | create-user | retention | export-corrections | index``.
"""
