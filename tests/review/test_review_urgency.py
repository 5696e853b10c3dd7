"""Open items worst first, the live count, alerts for new emergencies, and the staff conveniences
(local times, short names, button titles, return after log-in, labels, bulk review, callback
outcomes): a real review server over real HTTP, on SQLite and PostgreSQL, with a real local HTTP
receiver for the alert webhook and a real command for the alert command."""

from __future__ import annotations

import html
import json
import re
import shlex
import time
from typing import Iterator, List
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from review.display import local_time, short_name
from tests.review.conftest import seeded_database
from tests.review.conversations import write_conversations, write_samples
from tests.review.helpers import Receiver
from tests.support.process import PYTHON
from tests.support.review_app import PASSWORD, Staff, cli, conversation_ids, logged_in_staff, review_server
from tests.review.urgency_data import (
    CRISIS_TEXT,
    HARMLESS_TEXT,
    REASONS,
    URGENCY_IDS,
    triage_conversation,
    urgency_conversations,
)

pytestmark = pytest.mark.integration

ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def receiver(urgency_db) -> Iterator[Receiver]:
    """One receiver per database, so each server's alerts are counted apart."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def urgency_db(request, tmp_path_factory) -> Iterator[str]:
    def seed(url: str) -> None:
        write_samples(url)
        write_conversations(url, urgency_conversations())

    tmp = tmp_path_factory.mktemp(f"urgency-{request.param}")
    with seeded_database(request.param, tmp, seed, users=("alice", "bob")) as url:
        yield url


def alert_command(url: str) -> str:
    """A real program: POSTs the JSON it gets on stdin to ``url`` (the receiver, so tests wait on its arrival)."""
    code = (
        "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], "
        "data=sys.stdin.buffer.read(), method='POST'), timeout=30)"
    )
    return shlex.join([PYTHON, "-c", code, url])


@pytest.fixture(scope="module")
def app(urgency_db, receiver, tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("urgency-log") / "server.log"
    with review_server(
        urgency_db,
        log,
        REVIEW_PAGE_SIZE="50",
        REVIEW_TIMEZONE=ZONE,
        REVIEW_LIVE_POLL_SECONDS="1",
        REVIEW_ALERT_WEBHOOK=receiver.url + "/hook",
        REVIEW_ALERT_COMMAND=alert_command(receiver.url + "/command"),
        REVIEW_PUBLIC_URL="https://review.clinic.example",
    ) as url:
        yield url


@pytest.fixture()
def alice(app) -> Staff:
    return Staff(app).logged_in("alice")


def open_ids(staff: Staff, **params) -> List[str]:
    page = staff.get("/open", **params).text
    start = page.index('<table class="conversations open-items">')
    return conversation_ids(page[start : page.index("</table>", start)])


def row_of(page: str, sender_id: str) -> str:
    """The table row linking to ``sender_id``."""
    link = 'href="/conversation?id=' + urlencode({"x": sender_id})[2:] + '"'
    at = page.index(link)
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]


def summary(db_url: str, sender_id: str) -> dict:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return dict(
                conn.execute(sa.text("SELECT * FROM review_conversations WHERE sender_id = :s"), {"s": sender_id})
                .first()
                ._mapping
            )
    finally:
        engine.dispose()


def audit(db_url: str, action: str) -> List[dict]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT username, target, detail FROM review_audit WHERE action = :a ORDER BY id")
            return [dict(r._mapping) for r in conn.execute(query, {"a": action})]
    finally:
        engine.dispose()


# ------------------------------------------------------------------ urgency first


def test_open_items_worst_level_first_then_longest_waiting(alice):
    ids = [i for i in open_ids(alice) if i in URGENCY_IDS]
    assert ids == URGENCY_IDS
    # the sample emergency (a day old) waits longer than both new ones, and comes before them
    all_ids = open_ids(alice)
    assert all_ids.index("conv-emergency") < all_ids.index("urg-emergency-old")
    assert all_ids[0] == "urg-crisis-early"


def test_a_row_shows_the_worst_message_its_flag_and_the_wait(alice, urgency_db):
    page = alice.get("/open").text
    row = row_of(page, "urg-crisis-early")
    assert html.escape(CRISIS_TEXT, quote=True) in row and html.escape(HARMLESS_TEXT, quote=True) not in row
    assert "Crisis (self-harm)" in row
    waited = summary(urgency_db, "urg-crisis-early")["waiting_since"]
    assert local_time(waited, ZONE) in row and local_time(waited, ZONE).endswith(" CET")  # December in Berlin
    assert re.search(r'class="waiting">\d+ min<', row)
    # redacted as the app redacts: the phone number in an emergency message is masked
    row = row_of(page, "urg-emergency-old")
    assert "0151 2345 6789" not in row and "[phone]" in row and "Emergency" in row
    # short readable name, full id on hover
    assert f'title="urg-crisis-early">{short_name("urg-crisis-early")}<' in page
    assert "Times are shown in Europe/Berlin" in page


def test_a_triage_row_says_why_it_was_flagged_and_other_rows_do_not(alice):
    page = alice.get("/open").text
    assert f"Why flagged: {html.escape(REASONS['crisis'])}<" in row_of(page, "urg-crisis-early")
    assert f"Why flagged: {html.escape(REASONS['emergency'])}<" in row_of(page, "urg-emergency-new")
    assert "Why flagged: urgent flag<" in row_of(page, "urg-urgent")  # stored before descriptions: the name
    for other in ("urg-callback", "urg-feedback", "urg-other", "urg-lowconf"):
        assert "Why flagged" not in row_of(page, other)
    # the crisis came first and the later harmless message does not replace its reason
    conv = alice.get("/conversation", id="urg-crisis-early").text
    assert f"Why flagged: {html.escape(REASONS['crisis'])}" in conv


def test_open_items_paginate_in_urgency_order(urgency_db, tmp_path):
    def table_ids(text: str) -> List[str]:
        start = text.index('<table class="conversations open-items">')
        return conversation_ids(text[start : text.index("</table>", start)])

    # a second server on the same database, 3 rows a page (nothing new is written meanwhile)
    log = tmp_path / "server.log"
    with logged_in_staff(urgency_db, log, "alice", REVIEW_PAGE_SIZE="3", REVIEW_INDEX_INTERVAL="0") as staff:
        r = staff.get("/open")
        pages = [table_ids(r.text)]
        while (m := re.search(r'<a href="([^"]+)" rel="next">', r.text)) and len(pages) < 30:
            r = staff.get(html.unescape(m.group(1)))
            pages.append(table_ids(r.text))
        ids = [i for page in pages for i in page]
        assert len(pages) >= 3 and len(ids) == len(set(ids))
        assert [i for i in ids if i in URGENCY_IDS] == URGENCY_IDS
        back = staff.get(html.unescape(re.search(r'<a href="([^"]+)" rel="prev">', r.text).group(1)))
        assert table_ids(back.text) == pages[-2]  # "Previous" goes back one page


# ------------------------------------------------------------------ live count and alerts


def test_live_count_and_one_alert_per_new_emergency(alice, app, urgency_db, receiver):
    r = Staff(app).get("/live.json")
    assert r.status_code == 401 and r.json() == {"error": "login_required"}
    page = alice.get("/open").text
    since = int(re.search(r'data-since="(\d+)"', page).group(1))
    before = alice.get("/live.json", since=str(since)).json()
    assert before["new_urgent"] == 0 and before["urgent"] >= 3
    # written before the server started: the recent ones were announced by its first index, once each;
    # the sample emergency of a day ago is no arrival and was not
    base = "https://review.clinic.example/conversation?id="

    def announced(path: str = "/hook") -> List[str]:
        return [a["conversation"] for a in receiver.alerts(path)]

    receiver.wait_until(
        lambda: {base + "urg-crisis-early", base + "urg-emergency-old", base + "urg-emergency-new"} <= set(announced()),
        "the alerts of the first index",
    )
    assert base + "conv-emergency" not in announced() and base + "urg-urgent" not in announced()  # old; urgent

    write_conversations(
        urgency_db, {"urg-live-1": triage_conversation("emergency", "sudden numbness in the groin", time.time())}
    )
    link = base + "urg-live-1"
    # the webhook and the command (which posts what it got to the receiver) are both told
    receiver.wait_until(lambda: link in announced() and link in announced("/command"), "the alerts")
    alert = receiver.alerts()[announced().index(link)]
    assert set(alert) == {"level", "conversation", "time"} and alert["level"] == "emergency"
    assert alert["time"].endswith("+01:00")  # the configured zone
    assert receiver.alerts("/command")[announced("/command").index(link)] == alert
    assert all(ct == "application/json" for path, ct, _ in receiver.received if path == "/hook")
    assert all(b"numbness" not in body for _, _, body in receiver.received)  # no patient text
    # the alert is sent once the summary is committed: the live count sees it now
    counts = alice.get("/live.json", since=str(since)).json()
    assert counts["new_urgent"] == 1 and counts["urgent"] == before["urgent"] + 1

    # more messages in the same conversation, then a new crisis: the first one is not announced again
    write_conversations(
        urgency_db,
        {
            "urg-live-1": triage_conversation("emergency", "sudden numbness in the groin", time.time())
            + triage_conversation("crisis", "I want to end it", time.time() + 1)
        },
    )
    write_conversations(urgency_db, {"urg-live-2": triage_conversation("crisis", "I want to end it all", time.time())})
    link2 = base + "urg-live-2"
    receiver.wait_until(lambda: link2 in announced() and link2 in announced("/command"), "the crisis alerts")
    assert receiver.alerts()[announced().index(link2)]["level"] == "crisis"
    assert announced().count(link) == 1 and announced("/command").count(link) == 1
    assert announced().count(link2) == 1


def test_a_failing_alert_is_logged_without_personal_data(tmp_path):
    receiver = Receiver()
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    sender = "patient-jane-0151"
    write_conversations(url, {sender: triage_conversation("emergency", "I can't feel my legs at all", time.time())})
    result = cli(
        url,
        "index",
        REVIEW_ALERT_WEBHOOK=receiver.url + "/fail",
        REVIEW_ALERT_COMMAND=shlex.join([PYTHON, "-c", "import sys; sys.exit(3)"]),
    )
    assert result.returncode == 0, result.stderr
    assert "alert webhook failed: HTTP 500" in result.stderr
    assert "alert command failed: exit code 3" in result.stderr
    assert any(path == "/fail" for path, _, _ in receiver.received)  # it was tried
    receiver.close()
    out = result.stdout + result.stderr
    assert sender not in out and "legs" not in out and "fail" not in out.replace("failed", "")


# ------------------------------------------------------------------ quality of life


def test_button_click_is_shown_as_the_title_the_patient_saw(alice):
    page = alice.get("/conversation", id="urg-button").text
    transcript = page[page.index('class="transcript"') :]
    said = re.findall(r'<span class="msg">([^<]*)</span>', transcript)
    assert "Yes, tell me more" in said and "/affirm" not in said
    assert "payload <code>/affirm</code>" in transcript


def test_times_are_local_with_the_zone_and_names_are_short(alice, urgency_db):
    page = alice.get("/conversation", id="urg-emergency-old").text
    started = summary(urgency_db, "urg-emergency-old")["started"]
    assert local_time(started, ZONE) in page and " UTC" not in page.split("<footer>")[0]
    assert f'<span class="conv-name">{short_name("urg-emergency-old")}</span>' in page
    assert '<code class="sender">urg-emergency-old</code>' in page
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", short_name("x" * 70))
    assert short_name("urg-emergency-old") == short_name("urg-emergency-old") != short_name("urg-emergency-new")


@pytest.mark.parametrize("wanted", ["/conversation?id=urg-urgent", "/conversations?flag=urgent&reviewed=no"])
def test_login_returns_to_the_page_asked_for(app, wanted):
    s = Staff(app)
    r = s.get(wanted)
    assert r.status_code == 303 and r.headers["location"] == "/login?" + urlencode({"next": wanted})
    page = s.get(r.headers["location"]).text
    assert f'name="next" value="{html.escape(wanted)}"' in page
    r = s.post("/login", {"username": "alice", "password": PASSWORD, "next": wanted})
    assert r.status_code == 303 and r.headers["location"] == wanted
    assert s.get(wanted).status_code == 200


@pytest.mark.parametrize(
    "evil",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/login?next=//evil.example",
    ],
)
def test_login_never_redirects_off_site(app, evil):
    s = Staff(app)
    s.get("/login", next=evil)
    r = s.post("/login", {"username": "alice", "password": PASSWORD, "next": evil})
    assert r.status_code == 303 and r.headers["location"] == "/"  # the landing page, never the other site
    r = s.get("/login", next=evil)  # already logged in
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_labels_can_be_added_and_filtered(alice, urgency_db):
    r = alice.post("/conversation/note", {"id": "urg-other", "text": "", "tag": "sheet-gap"})
    assert r.status_code == 303
    alice.post("/conversation/note", {"id": "urg-lowconf", "text": "", "tag": "Sheet-Gap"})
    page = alice.get("/conversations", tag="sheet-gap").text
    assert set(conversation_ids(page)) == {"urg-other", "urg-lowconf"}
    assert '<option value="sheet-gap" selected>' in page
    assert '<a class="tag" href="/conversations?tag=sheet-gap">#sheet-gap</a>' in page
    assert 'href="/conversations?tag=sheet-gap">#sheet-gap' in row_of(alice.get("/open").text, "urg-other")
    assert set(conversation_ids(alice.get("/conversations", tag="sheet").text)) == set()  # whole labels only
    assert alice.get("/conversations", tag="bad tag!").status_code == 400


def test_bulk_mark_reviewed_is_csrf_protected_and_audited_per_conversation(alice, app, urgency_db):
    ids = ["urg-urgent", "urg-feedback"]
    r = alice.http.post(
        app + "/open/review", data=[("id", i) for i in ids] + [("csrf_token", "wrong")], allow_redirects=False
    )
    assert r.status_code == 403
    assert not summary(urgency_db, "urg-urgent")["reviewed"]
    alice.get("/open")
    r = alice.http.post(
        app + "/open/review", data=[("id", i) for i in ids] + [("csrf_token", alice.csrf)], allow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/open?msg=bulk_reviewed"
    remaining = open_ids(alice)
    assert not set(ids) & set(remaining) and "urg-callback" in remaining
    entries = [a for a in audit(urgency_db, "mark_reviewed") if a["target"] in ids]
    assert sorted(a["target"] for a in entries) == sorted(ids)
    assert all(a["username"] == "alice" and json.loads(a["detail"]) == {"bulk": True} for a in entries)
    assert summary(urgency_db, "urg-feedback")["reviewed_by"] == "alice"


def test_callback_outcomes_are_recorded_audited_and_shown(app, urgency_db):
    bob = Staff(app).logged_in("bob")
    page = bob.get("/open").text
    callbacks = page[page.index("Callback requests") :]
    row = callbacks[callbacks.rindex("<tr", 0, callbacks.index("Ann Example")) :]
    callback_id = re.search(r'name="callback_id" value="(\d+)"', row).group(1)
    r = bob.post("/callback/outcome", {"callback_id": callback_id, "outcome": "not_reached"})
    assert r.status_code == 303 and r.headers["location"] == "/open?msg=callback_outcome"
    page = bob.get("/open").text
    callbacks = page[page.index("Callback requests") :]
    assert "Ann Example" in callbacks and "Not reached (bob," in callbacks  # still open, with the attempt
    assert bob.post("/callback/outcome", {"callback_id": callback_id, "outcome": "maybe"}).status_code == 400
    r = bob.post("/callback/outcome", {"callback_id": callback_id, "outcome": "called", "back": "conversation"})
    assert r.status_code == 303 and "msg=callback_outcome" in r.headers["location"]
    assert "Ann Example" not in bob.get("/open").text.split("Callback requests")[1]
    page = bob.get("/conversation", id="urg-callback").text
    assert "Latest outcome: <strong>Called, reached</strong> (bob," in page
    history = page[page.index('class="callback-history"') :]
    assert history.index("Not reached (bob)") < history.index("Called, reached (bob)")
    entries = [json.loads(a["detail"]) for a in audit(urgency_db, "callback_outcome") if a["target"] == "urg-callback"]
    assert [e["outcome"] for e in entries] == ["not_reached", "called"]


def test_polling_the_live_count_is_not_activity(app, urgency_db):
    """An open tab polls forever: that must not keep an idle session alive (only the user's requests do)."""
    staff = Staff(app).logged_in("bob")
    engine = sa.create_engine(urgency_db)

    def last_seen() -> float:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT max(last_seen) FROM review_sessions s JOIN review_users u "
                    "ON u.id = s.user_id WHERE u.username = 'bob'"
                )
            ).scalar()

    try:
        with engine.begin() as conn:  # as if bob's last click was two minutes ago
            conn.execute(
                sa.text(
                    "UPDATE review_sessions SET last_seen = last_seen - 120 WHERE user_id = "
                    "(SELECT id FROM review_users WHERE username = 'bob')"
                )
            )
        idle_since = last_seen()
        assert staff.get("/live.json").status_code == 200
        assert last_seen() == idle_since
        assert staff.get("/open").status_code == 200
        assert last_seen() > idle_since
    finally:
        engine.dispose()
