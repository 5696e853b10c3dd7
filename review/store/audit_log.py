"""The audit log: append-only and hash-chained, written in the transaction of the change it records.

Every entry carries the SHA-256 of the entry before it and of its own content, so an entry
changed, removed or inserted later breaks the chain (:func:`verify_audit_chain`, ``make
audit-verify``); the triggers of :mod:`review.store.schema` refuse UPDATE and DELETE.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review.store.schema import audit, review_meta


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


def write_audit(
    conn: Connection,
    username: Optional[str],
    action: str,
    target: Optional[str] = None,
    ip: Optional[str] = None,
    detail: Optional[str] = None,
) -> None:
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
                    return AuditVerification(
                        entries,
                        unchained,
                        prev,
                        f"entry {row['id']} has no hash but follows chained entries",
                        row["id"],
                    )
                unchained += 1
                continue
            expected_prev = prev if prev is not None else AUDIT_CHAIN_START
            if row["prev_hash"] != expected_prev:
                return AuditVerification(
                    entries,
                    unchained,
                    prev,
                    f"entry {row['id']} does not follow the entry before it "
                    "(an entry was removed, inserted or changed)",
                    row["id"],
                )
            if row["row_hash"] != audit_row_hash(row["prev_hash"], row):
                return AuditVerification(
                    entries, unchained, prev, f"entry {row['id']} was changed after it was written", row["id"]
                )
            prev = row["row_hash"]


MAX_ROW_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL (BIGINT) can compare against


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
    """The newest ``limit`` audit entries (older than entry ``before_id`` when given), newest first."""
    q = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
    if before_id:
        q = q.where(audit.c.id < before_id)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
