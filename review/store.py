"""Database layer of the review app: schema, incremental indexer, queries, triage, exports, retention.

The Rasa server owns the table ``events`` (its SQL tracker store: id, sender_id, type_name,
timestamp, intent_name, action_name, data). This module only reads it, except :func:`retention`,
which deletes whole old conversations. Everything the app keeps lives in tables prefixed
``review_``, created with SQLAlchemy Core ``create_all`` in the same database:

- ``review_conversations``: one summary row per conversation (sender id), built incrementally from
  ``events.id`` > the high-water mark in ``review_meta``; flags, turns, last patient message,
  search text, plus triage state (reviewed, assignee, tags) and the urgency of its worst flag with the
  message it was raised on (Open items' order). Indexed for the list filters.
- ``review_conversation_intents``: (conversation, intent) pairs for the intent filter.
- ``review_callbacks``: callback requests (from the ``callback_request`` slot) and their done state.
- ``review_notes``, ``review_corrections``, ``review_users``, ``review_sessions``,
  ``review_login_failures``, ``review_audit`` (append-only: triggers reject UPDATE and DELETE).
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clinic_vocabulary import CALLBACK_FORM, TRIAGE_INTENTS, TRIAGE_RESPONSES
from review.settings import Settings

# ---------------------------------------------------------------------------------------------
# Schema

metadata = sa.MetaData()

# failed_action: an action failed mid-turn (e.g. the action server was down) and the patient got the
# safe reply instead (clinic_runtime/action_failures.py stores it with metadata.failed_action).
# crisis / emergency / urgent: the triage level of a patient message (clinic_triage, docs/triage-levels.md).
FLAGS = ("crisis", "emergency", "urgent", "handoff", "personal", "fallback", "out_of_scope", "feedback", "callback",
         "failed_action")
# Open items come worst first: a conversation's urgency is the rank of its worst flag in this order,
# OTHER_URGENCY for any other stored flag, NO_URGENCY when it has none (low confidence alone is judged
# at query time, by threshold, and sorts with NO_URGENCY, after every stored flag).
URGENCY_ORDER = ("crisis", "emergency", "urgent", "callback", "feedback")
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
    sa.Column("waiting_since", sa.Float),  # the first patient message nobody has reviewed yet
)
sa.Index("ix_review_conv_last", conversations.c.last_ts, conversations.c.sender_id)
sa.Index("ix_review_conv_reviewed", conversations.c.reviewed, conversations.c.last_ts)
sa.Index("ix_review_conv_urgency", conversations.c.reviewed, conversations.c.urgency,
         conversations.c.waiting_since, conversations.c.sender_id)
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
    conversations.name: {**{f"flag_{flag}": "BOOLEAN NOT NULL DEFAULT false" for flag in FLAGS},
                         "urgency": f"INTEGER NOT NULL DEFAULT {NO_URGENCY}", "worst_flag": "VARCHAR(20)",
                         "worst_text": "TEXT", "worst_ts": "FLOAT", "worst_event_id": "BIGINT",
                         "waiting_since": "FLOAT"},
    callbacks.name: {"outcome": "VARCHAR(16)", "outcome_by": "VARCHAR(64)", "outcome_at": "FLOAT"},
    audit.name: {"prev_hash": "VARCHAR(64)", "row_hash": "VARCHAR(64)"},
}


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns (and their indexes) that a database made by an older version lacks.

    ``create_all`` creates missing tables only. A new flag starts false everywhere: the events that
    raise it did not exist before (``review.cli index --rebuild`` recomputes every summary anyway).
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
    rank = sa.case(*[(c[f"flag_{flag}"] == True, i) for i, flag in enumerate(URGENCY_ORDER)],  # noqa: E712
                   (sa.or_(*[c[f"flag_{f}"] == True for f in FLAGS if f not in URGENCY_ORDER]), OTHER_URGENCY),  # noqa: E712
                   else_=NO_URGENCY)
    worst = sa.case(*[(c[f"flag_{flag}"] == True, flag) for flag in URGENCY_FLAG_ORDER], else_=None)  # noqa: E712
    conn.execute(conversations.update().values(urgency=rank, worst_flag=worst, worst_text=c.last_user_text,
                                               worst_ts=c.last_ts, worst_event_id=c.last_event_id,
                                               waiting_since=c.started))


def create_schema(engine: Engine) -> None:
    """Create the review_ tables (if missing, with any flag column added since) and the audit log's
    append-only triggers."""
    metadata.create_all(engine)
    _add_missing_columns(engine)
    with engine.begin() as conn:
        statements = _SQLITE_AUDIT_TRIGGERS if engine.dialect.name == "sqlite" else _PG_AUDIT_TRIGGERS
        if engine.dialect.name == "postgresql":
            # Several processes (app + CLI) may start together: serialise the trigger DDL.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242001)"))
        for statement in statements:
            conn.execute(sa.text(statement))


def events_table_exists(engine: Engine) -> bool:
    return sa.inspect(engine).has_table("events")


# ---------------------------------------------------------------------------------------------
# Redaction of contact details in text shown or exported

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?<![\w+])\+?\d[\d \-().\/]{4,}\d(?!\w)")
# Full dates (a date of birth is the usual one patients give): 12/03/1975, 1975-03-12, 3.3.75,
# 3 March 1975, March 3rd, 1975. A bare year or "3 weeks" is kept.
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_RE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b",
    re.IGNORECASE,
)


def _phone_sub(match: "re.Match[str]") -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[phone]" if digits >= 7 else match.group(0)


def redact(text: Optional[str]) -> Optional[str]:
    """Mask e-mail addresses, full dates (e.g. a date of birth) and phone numbers (7+ digits) in ``text``."""
    if not text:
        return text
    return PHONE_RE.sub(_phone_sub, DATE_RE.sub("[date]", EMAIL_RE.sub("[email]", text)))


def has_contact_details(text: str) -> bool:
    return redact(text) != text


# ---------------------------------------------------------------------------------------------
# What the events mean

# Triage level -> flag, from the intent the triage sets, the response that answers it, or the level
# recorded on the message (clinic_vocabulary has the names).
TRIAGE_INTENT_FLAGS = {intent: level for level, intent in TRIAGE_INTENTS.items()}
TRIAGE_ACTION_FLAGS = {response: level for level, response in TRIAGE_RESPONSES.items()}
HANDOFF_INTENTS = {"request_human"}
HANDOFF_ACTIONS = {"action_handoff"}
PERSONAL_INTENTS = {"ask_personal_advice"}
PERSONAL_ACTIONS = {"action_defer_personal"}
FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback"}
OUT_OF_SCOPE_INTENTS = {"out_of_scope"}
OUT_OF_SCOPE_ACTIONS = {"utter_out_of_scope"}
NEGATIVE_FEEDBACK = {"down", "negative", "thumbs_down", "-1"}
# A patient message that the callback form took as a detail (name, phone number, time) is form input,
# not a question: the flags that come from the intent classifier's reading of it, and its confidence,
# are not counted (a name is not "out of scope"). Its triage flags always are. A message is form
# input when the first action after it is the form.
FORM_ACTIONS = {CALLBACK_FORM}
CLASSIFIER_FLAGS = {"handoff", "personal", "fallback", "out_of_scope"}
SEARCH_TEXT_CAP = 4000
LAST_TEXT_CAP = 300


def _loads(data: Optional[str]) -> Dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _intent_of(data: Dict[str, Any]) -> Tuple[Optional[str], Optional[float]]:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    conf = intent.get("confidence")
    try:
        conf = float(conf) if conf is not None else None
    except (TypeError, ValueError):
        conf = None
    return intent.get("name"), conf


def _negative_value(value: Any) -> bool:
    """A negative rating: "down" (or negative / thumbs_down / -1), bare or as {rating|value: ...}."""
    if isinstance(value, dict):
        value = value.get("rating") or value.get("value")
    return value is not None and str(value).strip().lower() in NEGATIVE_FEEDBACK


def _negative_feedback(data: Dict[str, Any]) -> bool:
    """Negative feedback carried on a patient message's own metadata."""
    meta = data.get("metadata") or {}
    return isinstance(meta, dict) and _negative_value(meta.get("feedback"))


def failed_action_of(data: Dict[str, Any]) -> Optional[str]:
    """The action named in a bot message's ``metadata.failed_action`` (the safe reply sent because
    that action failed), else None."""
    meta = data.get("metadata") or {}
    name = meta.get("failed_action") if isinstance(meta, dict) else None
    return str(name)[:255] if name else None


def event_flags(type_name: str, data: Dict[str, Any]) -> Set[str]:
    """The flags one stored event raises (low confidence is judged separately, by threshold)."""
    flags: Set[str] = set()
    if type_name == "user":
        intent, _ = _intent_of(data)
        parse = data.get("parse_data") or {}
        level = (parse.get("triage") or {}).get("level") if isinstance(parse.get("triage"), dict) else None
        if level in TRIAGE_INTENTS:
            flags.add(level)
        elif "triage" not in parse and parse.get("red_flags"):
            flags.add("emergency")  # stored before graded triage: every red flag was an emergency
        if intent in TRIAGE_INTENT_FLAGS:
            flags.add(TRIAGE_INTENT_FLAGS[intent])
        if intent in HANDOFF_INTENTS:
            flags.add("handoff")
        if intent in PERSONAL_INTENTS:
            flags.add("personal")
        if intent in FALLBACK_INTENTS:
            flags.add("fallback")
        if intent in OUT_OF_SCOPE_INTENTS:
            flags.add("out_of_scope")
        if _negative_feedback(data):
            flags.add("feedback")
    elif type_name == "action":
        name = data.get("name")
        if name in TRIAGE_ACTION_FLAGS:
            flags.add(TRIAGE_ACTION_FLAGS[name])
        for names, flag in (
            (HANDOFF_ACTIONS, "handoff"), (PERSONAL_ACTIONS, "personal"),
            (FALLBACK_ACTIONS, "fallback"), (OUT_OF_SCOPE_ACTIONS, "out_of_scope"),
        ):
            if name in names:
                flags.add(flag)
    elif type_name == "bot":
        custom = (data.get("data") or {}).get("custom") or {}
        if isinstance(custom, dict) and custom.get("triage") in TRIAGE_INTENTS:
            flags.add(custom["triage"])
        elif isinstance(custom, dict) and custom.get("emergency"):
            flags.add("emergency")
        if failed_action_of(data):
            flags.add("failed_action")
    elif type_name == "slot":
        name, value = data.get("name"), data.get("value")
        if name == "handoff_requested" and value is True:
            flags.add("handoff")
        elif name == "personal_question" and value is True:
            flags.add("personal")
        elif name == "callback_request" and isinstance(value, dict) and value:
            flags.add("callback")
        elif name == "feedback" and _negative_value(value):
            # the patient channel stores a widget rating as slot feedback = {message_id, rating}
            flags.add("feedback")
    return flags


# ---------------------------------------------------------------------------------------------
# Indexer

_INDEX_LOCK = threading.Lock()
_ENGINES_WITH_EVENTS: "weakref.WeakSet[Engine]" = weakref.WeakSet()
HWM_KEY = "indexed_event_id"


def _get_meta(conn: Connection, key: str) -> Optional[str]:
    return conn.execute(sa.select(review_meta.c.value).where(review_meta.c.key == key)).scalar()


def _set_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(review_meta.update().where(review_meta.c.key == key).values(value=value)).rowcount
    if not updated:
        conn.execute(review_meta.insert().values(key=key, value=value))


def indexed_up_to(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(_get_meta(conn, HWM_KEY) or 0)


def _parse_requested_at(value: Any, fallback: float) -> float:
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            return dt.timestamp()
        except ValueError:
            pass
    return fallback


_SUMMARY_COLUMNS = [
    "sender_id", "started", "last_ts", "turns", "last_user_text", *[f"flag_{f}" for f in FLAGS],
    "min_confidence", "search_text", "last_event_id", "reviewed", "reviewed_at",
    "urgency", "worst_flag", "worst_text", "worst_ts", "worst_event_id", "waiting_since",
]


def urgency_rank(flag: str) -> int:
    """Where a flag sorts in Open items: its place in URGENCY_ORDER, else OTHER_URGENCY."""
    return URGENCY_ORDER.index(flag) if flag in URGENCY_ORDER else OTHER_URGENCY


def _apply_events(summary: Dict[str, Any], rows: Sequence[Any], redact_text: bool,
                  new_intents: Set[str], new_callbacks: List[Dict[str, Any]]) -> int:
    """Fold stored events (ordered by id) into one conversation's summary, idempotently.

    Besides the flags, keeps the conversation's worst flag (URGENCY_ORDER) with the patient message
    it was raised on: the message itself, or for a flag raised by the assistant's action, reply or a
    slot, the patient message it answered (passing over answers to the callback form, which hold
    personal details, not a question). Returns how many events were new to this summary."""
    search = summary.get("search_text") or ""
    applied = 0
    # The classifier's flags, confidence and intent of the latest patient message, held until the
    # next action shows whether it was form input (then dropped). Held at the end of ``rows``: counted.
    # With them, the message they were raised on (for the worst message of Open items).
    pending: Optional[Tuple[Set[str], Optional[float], Optional[str], Any, Any, int]] = None
    current_text, current_ts = summary.get("last_user_text"), summary.get("last_ts")
    before_text, before_ts = current_text, current_ts  # the patient message before the current one

    def raise_flag(flag: str, text: Any, at: Any, event_id: int) -> None:
        summary[f"flag_{flag}"] = True
        if urgency_rank(flag) < summary.get("urgency", NO_URGENCY):
            summary.update(urgency=urgency_rank(flag), worst_flag=flag, worst_text=text, worst_ts=at,
                           worst_event_id=event_id)

    def settle(form_input: bool) -> None:
        nonlocal pending
        if pending is not None and not form_input:
            held_flags, conf, intent, text, at, event_id = pending
            for flag in held_flags:
                raise_flag(flag, text, at, event_id)
            if intent:
                new_intents.add(intent)
            if conf is not None:
                current = summary.get("min_confidence")
                summary["min_confidence"] = conf if current is None else min(current, conf)
        pending = None

    for row in rows:
        if row.id <= summary["last_event_id"]:
            continue  # already folded in (another indexer got there first, or a rescan)
        applied += 1
        ts = row.timestamp if row.timestamp is not None else summary["last_ts"] or time.time()
        summary["started"] = min(summary["started"], ts) if summary["started"] else ts
        summary["last_ts"] = max(summary["last_ts"] or ts, ts)
        summary["last_event_id"] = row.id
        data = _loads(row.data)
        if row.type_name == "user" and data.get("text"):
            shown = redact(data["text"]) if redact_text else data["text"]
            before_text, before_ts = current_text, current_ts
            current_text, current_ts = shown[:LAST_TEXT_CAP], ts
        elif row.type_name == "slot" and data.get("name") in FORM_DETAIL_SLOTS and data.get("value") is not None:
            # that message answered the callback form (a name, a phone number): never shown as the worst
            current_text, current_ts = before_text, before_ts
        flags = event_flags(row.type_name, data)
        if row.type_name == "user":
            settle(form_input=False)
            intent, conf = _intent_of(data)
            pending = (flags & CLASSIFIER_FLAGS, conf, intent, current_text, current_ts if current_ts is not None else ts,
                       row.id)
            flags -= CLASSIFIER_FLAGS
        elif row.type_name == "action" and data.get("name") != "action_listen":
            settle(form_input=data.get("name") in FORM_ACTIONS)
        for flag in flags:
            raise_flag(flag, current_text, current_ts if current_ts is not None else ts, row.id)
        if row.type_name == "user":
            text = data.get("text")
            if text:
                summary["turns"] += 1
                shown = current_text
                summary["last_user_text"] = shown
                if len(search) < SEARCH_TEXT_CAP:
                    search = (search + " " + shown.lower())[:SEARCH_TEXT_CAP]
                # New patient activity after a review re-opens the conversation; it waits from then.
                if summary.get("reviewed") and (summary.get("reviewed_at") or 0) < ts:
                    summary["reviewed"] = False
                    summary["waiting_since"] = ts
                elif summary.get("waiting_since") is None:
                    summary["waiting_since"] = ts
        elif row.type_name == "bot":
            text = data.get("text")
            if text and len(search) < SEARCH_TEXT_CAP:
                shown = redact(text) if redact_text else text
                search = (search + " " + shown.lower())[:SEARCH_TEXT_CAP]
        elif row.type_name == "slot" and data.get("name") == "callback_request":
            value = data.get("value")
            if isinstance(value, dict) and value:
                new_callbacks.append({
                    "sender_id": summary["sender_id"], "event_id": row.id,
                    "requested_at": _parse_requested_at(value.get("requested_at"), ts),
                    "name": str(value.get("name") or "")[:200],
                    "phone": str(value.get("phone") or "")[:40],
                    "preferred_time": str(value.get("preferred_time") or "")[:200],
                    "status": "open",
                })
    settle(form_input=False)
    if summary.get("waiting_since") is None and applied:
        summary["waiting_since"] = summary["started"]  # no patient message yet (e.g. only a session start)
    summary["search_text"] = search
    return applied


# On PostgreSQL, ids come from a sequence and transactions may commit out of id order: the background
# pass re-reads this many ids below the high-water mark so a late commit is not skipped. (Per
# conversation, Rasa commits in order, and events already folded in are skipped by last_event_id.)
PG_RESCAN_WINDOW = 1000


def index_new_events(engine: Engine, settings: Settings, batch: int = 5000,
                     max_events: Optional[int] = None, rescan: bool = False, wait: float = 0.0,
                     alert: bool = True) -> int:
    """Fold events newer than the high-water mark into the summaries; returns how many new ones were read.

    Cheap when nothing is new (one ``max(id)`` on the primary key). ``max_events`` bounds the work
    done in one call (the web app catches up on a request, the background task does the rest).
    ``rescan`` (PostgreSQL only) also re-reads the last ``PG_RESCAN_WINDOW`` ids. ``wait``: seconds
    to wait for another thread's indexing pass to finish (a page request waits, so it shows every
    event committed before it; the background pass does not). ``alert``: conversations that become a
    crisis or emergency in this pass are handed to :func:`review.notify.send_alerts` once committed
    (a rebuild does not alert again).
    """
    alerts: List[Alert] = []
    try:
        return _index_new_events(engine, settings, batch, max_events, rescan, wait, alerts)
    finally:
        if alert and alerts:
            from review import notify

            notify.send_alerts(settings, alerts)


def _index_new_events(engine: Engine, settings: Settings, batch: int, max_events: Optional[int],
                      rescan: bool, wait: float, alerts: List[Alert]) -> int:
    if not (_INDEX_LOCK.acquire(timeout=wait) if wait > 0 else _INDEX_LOCK.acquire(blocking=False)):
        return 0  # another thread of this process is indexing
    try:
        with engine.connect() as conn:
            if engine not in _ENGINES_WITH_EVENTS:
                if not sa.inspect(conn).has_table("events"):
                    return 0  # the Rasa server has not created its table yet
                _ENGINES_WITH_EVENTS.add(engine)
            max_id = conn.execute(sa.select(sa.func.max(events.c.id))).scalar()
            hwm = int(_get_meta(conn, HWM_KEY) or 0)
        rescan = rescan and engine.dialect.name == "postgresql"
        if max_id is None or (max_id <= hwm and not rescan):
            return 0
        done = new = 0
        first_hwm = hwm
        start = max(0, hwm - PG_RESCAN_WINDOW) if rescan else hwm
        while max_events is None or done < max_events:
            limit = batch if max_events is None else min(batch, max_events - done)
            with engine.begin() as conn:
                hwm = int(_get_meta(conn, HWM_KEY) or 0)
                rows = conn.execute(
                    sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp,
                              events.c.data)
                    .where(events.c.id > min(start, hwm)).order_by(events.c.id).limit(limit)
                ).all()
                if not rows:
                    break
                batch_alerts: List[Alert] = []
                _index_rows(conn, rows, settings, batch_alerts)
                if rows[-1].id > hwm:
                    _set_meta(conn, HWM_KEY, str(rows[-1].id))
            alerts += batch_alerts  # committed: safe to announce
            start = rows[-1].id
            done += len(rows)
            new += sum(1 for r in rows if r.id > first_hwm)
            if len(rows) < limit:
                break
        if new > 20000 and engine.dialect.name == "postgresql":
            with engine.begin() as conn:  # fresh planner statistics after a big initial build
                conn.execute(sa.text("ANALYZE review_conversations"))
                conn.execute(sa.text("ANALYZE review_conversation_intents"))
        return new
    finally:
        _INDEX_LOCK.release()


@dataclass(frozen=True)
class Alert:
    """A conversation that has just become a crisis or emergency (no patient text: level and time only)."""
    sender_id: str
    level: str
    ts: float


def _index_rows(conn: Connection, rows: Sequence[Any], settings: Settings,
                alerts: Optional[List[Alert]] = None) -> None:
    """Fold ``rows`` into the summaries; conversations that reach crisis or emergency are appended to
    ``alerts`` (when given)."""
    by_sender: Dict[str, List[Any]] = {}
    for row in rows:
        by_sender.setdefault(row.sender_id, []).append(row)
    senders = list(by_sender)
    existing: Dict[str, Dict[str, Any]] = {}
    known_intents: Set[Tuple[str, str]] = set()
    for chunk in _chunks(senders, 500):
        for r in conn.execute(sa.select(*[conversations.c[c] for c in _SUMMARY_COLUMNS])
                              .where(conversations.c.sender_id.in_(chunk))):
            existing[r.sender_id] = dict(r._mapping)
        for r in conn.execute(sa.select(conversation_intents).where(conversation_intents.c.sender_id.in_(chunk))):
            known_intents.add((r.sender_id, r.intent))
    inserts, intent_rows, callback_rows = [], [], []
    for sender, sender_rows in by_sender.items():
        summary = existing.get(sender)
        is_new = summary is None
        if is_new:
            summary = {"sender_id": sender, "started": 0.0, "last_ts": 0.0, "turns": 0, "last_user_text": None,
                       **{f"flag_{f}": False for f in FLAGS}, "min_confidence": None, "search_text": "",
                       "last_event_id": 0, "reviewed": False, "reviewed_at": None, "urgency": NO_URGENCY,
                       "worst_flag": None, "worst_text": None, "worst_ts": None, "worst_event_id": None,
                       "waiting_since": None}
        seen: Set[str] = set()
        was_alert = summary["urgency"] <= ALERT_URGENCY
        if not _apply_events(summary, sender_rows, settings.redact_contact_details, seen, callback_rows):
            continue  # nothing new for this conversation
        if not was_alert and summary["urgency"] <= ALERT_URGENCY and alerts is not None:
            alerts.append(Alert(sender, summary["worst_flag"], summary["worst_ts"] or summary["last_ts"]))
        intent_rows += [{"sender_id": sender, "intent": i} for i in sorted(seen) if (sender, i) not in known_intents]
        if is_new:
            inserts.append(summary)
        else:
            values = {k: v for k, v in summary.items() if k not in ("sender_id", "reviewed_at")}
            conn.execute(conversations.update().where(conversations.c.sender_id == sender).values(**values))
    if inserts:
        conn.execute(conversations.insert(), [{k: v for k, v in s.items() if k != "reviewed_at"} for s in inserts])
    if intent_rows:
        conn.execute(conversation_intents.insert(), intent_rows)
    if callback_rows:
        ids = {r.event_id for r in conn.execute(
            sa.select(callbacks.c.event_id).where(callbacks.c.event_id.in_([c["event_id"] for c in callback_rows])))}
        fresh = [c for c in callback_rows if c["event_id"] not in ids]
        if fresh:
            conn.execute(callbacks.insert(), fresh)


def rebuild_index(engine: Engine, settings: Settings) -> int:
    """Recompute every summary from ``events`` (keeps triage state, notes, corrections, callbacks)."""
    with engine.begin() as conn:
        conn.execute(conversations.update().values(
            started=0.0, last_ts=0.0, turns=0, last_user_text=None, min_confidence=None, search_text="",
            last_event_id=0, **{f"flag_{f}": False for f in FLAGS}, urgency=NO_URGENCY, worst_flag=None,
            worst_text=None, worst_ts=None, worst_event_id=None, waiting_since=None))
        conn.execute(conversation_intents.delete())
        _set_meta(conn, HWM_KEY, "0")
    return index_new_events(engine, settings, alert=False)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---------------------------------------------------------------------------------------------
# Listing and filtering


TAG_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # a label: lower-case letters, digits, - and _


@dataclass
class ListFilter:
    flag: Optional[str] = None  # one of FLAGS, "low_confidence", or "any"
    intent: Optional[str] = None
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    reviewed: Optional[bool] = None
    q: Optional[str] = None
    assignee: Optional[str] = None
    tag: Optional[str] = None  # a label (added with a note)
    errors: List[str] = field(default_factory=list)

    FLAG_CHOICES = (*FLAGS, "low_confidence", "any")

    @classmethod
    def from_args(cls, args: Dict[str, str]) -> "ListFilter":
        f = cls()
        flag = (args.get("flag") or "").strip()
        if flag:
            if flag in cls.FLAG_CHOICES:
                f.flag = flag
            else:
                f.errors.append("flag")
        intent = (args.get("intent") or "").strip()
        if intent:
            if re.fullmatch(r"[A-Za-z0-9_\-./]{1,255}", intent):
                f.intent = intent
            else:
                f.errors.append("intent")
        for key in ("date_from", "date_to"):
            raw = (args.get(key) or "").strip()
            if raw:
                try:
                    setattr(f, key, date.fromisoformat(raw))
                except ValueError:
                    f.errors.append(key)
        reviewed = (args.get("reviewed") or "").strip()
        if reviewed in ("yes", "no"):
            f.reviewed = reviewed == "yes"
        elif reviewed:
            f.errors.append("reviewed")
        q = (args.get("q") or "").strip()
        if q:
            f.q = q[:200]
        assignee = (args.get("assignee") or "").strip()
        if assignee:
            f.assignee = assignee[:64]
        tag = (args.get("tag") or "").strip().lower()
        if tag:
            if TAG_RE.fullmatch(tag):
                f.tag = tag
            else:
                f.errors.append("tag")
        return f

    def as_args(self) -> Dict[str, str]:
        out = {}
        if self.flag:
            out["flag"] = self.flag
        if self.intent:
            out["intent"] = self.intent
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_to:
            out["date_to"] = self.date_to.isoformat()
        if self.reviewed is not None:
            out["reviewed"] = "yes" if self.reviewed else "no"
        if self.q:
            out["q"] = self.q
        if self.assignee:
            out["assignee"] = self.assignee
        if self.tag:
            out["tag"] = self.tag
        return out

    def describe(self) -> str:
        """For the audit log: which filters (never the free-text query itself, it may hold patient text)."""
        args = self.as_args()
        if "q" in args:
            args["q"] = f"<{len(self.q or '')} chars>"
        return json.dumps(args, sort_keys=True)


def _flag_condition(flag: str, threshold: float):
    c = conversations.c
    low = sa.and_(c.min_confidence.isnot(None), c.min_confidence < threshold)
    if flag == "low_confidence":
        return low
    if flag == "fallback":
        return sa.or_(c.flag_fallback == True, low)  # noqa: E712
    if flag == "any":
        return sa.or_(*[c[f"flag_{f}"] == True for f in FLAGS], low)  # noqa: E712
    return c[f"flag_{flag}"] == True  # noqa: E712


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_conditions(f: ListFilter, threshold: float) -> List[Any]:
    c = conversations.c
    conds: List[Any] = []
    if f.flag:
        conds.append(_flag_condition(f.flag, threshold))
    if f.intent:
        conds.append(c.sender_id.in_(
            sa.select(conversation_intents.c.sender_id).where(conversation_intents.c.intent == f.intent)))
    if f.date_from:
        conds.append(c.last_ts >= _day_start(f.date_from))
    if f.date_to:
        conds.append(c.last_ts < _day_start(f.date_to) + 86400)
    if f.reviewed is not None:
        conds.append(c.reviewed == f.reviewed)
    if f.assignee:
        conds.append(c.assignee == f.assignee)
    if f.tag:
        conds.append(c.tags.like(f"% {_like_escape(f.tag)} %", escape="\\"))
    if f.q:
        pattern = f"%{_like_escape(f.q.lower())}%"
        conds.append(sa.or_(c.search_text.like(pattern, escape="\\"),
                            c.sender_id.like(f"%{_like_escape(f.q)}%", escape="\\")))
    return conds


def _day_start(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


def encode_cursor(last_ts: float, sender_id: str) -> str:
    return f"{last_ts!r}:{sender_id}"


def decode_cursor(raw: Optional[str]) -> Optional[Tuple[float, str]]:
    if not raw or ":" not in raw:
        return None
    ts, sender = raw.split(":", 1)
    try:
        return float(ts), sender
    except ValueError:
        return None


LIST_COLUMNS = [
    "sender_id", "started", "last_ts", "turns", "last_user_text", *[f"flag_{f}" for f in FLAGS],
    "min_confidence", "reviewed", "reviewed_by", "assignee", "tags",
]


OPEN_COLUMNS = [*LIST_COLUMNS, "urgency", "worst_flag", "worst_text", "worst_ts", "waiting_since"]


COUNT_CAP = 10_000  # list pages count matches up to this many (an exact count of 100k rows costs a scan)


@dataclass
class Page:
    rows: List[Dict[str, Any]]
    total: int  # matching conversations, at most COUNT_CAP + 1
    older: Optional[str]  # cursor for the next (older) page
    newer: Optional[str]  # cursor for the previous (newer) page

    @property
    def total_capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def total_label(self) -> str:
        return f"more than {COUNT_CAP:,}" if self.total_capped else str(self.total)


def count_conversations(engine: Engine, f: "ListFilter", threshold: float) -> int:
    """Exact number of conversations matching ``f`` (for exports)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(conversations)
                            .where(*filter_conditions(f, threshold))).scalar()


def list_conversations(engine: Engine, f: ListFilter, threshold: float, page_size: int = 50,
                       after: Optional[str] = None, before: Optional[str] = None,
                       with_total: bool = True) -> Page:
    """Newest first, keyset-paginated: ``after`` = older than that cursor, ``before`` = newer."""
    c = conversations.c
    conds = filter_conditions(f, threshold)
    cols = [c[name] for name in LIST_COLUMNS]
    after_c, before_c = decode_cursor(after), decode_cursor(before)
    if before_c:
        ts, sid = before_c
        q = (sa.select(*cols).where(*conds, sa.or_(c.last_ts > ts, sa.and_(c.last_ts == ts, c.sender_id > sid)))
             .order_by(c.last_ts.asc(), c.sender_id.asc()).limit(page_size + 1))
    else:
        q = sa.select(*cols).where(*conds)
        if after_c:
            ts, sid = after_c
            q = q.where(sa.or_(c.last_ts < ts, sa.and_(c.last_ts == ts, c.sender_id < sid)))
        q = q.order_by(c.last_ts.desc(), c.sender_id.desc()).limit(page_size + 1)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        capped = sa.select(c.sender_id).where(*conds).limit(COUNT_CAP + 1).subquery()
        total = conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar() if with_total else -1
    more = len(rows) > page_size
    rows = rows[:page_size]
    if before_c:
        rows.reverse()
        older = encode_cursor(rows[-1]["last_ts"], rows[-1]["sender_id"]) if rows else None
        newer = encode_cursor(rows[0]["last_ts"], rows[0]["sender_id"]) if rows and more else None
    else:
        older = encode_cursor(rows[-1]["last_ts"], rows[-1]["sender_id"]) if rows and more else None
        newer = encode_cursor(rows[0]["last_ts"], rows[0]["sender_id"]) if rows and after_c else None
    for row in rows:
        row["flags"] = row_flags(row, threshold)
    return Page(rows=rows, total=total, older=older, newer=newer)


def _encode_open_cursor(row: Dict[str, Any]) -> str:
    return f"{row['urgency']}:{row['waiting_since']!r}:{row['sender_id']}"


def _decode_open_cursor(raw: Optional[str]) -> Optional[Tuple[int, float, str]]:
    parts = (raw or "").split(":", 2)
    if len(parts) != 3:
        return None
    try:
        return int(parts[0]), float(parts[1]), parts[2]
    except ValueError:
        return None


def list_open(engine: Engine, flag: str, threshold: float, page_size: int = 50,
              after: Optional[str] = None, before: Optional[str] = None) -> Page:
    """Unreviewed conversations with ``flag`` (or any flag), worst first (URGENCY_ORDER), then the
    longest waiting; keyset-paginated on (urgency, waiting_since, sender_id), which one index covers."""
    c = conversations.c
    conds = [c.reviewed == False, _flag_condition(flag, threshold)]  # noqa: E712
    cols = [c[name] for name in OPEN_COLUMNS]
    key = (c.urgency, c.waiting_since, c.sender_id)
    after_c, before_c = _decode_open_cursor(after), _decode_open_cursor(before)
    if before_c:
        q = (sa.select(*cols).where(*conds, sa.tuple_(*key) < sa.tuple_(*before_c))
             .order_by(*[k.desc() for k in key]).limit(page_size + 1))
    else:
        q = sa.select(*cols).where(*conds)
        if after_c:
            q = q.where(sa.tuple_(*key) > sa.tuple_(*after_c))
        q = q.order_by(*[k.asc() for k in key]).limit(page_size + 1)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        capped = sa.select(c.sender_id).where(*conds).limit(COUNT_CAP + 1).subquery()
        total = conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar()
    more = len(rows) > page_size
    rows = rows[:page_size]
    if before_c:
        rows.reverse()
        older = _encode_open_cursor(rows[-1]) if rows else None
        newer = _encode_open_cursor(rows[0]) if rows and more else None
    else:
        older = _encode_open_cursor(rows[-1]) if rows and more else None
        newer = _encode_open_cursor(rows[0]) if rows and after_c else None
    for row in rows:
        row["flags"] = row_flags(row, threshold)
        if not row.get("worst_flag"):  # low confidence alone: no stored flag
            row["worst_flag"] = "low_confidence" if "low_confidence" in row["flags"] else None
            row["worst_text"], row["worst_ts"] = row.get("last_user_text"), row.get("last_ts")
    return Page(rows=rows, total=total, older=older, newer=newer)


def live_counts(engine: Engine, since_event_id: int) -> Dict[str, int]:
    """For the live count: unreviewed crisis/emergency conversations, how many of them became one after
    event ``since_event_id``, and open callback requests."""
    c = conversations.c
    alarming = sa.and_(c.reviewed == False, c.urgency <= ALERT_URGENCY)  # noqa: E712
    with engine.connect() as conn:
        urgent = conn.execute(sa.select(sa.func.count()).select_from(conversations).where(alarming)).scalar()
        new = conn.execute(sa.select(sa.func.count()).select_from(conversations)
                           .where(alarming, c.worst_event_id > since_event_id)).scalar()
        cbs = conn.execute(sa.select(sa.func.count()).select_from(callbacks)
                           .where(callbacks.c.status == "open")).scalar()
    return {"urgent": int(urgent or 0), "new_urgent": int(new or 0), "callbacks": int(cbs or 0)}


def row_flags(row: Dict[str, Any], threshold: float) -> List[str]:
    flags = [f for f in FLAGS if row.get(f"flag_{f}")]
    if row.get("min_confidence") is not None and row["min_confidence"] < threshold:
        flags.append("low_confidence")
    return flags


def get_summary(engine: Engine, sender_id: str, threshold: float) -> Optional[Dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(conversations).where(conversations.c.sender_id == sender_id)).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["flags"] = row_flags(out, threshold)
    return out


def known_tags(engine: Engine) -> List[str]:
    """Every label in use (from the notes that added them), for the label filter."""
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(
            sa.select(notes.c.tag).where(notes.c.tag.isnot(None)).distinct().order_by(notes.c.tag))]


def known_intents(engine: Engine) -> List[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(
            sa.select(conversation_intents.c.intent).distinct().order_by(conversation_intents.c.intent))]


# ---------------------------------------------------------------------------------------------
# One conversation


@dataclass
class Turn:
    """One patient message and what the assistant did next (or the events before the first message)."""
    event_id: Optional[int] = None
    ts: Optional[float] = None
    text: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    ranking: List[Tuple[str, float]] = field(default_factory=list)
    classifier_intent: Optional[str] = None
    classifier_confidence: Optional[float] = None
    red_flags: List[str] = field(default_factory=list)
    low_confidence: bool = False
    negative_feedback: bool = False
    rating: Optional[str] = None  # the patient's rating of the replies to this message (widget)
    flags: List[str] = field(default_factory=list)
    correction: Optional[str] = None
    form_answer: bool = False  # an answer to the callback form (name, phone, time): never training data
    form_input: bool = False  # taken by the callback form as a detail: no classifier flags, no low confidence
    button_payload: Optional[str] = None  # set when the patient clicked a button: ``text`` is then its title
    steps: List[Dict[str, Any]] = field(default_factory=list)  # actions, bot messages, slots, sessions


def conversation_events(engine: Engine, sender_id: str) -> List[Any]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id).order_by(events.c.id)).all()


SHOWN_SLOTS = {"handoff_requested", "personal_question", "callback_request", "last_topic", "fact_ids"}
# Slots the callback form fills from the patient's own words (name, phone number, time).
FORM_DETAIL_SLOTS = {"callback_name", "callback_phone", "callback_time"}


def build_transcript(rows: Sequence[Any], threshold: float, redact_text: bool,
                     corrections_by_event: Dict[int, str]) -> List[Turn]:
    turns: List[Turn] = [Turn()]
    show = (lambda t: redact(t)) if redact_text else (lambda t: t)
    parsed = [(row, _loads(row.data)) for row in rows]
    ratings: Dict[str, str] = {}  # message_id -> latest rating (slot feedback = {message_id, rating})
    awaiting_first_action = False  # the latest patient message has not been followed by an action yet
    for row, data in parsed:
        if row.type_name == "slot" and data.get("name") == "feedback" and isinstance(data.get("value"), dict):
            value = data["value"]
            if value.get("message_id") and value.get("rating"):
                ratings[str(value["message_id"])] = str(value["rating"])[:20]
    offered: Dict[str, str] = {}  # payload -> title of the buttons under the assistant's latest message
    for row, data in parsed:
        if row.type_name == "user":
            intent, conf = _intent_of(data)
            raw_text = data.get("text") or ""
            title = offered.get(raw_text.strip()) if raw_text.startswith("/") else None
            parse = data.get("parse_data") or {}
            ranking = [(r.get("name"), float(r.get("confidence") or 0.0))
                       for r in (parse.get("intent_ranking") or [])[:4] if isinstance(r, dict)]
            classifier = parse.get("classifier_intent") or {}
            turn = Turn(
                event_id=row.id, ts=row.timestamp, text=show(title if title is not None else raw_text), intent=intent,
                confidence=conf, ranking=ranking,
                classifier_intent=classifier.get("name") if isinstance(classifier, dict) else None,
                classifier_confidence=classifier.get("confidence") if isinstance(classifier, dict) else None,
                red_flags=[str(r.get("flag")) for r in (parse.get("red_flags") or []) if isinstance(r, dict)],
                low_confidence=conf is not None and conf < threshold,
                rating=ratings.get(str(data.get("message_id"))) if data.get("message_id") else None,
                flags=sorted(event_flags("user", data)),
                correction=corrections_by_event.get(row.id),
                button_payload=raw_text if title is not None else None,
            )
            turn.negative_feedback = _negative_feedback(data) or _negative_value(turn.rating)
            if turn.negative_feedback and "feedback" not in turn.flags:
                turn.flags.append("feedback")
            turns.append(turn)
            awaiting_first_action = True
            continue
        step: Dict[str, Any] = {"type": row.type_name, "ts": row.timestamp, "event_id": row.id}
        if row.type_name == "action":
            name = data.get("name")
            if name == "action_listen":
                continue
            if awaiting_first_action and name in FORM_ACTIONS and turns[-1].event_id:
                form_turn = turns[-1]
                form_turn.form_input = True
                form_turn.low_confidence = False
                form_turn.flags = [f for f in form_turn.flags if f not in CLASSIFIER_FLAGS]
            awaiting_first_action = False
            step.update(name=name, policy=data.get("policy"), confidence=data.get("confidence"),
                        flags=sorted(event_flags("action", data)))
        elif row.type_name == "bot":
            meta = data.get("metadata") or {}
            payload = data.get("data") or {}
            failed = failed_action_of(data)
            if failed and "failed_action" not in turns[-1].flags:
                turns[-1].flags.append("failed_action")
            step.update(
                text=show(data.get("text") or ""),
                failed_action=failed,
                utter_action=meta.get("utter_action") or meta.get("template"),
                topic=meta.get("topic"),
                fact_ids=[str(x) for x in (meta.get("fact_ids") or [])] if isinstance(meta.get("fact_ids"), list) else [],
                buttons=[str(b.get("title")) for b in (payload.get("buttons") or []) if isinstance(b, dict)],
            )
            if payload.get("buttons"):
                offered.update({str(b.get("payload")).strip(): str(b.get("title")) for b in payload["buttons"]
                                if isinstance(b, dict) and b.get("payload") and b.get("title")})
        elif row.type_name == "slot":
            name = data.get("name")
            if name in FORM_DETAIL_SLOTS and data.get("value") is not None and turns[-1].event_id:
                turns[-1].form_answer = True
            if name not in SHOWN_SLOTS:
                continue
            value = data.get("value")
            if name == "callback_request":
                value = "recorded (see callback request)" if value else "cleared"
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            step.update(name=name, value=value)
        elif row.type_name == "session_started":
            pass
        else:
            continue
        turns[-1].steps.append(step)
    if not turns[0].steps:
        turns.pop(0)
    return turns


def corrections_for(engine: Engine, sender_id: str) -> Dict[int, str]:
    with engine.connect() as conn:
        return {r.event_id: r.corrected_intent for r in conn.execute(
            sa.select(corrections.c.event_id, corrections.c.corrected_intent)
            .where(corrections.c.sender_id == sender_id))}


def notes_for(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(notes).where(notes.c.sender_id == sender_id).order_by(notes.c.id))]


def callbacks_for(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(callbacks).where(callbacks.c.sender_id == sender_id).order_by(callbacks.c.id))]


def open_callbacks(engine: Engine, limit: int = 200) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(callbacks, conversations.c.last_user_text, conversations.c.last_ts,
                      conversations.c.flag_emergency)
            .select_from(callbacks.outerjoin(conversations, conversations.c.sender_id == callbacks.c.sender_id))
            .where(callbacks.c.status == "open").order_by(callbacks.c.requested_at.asc()).limit(limit))
        return [dict(r._mapping) for r in rows]


def count_open_callbacks(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(callbacks)
                            .where(callbacks.c.status == "open")).scalar()


# ---------------------------------------------------------------------------------------------
# Triage, corrections, audit


AUDIT_CHAIN_START = "0" * 64  # the prev_hash of the first chained entry
AUDIT_LOCK_KEY = "audit_chain"  # review_meta row whose (no-op) update serialises writers on SQLite
_AUDIT_CONTENT = ("ts", "username", "action", "target", "ip", "detail")


def audit_row_hash(prev_hash: str, row: Dict[str, Any]) -> str:
    """SHA-256 (hex) of the previous entry's hash and this entry's content (canonical JSON).

    Chaining makes an edited, removed or inserted entry visible: every later entry's ``prev_hash``
    stops matching. ``ts`` is a float, stored and read back exactly (REAL / double precision).
    """
    content = json.dumps([row.get(key) for key in _AUDIT_CONTENT], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{content}".encode("utf-8")).hexdigest()


def _lock_audit_chain(conn: Connection) -> None:
    """Hold the audit chain until this transaction ends, so two writers never chain onto the same entry.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write statement (an update that
    changes nothing) takes the database's write lock now, before the chain head is read.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242002)"))
    else:
        conn.execute(review_meta.update().where(review_meta.c.key == AUDIT_LOCK_KEY).values(value=review_meta.c.value))


def write_audit(conn: Connection, username: Optional[str], action: str, target: Optional[str] = None,
                ip: Optional[str] = None, detail: Optional[str] = None) -> None:
    """Append an entry to the audit log, chained to the entry before it (see :func:`audit_row_hash`)."""
    _lock_audit_chain(conn)
    head = conn.execute(sa.select(audit.c.row_hash).order_by(audit.c.id.desc()).limit(1)).scalar()
    row = {"ts": time.time(), "username": username, "action": action, "target": target, "ip": ip, "detail": detail}
    prev_hash = head or AUDIT_CHAIN_START
    conn.execute(audit.insert().values(**row, prev_hash=prev_hash, row_hash=audit_row_hash(prev_hash, row)))


@dataclass
class AuditVerification:
    """The result of :func:`verify_audit_chain` (ids and hashes only: never an entry's content)."""
    entries: int  # entries read
    unchained: int  # entries from before the chain existed (NULL hashes, all before the first chained one)
    head: Optional[str]  # row_hash of the last entry: record it elsewhere to detect a cut-off tail later
    error: Optional[str] = None  # what is wrong, naming the entry id
    bad_id: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def verify_audit_chain(engine: Engine, chunk: int = 5000) -> AuditVerification:
    """Recompute the hash chain of the audit log in id order; the first entry that does not fit is reported.

    Detects an entry changed, removed from the middle or inserted (each breaks the link of the next
    entry or its own hash). Entries removed from the end leave a shorter, valid chain: compare the
    reported ``head`` with one recorded earlier.
    """
    entries = unchained = 0
    prev: Optional[str] = None  # row_hash of the previous chained entry
    last_id = None
    while True:
        q = sa.select(audit).order_by(audit.c.id).limit(chunk)
        if last_id is not None:
            q = q.where(audit.c.id > last_id)
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        if not rows:
            return AuditVerification(entries, unchained, prev)
        for row in rows:
            entries += 1
            last_id = row["id"]
            if row["row_hash"] is None and row["prev_hash"] is None:
                if prev is not None:
                    return AuditVerification(entries, unchained, prev, f"entry {row['id']} has no hash but follows chained entries", row["id"])
                unchained += 1
                continue
            expected_prev = prev if prev is not None else AUDIT_CHAIN_START
            if row["prev_hash"] != expected_prev:
                return AuditVerification(entries, unchained, prev, f"entry {row['id']} does not follow the entry before it (an entry was removed, inserted or changed)", row["id"])
            if row["row_hash"] != audit_row_hash(row["prev_hash"], row):
                return AuditVerification(entries, unchained, prev, f"entry {row['id']} was changed after it was written", row["id"])
            prev = row["row_hash"]


MAX_ROW_ID = 2 ** 63 - 1  # the largest id SQLite and PostgreSQL (BIGINT) can compare against


def parse_audit_cursor(raw: Optional[str]) -> Optional[int]:
    """The audit page's ``before`` id: None when absent, else an integer 1..``MAX_ROW_ID``.

    Raises ValueError for anything else, so that the page answers 400: a larger number would reach
    the database driver as an integer it cannot bind (SQLite: OverflowError, a 500).
    """
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise ValueError("before must be a positive integer")
    value = int(raw)
    if not 1 <= value <= MAX_ROW_ID:
        raise ValueError("before is out of range")
    return value


def audit_rows(engine: Engine, limit: int = 200, before_id: Optional[int] = None) -> List[Dict[str, Any]]:
    q = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
    if before_id:
        q = q.where(audit.c.id < before_id)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def set_reviewed(conn: Connection, sender_id: str, reviewed: bool, username: str) -> bool:
    values = {"reviewed": reviewed, "reviewed_by": username if reviewed else None,
              "reviewed_at": time.time() if reviewed else None}
    return conn.execute(conversations.update().where(conversations.c.sender_id == sender_id)
                        .values(**values)).rowcount > 0


def set_assignee(conn: Connection, sender_id: str, assignee: Optional[str]) -> bool:
    return conn.execute(conversations.update().where(conversations.c.sender_id == sender_id)
                        .values(assignee=assignee or None)).rowcount > 0


def add_note(conn: Connection, sender_id: str, author: str, text: str, tag: Optional[str]) -> None:
    conn.execute(notes.insert().values(sender_id=sender_id, author=author, created=time.time(),
                                       tag=tag or None, text=text or None))
    if tag:
        current = conn.execute(sa.select(conversations.c.tags).where(conversations.c.sender_id == sender_id)).scalar()
        tags = set((current or "").split())
        tags.add(tag)
        conn.execute(conversations.update().where(conversations.c.sender_id == sender_id)
                     .values(tags=" " + " ".join(sorted(tags)) + " "))


def user_event(conn: Connection, sender_id: str, event_id: int) -> Optional[Dict[str, Any]]:
    row = conn.execute(sa.select(events.c.id, events.c.type_name, events.c.data)
                       .where(events.c.id == event_id, events.c.sender_id == sender_id)).first()
    if row is None or row.type_name != "user":
        return None
    return _loads(row.data)


def is_form_answer(conn: Connection, sender_id: str, event_id: int) -> bool:
    """Whether the patient message ``event_id`` filled a callback-form detail (their name, phone, time)."""
    rows = conn.execute(sa.select(events.c.type_name, events.c.data)
                        .where(events.c.sender_id == sender_id, events.c.id > event_id)
                        .order_by(events.c.id).limit(30)).all()
    for row in rows:
        if row.type_name == "user":
            break
        if row.type_name == "slot":
            data = _loads(row.data)
            if data.get("name") in FORM_DETAIL_SLOTS and data.get("value") is not None:
                return True
    return False


def save_correction(conn: Connection, sender_id: str, event_id: int, intent: str, author: str) -> bool:
    data = user_event(conn, sender_id, event_id)
    if data is None or not data.get("text") or is_form_answer(conn, sender_id, event_id):
        return False
    predicted, _ = _intent_of(data)
    values = dict(sender_id=sender_id, text=data["text"], predicted_intent=predicted,
                  corrected_intent=intent, author=author, created=time.time())
    updated = conn.execute(corrections.update().where(corrections.c.event_id == event_id).values(**values)).rowcount
    if not updated:
        conn.execute(corrections.insert().values(event_id=event_id, **values))
    return True


def mark_callback_done(conn: Connection, callback_id: int, username: str) -> Optional[str]:
    return record_callback_outcome(conn, callback_id, "done", username)


def record_callback_outcome(conn: Connection, callback_id: int, outcome: str, username: str) -> Optional[str]:
    """Record what happened when staff called back (one of CALLBACK_OUTCOMES). "called" and "done"
    close the request; "not_reached" leaves it open. Returns the conversation's id, None if no such
    request."""
    if outcome not in CALLBACK_OUTCOMES:
        raise ValueError("unknown outcome")
    row = conn.execute(sa.select(callbacks.c.sender_id, callbacks.c.status).where(callbacks.c.id == callback_id)).first()
    if row is None:
        return None
    now = time.time()
    values: Dict[str, Any] = {"outcome": outcome, "outcome_by": username, "outcome_at": now}
    if outcome != "not_reached":
        values.update(status="done", done_by=username, done_at=now)
    conn.execute(callbacks.update().where(callbacks.c.id == callback_id).values(**values))
    return row.sender_id


def callback_history(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    """The callback outcomes recorded for one conversation, oldest first, from the audit log."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.ts, audit.c.username, audit.c.detail)
                            .where(audit.c.target == sender_id,
                                   audit.c.action.in_(("callback_outcome", "callback_done")))
                            .order_by(audit.c.id)).all()
    out = []
    for r in rows:
        detail = _loads(r.detail)
        out.append({"ts": r.ts, "username": r.username, "callback_id": detail.get("callback_id"),
                    "outcome": detail.get("outcome") or "done"})
    return out


def list_corrections(engine: Engine, limit: int = 500) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(corrections).order_by(corrections.c.id.desc()).limit(limit))]


# ---------------------------------------------------------------------------------------------
# Corrections as Rasa NLU training data

_ANNOTATION_RE = re.compile(r"\[[^\]]*\]\s*[({]")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def existing_training_texts(nlu_file: Path) -> Set[str]:
    """Normalised example texts already in the NLU training data."""
    import yaml

    if not nlu_file.exists():
        return set()
    doc = yaml.safe_load(nlu_file.read_text(encoding="utf-8")) or {}
    texts: Set[str] = set()
    for item in doc.get("nlu") or []:
        examples = item.get("examples") if isinstance(item, dict) else None
        if not isinstance(examples, str):
            continue
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                # strip entity annotations [text](entity) -> text
                plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:])
                texts.add(_norm(plain))
    return texts


@dataclass
class CorrectionsExport:
    yaml_text: str
    exported: int
    skipped_duplicate: int
    skipped_in_training: int
    skipped_unsafe: int


def export_corrections(engine: Engine, settings: Settings) -> CorrectionsExport:
    """Rasa NLU YAML of the corrected messages, deduplicated, without texts already trained on."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(corrections.c.text, corrections.c.corrected_intent)
                            .order_by(corrections.c.id)).all()
    in_training = existing_training_texts(settings.nlu_file)
    seen: Set[str] = set()
    by_intent: Dict[str, List[str]] = {}
    dup = trained = unsafe = 0
    for row in rows:
        text = " ".join((row.text or "").split())
        key = _norm(text)
        if not text or text.startswith("/") or _ANNOTATION_RE.search(text) or has_contact_details(text):
            unsafe += 1  # button payloads, entity-like markup, phone numbers / e-mail addresses
            continue
        if key in seen:
            dup += 1
            continue
        seen.add(key)
        if key in in_training:
            trained += 1
            continue
        by_intent.setdefault(row.corrected_intent, []).append(text)
    lines = ['version: "3.1"', "", "# Staff corrections exported by the review app "
             f"({datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}).", "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {text}" for text in by_intent[intent]]
    if not by_intent:
        lines[-1] = "nlu: []"
    return CorrectionsExport("\n".join(lines) + "\n", sum(len(v) for v in by_intent.values()), dup, trained, unsafe)


# ---------------------------------------------------------------------------------------------
# Conversation exports (CSV / JSONL)

EXPORT_FIELDS = ["conversation_id", "event_id", "time_utc", "speaker", "text", "intent", "confidence",
                 "bot_action", "topic", "fact_ids", "corrected_intent"]


def iso(ts: Optional[float]) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_records(rows: Sequence[Any], sender_id: str, redact_text: bool,
                   corrections_by_event: Dict[int, str]) -> Iterator[Dict[str, Any]]:
    """One record per patient or bot message of one conversation."""
    last_action = None
    for row in rows:
        data = _loads(row.data)
        if row.type_name == "action":
            last_action = data.get("name")
        elif row.type_name == "user":
            intent, conf = _intent_of(data)
            text = data.get("text") or ""
            yield {"conversation_id": sender_id, "event_id": row.id, "time_utc": iso(row.timestamp),
                   "speaker": "patient", "text": redact(text) if redact_text else text, "intent": intent,
                   "confidence": conf, "bot_action": None, "topic": None, "fact_ids": [],
                   "corrected_intent": corrections_by_event.get(row.id)}
        elif row.type_name == "bot":
            meta = data.get("metadata") or {}
            text = data.get("text") or ""
            fact_ids = meta.get("fact_ids") if isinstance(meta.get("fact_ids"), list) else []
            yield {"conversation_id": sender_id, "event_id": row.id, "time_utc": iso(row.timestamp),
                   "speaker": "bot", "text": redact(text) if redact_text else text, "intent": None,
                   "confidence": None, "bot_action": meta.get("utter_action") or last_action,
                   "topic": meta.get("topic"), "fact_ids": [str(x) for x in fact_ids], "corrected_intent": None}


def iter_filtered_senders(engine: Engine, f: ListFilter, threshold: float, chunk: int = 200) -> Iterator[List[str]]:
    c = conversations.c
    conds = filter_conditions(f, threshold)
    cursor: Optional[Tuple[float, str]] = None
    while True:
        q = sa.select(c.sender_id, c.last_ts).where(*conds)
        if cursor:
            q = q.where(sa.or_(c.last_ts < cursor[0], sa.and_(c.last_ts == cursor[0], c.sender_id < cursor[1])))
        with engine.connect() as conn:
            rows = conn.execute(q.order_by(c.last_ts.desc(), c.sender_id.desc()).limit(chunk)).all()
        if not rows:
            return
        yield [r.sender_id for r in rows]
        cursor = (rows[-1].last_ts, rows[-1].sender_id)


def events_for_senders(engine: Engine, senders: Sequence[str]) -> Dict[str, List[Any]]:
    out: Dict[str, List[Any]] = {s: [] for s in senders}
    with engine.connect() as conn:
        for row in conn.execute(
                sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
                .where(events.c.sender_id.in_(list(senders))).order_by(events.c.id)):
            out[row.sender_id].append(row)
        corr = {}
        for r in conn.execute(sa.select(corrections.c.event_id, corrections.c.corrected_intent)
                              .where(corrections.c.sender_id.in_(list(senders)))):
            corr[r.event_id] = r.corrected_intent
    out["__corrections__"] = corr  # type: ignore[assignment]
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """Cell text that spreadsheet programs will not run as a formula (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


# ---------------------------------------------------------------------------------------------
# Retention


@dataclass
class RetentionReport:
    cutoff: float
    conversations: int
    events: int
    review_rows: Dict[str, int]
    dry_run: bool


def retention(engine: Engine, days: int, dry_run: bool = False, now: Optional[float] = None,
              username: str = "cli") -> RetentionReport:
    """Delete conversations whose last event is older than ``days`` days, with their review rows."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now or time.time()) - days * 86400
    with engine.connect() as conn:
        old = [r[0] for r in conn.execute(
            sa.select(events.c.sender_id).group_by(events.c.sender_id)
            .having(sa.func.max(events.c.timestamp) < cutoff))]
        # summaries whose events are already gone
        old_set = set(old)
        orphans = [r[0] for r in conn.execute(
            sa.select(conversations.c.sender_id).where(conversations.c.last_ts < cutoff))
            if r[0] not in old_set]
    targets = old + orphans
    counts = {t.name: 0 for t in (conversations, conversation_intents, callbacks, notes, corrections, messages)}
    n_events = 0
    with engine.begin() as conn:
        for chunk in _chunks(targets, 500):
            if dry_run:
                n_events += conn.execute(sa.select(sa.func.count()).select_from(events)
                                         .where(events.c.sender_id.in_(chunk))).scalar()
                for table in (conversations, conversation_intents, callbacks, notes, corrections, messages):
                    counts[table.name] += conn.execute(sa.select(sa.func.count()).select_from(table)
                                                       .where(table.c.sender_id.in_(chunk))).scalar()
            else:
                n_events += conn.execute(events.delete().where(events.c.sender_id.in_(chunk))).rowcount
                for table in (conversations, conversation_intents, callbacks, notes, corrections, messages):
                    counts[table.name] += conn.execute(table.delete().where(table.c.sender_id.in_(chunk))).rowcount
        if not dry_run:
            # SQLite reuses the ids of deleted rows at the top of the table: keep the indexer's mark below them.
            remaining_max = conn.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
            hwm = int(_get_meta(conn, HWM_KEY) or 0)
            if remaining_max < hwm:
                _set_meta(conn, HWM_KEY, str(remaining_max))
        write_audit(conn, username, "retention_dry_run" if dry_run else "retention", None, None,
                    json.dumps({"days": days, "conversations": len(targets), "events": n_events, **counts}))
    return RetentionReport(cutoff, len(targets), n_events, counts, dry_run)


def cleanup_auth_tables(engine: Engine, window_seconds: float) -> None:
    now = time.time()
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires < now))
        conn.execute(login_failures.delete().where(login_failures.c.ts < now - window_seconds))
