"""Database layer of the review app, one module per concern; this package re-exports their public API.

The Rasa server owns the table ``events`` (its SQL tracker store). The store only reads it, except
:func:`retention`, which deletes whole old conversations. Everything the app keeps lives in tables
prefixed ``review_`` in the same database:

- ``review_conversations``: one summary row per conversation (sender id), built incrementally from
  ``events.id`` > the high-water mark in ``review_meta``; flags, turns, last patient message,
  search text, plus triage state (reviewed, assignee, tags) and the urgency of its worst flag with the
  message it was raised on (Open items' order). Indexed for the list filters.
- ``review_conversation_intents``: (conversation, intent) pairs for the intent filter.
- ``review_callbacks``: callback requests (from the ``callback_request`` slot) and their done state.
- ``review_messages`` (one row per patient message, filled by :mod:`review.message_index`),
  ``review_sheet_notes``, ``review_notes``, ``review_corrections``, ``review_users``,
  ``review_sessions``, ``review_login_failures``, ``review_audit`` (append-only: triggers reject
  UPDATE and DELETE).

Modules, each importing only those above it:

- :mod:`~review.store.schema`: the tables, the engine, schema creation and upgrades, ``review_meta``.
- :mod:`~review.store.redaction`: contact details and full dates masked in text shown or exported.
- :mod:`~review.store.flags`: what the stored events mean (the flags each one raises).
- :mod:`~review.store.indexer`: events folded into the per-conversation summaries.
- :mod:`~review.store.listing`: filters, keyset pages, Open items, the live count.
- :mod:`~review.store.transcript`: one conversation as turns, with its notes and callbacks.
- :mod:`~review.store.audit_log`: the hash-chained audit log and its verification.
- :mod:`~review.store.triage`: reviewed, assigned, notes, corrections, callback outcomes.
- :mod:`~review.store.nlu_export`: corrections as Rasa NLU training data.
- :mod:`~review.store.exports`: conversation exports (CSV / JSONL).
- :mod:`~review.store.expiry`: retention (old conversations deleted) and auth-table clean-up.
"""

from __future__ import annotations

from review.store.schema import (ALERT_URGENCY, CALLBACK_OUTCOMES, FLAGS, NO_URGENCY, OTHER_URGENCY, URGENCY_FLAG_ORDER,
                                 URGENCY_ORDER, audit, callbacks, chunks, conversation_intents, conversations,
                                 corrections, create_schema, events, events_table_exists, get_meta, login_failures,
                                 make_engine, messages, metadata, notes, review_meta, sessions, set_meta, sheet_notes,
                                 users)
from review.store.redaction import (DATE_RE, EMAIL_RE, PHONE_RE, has_contact_details, redact)
from review.store.flags import (CLASSIFIER_FLAGS, FALLBACK_ACTIONS, FALLBACK_INTENTS, FORM_ACTIONS, FORM_DETAIL_SLOTS,
                                HANDOFF_ACTIONS, HANDOFF_INTENTS, NEGATIVE_FEEDBACK, OUT_OF_SCOPE_ACTIONS,
                                OUT_OF_SCOPE_INTENTS, PERSONAL_ACTIONS, PERSONAL_INTENTS, TRIAGE_ACTION_FLAGS,
                                TRIAGE_INTENT_FLAGS, event_flags, failed_action_of, intent_of, load_data,
                                negative_feedback, negative_value, urgency_rank)
from review.store.indexer import (HWM_KEY, LAST_TEXT_CAP, PG_RESCAN_WINDOW, SEARCH_TEXT_CAP, Alert, index_new_events,
                                  indexed_up_to, rebuild_index)
from review.store.listing import (COUNT_CAP, LIST_COLUMNS, OPEN_COLUMNS, TAG_RE, count_conversations, decode_cursor,
                                  encode_cursor, filter_conditions, get_summary, known_intents, known_tags,
                                  list_conversations, list_open, ListFilter, live_counts, Page, row_flags)
from review.store.transcript import (SHOWN_SLOTS, build_transcript, callbacks_for, conversation_events, corrections_for,
                                     count_open_callbacks, notes_for, open_callbacks, Turn)
from review.store.triage import (add_note, callback_history, is_form_answer, list_corrections, mark_callback_done,
                                 record_callback_outcome, save_correction, set_assignee, set_reviewed, user_event)
from review.store.audit_log import (AUDIT_CHAIN_START, AUDIT_LOCK_KEY, MAX_ROW_ID, audit_row_hash, audit_rows,
                                    AuditVerification, parse_audit_cursor, verify_audit_chain, write_audit)
from review.store.nlu_export import (CorrectionsExport, existing_training_texts, export_corrections)
from review.store.exports import (EXPORT_FIELDS, csv_safe, events_for_senders, export_records, iso,
                                  iter_filtered_senders)
from review.store.expiry import (cleanup_auth_tables, retention, RetentionReport)

__all__ = [
    "metadata", "FLAGS", "URGENCY_ORDER", "OTHER_URGENCY", "NO_URGENCY", "URGENCY_FLAG_ORDER", "ALERT_URGENCY",
    "conversations", "conversation_intents", "callbacks", "CALLBACK_OUTCOMES", "notes", "corrections", "users",
    "sessions", "login_failures", "audit", "messages", "sheet_notes", "review_meta", "events", "make_engine",
    "create_schema", "events_table_exists", "get_meta", "set_meta", "chunks", "EMAIL_RE", "PHONE_RE", "DATE_RE",
    "redact", "has_contact_details", "TRIAGE_INTENT_FLAGS", "TRIAGE_ACTION_FLAGS", "HANDOFF_INTENTS",
    "HANDOFF_ACTIONS", "PERSONAL_INTENTS", "PERSONAL_ACTIONS", "FALLBACK_INTENTS", "FALLBACK_ACTIONS",
    "OUT_OF_SCOPE_INTENTS", "OUT_OF_SCOPE_ACTIONS", "NEGATIVE_FEEDBACK", "FORM_ACTIONS", "CLASSIFIER_FLAGS",
    "FORM_DETAIL_SLOTS", "load_data", "intent_of", "negative_value", "negative_feedback", "failed_action_of",
    "event_flags", "urgency_rank", "HWM_KEY", "SEARCH_TEXT_CAP", "LAST_TEXT_CAP", "indexed_up_to", "PG_RESCAN_WINDOW",
    "index_new_events", "Alert", "rebuild_index", "TAG_RE", "ListFilter", "filter_conditions", "encode_cursor",
    "decode_cursor", "LIST_COLUMNS", "OPEN_COLUMNS", "COUNT_CAP", "Page", "count_conversations", "list_conversations",
    "list_open", "live_counts", "row_flags", "get_summary", "known_tags", "known_intents", "Turn",
    "conversation_events", "SHOWN_SLOTS", "build_transcript", "corrections_for", "notes_for", "callbacks_for",
    "open_callbacks", "count_open_callbacks", "set_reviewed", "set_assignee", "add_note", "user_event",
    "is_form_answer", "save_correction", "mark_callback_done", "record_callback_outcome", "callback_history",
    "list_corrections", "AUDIT_CHAIN_START", "AUDIT_LOCK_KEY", "audit_row_hash", "write_audit", "AuditVerification",
    "verify_audit_chain", "MAX_ROW_ID", "parse_audit_cursor", "audit_rows", "existing_training_texts",
    "CorrectionsExport", "export_corrections", "EXPORT_FIELDS", "iso", "export_records", "iter_filtered_senders",
    "events_for_senders", "csv_safe", "RetentionReport", "retention", "cleanup_auth_tables"
]
