"""The review app's tables, the database engine and the schema's creation and upgrades.

The Rasa server owns the table ``events`` (its SQL tracker store: id, sender_id, type_name,
timestamp, intent_name, action_name, data); it is described here, never created. Everything the app
keeps lives in tables prefixed ``review_``, created with SQLAlchemy Core ``create_all`` in the same
database; columns added since a table was first created are added to older databases by
:func:`create_schema`. Also here: the ``review_meta`` key-value rows (high-water marks) and the
chunking of long ``IN`` lists, which every other module of the store uses.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional, Sequence, Set

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review.settings import Settings


metadata = sa.MetaData()

# failed_action: an action failed mid-turn (e.g. the action server was down) and the patient got the
# safe reply instead (clinic_runtime/action_failures.py stores it with metadata.failed_action).
# crisis / emergency / urgent: the triage level of a patient message (clinic_triage, docs/triage-levels.md).
# not_english: a patient message written in another language (the assistant read English only; a
# person should read it). security: instruction-like text or markup was set aside from a patient
# message before it was read (review/store/flags.py).
FLAGS = (
    "crisis",
    "emergency",
    "urgent",
    "not_english",
    "handoff",
    "personal",
    "fallback",
    "out_of_scope",
    "feedback",
    "callback",
    "failed_action",
    "security",
)
# Open items come worst first: a conversation's urgency is the rank of its worst flag in this order,
# OTHER_URGENCY for any other stored flag, NO_URGENCY when it has none (low confidence alone is judged
# at query time, by threshold, and sorts with NO_URGENCY, after every stored flag). A message in
# another language comes after the triage levels (the English rules found nothing they could read)
# and before a callback request: nobody knows yet what it says. The stored ranks follow this order:
# when it changes, create_schema re-ranks every summary from its worst flag (URGENCY_ORDER_KEY).
URGENCY_ORDER = ("crisis", "emergency", "urgent", "not_english", "callback", "feedback")
URGENCY_ORDER_KEY = "urgency_order"  # review_meta: the URGENCY_ORDER the stored ranks were computed with
OTHER_URGENCY = len(URGENCY_ORDER)
NO_URGENCY = 9
URGENCY_FLAG_ORDER = (*URGENCY_ORDER, *[f for f in FLAGS if f not in URGENCY_ORDER])
ALERT_URGENCY = URGENCY_ORDER.index("emergency")  # this rank or worse: an alert (review/notify.py)

conversations = sa.Table(
    "review_conversations",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("last_ts", sa.Float, nullable=False),
    sa.Column("turns", sa.Integer, nullable=False, default=0),
    sa.Column("last_user_text", sa.Text),
    *[sa.Column(f"flag_{name}", sa.Boolean, nullable=False, default=False) for name in FLAGS],
    sa.Column("min_confidence", sa.Float),  # lowest intent confidence among the patient's messages
    sa.Column("search_text", sa.Text),  # lower-cased (redacted) message text, capped
    sa.Column("last_event_id", sa.BigInteger, nullable=False, default=0),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
    sa.Column("reviewed_by", sa.String(64)),
    sa.Column("reviewed_at", sa.Float),
    sa.Column("assignee", sa.String(64)),
    sa.Column("tags", sa.Text),  # " tag1 tag2 " (space-delimited, for LIKE)
    sa.Column("urgency", sa.Integer, nullable=False, default=NO_URGENCY),  # see URGENCY_ORDER
    sa.Column("worst_flag", sa.String(20)),  # the flag that set the urgency
    sa.Column("worst_text", sa.Text),  # the patient message it was raised on (redacted like last_user_text)
    sa.Column("worst_ts", sa.Float),
    sa.Column("worst_event_id", sa.BigInteger),  # the event that raised it (the live count's "new since")
    sa.Column("worst_reason", sa.Text),  # for a triage flag: the rules' descriptions of what was found
    sa.Column("waiting_since", sa.Float),  # the first patient message nobody has reviewed yet
    # The language code the not-English check recorded on the conversation's latest patient message
    # flagged not in English (flag_not_english; clinic_nlu/language_component.py), e.g. "fr"; NULL when
    # no message was, or the check named no language. The lists show it by name (review/display.py).
    sa.Column("language", sa.String(16)),
)
sa.Index("ix_review_conv_last", conversations.c.last_ts, conversations.c.sender_id)
sa.Index("ix_review_conv_reviewed", conversations.c.reviewed, conversations.c.last_ts)
sa.Index(
    "ix_review_conv_urgency",
    conversations.c.reviewed,
    conversations.c.urgency,
    conversations.c.waiting_since,
    conversations.c.sender_id,
)
for _flag in FLAGS:
    sa.Index(f"ix_review_conv_{_flag}", conversations.c[f"flag_{_flag}"], conversations.c.last_ts)

conversation_intents = sa.Table(
    "review_conversation_intents",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("intent", sa.String(255), primary_key=True),
)
sa.Index("ix_review_intents_intent", conversation_intents.c.intent, conversation_intents.c.sender_id)

callbacks = sa.Table(
    "review_callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("event_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("preferred_time", sa.Text),
    sa.Column("status", sa.String(16), nullable=False, default="open", index=True),
    sa.Column("done_by", sa.String(64)),
    sa.Column("done_at", sa.Float),
    sa.Column("outcome", sa.String(16)),  # the latest of CALLBACK_OUTCOMES (every one is in the audit log)
    sa.Column("outcome_by", sa.String(64)),
    sa.Column("outcome_at", sa.Float),
)
# What happened when staff called back; "not_reached" leaves the request open.
CALLBACK_OUTCOMES = ("called", "not_reached", "done")

notes = sa.Table(
    "review_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("tag", sa.String(40)),
    sa.Column("text", sa.Text),
)

corrections = sa.Table(
    "review_corrections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("predicted_intent", sa.String(255)),
    sa.Column("corrected_intent", sa.String(255), nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

users = sa.Table(
    "review_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)

sessions = sa.Table(
    "review_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("user_id", sa.Integer),  # NULL: anonymous session (login form's CSRF token)
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False, index=True),
)

login_failures = sa.Table(
    "review_login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False, index=True),
)

audit = sa.Table(
    "review_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("username", sa.String(64)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("ip", sa.String(64)),
    sa.Column("detail", sa.Text),
    # Hash chain (see write_audit / verify_audit_chain): the previous entry's row_hash, and the
    # SHA-256 of that plus this entry's content. NULL only in entries written before the chain existed.
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("row_hash", sa.String(64)),
)

# One row per patient message, for the dashboard's aggregates (review/message_index.py fills it,
# with its own high-water mark): when (UTC and the local day/week in REVIEW_TIMEZONE), what the
# understanding made of it, what the reply was and how long it took. No message text is copied here.
messages = sa.Table(
    "review_messages",
    metadata,
    sa.Column("event_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("message_id", sa.String(64)),  # the channel's id, to attach a later rating
    sa.Column("ts", sa.Float, nullable=False, index=True),
    sa.Column("local_day", sa.String(10), nullable=False),  # YYYY-MM-DD in the indexing time zone
    sa.Column("local_week", sa.String(10), nullable=False),  # the Monday of that week
    sa.Column("intent", sa.String(255)),
    sa.Column("confidence", sa.Float),
    sa.Column("level", sa.String(16)),  # crisis / emergency / urgent (the message or its reply), else NULL
    sa.Column("fallback", sa.Boolean, nullable=False, default=False),
    sa.Column("not_covered", sa.Boolean, nullable=False, default=False),
    sa.Column("out_of_scope", sa.Boolean, nullable=False, default=False),
    sa.Column("callback", sa.Boolean, nullable=False, default=False),  # a callback request followed it
    sa.Column("thumbs_down", sa.Boolean, nullable=False, default=False),  # the patient's latest rating of its reply
    sa.Column("form_answer", sa.Boolean, nullable=False, default=False),  # a callback-form detail (name, phone, time)
    sa.Column("payload", sa.Boolean, nullable=False, default=False),  # a button click ("/affirm")
    sa.Column("latency", sa.Float),  # seconds from the message to the first reply
    sa.Column("language", sa.String(16)),  # the code the not-English check recorded on it ("fr"), else NULL
)
sa.Index("ix_review_messages_sender", messages.c.sender_id, messages.c.event_id)
sa.Index("ix_review_messages_day", messages.c.local_day, messages.c.sender_id)
sa.Index("ix_review_messages_week", messages.c.local_week, messages.c.sender_id)

# Notes for the authors of the clinic's information sheet, written from a group of unanswered
# questions (review/unanswered.py). The examples are event ids, never copied patient text.
sheet_notes = sa.Table(
    "review_sheet_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("questions", sa.Integer, nullable=False),  # how many patient messages the group had
    sa.Column("event_ids", sa.Text, nullable=False),  # JSON list of the group's message event ids
)

review_meta = sa.Table(
    "review_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text),
)

# The Rasa server's table, described (never created) here.
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

# Append-only: UPDATE and DELETE are refused, and so is an INSERT whose id already exists. SQLite's
# REPLACE INTO / INSERT OR REPLACE deletes the old row and inserts the new one without firing the
# DELETE trigger; the BEFORE INSERT check stops it (and an upsert, ON CONFLICT ... DO UPDATE / DO
# NOTHING, on both databases) before the conflict is resolved. An insert without a row_hash (not
# written by write_audit) is refused too, so the chain cannot gain unhashed entries.
_SQLITE_AUDIT_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS review_audit_no_update BEFORE UPDATE ON review_audit "
    "BEGIN SELECT RAISE(ABORT, 'review_audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS review_audit_no_delete BEFORE DELETE ON review_audit "
    "BEGIN SELECT RAISE(ABORT, 'review_audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS review_audit_no_overwrite BEFORE INSERT ON review_audit "
    "WHEN NEW.row_hash IS NULL OR EXISTS (SELECT 1 FROM review_audit WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'review_audit is append-only'); END",
]
_PG_AUDIT_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION review_audit_reject() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'review_audit is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS review_audit_no_change ON review_audit",
    "CREATE TRIGGER review_audit_no_change BEFORE UPDATE OR DELETE ON review_audit "
    "FOR EACH ROW EXECUTE FUNCTION review_audit_reject()",
    "DROP TRIGGER IF EXISTS review_audit_no_truncate ON review_audit",
    "CREATE TRIGGER review_audit_no_truncate BEFORE TRUNCATE ON review_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION review_audit_reject()",
    "CREATE OR REPLACE FUNCTION review_audit_no_overwrite() RETURNS trigger AS $$ "
    "BEGIN IF NEW.row_hash IS NULL OR EXISTS (SELECT 1 FROM review_audit WHERE id = NEW.id) THEN "
    "RAISE EXCEPTION 'review_audit is append-only'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS review_audit_no_overwrite ON review_audit",
    "CREATE TRIGGER review_audit_no_overwrite BEFORE INSERT ON review_audit "
    "FOR EACH ROW EXECUTE FUNCTION review_audit_no_overwrite()",
]


def make_engine(settings: Settings) -> Engine:
    """Engine for ``DATABASE_URL``; SQL parameters (patient text) are kept out of errors and logs."""
    kwargs: Dict[str, Any] = {"hide_parameters": True, "future": True}
    if settings.is_sqlite:
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")
            # Deleted patient data is overwritten, not left in free pages (retention command).
            cur.execute("PRAGMA secure_delete = ON")
            cur.close()

    return engine


# Columns added to existing tables since they were first created: table -> {column: SQL type and default}.
_ADDED_COLUMNS: Dict[str, Dict[str, str]] = {
    conversations.name: {
        **{f"flag_{flag}": "BOOLEAN NOT NULL DEFAULT false" for flag in FLAGS},
        "urgency": f"INTEGER NOT NULL DEFAULT {NO_URGENCY}",
        "worst_flag": "VARCHAR(20)",
        "worst_text": "TEXT",
        "worst_ts": "FLOAT",
        "worst_event_id": "BIGINT",
        "worst_reason": "TEXT",
        "waiting_since": "FLOAT",
        "language": "VARCHAR(16)",
    },
    callbacks.name: {"outcome": "VARCHAR(16)", "outcome_by": "VARCHAR(64)", "outcome_at": "FLOAT"},
    audit.name: {"prev_hash": "VARCHAR(64)", "row_hash": "VARCHAR(64)"},
    messages.name: {"language": "VARCHAR(16)"},
}


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns (and their indexes) that a database made by an older version lacks.

    ``create_all`` creates missing tables only. A new flag starts false everywhere: the events that
    raise it did not exist before (``review.cli index --rebuild`` recomputes every summary anyway).
    A new ``language`` column starts NULL: new messages fill it as they are indexed, and
    ``review.cli index --rebuild`` fills it for the conversations and messages indexed before.
    Audit entries from before the hash chain keep NULL hashes (``verify_audit_chain`` reports them).
    """

    def missing_columns(conn: Connection, table: str) -> Set[str]:
        present = {column["name"] for column in sa.inspect(conn).get_columns(table)}
        return set(_ADDED_COLUMNS[table]) - present

    with engine.connect() as conn:
        if not any(missing_columns(conn, table) for table in _ADDED_COLUMNS):
            return  # the usual case: nothing to change, no lock taken
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))  # the app and the CLI may start together
        for table_name, columns in _ADDED_COLUMNS.items():
            missing = missing_columns(conn, table_name)
            for column in sorted(missing):
                try:
                    conn.execute(sa.text(f"ALTER TABLE {table_name} ADD COLUMN {column} {columns[column]}"))
                except sa.exc.OperationalError:
                    if column in missing_columns(conn, table_name):  # not another process adding it (SQLite)
                        raise
            for index in metadata.tables[table_name].indexes:
                if any(column.name in missing for column in index.columns):
                    index.create(conn, checkfirst=True)
            if table_name == conversations.name and "urgency" in missing:
                _backfill_urgency(conn)


def _backfill_urgency(conn: Connection) -> None:
    """Give summaries indexed before the urgency columns existed their rank from their flags (the worst
    message is not known without re-reading events: the last patient message stands in for it until
    ``review.cli index --rebuild``)."""
    c = conversations.c
    other = sa.or_(*[c[f"flag_{f}"] == True for f in FLAGS if f not in URGENCY_ORDER])  # noqa: E712
    rank = sa.case(
        *[(c[f"flag_{flag}"] == True, i) for i, flag in enumerate(URGENCY_ORDER)],  # noqa: E712
        (other, OTHER_URGENCY),
        else_=NO_URGENCY,
    )
    worst = sa.case(*[(c[f"flag_{flag}"] == True, flag) for flag in URGENCY_FLAG_ORDER], else_=None)  # noqa: E712
    conn.execute(
        conversations.update().values(
            urgency=rank,
            worst_flag=worst,
            worst_text=c.last_user_text,
            worst_ts=c.last_ts,
            worst_event_id=c.last_event_id,
            waiting_since=c.started,
        )
    )


def _rank_by_worst_flag() -> Any:
    """The urgency rank of a summary row from its stored worst flag (SQL), in today's URGENCY_ORDER."""
    c = conversations.c
    return sa.case(
        *[(c.worst_flag == flag, i) for i, flag in enumerate(URGENCY_ORDER)],
        (c.worst_flag.is_(None), NO_URGENCY),
        else_=OTHER_URGENCY,
    )


def _rerank_if_order_changed(engine: Engine) -> None:
    """Re-rank every summary from its worst flag when URGENCY_ORDER differs from the order its ranks
    were stored with (a flag added to the order shifts the ranks after it). Nothing is done, and no
    lock taken, when the order is unchanged."""
    order = ",".join(URGENCY_ORDER)
    with engine.connect() as conn:
        if get_meta(conn, URGENCY_ORDER_KEY) == order:
            return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
        if get_meta(conn, URGENCY_ORDER_KEY) == order:
            return  # another process got there first
        conn.execute(conversations.update().values(urgency=_rank_by_worst_flag()))
        set_meta(conn, URGENCY_ORDER_KEY, order)


def create_schema(engine: Engine) -> None:
    """Create the review_ tables (if missing, with any flag column added since), re-rank the summaries
    when the urgency order changed, and create the audit log's append-only triggers."""
    metadata.create_all(engine)
    _add_missing_columns(engine)
    _rerank_if_order_changed(engine)
    with engine.begin() as conn:
        statements = _SQLITE_AUDIT_TRIGGERS if engine.dialect.name == "sqlite" else _PG_AUDIT_TRIGGERS
        if engine.dialect.name == "postgresql":
            # Several processes (app + CLI) may start together: serialise the trigger DDL.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
        for statement in statements:
            conn.execute(sa.text(statement))


def events_table_exists(engine: Engine) -> bool:
    """Whether the Rasa server has created its ``events`` table yet."""
    return sa.inspect(engine).has_table("events")


def get_meta(conn: Connection, key: str) -> Optional[str]:
    """A ``review_meta`` value (e.g. a high-water mark), None when unset."""
    return conn.execute(sa.select(review_meta.c.value).where(review_meta.c.key == key)).scalar()


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Set a ``review_meta`` value, inserting the row the first time."""
    updated = conn.execute(review_meta.update().where(review_meta.c.key == key).values(value=value)).rowcount
    if not updated:
        conn.execute(review_meta.insert().values(key=key, value=value))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items (for bounded ``IN`` lists)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
