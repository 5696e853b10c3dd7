"""The dashboard and "What the bot couldn't answer" over real HTTP, on SQLite and PostgreSQL.

Three weeks of conversations (tests/review/dashboard_seed.py) are written with Rasa's own tracker
store; the app runs with REVIEW_TIMEZONE=America/New_York. Every expected figure is computed here
from the seed's specs and events (local days with zoneinfo, medians with ``statistics``), not with
the app's code.
"""

from __future__ import annotations

import csv
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Dict, List
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.review.conftest import seeded_database
from tests.review.dashboard_seed import (
    HELDOUT,
    PHONE_TEXT,
    SEEDED_GROUPS,
    make_specs,
    patient_messages,
    spec_events,
    write_specs,
)
from tests.support.review_app import Staff, review_server

pytestmark = pytest.mark.integration

TZ = "America/New_York"
RATE_KINDS = {
    "emergency": "emergency",
    "crisis": "crisis",
    "urgent": "urgent",
    "fallback": "fallback",
    "not_covered": "not_covered",
    "thumbs_down": "thumbs_down",
    "callback": "callback",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"dash-{request.param}")
    today = datetime.now(ZoneInfo(TZ)).date()
    specs = make_specs(TZ, today)
    with seeded_database(request.param, tmp, lambda url: write_specs(url, specs)) as url:
        with review_server(url, tmp / "server.log", REVIEW_TIMEZONE=TZ) as base:
            yield {"url": base, "db": url, "specs": specs, "today": today}


@pytest.fixture()
def staff(seeded) -> Staff:
    return Staff(seeded["url"]).logged_in()


def day_of(ts: float) -> date:
    return datetime.fromtimestamp(ts, ZoneInfo(TZ)).date()


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def table(page: str, chart: str) -> Dict[str, Dict[str, str]]:
    """{row key: {series: cell text}} of the dashboard table ``data-chart=chart``."""
    m = re.search(rf'<table class="chart-table" data-chart="{chart}">(.*?)</table>', page, re.S)
    assert m, chart
    out: Dict[str, Dict[str, str]] = {}
    for key, row in re.findall(r'<tr data-bucket="([^"]*)">(.*?)</tr>', m.group(1), re.S):
        out[html.unescape(key)] = {
            html.unescape(s): html.unescape(v).strip()
            for s, v in re.findall(r'data-series="([^"]*)"[^>]*>(.*?)</td>', row, re.S)
        }
    return out


def low_confidence(spec) -> bool:
    return spec.kind in ("fallback", "low_confidence")  # own-words messages below 0.5 in the seed


def expected_rates(specs) -> Dict[str, set]:
    out = defaultdict(set)
    for s in specs:
        if s.kind in RATE_KINDS:
            out[RATE_KINDS[s.kind]].add(s.sender_id)
        if low_confidence(s):
            out["low_confidence"].add(s.sender_id)
    return out


def latencies(spec) -> List[float]:
    """Seconds from each patient message to the first bot message after it, read from the events."""
    out, pending = [], None
    for e in spec_events(spec):
        if e.type_name == "user":
            pending = e.timestamp
        elif e.type_name == "bot" and pending is not None:
            out.append(e.timestamp - pending)
            pending = None
    return out


def test_login_lands_on_the_dashboard_with_the_time_zone(seeded):
    s = Staff(seeded["url"])
    r = s.login()
    assert r.status_code == 303 and r.headers["location"] == "/"
    page = s.get("/")
    assert page.status_code == 200 and "<h1>Dashboard</h1>" in page.text
    assert TZ in page.text
    assert 'role="img"' in page.text and "style=" not in page.text
    # no inline script: the only scripts are files the CSP allows (the live count)
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page.text))


def test_volume_per_day_and_week(seeded, staff):
    specs, today = seeded["specs"], seeded["today"]
    start, end = today - timedelta(days=21), today
    for bucket in ("day", "week"):
        page = staff.get("/", **{"from": start.isoformat(), "to": end.isoformat(), "bucket": bucket}).text
        rows = table(page, "volume")
        key = (lambda d: d) if bucket == "day" else monday
        conversations, messages = Counter(), Counter()
        for s in specs:
            conversations[key(s.local_day(TZ)).isoformat()] += 1
            messages[key(s.local_day(TZ)).isoformat()] += len(patient_messages(s))
        assert sum(conversations.values()) == len(specs)
        for k, row in rows.items():
            assert int(row["Conversations"]) == conversations.get(k, 0), (bucket, k)
            assert int(row["Patient messages"]) == messages.get(k, 0), (bucket, k)
        assert set(conversations) <= set(rows)


def test_the_late_evening_conversation_counts_on_its_local_day(seeded, staff):
    late = next(s for s in seeded["specs"] if s.sender_id == "dash-late-evening")
    local, utc = late.local_day(TZ), datetime.utcfromtimestamp(late.start).date()
    assert local != utc  # 23:50 in New York is the next day in UTC
    page = staff.get("/", **{"from": local.isoformat(), "to": local.isoformat()}).text
    expected = sum(1 for s in seeded["specs"] if s.local_day(TZ) == local)
    assert int(table(page, "volume")[local.isoformat()]["Conversations"]) == expected


def test_rates_per_day(seeded, staff):
    specs, today = seeded["specs"], seeded["today"]
    page = staff.get("/", **{"from": (today - timedelta(days=21)).isoformat(), "to": today.isoformat()}).text
    rows = table(page, "rates")
    labels = {
        "emergency": "Emergency answer",
        "crisis": "Crisis (self-harm) answer",
        "urgent": "Urgent (today) answer",
        "fallback": "Fallback (not understood)",
        "not_covered": "Not covered by the sheet",
        "low_confidence": "Low confidence",
        "callback": "Callback requested",
        "thumbs_down": "Thumbs down",
    }
    rates = expected_rates(specs)
    by_day = defaultdict(list)
    for s in specs:
        by_day[s.local_day(TZ).isoformat()].append(s)
    checked = 0
    for day, day_specs in by_day.items():
        n = len(day_specs)
        for key, label in labels.items():
            k = sum(1 for s in day_specs if s.sender_id in rates[key])
            assert rows[day][label] == f"{k} ({round(100 * k / n, 1)} %)", (day, key)
            checked += k
    assert checked >= len(specs) // 3  # the seed has rated conversations on many days


def test_topics_leave_out_buttons_and_form_answers(seeded, staff):
    specs, today = seeded["specs"], seeded["today"]
    page = staff.get("/", **{"from": (today - timedelta(days=21)).isoformat(), "to": today.isoformat()}).text
    rows = table(page, "topics")
    intents = Counter(s.intent for s in specs)  # each spec's first message; buttons and form answers are not topics
    top = intents.most_common()
    for intent, n in top[:10]:
        assert int(rows[intent]["messages"]) == n, intent
    assert "affirm" not in rows and "greet" not in rows


def test_median_reply_time_per_day(seeded, staff):
    specs, today = seeded["specs"], seeded["today"]
    page = staff.get("/", **{"from": (today - timedelta(days=21)).isoformat(), "to": today.isoformat()}).text
    rows = table(page, "latency")
    by_day = defaultdict(list)
    for s in specs:
        by_day[s.local_day(TZ).isoformat()] += latencies(s)
    for day, values in by_day.items():
        assert float(rows[day]["Median seconds"]) == pytest.approx(statistics.median(values), abs=0.01), day
    everything = [v for values in by_day.values() for v in values]
    assert f"{statistics.median(everything):.2f} s ({len(everything)} replies)" in page


def test_at_a_glance_answers_last_week(seeded, staff):
    """How many patients used the bot last week, and what share got an emergency answer."""
    specs, today = seeded["specs"], seeded["today"]
    mon = monday(today) - timedelta(days=7)
    week = [s for s in specs if mon <= s.local_day(TZ) <= mon + timedelta(days=6)]
    assert week
    page = staff.get("/").text
    cell = re.search(r'id="glance-week-conversations">(\d+)<', page)
    assert int(cell.group(1)) == len(week)
    emergencies = sum(1 for s in week if s.kind == "emergency")
    share = re.search(r'id="glance-week-emergency">([^<]+)<', page).group(1)
    assert share == f"{emergencies} ({round(100 * emergencies / len(week), 1)} %)"


def test_top_three_unanswered_groups_on_the_landing_page(seeded, staff):
    page = staff.get("/").text
    top = re.search(r'<ol class="top-unanswered">(.*?)</ol>', page, re.S).group(1)
    items = re.findall(r"<li><q>(.*?)</q> — (\d+) message", top)
    assert len(items) == 3
    expected = sorted(SEEDED_GROUPS.items(), key=lambda kv: -len(kv[1]))[:3]  # intimacy 9, scans 7, desk_job 5
    for (label, count), (group, picks) in zip(items, expected):
        assert html.unescape(label) in HELDOUT[group], (label, group)
        assert int(count) == len(picks)


def test_csv_download_is_the_table_and_audited(seeded, staff):
    today = seeded["today"]
    args = {"from": (today - timedelta(days=13)).isoformat(), "to": today.isoformat(), "bucket": "day"}
    rows = table(staff.get("/", **args).text, "volume")
    r = staff.post("/dashboard/csv", {"chart": "volume", **args})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    got = list(csv.DictReader(io.StringIO(r.text)))
    assert [g["period_start"] for g in got] == list(rows)
    assert all(g["conversations"] == rows[g["period_start"]]["Conversations"] for g in got)
    engine = sa.create_engine(seeded["db"])
    with engine.connect() as conn:
        query = sa.text("SELECT detail FROM review_audit WHERE action = 'export_dashboard'")
        details = [d for (d,) in conn.execute(query)]
    engine.dispose()
    assert any('"chart": "volume"' in d for d in details)
    assert staff.post("/dashboard/csv", {"chart": "nope", **args}).status_code == 400


def test_bad_range_is_reported_and_replaced(staff):
    r = staff.get("/", **{"from": "2026-13-01", "bucket": "year"})
    assert r.status_code == 400 and "were not understood" in r.text
    r = staff.get("/", **{"from": "2020-01-01", "to": "2026-01-01"})
    assert r.status_code == 400  # more than a year


def test_unanswered_groups_to_corrections_and_sheet_notes(seeded, staff):
    page = staff.get("/unanswered").text
    first = re.search(r'<section class="group".*?</section>', page, re.S).group(0)
    ids = re.findall(r'name="event_id" value="(\d+)" checked', first)
    label = html.unescape(re.search(r"<q>(.*?)</q>", first).group(1))
    assert label in HELDOUT["intimacy"] and len(ids) == 5  # the largest group; five examples shown
    r = staff.post("/unanswered/correct", {"event_id": ids[:2], "intent": "ask_recovery_time"})
    assert r.status_code == 303 and "done=corrected" in r.headers["location"]
    corrections = staff.get("/corrections").text
    assert corrections.count("ask_recovery_time") >= 2
    r = staff.post("/unanswered/note", {"event_id": ids, "text": "Patients ask about intimacy after surgery."})
    assert r.status_code == 303 and "done=noted" in r.headers["location"]
    notes = staff.get("/sheet-notes").text
    assert "Patients ask about intimacy after surgery." in notes and html.escape(label, quote=False) in notes
    engine = sa.create_engine(seeded["db"])
    with engine.connect() as conn:
        actions = [a for (a,) in conn.execute(sa.text("SELECT action FROM review_audit"))]
    engine.dispose()
    assert actions.count("correct_intent") >= 2 and "sheet_note" in actions and "view_unanswered" in actions
    # an intent that is not in the domain is refused
    r = staff.post("/unanswered/correct", {"event_id": ids[:1], "intent": "made_up"})
    assert "done=nothing" in r.headers["location"]


def test_unanswered_examples_are_redacted(staff):
    page = staff.get("/unanswered").text
    assert "please ring me on [phone] about my sciatica" in page
    assert "2345 6789" not in page and PHONE_TEXT not in page
