"""SQLiteLockStore: Rasa's ticket locks, atomic across processes, in a local file (clinic_store/lock_store.py).

The Redis variant is tested against a real Redis in tests/test_cluster.py; these need no service.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from clinic_store.lock_store import LOCK_POLL_SECONDS, SQLiteLockStore
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path) -> SQLiteLockStore:
    return SQLiteLockStore(db=str(tmp_path / "locks.db"))


def test_tickets_are_served_in_order_and_the_lock_disappears_when_nobody_waits(store):
    first = store.issue_ticket("c1")
    second = store.issue_ticket("c1")
    lock = store.get_lock("c1")
    assert (first, second) == (0, 1) and lock.now_serving == 0
    assert not lock.is_locked(first) and lock.is_locked(second)
    store.cleanup("c1", first)
    assert store.get_lock("c1").now_serving == 1
    store.cleanup("c1", second)
    assert store.get_lock("c1") is None


def test_conversations_have_separate_locks(store):
    store.issue_ticket("a")
    assert store.issue_ticket("b") == 0
    assert store.get_lock("a").conversation_id == "a"


@pytest.mark.asyncio
async def test_the_async_lock_serialises_two_holders_of_one_conversation(store):
    order = []

    async def hold(name: str) -> None:
        async with store.lock("c", wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(0)  # hand the loop to the other holder while this one holds the lock
            order.append(f"{name} out")

    await asyncio.gather(hold("x"), hold("y"))
    assert order in (["x in", "x out", "y in", "y out"], ["y in", "y out", "x in", "x out"])
    assert store.get_lock("c") is None


class Clock:
    """Stands in for the ``time`` module where Rasa's tickets read the time: the test moves it on."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_expired_tickets_are_dropped_so_a_dead_holder_does_not_block_for_ever(store, tmp_path, monkeypatch):
    import rasa.core.lock

    clock = Clock()
    monkeypatch.setattr(rasa.core.lock, "time", clock)
    store.issue_ticket("c", lock_lifetime=5)  # a holder that died without cleaning up
    waiting = store.issue_ticket("c")
    assert store.get_lock("c").is_locked(waiting)
    clock.now += 4
    store.update_lock("c")
    assert store.get_lock("c").is_locked(waiting), "a live holder keeps its ticket"
    clock.now += 2
    store.update_lock("c")
    assert not store.get_lock("c").is_locked(waiting)
    # A new process (restart) also removes locks with nothing but expired tickets.
    store.issue_ticket("stale", lock_lifetime=1)
    clock.now += 2
    SQLiteLockStore(db=str(tmp_path / "locks.db"))
    assert store.get_lock("stale") is None and store.get_lock("c") is not None


def test_rasa_builds_it_from_endpoints_and_allows_several_sanic_workers(tmp_path, monkeypatch):
    config = EndpointConfig(type="clinic_store.lock_store.SQLiteLockStore", db=str(tmp_path / "x" / "l.db"))
    created = LockStore.create(config)
    assert isinstance(created, SQLiteLockStore) and (tmp_path / "x" / "l.db").exists()
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(config) == 2
    assert number_of_sanic_workers(EndpointConfig(type="in_memory")) == 1


def test_an_unusable_path_fails_at_start_up(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(Exception):
        SQLiteLockStore(db=str(tmp_path / "file" / "locks.db"))


def test_a_failed_change_leaves_the_lock_as_it_was(store):
    store.issue_ticket("c")

    def broken(lock):
        lock.issue_ticket(60)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store._change("c", broken)
    assert [t.number for t in store.get_lock("c").tickets] == [0]
    store.cleanup("c", 0)


def test_a_store_that_cannot_write_raises_lock_error(store):
    store._connection().execute("DROP TABLE ticket_locks")
    with pytest.raises(LockError):
        store.issue_ticket("c")


RACE_WORKER = r"""
import asyncio, os, sys, time
sys.path.insert(0, sys.argv[3])
from clinic_store.lock_store import SQLiteLockStore
class Naive(SQLiteLockStore):
    # Read, then write in a second statement (as Rasa's RedisLockStore does): not atomic.
    def _change(self, conversation_id, change):
        import json
        from rasa.core.lock import TicketLock
        from clinic_store.lock_store import _KEEP
        conn = self._connection()
        row = conn.execute("SELECT lock FROM ticket_locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        new, result = change(TicketLock.from_dict(json.loads(row[0])) if row else None)
        time.sleep(0.005)  # widen the window between the read and the write
        if new is None:
            conn.execute("DELETE FROM ticket_locks WHERE conversation_id = ?", (conversation_id,))
        elif new is not _KEEP:
            conn.execute("INSERT OR REPLACE INTO ticket_locks VALUES (?, ?)", (conversation_id, new.dumps()))
        return result
store = (Naive if sys.argv[4] == "naive" else SQLiteLockStore)(db=sys.argv[1])
holder = sys.argv[2]
overlaps = errors = 0
async def once():
    global overlaps
    async with store.lock("conversation", lock_lifetime=20, wait_time_in_seconds=0.005):
        try:
            fd = os.open(holder, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # only one holder can create it
        except FileExistsError:
            overlaps += 1
            fd = None
        try:
            await asyncio.sleep(0.003)
        finally:
            if fd is not None:
                os.close(fd)
                os.unlink(holder)
async def main():
    global errors
    naive = sys.argv[4] == "naive"
    for _ in range(15 if naive else 40):
        try:
            await asyncio.wait_for(once(), 1 if naive else 10)  # a lost ticket would wait for ever
        except Exception:
            errors += 1
asyncio.run(main())
print(overlaps, errors)
"""


def _race(tmp_path: Path, processes: int, kind: str = "atomic") -> Tuple[int, int]:
    db, holder = str(tmp_path / f"{kind}.db"), str(tmp_path / f"{kind}.holder")
    SQLiteLockStore(db=db)  # create the file before the workers race for it
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_WORKER, db, holder, str(ROOT), kind], stdout=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    try:
        outs = [p.communicate(timeout=180)[0].split() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(len(o) == 2 for o in outs), outs
    return sum(int(o[0]) for o in outs), sum(int(o[1]) for o in outs)


@pytest.mark.integration  # a trained model, several processes or every corpus text: not the inner loop
def test_processes_contending_for_one_conversation_never_hold_it_together(tmp_path):
    """4 processes x 40 locks of one conversation: never two holders, never a lock error."""
    assert _race(tmp_path, processes=4) == (0, 0)
    assert SQLiteLockStore(db=str(tmp_path / "atomic.db")).get_lock("conversation") is None


@pytest.mark.stress  # asserts that a race happens: evidence, not a gate
def test_the_race_test_does_catch_a_lock_store_that_is_not_atomic(tmp_path):
    """The same race with a read-then-write store (as Rasa's RedisLockStore): overlaps or lost tickets."""
    overlaps, errors = _race(tmp_path, processes=4, kind="naive")
    print(f"non-atomic SQLite lock store: {overlaps} overlapping holders, {errors} lock errors")
    assert overlaps + errors > 0


@pytest.mark.asyncio
async def test_a_waiting_turn_polls_every_50_ms_not_every_second(store, monkeypatch):
    """Rasa polls a held lock once a second by default; these stores every 50 ms. Checked by what
    the waiting turn asks to sleep between polls (not by a stopwatch), while the first holds the lock."""
    import rasa.core.lock_store as rasa_lock_store

    polls: List[float] = []
    real_sleep = asyncio.sleep
    first_has_it, second_waited = asyncio.Event(), asyncio.Event()
    order: List[str] = []

    async def recording_sleep(seconds: float, *args: Any) -> Any:
        polls.append(seconds)
        second_waited.set()
        return await real_sleep(0)

    monkeypatch.setattr(rasa_lock_store.asyncio, "sleep", recording_sleep)

    async def first() -> None:
        async with store.lock("c"):
            first_has_it.set()
            await second_waited.wait()  # hold it until the second turn has polled at least once
            order.append("first out")

    async def second() -> None:
        await first_has_it.wait()
        async with store.lock("c"):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first out", "second in"]
    assert polls and set(polls) == {LOCK_POLL_SECONDS}
