"""clinic_store.tracker_store: the cached SQL store reads and writes exactly what Rasa's store does.

Run against SQLite and, where it is reachable, PostgreSQL (skipped with a visible reason if not).
Two store objects on one database stand for two Rasa replicas.
"""

from __future__ import annotations

import uuid
from typing import Iterator, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered

from clinic_runtime.event_lookup import install_fast_event_lookup
from clinic_store.tracker_store import CachingSQLTrackerStore
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("rasa_restored")]

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _pg_database() -> Iterator[dict]:
    try:
        engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            name = f"store_test_{uuid.uuid4().hex[:8]}"
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except Exception as error:  # noqa: BLE001 - any connection problem means: not reachable
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(error).__name__}): PostgreSQL case skipped")
    try:
        yield {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres", "db": name}
    finally:
        engine.dispose()
        drop = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        drop.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[dict]:
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "events.db")}
    else:
        yield from _pg_database()


def turn(text: str, intent: str, reply: str) -> List[Event]:
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}),
        ActionExecuted("action_answer_topic"),
        BotUttered(reply, metadata={"topic": intent}),
        SlotSet("last_topic", intent),
        ActionExecuted("action_listen"),
    ]


async def add_turn(store, sender: str, text: str, intent: str) -> None:
    tracker = await store.get_or_create_tracker(sender)
    for event in turn(text, intent, f"answer to {text}"):
        tracker.update(event)
    await store.save(tracker)


def as_dicts(tracker) -> List[dict]:
    return [e.as_dict() for e in tracker.events]


@pytest.mark.asyncio
async def test_it_stores_and_reads_back_what_rasas_store_does(db, domain):
    ours = CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    for i in range(5):
        await add_turn(ours, sender, f"question {i}", "ask_cost")
    rasa_view = await SQLTrackerStore(domain, **db).retrieve(sender)
    ours.forget(sender)
    fresh = await ours.retrieve(sender)
    assert as_dicts(fresh) == as_dicts(rasa_view)
    assert len([e for e in fresh.events if isinstance(e, UserUttered)]) == 5
    assert fresh.get_slot("last_topic") == "ask_cost"


@pytest.mark.asyncio
async def test_a_turn_handled_by_another_replica_is_seen(db, domain):
    replica_a, replica_b = CachingSQLTrackerStore(domain, **db), CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    await add_turn(replica_a, sender, "how much", "ask_cost")
    await add_turn(replica_b, sender, "scar?", "ask_scarring")
    await add_turn(replica_a, sender, "recovery?", "ask_recovery_time")
    expected = await SQLTrackerStore(domain, **db).retrieve(sender)
    for replica in (replica_a, replica_b):
        tracker = await replica.retrieve(sender)
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["how much", "scar?", "recovery?"]
        assert as_dicts(tracker) == as_dicts(expected)
        assert tracker.get_slot("last_topic") == "ask_recovery_time"


@pytest.mark.asyncio
async def test_a_turn_that_was_never_saved_is_not_served_from_memory(db, domain):
    store = CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    await add_turn(store, sender, "how much", "ask_cost")
    tracker = await store.retrieve(sender)
    tracker.update(UserUttered("lost turn", {"name": "greet", "confidence": 1.0}))  # no save: the turn failed
    again = await store.retrieve(sender)
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["how much"]


@pytest.mark.asyncio
async def test_a_new_session_started_elsewhere_is_read_in_full(db, domain):
    replica_a, replica_b = CachingSQLTrackerStore(domain, **db), CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    await add_turn(replica_a, sender, "how much", "ask_cost")
    tracker = await replica_b.retrieve(sender)
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    await replica_b.save(tracker)
    expected = await SQLTrackerStore(domain, **db).retrieve(sender)
    seen = await replica_a.retrieve(sender)
    assert as_dicts(seen) == as_dicts(expected)
    assert not [e for e in seen.events if isinstance(e, UserUttered)], "the new session starts empty"


@pytest.mark.asyncio
async def test_memory_is_bounded(tmp_path, domain):
    store = CachingSQLTrackerStore(domain, cache_size=3, dialect="sqlite", db=str(tmp_path / "e.db"))
    for i in range(10):
        await add_turn(store, f"sender-{i}", "hi", "greet")
    assert list(store._cache) == ["sender-7", "sender-8", "sender-9"]
    assert (await store.retrieve("sender-0")).sender_id == "sender-0"  # still in the database


@pytest.mark.asyncio
async def test_a_failed_save_forgets_the_conversation(tmp_path, domain):
    store = CachingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "e.db"))
    await add_turn(store, "s", "hi", "greet")
    tracker = await store.retrieve("s")
    tracker.update(UserUttered("second", {"name": "greet", "confidence": 1.0}))
    with store.session_scope() as session:
        session.execute(sa.text("DROP TABLE events"))
        session.commit()
    with pytest.raises(Exception):
        await store.save(tracker)
    assert "s" not in store._cache


def test_the_fast_event_lookup_gives_the_same_classes():
    from rasa.shared.utils.common import all_subclasses

    install_fast_event_lookup()
    for cls in all_subclasses(Event):
        first = next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is first
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet


# --- Conversations deleted behind the store's back (the review app's retention) ------------------


def database_url(db: dict) -> str:
    if db["dialect"] == "sqlite":
        return f"sqlite:///{db['db']}"
    return f"postgresql://{db['username']}@{db['host']}:{db['port']}/{db['db']}"


def run_retention(db: dict) -> int:
    """What ``python -m review.cli retention --days 1`` does, run as if ten days from now (all is old)."""
    import time

    from review import store as review_store
    from review.settings import load_settings

    settings = load_settings({"DATABASE_URL": database_url(db)})
    engine = review_store.make_engine(settings)
    try:
        review_store.create_schema(engine)
        review_store.index_new_events(engine, settings)
        report = review_store.retention(engine, 1, now=time.time() + 10 * 86400)
    finally:
        engine.dispose()
    assert report.events > 0
    return report.events


def event_ids(store, sender: str) -> List[int]:
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent.id).filter(store.SQLEvent.sender_id == sender)
        return [r.id for r in rows.order_by(store.SQLEvent.id)]


def texts(tracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def count_queries(store) -> List[str]:
    statements: List[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


@pytest.mark.asyncio
async def test_a_conversation_deleted_by_retention_is_not_served_from_memory(db, domain):
    replica_a, replica_b = CachingSQLTrackerStore(domain, **db), CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    await add_turn(replica_a, sender, "how much", "ask_cost")
    await add_turn(replica_b, sender, "my chest hurts", "ask_safety")
    for replica in (replica_a, replica_b):  # both hold the conversation in memory
        assert texts(await replica.retrieve(sender)) == ["how much", "my chest hurts"]
        assert sender in replica._cache

    run_retention(db)

    for replica in (replica_a, replica_b):
        assert await replica.retrieve(sender) is None
        assert sender not in replica._cache
    fresh = await replica_a.get_or_create_tracker(sender)  # what Rasa does next: a new conversation
    assert texts(fresh) == [] and fresh.get_slot("last_topic") is None


@pytest.mark.asyncio
@pytest.mark.parametrize("turns_before", [1, 2])
async def test_a_conversation_deleted_and_written_again_elsewhere_is_read_in_full(db, domain, turns_before):
    replica_a, replica_b = CachingSQLTrackerStore(domain, **db), CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    for i in range(turns_before):
        await add_turn(replica_a, sender, f"old question {i}", "ask_scarring")
    old_ids = event_ids(replica_a, sender)
    assert texts(await replica_a.retrieve(sender)) == [f"old question {i}" for i in range(turns_before)]

    run_retention(db)
    await add_turn(replica_b, sender, "new question", "ask_cost")
    if db["dialect"] == "sqlite":  # SQLite hands the deleted ids out again: the anchor ids exist once more
        assert event_ids(replica_b, sender)[0] == old_ids[0]
        assert set(event_ids(replica_b, sender)) & {old_ids[-1]} == ({old_ids[-1]} if turns_before == 1 else set())

    expected = await SQLTrackerStore(domain, **db).retrieve(sender)
    seen = await replica_a.retrieve(sender)
    assert as_dicts(seen) == as_dicts(expected)
    assert texts(seen) == ["new question"]
    assert seen.get_slot("last_topic") == "ask_cost"
    await add_turn(replica_a, sender, "and after?", "ask_recovery_time")  # the next turn builds on B's rows
    assert texts(await SQLTrackerStore(domain, **db).retrieve(sender)) == ["new question", "and after?"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "which",
    ["oldest row", "oldest turn and a half", "newest row", "newest turn"],
)
async def test_rows_deleted_in_part_are_not_served_from_memory(db, domain, which):
    store = CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    for i in range(3):
        await add_turn(store, sender, f"question {i}", "ask_cost")
    assert len(texts(await store.retrieve(sender))) == 3
    ids = event_ids(store, sender)  # action_listen, then 5 rows per turn
    doomed = {
        "oldest row": ids[:1],
        "oldest turn and a half": ids[:9],
        "newest row": ids[-1:],
        "newest turn": ids[-5:],
    }[which]
    with store.session_scope() as session:
        session.execute(
            sa.text("DELETE FROM events WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": doomed},
        )
        session.commit()

    expected = await SQLTrackerStore(domain, **db).retrieve(sender)
    seen = await store.retrieve(sender)
    assert as_dicts(seen) == as_dicts(expected)
    assert len(seen.events) == len(ids) - len(doomed)


@pytest.mark.asyncio
async def test_deleting_only_earlier_sessions_keeps_the_cached_session(db, domain):
    store, replica_b = CachingSQLTrackerStore(domain, **db), CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    await add_turn(store, sender, "first visit", "ask_cost")
    tracker = await replica_b.retrieve(sender)
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    await replica_b.save(tracker)
    cached = await store.retrieve(sender)  # the new session, read in full and cached
    assert texts(cached) == []
    first_session = event_ids(store, sender)[:6]  # action_listen and the turn, before the session start
    with store.session_scope() as session:
        session.execute(sa.text("DELETE FROM events WHERE id <= :last"), {"last": max(first_session)})
        session.commit()
    queries = count_queries(store)
    again = await store.retrieve(sender)
    assert again is cached and len(queries) == 1  # nothing it holds was deleted: still from memory
    assert as_dicts(again) == as_dicts(await SQLTrackerStore(domain, **db).retrieve(sender))


@pytest.mark.asyncio
async def test_newer_rows_from_another_replica_are_still_appended_in_one_query(db, domain):
    replica_a, replica_b = CachingSQLTrackerStore(domain, **db), CachingSQLTrackerStore(domain, **db)
    sender = f"s-{uuid.uuid4().hex}"
    await add_turn(replica_a, sender, "how much", "ask_cost")
    await add_turn(replica_a, sender, "does it hurt", "ask_pain_relief")
    cached = await replica_a.retrieve(sender)
    queries = count_queries(replica_a)
    assert await replica_a.retrieve(sender) is cached and len(queries) == 1  # nothing new: one query

    await add_turn(replica_b, sender, "scar?", "ask_scarring")
    await add_turn(replica_b, sender, "recovery?", "ask_recovery_time")
    queries.clear()
    seen = await replica_a.retrieve(sender)
    assert seen is cached and len(queries) == 1  # B's rows appended to the cached tracker, one query
    assert texts(seen) == ["how much", "does it hurt", "scar?", "recovery?"]
    assert as_dicts(seen) == as_dicts(await SQLTrackerStore(domain, **db).retrieve(sender))
    assert seen.get_slot("last_topic") == "ask_recovery_time"


def test_sqlite_database_is_in_wal_mode_with_full_sync(tmp_path, domain):
    """WAL (one fsync per commit; readers such as the review app do not block the bot's writes),
    synchronous FULL, so an acknowledged turn is on disk."""
    path = tmp_path / "wal.db"
    store = CachingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))
    import sqlite3

    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


@pytest.mark.asyncio
async def test_a_kept_sqlite_connection_notices_its_file_was_moved_away(tmp_path, domain):
    """Connections stay open between turns; if the database file is moved/replaced, the next turn
    must fail (not write into the moved file), and work again once the file is back."""
    import shutil

    path = tmp_path / "kept.db"
    store = CachingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))
    await add_turn(store, "p1", "hello", "greet")
    moved = tmp_path / "moved.db"
    shutil.move(path, moved)
    path.mkdir()  # the path is now unusable
    with pytest.raises(sa.exc.SQLAlchemyError):
        await add_turn(store, "p1", "how long is recovery", "ask_recovery_time")
    path.rmdir()
    shutil.move(moved, path)
    store.forget("p1")
    await add_turn(store, "p1", "how long is recovery", "ask_recovery_time")
    users = [
        e.text
        for e in (await CachingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path)).retrieve("p1")).events
        if isinstance(e, UserUttered)
    ]
    assert users == ["hello", "how long is recovery"]


@pytest.mark.asyncio
async def test_memory_is_bounded_by_events_too(tmp_path, domain):
    """A few long conversations must not hold more events in memory than ``cache_events``; the least
    recently used go first, the current one always stays, and evicted ones are read back in full."""
    store = CachingSQLTrackerStore(domain, cache_events=40, dialect="sqlite", db=str(tmp_path / "e.db"))
    for round_ in range(4):
        for i in range(3):
            await add_turn(store, f"long-{i}", f"question {round_}", "ask_cost")
    held = {sender: len(c.tracker.events) for sender, c in store._cache.items()}
    assert store._cached_events == sum(held.values()) <= 40
    assert list(held)[-1] == "long-2", "the conversation of the latest turn stays"
    assert "long-0" not in held, "the least recently used went first"
    expected = await CachingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "e.db")).retrieve("long-0")
    assert as_dicts(await store.retrieve("long-0")) == as_dicts(expected)
    assert list(store._cache)[-1] == "long-0" and store._cached_events <= 40 + len(expected.events)
    store.forget("long-0")
    assert store._cached_events == sum(len(c.tracker.events) for c in store._cache.values())
    single = CachingSQLTrackerStore(domain, cache_events=5, dialect="sqlite", db=str(tmp_path / "e.db"))
    assert (await single.retrieve("long-1")) is not None and list(single._cache) == [
        "long-1"
    ], "one conversation over the budget is still kept while it is the only one"


@pytest.mark.asyncio
async def test_the_write_check_stores_nothing_and_fails_on_a_read_only_database(db, domain):
    """The health check's write (rolled back) leaves no row; on a database that takes no writes it
    raises, although reading still works there."""
    store = CachingSQLTrackerStore(domain, **db)
    await add_turn(store, "p1", "hello", "greet")
    store.check_writable()
    store.check_writable()  # twice: the reserved id was never committed
    with store.engine.connect() as conn:
        probes = sa.text("SELECT COUNT(*) FROM events WHERE id < 0 OR sender_id = 'health-check'")
        assert conn.execute(probes).scalar() == 0
    if db["dialect"] != "postgresql":
        return  # SQLite read-only: tests/test_faults.py (a read-only file under a running server)
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {db['db']} SET default_transaction_read_only = on"))
        read_only = CachingSQLTrackerStore(domain, **db)  # new connections get the setting
        assert [e.text for e in (await read_only.retrieve("p1")).events if isinstance(e, UserUttered)] == ["hello"]
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            read_only.check_writable()
        read_only.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {db['db']} SET default_transaction_read_only = off"))
        admin.dispose()
        store.engine.dispose()
