"""Retention: whole conversations older than the retention period are deleted (Rasa's events and the
review rows), and expired sessions and old login failures are cleaned up."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Dict, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review.store.audit_log import write_audit
from review.store.indexer import HWM_KEY
from review.store.schema import (
    callbacks,
    chunks,
    conversation_intents,
    conversations,
    corrections,
    events,
    get_meta,
    login_failures,
    messages,
    notes,
    sessions,
    set_meta,
)


@dataclass
class RetentionReport:
    """What :func:`retention` deleted (or, in a dry run, would delete)."""

    cutoff: float
    conversations: int
    events: int
    review_rows: Dict[str, int]
    dry_run: bool


def retention(
    engine: Engine, days: int, dry_run: bool = False, now: Optional[float] = None, username: str = "cli"
) -> RetentionReport:
    """Delete conversations whose last event is older than ``days`` days, with their review rows."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now or time.time()) - days * 86400
    with engine.connect() as conn:
        old = [
            r[0]
            for r in conn.execute(
                sa.select(events.c.sender_id)
                .group_by(events.c.sender_id)
                .having(sa.func.max(events.c.timestamp) < cutoff)
            )
        ]
        # summaries whose events are already gone
        old_set = set(old)
        orphans = [
            r[0]
            for r in conn.execute(sa.select(conversations.c.sender_id).where(conversations.c.last_ts < cutoff))
            if r[0] not in old_set
        ]
    targets = old + orphans
    counts = {t.name: 0 for t in (conversations, conversation_intents, callbacks, notes, corrections, messages)}
    n_events = 0
    with engine.begin() as conn:
        for chunk in chunks(targets, 500):
            if dry_run:
                n_events += conn.execute(
                    sa.select(sa.func.count()).select_from(events).where(events.c.sender_id.in_(chunk))
                ).scalar()
                for table in (conversations, conversation_intents, callbacks, notes, corrections, messages):
                    counts[table.name] += conn.execute(
                        sa.select(sa.func.count()).select_from(table).where(table.c.sender_id.in_(chunk))
                    ).scalar()
            else:
                n_events += conn.execute(events.delete().where(events.c.sender_id.in_(chunk))).rowcount
                for table in (conversations, conversation_intents, callbacks, notes, corrections, messages):
                    counts[table.name] += conn.execute(table.delete().where(table.c.sender_id.in_(chunk))).rowcount
        if not dry_run:
            # SQLite reuses the ids of deleted rows at the top of the table: keep the indexer's mark below them.
            remaining_max = conn.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
            hwm = int(get_meta(conn, HWM_KEY) or 0)
            if remaining_max < hwm:
                set_meta(conn, HWM_KEY, str(remaining_max))
        write_audit(
            conn,
            username,
            "retention_dry_run" if dry_run else "retention",
            None,
            None,
            json.dumps({"days": days, "conversations": len(targets), "events": n_events, **counts}),
        )
    return RetentionReport(cutoff, len(targets), n_events, counts, dry_run)


def cleanup_auth_tables(engine: Engine, window_seconds: float) -> None:
    """Delete expired sessions and login failures older than the throttling window."""
    now = time.time()
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires < now))
        conn.execute(login_failures.delete().where(login_failures.c.ts < now - window_seconds))
