"""Rasa's SQL tracker store, with each conversation kept in memory between its turns.

Profiling a 200-turn conversation (bench/profile_turns.py) showed Rasa 3.6's ``SQLTrackerStore``
re-reading and re-building the whole conversation on every turn: the SQL query, ``json.loads`` of
every event, and ``Event.resolve_by_type``, which walks all event subclasses for every event.
That made late turns of a long conversation many times slower than its first (BENCHMARKS.md,
"Figures behind the code"). (The event lookup by type name is the runtime layer's
``clinic_runtime.event_lookup``.) This store:

- keeps the tracker of recently active conversations (LRU, at most ``cache_size`` conversations
  and ``cache_events`` events in all, whichever is reached first: memory grows with the events held;
  bench/soak_memory.py measures it, figures in BENCHMARKS.md) and, on the next turn, reads from the
  database only the events stored after the ones it holds, so a turn that another replica handled
  is still seen (the lock store serialises turns of one conversation, so ids of one conversation
  grow in order);
- checks in that same query that the database still holds what the cache was built from: it
  also reads back two anchor rows, the first and the last stored event the cached tracker holds
  (``id = first id`` UNION ALL ``id >= last id``, each an index seek), and compares their ids *and*
  ``data`` with the ones remembered. Anything else reads the conversation in full (``None`` if no
  row is left, and Rasa starts a new conversation). This covers the review app's retention
  (``review.store.retention``), which deletes conversations from ``events`` behind Rasa's back:
  the whole conversation gone (anchors missing), gone and written again by another replica (on
  PostgreSQL new ids come from a sequence so the anchors are missing; SQLite reuses the ids of
  deleted rows at the top of the table, so a new row can carry an anchor's id: its ``data``, which
  holds the event's timestamp, differs), the newest rows gone, or the oldest rows gone (the first
  anchor is then the first to go; rows older than the first anchor, e.g. earlier sessions, are not
  in the cached tracker, so deleting only those needs no re-read). Not detected: rows deleted from
  between the two anchors while both stay, which nothing in this project does. A turn in flight
  while retention deletes its conversation can still append its new events afterwards; they are
  then what the database holds and what the next read returns;
- saves by appending the events after the ones it knows are stored (no ``COUNT`` per save);
- falls back to a full read whenever the cached tracker holds events that were never saved (a turn
  that failed half way), another replica started a new session, or the tracker is unknown;
- looks event classes up in a table instead of walking the class tree;
- runs its per-turn statements as prebuilt SQLAlchemy Core statements (not ORM queries), keeps
  SQLite connections open between turns and puts SQLite in WAL mode (see ``_use_wal``).

The database stays the single source of truth; the cache only saves reading it again.
Configured in endpoints.yml: ``tracker_store: type: clinic_store.tracker_store.CachingSQLTrackerStore``
(same options as Rasa's ``SQL`` store, plus ``cache_size`` and ``cache_events``).
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# The row :meth:`CachingSQLTrackerStore.check_writable` inserts and rolls back (never committed).
HEALTH_CHECK_ROW_ID = -1
HEALTH_CHECK_SENDER = "health-check"


def _file_identity(path: str) -> Optional[Tuple[int, int]]:
    """(device, inode) of the file at ``path``; None if it is missing."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


@dataclass
class _Cached:
    tracker: DialogueStateTracker
    stored: int  # how many of tracker.events are in the database
    first_id: int  # the database id of the first of them
    first_data: Optional[str]  # ... and its stored ``data`` (checked: the id may be reused, see module doc)
    last_id: int  # the database id of the last of them
    last_data: Optional[str]

    def anchors(self) -> List[Tuple[int, Optional[str]]]:
        """The rows (id, data) the database must still hold for this copy to be current, oldest first."""
        last = (self.last_id, self.last_data)
        return [last] if self.first_id == self.last_id else [(self.first_id, self.first_data), last]


class CachingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that keeps active conversations in memory between turns (see module doc)."""

    engine: Any  # Rasa's SQLAlchemy engine (set by SQLTrackerStore.__init__, untyped there)

    def __init__(
        self, domain: Optional[Domain] = None, cache_size: int = 2000, cache_events: int = 40_000, **kwargs: Any
    ) -> None:
        super().__init__(domain=domain, **kwargs)
        self.cache_size = int(cache_size)
        self.cache_events = int(cache_events)
        self._cache: "OrderedDict[str, _Cached]" = OrderedDict()
        self._cached_events = 0  # sum of ``stored`` over the cache
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connection()
            self._use_wal()
        # The per-turn statements, built once (SQLAlchemy Core: the ORM's per-call query building
        # and unit of work were a large share of the Rasa server's CPU under load).
        table = self.SQLEvent.__table__
        self._insert = table.insert()
        self._select = "SELECT id, type_name, data FROM events WHERE sender_id = :sender"
        self._since_last = sa.text(f"{self._select} AND id >= :last_id ORDER BY id")
        self._anchors_and_since_last = sa.text(
            f"{self._select} AND id = :first_id UNION ALL {self._select} AND id >= :last_id ORDER BY id"
        )

    def _keep_sqlite_connection(self) -> None:
        """Keep SQLite connections open between turns (SQLAlchemy 1.4 opens and closes one per
        session for a file database; closing the last connection of a WAL database also checkpoints
        it). One connection per thread; Rasa uses the store from its event-loop thread."""
        if self.engine.url.database in (None, "", ":memory:"):
            return
        old = self.engine
        self.engine = sa.create_engine(old.url, poolclass=sa.pool.SingletonThreadPool)
        self.sessionmaker = sessionmaker(bind=self.engine)
        old.dispose()
        path = self.engine.url.database

        # An open connection would go on writing to a database file that was moved, deleted or
        # replaced (into a file nobody reads any more). Each use first checks that the path is still
        # the file the connection opened; if not, the pool reconnects, which fails loudly if the
        # path is unusable (the patient is told the message was not saved).
        @sa.event.listens_for(self.engine, "connect")
        def remember_file(_dbapi_connection: Any, record: Any) -> None:
            record.info["file"] = _file_identity(path)

        @sa.event.listens_for(self.engine, "checkout")
        def check_file(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            if _file_identity(path) != record.info.get("file"):
                raise sa.exc.DisconnectionError("the SQLite database file changed")

    def _use_wal(self) -> None:
        """SQLite in write-ahead-log mode (kept in the file): a commit is one fsync of the log instead of
        the rollback journal's several (a commit takes about a third of the time; BENCHMARKS.md), and the
        staff review app, reading the same file, no longer blocks the bot's writes. ``synchronous``
        stays FULL: an acknowledged turn survives a power cut."""
        with self.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode=WAL").scalar()
        if str(mode).lower() != "wal":  # e.g. an in-memory database
            logger.info("SQLite tracker store: journal mode %s (WAL not available)", mode)

    def _remember(self, tracker: DialogueStateTracker, first: Any, last: Any) -> None:
        """Cache ``tracker``, whose stored events are the rows ``first`` .. ``last`` (with id and data)."""
        if tracker.events.maxlen is not None or self.cache_size <= 0:
            return  # a bounded history cannot be counted against the database
        self.forget(tracker.sender_id)
        self._cache[tracker.sender_id] = _Cached(tracker, len(tracker.events), first.id, first.data, last.id, last.data)
        self._cached_events += len(tracker.events)
        self._evict()

    def _set_stored(self, cached: _Cached, stored: int) -> None:
        self._cached_events += stored - cached.stored
        cached.stored = stored

    def _evict(self) -> None:
        """Drop the least recently used conversations while over either limit (never the newest)."""
        while len(self._cache) > self.cache_size or (self._cached_events > self.cache_events and len(self._cache) > 1):
            _sender, dropped = self._cache.popitem(last=False)
            self._cached_events -= dropped.stored

    def forget(self, sender_id: Text) -> None:
        """Drop a conversation from memory (the next turn reads it from the database)."""
        dropped = self._cache.pop(sender_id, None)
        if dropped is not None:
            self._cached_events -= dropped.stored

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The tracker of the latest session: from memory plus newer rows, or read in full."""
        cached = self._cache.get(sender_id)
        if cached is not None and len(cached.tracker.events) == cached.stored:
            anchors = cached.anchors()
            # One query: the anchor rows (still there, unchanged?) and the rows stored after the last.
            params = {"sender": sender_id, "first_id": cached.first_id, "last_id": cached.last_id}
            statement = self._anchors_and_since_last if len(anchors) == 2 else self._since_last
            with self.engine.connect() as connection:
                rows = connection.execute(statement, params).fetchall()
            head, newer = rows[: len(anchors)], rows[len(anchors) :]
            if [(row.id, row.data) for row in head] == anchors and not any(
                row.type_name == SessionStarted.type_name for row in newer
            ):
                for row in newer:  # stored by another replica since this one's last turn
                    event = Event.from_parameters(json.loads(row.data))
                    if event is not None:
                        cached.tracker.update(event)
                if newer:
                    self._set_stored(cached, len(cached.tracker.events))
                    cached.last_id, cached.last_data = newer[-1].id, newer[-1].data
                self._cache.move_to_end(sender_id)
                self._evict()
                return cached.tracker
            # deleted or replaced in the database (retention), or a new session: read what is there now
        self.forget(sender_id)
        return self._read(sender_id)

    def _read(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            if not rows or not self.domain:
                return None
            tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(r.data) for r in rows], self.domain.slots)
            self._remember(tracker, rows[0], rows[-1])
            return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's unsaved events (all new ones, if this store did not hand it out)."""
        cached = self._cache.get(tracker.sender_id)
        if cached is None or cached.tracker is not tracker:
            self.forget(tracker.sender_id)
            await super().save(tracker)  # counts what is stored, as Rasa does
            with self.session_scope() as session:
                # Anchors: the sender's first row (of any session: this tracker may hold several, so any
                # deletion of its rows is seen; at worst one needless full read) and its last row.
                rows = session.query(self.SQLEvent.id, self.SQLEvent.data)
                rows = rows.filter(self.SQLEvent.sender_id == tracker.sender_id)
                first = rows.order_by(self.SQLEvent.id).first()
                last = rows.order_by(self.SQLEvent.id.desc()).first()
            if first is not None and last is not None:
                self._remember(tracker, first, last)
            return
        new_events: List[Event] = list(tracker.events)[cached.stored :]
        if not new_events:
            return
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        try:
            with self.engine.begin() as connection:  # one transaction for the turn's events
                for event in new_events:
                    values = self._row(tracker.sender_id, event)
                    last_id = connection.execute(self._insert, values).inserted_primary_key[0]
                    last_data = values["data"]
        except Exception:
            self.forget(tracker.sender_id)
            raise
        self._set_stored(cached, len(tracker.events))
        cached.last_id, cached.last_data = last_id, last_data
        self._evict()

    def check_writable(self) -> None:
        """Write a row into ``events`` inside a transaction and roll it back; raises if that fails.

        The health check's proof that a turn could be saved now: reading alone succeeds on a
        database that has become read-only (file permissions, a read-only mount or PostgreSQL
        ``default_transaction_read_only``), locked or lost its write privileges, while every save
        fails. (SQLite's ``BEGIN IMMEDIATE`` is not enough: it succeeds on a read-only file.) The
        row uses the reserved id ``HEALTH_CHECK_ROW_ID`` (no sequence value is used up) and is never
        committed, so no reader sees it. Cost: one insert and one rollback, no fsync.
        """
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(
                    self._insert,
                    {
                        "id": HEALTH_CHECK_ROW_ID,
                        "sender_id": HEALTH_CHECK_SENDER,
                        "type_name": HEALTH_CHECK_SENDER,
                        "timestamp": 0.0,
                        "intent_name": None,
                        "action_name": None,
                        "data": "{}",
                    },
                )
            finally:
                transaction.rollback()

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[str, Any]:
        """The ``events`` row of ``event``, with the columns Rasa's ``SQLTrackerStore.save`` writes."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
