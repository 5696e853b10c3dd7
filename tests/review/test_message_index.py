"""review/message_index.py: one row per patient message, the same whether the events are folded in
at once or in small batches (a rating arriving batches after its message), rebuilt in a new time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from review import message_index, store
from review.settings import load_settings
from tests.review.dashboard_seed import make_specs, write_specs

pytestmark = pytest.mark.integration

TZ = "Asia/Tokyo"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('msgidx') / 'rasa.db'}"
    specs = make_specs(TZ, datetime.now(ZoneInfo(TZ)).date(), days=6)
    write_specs(url, specs)
    return url, specs


def rows(engine):
    with engine.connect() as conn:
        return {r.event_id: dict(r._mapping) for r in conn.execute(sa.select(store.messages))}


def fresh_engine(url, tz):
    settings = load_settings({"DATABASE_URL": url, "REVIEW_TIMEZONE": tz})
    engine = store.make_engine(settings)
    store.create_schema(engine)
    with engine.begin() as conn:
        conn.execute(store.messages.delete())
        conn.execute(
            store.review_meta.delete().where(store.review_meta.c.key.in_([message_index.HWM_KEY, message_index.TZ_KEY]))
        )
    return engine, settings


def test_batches_of_any_size_give_the_same_rows(seeded):
    url, specs = seeded
    engine, settings = fresh_engine(url, TZ)
    message_index.index_messages(engine, settings)
    whole = rows(engine)
    assert len(whole) == sum(3 if s.kind == "callback" else 2 if s.kind == "answered_button" else 1 for s in specs)
    engine, settings = fresh_engine(url, TZ)
    while message_index.index_messages(engine, settings, batch=3, max_events=3):
        pass
    assert rows(engine) == whole
    rated = [r for r in whole.values() if r["thumbs_down"]]
    assert len(rated) == sum(1 for s in specs if s.kind == "thumbs_down")  # the rating came 30 s after the reply
    forms = [r for r in whole.values() if r["form_answer"]]
    assert len(forms) == 2 * sum(1 for s in specs if s.kind == "callback")
    assert all(r["latency"] is not None and r["latency"] >= 0 for r in whole.values())
    engine.dispose()


def test_a_new_time_zone_rebuilds_the_local_days(seeded):
    url, specs = seeded
    engine, settings = fresh_engine(url, TZ)
    message_index.index_messages(engine, settings)

    def first_days(engine):
        out = {}
        for r in sorted(rows(engine).values(), key=lambda r: r["event_id"]):
            out.setdefault(r["sender_id"], r["local_day"])
        return out

    assert first_days(engine) == {s.sender_id: s.local_day(TZ).isoformat() for s in specs}
    message_index.index_messages(engine, settings.with_(timezone="UTC"))  # the setting changed: rebuilt
    assert first_days(engine) == {s.sender_id: s.local_day("UTC").isoformat() for s in specs}
    assert any(s.local_day(TZ) != s.local_day("UTC") for s in specs)  # the seed has messages that move
    engine.dispose()


def test_retention_removes_the_rows_with_their_conversation(seeded, tmp_path):
    url, specs = seeded
    engine, settings = fresh_engine(url, TZ)
    message_index.index_messages(engine, settings)
    report = store.retention(engine, days=3, dry_run=True)
    assert report.review_rows["review_messages"] > 0
    engine.dispose()
