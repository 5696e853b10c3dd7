"""HTTP-level tests of every route of the review app, against a real server (subprocess) over real
HTTP, on SQLite and on PostgreSQL (skipped with a printed reason when no server is reachable)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
import yaml

from tests.review.conversations import (
    CONTACT_TEXT,
    EXPECTED_FLAGS,
    PHONE,
    SAMPLE_IDS,
    SAMPLE_ORDER,
    XSS_TEXT,
    sample_events,
    write_conversations,
)
from tests.support.review_app import Staff, conversation_ids, location_query

pytestmark = pytest.mark.integration

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
GET_PAGES = [
    "/",
    "/open",
    "/conversations",
    "/conversation?id=conv-emergency",
    "/corrections",
    "/audit",
    "/unanswered",
    "/sheet-notes",
]
POST_ROUTES = {
    "/logout": {},
    "/conversation/review": {"id": "conv-oos", "reviewed": "1"},
    "/conversation/assign": {"id": "conv-oos", "assignee": "bob"},
    "/conversation/note": {"id": "conv-oos", "text": "x", "tag": "t"},
    "/conversation/correct": {"id": "conv-oos", "event_id": "1", "intent": "greet"},
    "/conversation/export": {"id": "conv-oos", "format": "csv"},
    "/export": {"format": "csv"},
    "/callback/done": {"callback_id": "1"},
    "/callback/outcome": {"callback_id": "1", "outcome": "called"},
    "/open/review": {"id": "conv-oos"},
    "/corrections/export": {},
    "/dashboard/csv": {"chart": "volume"},
    "/unanswered/correct": {"event_id": "1", "intent": "greet"},
    "/unanswered/note": {"event_id": "1", "text": "x"},
}


def audit_actions(db_url: str, action: str, target=None):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            q = "SELECT username, action, target, detail FROM review_audit WHERE action = :a"
            params = {"a": action}
            if target is not None:
                q += " AND target = :t"
                params["t"] = target
            return [dict(r._mapping) for r in conn.execute(sa.text(q + " ORDER BY id"), params)]
    finally:
        engine.dispose()


@pytest.fixture()
def alice(server) -> Staff:
    return Staff(server).logged_in("alice")


# ------------------------------------------------------------------ public routes, headers, auth


def test_healthz_and_static_are_public(server):
    s = Staff(server)
    assert s.get("/healthz").text == "ok"
    css = s.get("/static/review.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert css.headers["X-Content-Type-Options"] == "nosniff"


def test_login_page_sets_strict_httponly_cookie(server):
    r = Staff(server).get("/login")
    assert r.status_code == 200 and 'name="csrf_token"' in r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # REVIEW_SECURE_COOKIES=false on this plain-http test server


@pytest.mark.parametrize("path", GET_PAGES)
def test_pages_redirect_to_login_without_session(server, path):
    r = Staff(server).get(path)
    expected = "/login" if path == "/" else "/login?" + urlencode({"next": path})  # back there after log-in
    assert r.status_code == 303 and r.headers["location"] == expected


@pytest.mark.parametrize("path", sorted(POST_ROUTES))
def test_posts_refused_without_session(server, path):
    s = Staff(server)
    s.get("/login")  # an anonymous session with its own CSRF token is not enough
    r = s.post(path, POST_ROUTES[path])
    assert r.status_code == 403


@pytest.mark.parametrize("path", sorted(POST_ROUTES))
def test_posts_refused_without_or_with_wrong_csrf_token(server, alice, path):
    assert alice.post(path, POST_ROUTES[path], csrf=False).status_code == 403
    assert alice.post(path, {**POST_ROUTES[path], "csrf_token": "forged"}).status_code == 403
    other = Staff(server).logged_in("bob")  # bob's token is not valid for alice's session
    assert alice.post(path, {**POST_ROUTES[path], "csrf_token": other.csrf}).status_code == 403
    # nothing changed
    page = alice.get("/conversation", id="conv-oos").text
    assert "Not reviewed" in page and "#t" not in page
    assert alice.get("/open").status_code == 200  # still logged in


def test_login_form_needs_csrf_token(server):
    s = Staff(server)
    s.get("/login")
    r = s.post("/login", {"username": "alice", "password": "x"}, csrf=False)
    assert r.status_code == 403


def test_wrong_password_is_refused_and_audited(server, db_url):
    s = Staff(server)
    r = s.login("alice", "wrong password here")
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    assert s.get("/open").status_code == 303
    assert any(a["target"] == "alice" for a in audit_actions(db_url, "login_failed"))
    r = s.login("nobody", "whatever password")
    assert r.status_code == 401


def test_login_rate_limited_after_five_failures(server, db_url):
    s = Staff(server)
    for _ in range(5):
        assert s.login("bob", "not the password").status_code == 401
    r = s.login("bob")  # right password, but locked out for this IP + user name
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    assert audit_actions(db_url, "login_blocked", "bob")
    # other accounts are not locked
    assert Staff(server).login("alice").status_code == 303
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # unlock bob for the other tests
        conn.execute(sa.text("DELETE FROM review_login_failures"))
    engine.dispose()


def test_login_rotates_session_and_logout_ends_it(server, db_url):
    s = Staff(server)
    s.get("/login")
    anon = dict(s.http.cookies)
    r = s.post("/login", {"username": "alice", "password": "correct horse battery staple"})
    assert r.status_code == 303
    assert dict(s.http.cookies) != anon  # fresh session id after login (no fixation)
    assert s.get("/open").status_code == 200
    old_cookies = dict(s.http.cookies)
    r = s.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert s.get("/open").status_code == 303
    replay = Staff(server)
    replay.http.cookies.update(old_cookies)  # the old cookie no longer works
    assert replay.get("/open").status_code == 303
    assert audit_actions(db_url, "logout")


def test_security_headers_on_pages(server, alice):
    pages = [(alice, p) for p in GET_PAGES] + [(Staff(server), "/login")]
    for client, path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        h = r.headers
        assert h["Content-Security-Policy"] == CSP
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Cache-Control"] == "no-store"
        # no inline script or style: scripts only from /static (the CSP would block any other)
        assert not re.search(r'<script(?! src="/static/[a-z]+\.js" defer></script>)', r.text)
        assert " style=" not in r.text


# ------------------------------------------------------------------ list, filters, pagination


def all_pages(staff: Staff, path: str, **params):
    def table_ids(page: str):  # the conversation table only (not the callback links beside it)
        start = page.index('<table class="conversations')
        return conversation_ids(page[start : page.index("</table>", start)])

    ids, r = [], staff.get(path, **params)
    ids += table_ids(r.text)
    seen = 0
    while True:
        m = re.search(r'<a href="([^"]+)" rel="next">', r.text)
        if not m:
            return ids, r
        r = staff.get(html.unescape(m.group(1)))
        ids += table_ids(r.text)
        seen += 1
        assert seen < 50


def test_list_is_newest_first_and_paginated(alice):
    first = alice.get("/conversations")
    assert len(conversation_ids(first.text)) == 4  # REVIEW_PAGE_SIZE=4 on the test server
    ids, _ = all_pages(alice, "/conversations")
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i in SAMPLE_IDS] == SAMPLE_ORDER
    total = int(re.search(r"(\d+) conversations?,", first.text).group(1))
    assert total == len(ids)
    # "Newer" goes back to the previous page
    second = alice.get(html.unescape(re.search(r'<a href="([^"]+)" rel="next">', first.text).group(1)))
    back = alice.get(html.unescape(re.search(r'<a href="([^"]+)" rel="prev">', second.text).group(1)))
    assert conversation_ids(back.text) == conversation_ids(first.text)


@pytest.mark.parametrize("flag", sorted(EXPECTED_FLAGS))
def test_filter_by_flag(alice, flag):
    ids, _ = all_pages(alice, "/conversations", flag=flag)
    assert set(ids) & SAMPLE_IDS == EXPECTED_FLAGS[flag]


def test_filter_by_intent_date_and_search(alice, db_url):
    ids, _ = all_pages(alice, "/conversations", intent="ask_cost")
    assert set(ids) & SAMPLE_IDS == {"conv-lowconf", "conv-old"}
    today = datetime.now(timezone.utc).date()
    ids, _ = all_pages(
        alice, "/conversations", date_from=(today - timedelta(days=1)).isoformat(), date_to=today.isoformat()
    )
    assert set(ids) & SAMPLE_IDS == {"conv-emergency"}
    ids, _ = all_pages(alice, "/conversations", date_to=(today - timedelta(days=300)).isoformat())
    assert set(ids) == {"conv-old"}
    for q in ("bladder", "BLADDER", "can't feel my"):
        ids, _ = all_pages(alice, "/conversations", q=q)
        assert set(ids) & SAMPLE_IDS == {"conv-emergency"}, q
    ids, _ = all_pages(alice, "/conversations", q="one centimetre")  # bot text is searchable too
    assert set(ids) == {"conv-feedback"}
    ids, _ = all_pages(alice, "/conversations", flag="handoff", q="real person")
    assert set(ids) == {"conv-callback"}
    searches = [json.loads(a["detail"]) for a in audit_actions(db_url, "search")]
    assert {"flag": "handoff", "q": "<11 chars>"} in searches  # that a search happened, not its words


def test_bad_filter_values_are_reported_not_fatal(alice):
    r = alice.get("/conversations", flag="nope", date_from="yesterday", reviewed="maybe")
    assert r.status_code == 400 and "not understood" in r.text


def test_open_items_list_flagged_unreviewed_and_callbacks(alice):
    r = alice.get("/open")
    page = r.text
    assert page.index("most urgent first") < page.index("Callback requests")
    assert "Maria Lopez" in page and PHONE in page and "weekday mornings" in page
    ids, _ = all_pages(alice, "/open")
    unflagged = {"conv-answer", "conv-old"}
    assert not (set(ids) & unflagged)
    assert "conv-emergency" in ids
    ids, _ = all_pages(alice, "/open", flag="emergency")
    assert set(ids) & SAMPLE_IDS == {"conv-emergency"}


# ------------------------------------------------------------------ conversation view


def test_conversation_view_shows_intents_confidences_actions_and_facts(alice, db_url):
    page = alice.get("/conversation", id="conv-emergency").text
    assert "report_emergency" in page and "(1.00)" in page
    assert "the classifier said ask_recovery_time (0.41)" in page and "cauda_equina" in page
    assert "utter_emergency" in page and "UTC" in page
    assert 'class="flag flag-emergency"' in page
    page = alice.get("/conversation", id="conv-answer").text
    assert "ask_recovery_time" in page and "(0.97)" in page
    assert "action_answer_topic" in page and "recovery_1" in page and "recovery_2" in page
    assert "utter_offer_more" in page
    page = alice.get("/conversation", id="conv-lowconf").text
    assert "nlu_fallback" in page and "(0.30)" in page and "Low confidence" in page
    assert "action_default_fallback" in page and "ask_indications 0.31" in page
    assert audit_actions(db_url, "view_conversation", "conv-answer")
    page = alice.get("/conversation", id="conv-feedback").text
    assert "rated the replies to this message: <strong>down</strong>" in page


def test_unknown_conversation_is_404(alice):
    assert alice.get("/conversation", id="no-such-conversation").status_code == 404
    assert alice.get("/conversation").status_code == 404
    assert alice.get("/no-such-page").status_code == 404


def test_patient_html_is_shown_literally(alice):
    """Injection: a patient message with HTML/script is escaped everywhere it appears."""
    for path, params in [
        ("/conversation", {"id": "conv-xss"}),
        ("/conversations", {"flag": "out_of_scope"}),
        ("/conversations", {"q": "<script>"}),
    ]:
        page = alice.get(path, **params).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_sql_and_parameter_injection_is_inert(alice):
    r = alice.get("/conversations", q="' OR 1=1 --")
    assert r.status_code == 200 and conversation_ids(r.text) == []
    r = alice.get("/conversations", q="%")  # LIKE wildcards are matched literally
    assert r.status_code == 200 and conversation_ids(r.text) == []
    r = alice.get("/conversations", intent="x' OR '1'='1")
    assert r.status_code == 400
    assert alice.get("/conversation", id="' OR '1'='1").status_code == 404
    r = alice.get("/conversations", after="1e999:'; DROP TABLE events; --")
    assert r.status_code == 200
    assert alice.get("/conversation", id="conv-emergency").status_code == 200  # tables intact


def test_contact_details_redacted_but_callback_phone_visible(alice):
    page = alice.get("/conversation", id="conv-contact").text
    assert "jane.doe@example.com" not in page and "7946 0958" not in page
    assert "[email]" in page and "[phone]" in page
    page = alice.get("/conversation", id="conv-callback").text
    transcript = page[page.index('class="transcript"') :]
    assert PHONE not in transcript and "[phone]" in transcript
    callback = page[page.index("Callback request") : page.index('class="transcript"')]
    assert PHONE in callback and "Maria Lopez" in callback


# ------------------------------------------------------------------ triage


def test_mark_reviewed_assign_and_note(alice, db_url):
    r = alice.post("/conversation/review", {"id": "conv-personal", "reviewed": "1"})
    assert r.status_code == 303 and location_query(r) == {"id": "conv-personal", "msg": "reviewed"}
    page = alice.get("/conversation", id="conv-personal", msg="reviewed").text
    assert "Reviewed</strong> by alice" in page and "Marked as reviewed." in page
    open_ids, _ = all_pages(alice, "/open")
    assert "conv-personal" not in open_ids
    ids, _ = all_pages(alice, "/conversations", reviewed="yes")
    assert "conv-personal" in ids
    ids, _ = all_pages(alice, "/conversations", reviewed="no")
    assert "conv-personal" not in ids and "conv-emergency" in ids

    r = alice.post("/conversation/assign", {"id": "conv-personal", "assignee": "bob"})
    assert location_query(r)["msg"] == "assigned"
    ids, _ = all_pages(alice, "/conversations", assignee="bob")
    assert set(ids) == {"conv-personal"}
    r = alice.post("/conversation/assign", {"id": "conv-personal", "assignee": "mallory"})
    assert location_query(r)["msg"] == "bad_input"

    r = alice.post("/conversation/note", {"id": "conv-personal", "text": "Called <b>back</b>", "tag": "follow-up"})
    assert location_query(r)["msg"] == "noted"
    page = alice.get("/conversation", id="conv-personal").text
    assert "#follow-up" in page and "Called &lt;b&gt;back&lt;/b&gt;" in page
    r = alice.post("/conversation/note", {"id": "conv-personal", "tag": "bad tag!"})
    assert location_query(r)["msg"] == "bad_input"
    r = alice.post("/conversation/review", {"id": "no-such", "reviewed": "1"})
    assert r.status_code == 404

    r = alice.post("/conversation/review", {"id": "conv-personal", "reviewed": "0"})
    assert location_query(r)["msg"] == "unreviewed"
    open_ids, _ = all_pages(alice, "/open")
    assert "conv-personal" in open_ids
    actions = {
        a["action"]
        for a in audit_actions(db_url, "mark_reviewed")
        + audit_actions(db_url, "assign")
        + audit_actions(db_url, "add_note")
        + audit_actions(db_url, "mark_unreviewed")
    }
    assert actions == {"mark_reviewed", "assign", "add_note", "mark_unreviewed"}


def test_new_patient_message_reopens_reviewed_conversation(alice, db_url):
    from rasa.shared.core.events import UserUttered

    convs = {"conv-late": sample_events()["conv-personal"]}
    write_conversations(db_url, convs)
    ids, _ = all_pages(alice, "/open", flag="personal")
    assert "conv-late" in ids
    alice.post("/conversation/review", {"id": "conv-late", "reviewed": "1"})
    ids, _ = all_pages(alice, "/open", flag="personal")
    assert "conv-late" not in ids
    later = time.time() + 60  # the new message is after the review, whatever the clock's resolution
    convs["conv-late"] = convs["conv-late"] + [
        UserUttered(
            "it got worse",
            intent={"name": "ask_personal_advice", "confidence": 0.9},
            parse_data={"intent": {"name": "ask_personal_advice", "confidence": 0.9}},
            timestamp=later,
        )
    ]
    write_conversations(db_url, convs)
    ids, _ = all_pages(alice, "/open", flag="personal")
    assert "conv-late" in ids  # the indexer caught up on the request and re-opened it


def test_callback_request_marked_done(alice, db_url):
    page = alice.get("/open").text
    cb_id = re.search(r'name="callback_id" value="(\d+)"', page).group(1)
    r = alice.post("/callback/done", {"callback_id": cb_id})
    assert r.status_code == 303 and r.headers["location"] == "/open?msg=callback_done"
    page = alice.get("/open").text
    assert "Maria Lopez" not in page and "No open callback requests." in page
    conv = alice.get("/conversation", id="conv-callback").text
    assert "done by alice" in conv
    assert audit_actions(db_url, "callback_done", "conv-callback")
    assert alice.post("/callback/done", {"callback_id": "999999"}).status_code == 404
    assert alice.post("/callback/done", {"callback_id": "x"}).status_code == 404


# ------------------------------------------------------------------ corrections


def event_ids(page: str):
    return [int(x) for x in re.findall(r'name="event_id" value="(\d+)"', page)]


def test_corrections_and_nlu_yaml_export(alice, db_url):
    lowconf = event_ids(alice.get("/conversation", id="conv-lowconf").text)
    dup = event_ids(alice.get("/conversation", id="conv-dup").text)
    assert len(lowconf) == 2 and len(dup) == 1
    for sender, eid, intent in [
        ("conv-lowconf", lowconf[0], "ask_indications"),
        ("conv-dup", dup[0], "ask_indications"),  # same text, other case/spacing
        ("conv-lowconf", lowconf[1], "ask_cost"),
    ]:  # text already in training data
        r = alice.post("/conversation/correct", {"id": sender, "event_id": str(eid), "intent": intent})
        assert location_query(r)["msg"] == "corrected"
    page = alice.get("/conversation", id="conv-lowconf").text
    assert "Corrected by staff to <strong>ask_indications</strong>" in page
    # refused: unknown intent, event of another conversation, non-numeric id
    assert (
        location_query(
            alice.post(
                "/conversation/correct", {"id": "conv-lowconf", "event_id": str(lowconf[0]), "intent": "not_an_intent"}
            )
        )["msg"]
        == "bad_input"
    )
    assert (
        location_query(
            alice.post("/conversation/correct", {"id": "conv-oos", "event_id": str(lowconf[0]), "intent": "greet"})
        )["msg"]
        == "bad_input"
    )
    assert (
        location_query(alice.post("/conversation/correct", {"id": "conv-oos", "event_id": "x", "intent": "greet"}))[
            "msg"
        ]
        == "bad_input"
    )
    # the patient's answers to the callback form (name, phone, time) never become training data
    callback_page = alice.get("/conversation", id="conv-callback").text
    assert callback_page.count("Answer to the callback form") == 3
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        name_event = conn.execute(
            sa.text(
                "SELECT id FROM events WHERE sender_id='conv-callback' AND type_name='user' "
                "AND data LIKE '%Maria Lopez%' ORDER BY id"
            )
        ).scalar()
    engine.dispose()
    assert (
        location_query(
            alice.post("/conversation/correct", {"id": "conv-callback", "event_id": str(name_event), "intent": "greet"})
        )["msg"]
        == "bad_input"
    )
    page = alice.get("/corrections").text
    assert "what about the thingy with the nerve" in page
    assert audit_actions(db_url, "view_corrections")
    r = alice.post("/corrections/export")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    doc = yaml.safe_load(r.text)
    assert doc["version"] == "3.1"
    by_intent = {item["intent"]: [line[2:] for line in item["examples"].splitlines()] for item in doc["nlu"]}
    assert by_intent["ask_indications"] == ["what about the thingy with the nerve"]
    assert "ask_cost" not in by_intent  # "how much does it cost" is already in the training data
    assert audit_actions(db_url, "correct_intent", "conv-dup")
    assert audit_actions(db_url, "export_corrections")


# ------------------------------------------------------------------ exports


def test_conversation_export_csv_and_jsonl(alice, db_url):
    r = alice.post("/conversation/export", {"id": "conv-answer", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["speaker"] for row in rows] == ["patient", "bot", "bot", "patient", "bot"]
    assert rows[0]["intent"] == "ask_recovery_time" and rows[0]["confidence"] == "0.97"
    assert rows[1]["fact_ids"] == "recovery_1 recovery_2" and rows[1]["bot_action"] == "action_answer_topic"
    assert rows[3]["text"].startswith("'=HYPERLINK")  # CSV formula injection neutralised
    r = alice.post("/conversation/export", {"id": "conv-contact", "format": "jsonl"})
    records = [json.loads(line) for line in r.text.splitlines()]
    assert records[0]["speaker"] == "patient" and "[email]" in records[0]["text"]
    assert "jane.doe" not in r.text
    assert alice.post("/conversation/export", {"id": "conv-answer", "format": "xml"}).status_code == 400
    assert alice.post("/conversation/export", {"id": "nope", "format": "csv"}).status_code == 404
    assert audit_actions(db_url, "export", "conv-answer")


def test_filtered_export(alice, db_url):
    r = alice.post("/export", {"format": "jsonl", "flag": "emergency"})
    records = [json.loads(line) for line in r.text.splitlines()]
    assert {rec["conversation_id"] for rec in records} == {"conv-emergency"}
    r = alice.post("/export", {"format": "csv", "flag": "out_of_scope"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["conversation_id"] for row in rows} == {"conv-oos", "conv-xss"}
    assert any(row["text"] == XSS_TEXT for row in rows)  # exported verbatim (it is data, not HTML)
    r = alice.post("/export", {"format": "csv"})
    assert {row["conversation_id"] for row in csv.DictReader(io.StringIO(r.text))} >= SAMPLE_IDS
    details = [json.loads(a["detail"]) for a in audit_actions(db_url, "export") if a["target"] is None]
    assert {"format": "jsonl", "conversations": 1, "filter": {"flag": "emergency"}} in details
    assert alice.post("/export", {"format": "csv", "date_from": "bad"}).status_code == 400


# ------------------------------------------------------------------ audit log


def test_audit_page_and_log_is_append_only(alice, db_url):
    page = alice.get("/audit").text
    assert "view_conversation" in page and "login" in page
    engine = sa.create_engine(db_url)
    try:
        for statement in ("UPDATE review_audit SET username = 'x'", "DELETE FROM review_audit"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(sa.text(statement))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM review_audit")).scalar() > 5
    finally:
        engine.dispose()
    # no route edits the audit log: the app has no route that takes an audit id
    assert alice.post("/audit", {}).status_code in (403, 404, 405)


@pytest.mark.parametrize("before", [str(2**63), "9" * 30, "-1", "0", "1e9", "12abc", "\u0661\u0662"])
def test_audit_page_refuses_a_cursor_out_of_range_with_400(alice, before):
    """An id beyond 64 bits reached SQLite as an integer it cannot bind: a 500."""
    r = alice.get("/audit", before=before)
    assert r.status_code == 400, r.status_code
    assert "Request refused" in r.text


def test_audit_page_accepts_the_largest_id_and_its_own_older_link(alice):
    r = alice.get("/audit", before=str(2**63 - 1))
    assert r.status_code == 200 and "login" in r.text
    assert alice.get("/audit", before="1").status_code == 200


def test_server_log_has_no_patient_text(alice, server_log):
    alice.get("/conversations", q="bladder")
    text = server_log.read_text()
    for secret in (PHONE, "Maria Lopez", "bladder", "jane.doe", "<script>", CONTACT_TEXT[:20]):
        assert secret not in text
    assert "GET /conversations 200" in text


def test_unusual_sender_ids_round_trip(alice, db_url):
    """REST senders choose their own ids: links, forms and exports must carry them intact."""
    sender = 'web:a/b+c&d=e?f#g "<i>x</i>" ü'
    write_conversations(db_url, {sender: sample_events()["conv-oos"]})
    ids, _ = all_pages(alice, "/conversations", q="weather")
    assert sender in ids
    page = alice.get("/conversation", id=sender).text
    assert "what&#39;s the weather tomorrow" in page and "<i>x</i>" not in page
    r = alice.post("/conversation/review", {"id": sender, "reviewed": "1"})
    assert location_query(r) == {"id": sender, "msg": "reviewed"}
    r = alice.post("/conversation/export", {"id": sender, "format": "jsonl"})
    assert json.loads(r.text.splitlines()[0])["conversation_id"] == sender
    assert 'filename="conversation-web_a_b_c_d_e_f_g' in r.headers["content-disposition"]


def test_crisis_and_emergency_are_at_the_top_of_open_items(alice, db_url):
    """Triage levels become flags; crisis first, then emergency, then urgent in Open items."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    def turn(level: str, intent: str, response: str, text: str, ts: float) -> list:
        parse = {
            "intent": {"name": intent, "confidence": 1.0},
            "text": text,
            "triage": {"level": level, "flags": ["x"], "findings": []},
            "red_flags": [{"flag": "x", "matched": text}],
        }
        return [
            UserUttered(text, intent=parse["intent"], parse_data=parse, timestamp=ts),
            ActionExecuted(response, policy="RulePolicy", confidence=1.0, timestamp=ts + 0.1),
            BotUttered(
                "...",
                data={"custom": {"triage": level, "emergency": level != "urgent"}},
                metadata={"utter_action": response},
                timestamp=ts + 0.2,
            ),
        ]

    now = time.time()
    write_conversations(
        db_url,
        {
            "conv-t-emergency-old": turn(
                "emergency", "report_emergency", "utter_emergency", "cant pee since yesterday", now - 300
            ),
            "conv-t-crisis-new": turn("crisis", "report_crisis", "utter_crisis", "better off without me", now),
            "conv-t-urgent": turn("urgent", "report_urgent", "utter_urgent", "painkillers not working", now - 200),
        },
    )
    ids = [i for i in all_pages(alice, "/open")[0] if i.startswith("conv-t-")]
    assert ids == ["conv-t-crisis-new", "conv-t-emergency-old", "conv-t-urgent"]
    urgent_listed = set(all_pages(alice, "/open", flag="urgent")[0])
    assert urgent_listed & {"conv-t-urgent", "conv-t-crisis-new"} == {"conv-t-urgent"}
    assert "conv-t-crisis-new" in all_pages(alice, "/open", flag="crisis")[0]
    # An urgent message is not an emergency (its red flags are not read as one).
    assert "conv-t-urgent" not in all_pages(alice, "/open", flag="emergency")[0]
    alice.post("/conversation/review", {"id": "conv-t-crisis-new", "reviewed": "1"})
    assert "conv-t-crisis-new" not in all_pages(alice, "/open")[0]
