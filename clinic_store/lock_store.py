"""Lock stores whose ticket changes are atomic across processes.

Rasa serialises the turns of one conversation with a ``TicketLock`` kept in a lock store. Rasa 3.6's
``RedisLockStore`` changes a lock with a plain read-modify-write (``GET`` the JSON, change it in
Python, ``SET`` it back). Two replicas doing that at the same moment overwrite each other: both can
be issued the same ticket number (both run the turn at once: the lock does not serialise), or one's
``cleanup`` deletes the lock while the other's ticket is in it (that turn fails with ``LockError``).
A stress run of 4 processes x 40 locks of one conversation showed 6 overlaps and 2 ``LockError``
with Rasa's class, none with these.

Both stores here run each change (issue a ticket, drop expired tickets, give a ticket back) as one
transaction, with Rasa's ticket algorithm (:class:`_AtomicTicketChanges`):

- :class:`AtomicRedisLockStore` (the scale-out setup, endpoints.cluster.yml): Redis ``WATCH``/``MULTI``
  (retried when another client changed the key in between); key names and options are Rasa's, and the
  key gets a TTL (the latest ticket's expiry plus a minute), so a lock left by a replica that died is
  removed by Redis itself. Options: RedisLockStore's (``url``, ``port``, ``db``, ``password``,
  ``use_ssl``, ``key_prefix``, ``socket_timeout``).
- :class:`SQLiteLockStore` (the embedded default when the Rasa server runs several Sanic workers on
  one machine, ``SANIC_WORKERS``; endpoints.yml): a table in a local SQLite file, each change inside
  ``BEGIN IMMEDIATE`` (SQLite's write lock, shared by every process on the machine). Locks are
  transient, so the file is written without fsync (``synchronous=OFF``): a machine crash can only
  lose locks, which expire anyway. Options: ``db`` (file, relative to the working directory;
  default ``var/locks.db``), ``busy_timeout`` (seconds a change waits for another process's
  transaction; default 10).

Both wait for a busy conversation's lock by looking again every 50 ms (Rasa: every second).

Rasa accepts any custom lock store as safe for several Sanic workers
(``rasa.core.utils.number_of_sanic_workers``); its in-memory store is per process and is not.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

_KEEP = object()  # "leave the key as it is"


LOCK_POLL_SECONDS = 0.05


class _AtomicTicketChanges:
    """Rasa's ticket algorithm, with every change made through one atomic ``_change``."""

    def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = LOCK_POLL_SECONDS,
    ) -> Any:
        """Rasa's ``LockStore.lock``, but a turn waiting for another turn of its conversation looks
        again every 50 ms, not every second (Rasa's default: a second message sent while the first
        was being answered waited a whole second more than it had to)."""
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)  # type: ignore[misc]

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Any, Any]]) -> Any:
        """Apply ``change(lock) -> (new lock | None to delete | _KEEP, result)`` atomically; return result."""
        raise NotImplementedError

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Tuple[Any, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, change)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _KEEP, None
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _KEEP, None
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Give the ticket back; delete the lock in the same transaction if nobody else holds a ticket."""

        def change(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _KEEP, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, change)


class AtomicRedisLockStore(_AtomicTicketChanges, RedisLockStore):
    """``RedisLockStore`` whose ticket changes are Redis transactions (see module doc)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds custom lock stores with ``endpoint_config=`` only.
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Any, Any]]) -> Any:
        """Apply ``change(lock) -> (new lock | None to delete | _KEEP, result)`` atomically; return result."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new, result = change(lock)
            pipe.multi()
            if new is None:
                if raw:
                    pipe.delete(key)
            elif new is not _KEEP:
                expires = max((t.expires for t in new.tickets), default=time.time())
                pipe.set(key, new.dumps(), ex=max(1, int(expires - time.time()) + 60))
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)


class SQLiteLockStore(_AtomicTicketChanges, LockStore):
    """Ticket locks in a local SQLite file, for several Sanic worker processes (see module doc)."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        db: Text = "var/locks.db",
        busy_timeout: float = 10.0,
    ) -> None:
        # Rasa builds custom lock stores with ``endpoint_config=`` only.
        options = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        self.path = Path(options.get("db", db))
        self.busy_timeout = float(options.get("busy_timeout", busy_timeout))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._drop_expired()  # also creates the file and the table now, so a bad path fails at start-up
        super().__init__()

    def _drop_expired(self) -> None:
        """Remove locks whose every ticket has expired (left by a worker that was killed)."""
        rows = self._connection().execute("SELECT conversation_id FROM ticket_locks").fetchall()

        def change(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _KEEP, None
            lock.remove_expired_tickets()
            return (lock if lock.tickets else None), None

        for (conversation_id,) in rows:
            self._change(conversation_id, change)

    def _connection(self) -> sqlite3.Connection:
        """This process's (and thread's) connection; a forked worker opens its own."""
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ticket_locks (conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL)"
            )
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Any, Any]]) -> Any:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # the database's write lock: one change at a time, machine-wide
        try:
            row = conn.execute("SELECT lock FROM ticket_locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
            new, result = change(TicketLock.from_dict(json.loads(row[0])) if row else None)
            if new is None:
                if row:
                    conn.execute("DELETE FROM ticket_locks WHERE conversation_id = ?", (conversation_id,))
            elif new is not _KEEP:
                conn.execute(
                    "INSERT OR REPLACE INTO ticket_locks (conversation_id, lock) VALUES (?, ?)",
                    (conversation_id, new.dumps()),
                )
            conn.execute("COMMIT")
            return result
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        row = (
            self._connection()
            .execute("SELECT lock FROM ticket_locks WHERE conversation_id = ?", (conversation_id,))
            .fetchone()
        )
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def delete_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, lambda lock: (None, None))

    def save_lock(self, lock: TicketLock) -> None:
        self._change(lock.conversation_id, lambda _: (lock, None))
