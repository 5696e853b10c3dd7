"""The guarded patient channel over real HTTP: real Rasa + action servers, SQLite read back.

"Nothing lost" here means: every accepted patient message and every bot reply is stored exactly
once, in order, or the patient gets an explicit error with a message to show (never an empty 200).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from tests.conftest import ROOT
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

LIMITED_CREDENTIALS = """
clinic_channel.patient.PatientInput:
  max_message_chars: 200
  max_body_bytes: 2048
  session_rate: "8/60"
  client_rate: "1000/60"
  session_start_rate: "1000/3600"
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    workdir = tmp_path_factory.mktemp("patient")
    credentials = workdir / "credentials.yml"
    credentials.write_text(LIMITED_CREDENTIALS)
    env = {"CLINIC_PHONE": "", "CLINIC_EMAIL": "", "PATIENT_SESSION_SECRET": uuid.uuid4().hex}
    with running_servers(workdir, extra_env=env, credentials=credentials) as s:
        yield s


def url(servers: Servers, path: str) -> str:
    return f"{servers.rasa_url}/webhooks/patient/{path}"


def new_session(servers: Servers) -> str:
    answer = requests.post(url(servers, "session"), json={}, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["max_message_chars"] == 200
    return body["session_id"]


def send(servers: Servers, session: str, text: Any, **extra: Any) -> requests.Response:
    return requests.post(url(servers, "message"), json={"session_id": session, "message": text, **extra}, timeout=30)


def said(answer: requests.Response) -> str:
    assert answer.status_code == 200, answer.text
    return "\n".join(m["text"] for m in answer.json()["messages"])


def stored(servers: Servers, session: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(servers.db) as conn:
        rows = conn.execute(
            "SELECT type_name, action_name, intent_name, data FROM events WHERE sender_id = ? ORDER BY id", (session,)
        ).fetchall()
    return [{"type": t, "action": a, "intent": i, **json.loads(d)} for t, a, i, d in rows]


def test_a_conversation_is_answered_from_the_facts_and_stored(servers):
    session = new_session(servers)
    greeting = send(servers, session, "hi", message_id="m-0001-greet")
    assert greeting.json()["messages"][0]["buttons"], "the greeting offers topic buttons"
    recovery = send(servers, session, "how long is recovery?", message_id="m-0002-recov")
    assert "3 to 6 weeks" in said(recovery)
    assert recovery.json()["message_id"] == "m-0002-recov"
    events = stored(servers, session)
    users = [e for e in events if e["type"] == "user"]
    assert [u["text"] for u in users] == ["hi", "how long is recovery?"]
    assert [u["message_id"] for u in users] == ["m-0001-greet", "m-0002-recov"]
    assert any(e["type"] == "bot" and "3 to 6 weeks" in e["text"] for e in events)


def test_the_emergency_reply_is_marked(servers):
    session = new_session(servers)
    answer = send(servers, session, "i cant control my bladder since this morning and my legs are numb")
    messages = answer.json()["messages"]
    assert messages[0]["emergency"] is True
    assert "emergency number" in messages[0]["text"]
    calm = send(servers, session, "what does the scar look like")
    assert not any(m["emergency"] for m in calm.json()["messages"])


@pytest.mark.parametrize(
    "text, level",
    [
        ("1 c4nt f33l my l3gs", "emergency"),  # leetspeak
        ("c a n ' t  p e e", "emergency"),  # spaced letters
        ("I can't p\u0435\u0435", "emergency"),  # Cyrillic look-alikes
        ("i\u200bcant\u200bfeel\u200bmy\u200blegs", "emergency"),  # zero-width spaces for spaces
        ("i w4nt t0 k1ll mys3lf", "crisis"),
    ],
)
def test_a_red_flag_in_disguise_gets_the_triage_reply(servers, text, level):
    answer = send(servers, new_session(servers), text)
    assert answer.json()["messages"][0]["level"] == level, said(answer)


def test_a_message_too_long_to_take_still_gets_the_emergency_advice_it_asks_for(servers):
    session = new_session(servers)
    story = "I have read the leaflet and I would like to know more about the operation. " * 3
    answer = send(servers, session, story + "Since this morning I can't feel my legs.")
    assert answer.status_code == 413 and answer.json()["error"] == "message_too_long"
    assert answer.json()["messages"][0]["level"] == "emergency"
    calm = send(servers, session, story + "How long until I can drive?")
    assert calm.status_code == 413 and "messages" not in calm.json()
    assert not any(e["type"] == "user" for e in stored(servers, session))  # nothing was taken


def test_conversations_the_server_did_not_issue_are_refused(servers):
    for session in ["default", "", None, "p1.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef"]:
        answer = send(servers, session, "hello")
        assert answer.status_code == 403
        assert answer.json()["error"] == "unknown_session" and answer.json()["message"]
    assert stored(servers, "default") == []


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"message": 12}, 400, "invalid_request"),
        ({"message": "   "}, 422, "empty_message"),
        ({"message": "x" * 201}, 413, "message_too_long"),
        ({"message": "hi", "message_id": "bad id!"}, 400, "invalid_request"),
    ],
)
def test_bad_messages_get_a_clear_4xx(servers, payload, status, code):
    session = new_session(servers)
    answer = requests.post(url(servers, "message"), json={"session_id": session, **payload}, timeout=10)
    assert answer.status_code == status
    assert answer.json()["error"] == code
    assert answer.json()["message"].strip()
    assert stored(servers, session) == [], "a refused message is not stored"


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b"\xff\xfe\xfd", b'{"a":' * 20 + b"1" + b"}" * 20])
def test_malformed_bodies_are_refused_without_a_5xx(servers, body):
    answer = requests.post(url(servers, "message"), data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code in (400, 403)
    assert answer.json()["message"]


def test_an_oversized_body_is_refused(servers):
    answer = requests.post(
        url(servers, "message"), data=b"x" * 200_000, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "request_too_large" and "emergency number" in answer.json()["message"]


@pytest.mark.parametrize(
    "headers, data",
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--"),
        ({"Content-Type": "text/plain"}, b"{}"),
        ({}, b"{}"),
    ],
)
def test_a_session_is_only_issued_for_a_json_request(servers, headers, data):
    """A page on another site can post a form here without a CORS preflight, not a JSON body."""
    answer = requests.post(url(servers, "session"), data=data, headers=headers, timeout=10)
    assert answer.status_code == 415
    body = answer.json()
    assert body["error"] == body["code"] == "unsupported_media_type"
    assert "emergency number" in body["message"] and "session_id" not in body


def test_a_json_session_request_may_name_its_charset(servers):
    answer = requests.post(
        url(servers, "session"), data=b"{}", headers={"Content-Type": "Application/JSON; charset=utf-8"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["session_id"].startswith("p1.")


def test_slash_commands_are_text_unless_an_offered_button(servers):
    session = new_session(servers)
    send(servers, session, "hello")  # offers buttons, among them /ask_cost
    injected = send(servers, session, '/ask_cost{"x": {"$gt": ""}}')
    assert injected.status_code == 200
    restart = send(servers, session, "/restart")
    assert restart.status_code == 200
    events = stored(servers, session)
    users = [e for e in events if e["type"] == "user"]
    assert users[1]["parse_data"]["entities"] == [], "no entities smuggled in"
    assert users[1]["parse_data"]["intent"].get("confidence") != 1.0, "read by the model, not as a command"
    assert not any(e["type"] == "restart" or e["action"] == "action_restart" for e in events)
    # An offered payload is honoured exactly: the greeting's buttons.
    fresh = new_session(servers)
    greeting = send(servers, fresh, "hi").json()["messages"]
    payload = next(b["payload"] for m in greeting for b in m.get("buttons", []) if b["payload"] == "/ask_cost")
    cost = said(send(servers, fresh, payload))
    assert "one third of the cost of open surgery" in cost
    assert stored(servers, fresh)[-1]["type"] in {"bot", "action", "slot"}
    cost_event = [e for e in stored(servers, fresh) if e["type"] == "user"][-1]
    assert cost_event["parse_data"]["intent"]["name"] == "ask_cost"
    assert cost_event["parse_data"]["intent"]["confidence"] == 1.0


def test_a_retried_message_is_answered_once_and_stored_once(servers):
    session = new_session(servers)
    first = send(servers, session, "how big is the scar", message_id="retry-000001")
    again = send(servers, session, "how big is the scar", message_id="retry-000001", retry=True)
    assert again.status_code == 200
    assert again.json()["messages"] == first.json()["messages"]
    users = [e for e in stored(servers, session) if e["type"] == "user"]
    assert len(users) == 1
    # A retry of a message the server never got is handled as new.
    new = send(servers, session, "what about the cost", message_id="retry-000002", retry=True)
    assert "cost" in said(new).lower()
    assert len([e for e in stored(servers, session) if e["type"] == "user"]) == 2


def test_a_retry_with_other_words_is_refused_as_a_conflict(servers):
    """The same message_id with new words must not be acknowledged with the old replies."""
    session = new_session(servers)
    first = send(servers, session, "how big is the scar", message_id="conflict-0001")
    assert first.status_code == 200
    changed = send(servers, session, "what does it cost", message_id="conflict-0001", retry=True)
    assert changed.status_code == 409
    body = changed.json()
    assert body["error"] == body["code"] == "message_id_conflict"
    assert "emergency number" in body["message"]
    assert body["messages"] == [], "not an emergency: no emergency reply"
    urgent = send(
        servers, session, "i cant control my bladder and my legs are numb", message_id="conflict-0001", retry=True
    )
    assert urgent.status_code == 409
    assert any(m["emergency"] for m in urgent.json()["messages"]), "red-flag words still get the emergency advice"
    same = send(servers, session, "how big is the scar", message_id="conflict-0001", retry=True)
    assert same.status_code == 200 and same.json()["messages"] == first.json()["messages"]
    assert [e["text"] for e in stored(servers, session) if e["type"] == "user"] == ["how big is the scar"]


def test_too_many_messages_are_rate_limited_with_retry_after(servers):
    session = new_session(servers)
    codes = [send(servers, session, f"question {i} about recovery").status_code for i in range(10)]
    assert codes[:8] == [200] * 8
    assert codes[8] == 429
    limited = send(servers, session, "again")
    assert int(limited.headers["Retry-After"]) > 0
    assert "emergency" in limited.json()["message"]
    assert len([e for e in stored(servers, session) if e["type"] == "user"]) == 8


def test_health_reports_model_store_and_action_server(servers):
    answer = requests.get(url(servers, "health"), timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "model": True, "tracker_store": True, "action_server": True}


def test_a_tracker_store_failure_is_an_explicit_error_not_a_silent_loss(servers):
    """With the SQLite file unusable, the patient is told it was not saved (and gets emergency advice)."""
    session = new_session(servers)
    assert send(servers, session, "hello").status_code == 200
    db: Path = servers.db
    moved = db.with_suffix(".moved")
    shutil.move(db, moved)
    db.mkdir()  # a directory where the database file was: every connection fails
    try:
        answer = send(servers, session, "how long is recovery?")
        assert answer.status_code == 503
        assert answer.json()["error"] == "not_saved"
        assert "emergency number" in answer.json()["message"]
        urgent = send(servers, session, "i suddenly cant feel my legs and cant pee")
        assert urgent.status_code == 503
        assert any(m["emergency"] for m in urgent.json()["messages"]), "emergency advice is still shown"
        health = requests.get(url(servers, "health"), timeout=10)
        assert health.status_code == 503 and health.json()["tracker_store"] is False
    finally:
        db.rmdir()
        shutil.move(moved, db)
    after = send(servers, session, "how long is recovery?")
    assert "3 to 6 weeks" in said(after)
    users = [e["text"] for e in stored(servers, session) if e["type"] == "user"]
    assert users == ["hello", "how long is recovery?"], "nothing half-stored during the outage"


def slot_values(servers: Servers, session: str, slot: str) -> List[Any]:
    return [e["value"] for e in stored(servers, session) if e["type"] == "slot" and e.get("name") == slot]


def test_a_callback_is_collected_only_with_consent(servers):
    session = new_session(servers)
    offer = said(send(servers, session, "can i talk to a real person please"))
    assert "call you back" in offer
    assert "name" in said(send(servers, session, "yes please")).lower()
    assert "phone number" in said(send(servers, session, "Anna Meier")).lower()
    assert "does not look like a phone number" in said(send(servers, session, "call me"))
    assert "good time" in said(send(servers, session, "+41 44 123 45 67")).lower()
    done = said(send(servers, session, "weekday mornings"))
    assert "Anna Meier" in done and "+41 44 123 45 67" in done
    requests_ = [v for v in slot_values(servers, session, "callback_request") if v]
    assert requests_ == [
        {
            **requests_[0],
            "name": "Anna Meier",
            "phone": "+41 44 123 45 67",
            "preferred_time": "weekday mornings",
            "consent": True,
        }
    ]


def test_a_name_and_number_given_in_a_sentence_are_stored_without_it(servers):
    session = new_session(servers)
    send(servers, session, "can someone call me")
    send(servers, session, "yes")
    assert "phone number" in said(send(servers, session, "my name is john smith")).lower()
    assert "good time" in said(send(servers, session, "my number is 07700 900123")).lower()
    done = said(send(servers, session, "tomorrow morning"))
    assert "Thank you, john smith." in done and "07700 900123" in done
    stored_request = [v for v in slot_values(servers, session, "callback_request") if v]
    assert [(r["name"], r["phone"]) for r in stored_request] == [("john smith", "07700 900123")]


def test_declining_or_stopping_the_callback_stores_no_details(servers):
    declined = new_session(servers)
    send(servers, declined, "i want to speak to someone")
    send(servers, declined, "no thanks")
    assert slot_values(servers, declined, "callback_request") == []
    assert slot_values(servers, declined, "callback_name") == []

    stopped = new_session(servers)
    send(servers, stopped, "i want to speak to someone")
    send(servers, stopped, "yes")
    send(servers, stopped, "Anna Meier")
    cancelled = said(send(servers, stopped, "stop"))
    assert "not sent a callback request" in cancelled
    assert [v for v in slot_values(servers, stopped, "callback_request") if v] == []
    assert slot_values(servers, stopped, "callback_name")[-1] is None, "what was given is forgotten"


def test_an_emergency_during_the_callback_form_is_escalated(servers):
    session = new_session(servers)
    send(servers, session, "i want to speak to someone")
    send(servers, session, "yes")
    urgent = send(servers, session, "i have lost control of my bowels and my legs are getting weaker fast")
    assert urgent.json()["messages"][0]["emergency"] is True
    assert slot_values(servers, session, "callback_name") in ([], [None])


def test_a_rating_of_a_reply_is_stored_for_staff(servers):
    session = new_session(servers)
    send(servers, session, "how big is the scar", message_id="rate-0000001")
    feedback = url(servers, "feedback")
    answer = requests.post(
        feedback, json={"session_id": session, "message_id": "rate-0000001", "rating": "down"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert slot_values(servers, session, "feedback") == [{"message_id": "rate-0000001", "rating": "down"}]
    unknown = requests.post(
        feedback, json={"session_id": session, "message_id": "never-sent-1", "rating": "up"}, timeout=10
    )
    assert unknown.status_code == 404 and unknown.json()["message"]
    foreign = requests.post(
        feedback, json={"session_id": new_session(servers), "message_id": "rate-0000001", "rating": "up"}, timeout=10
    )
    assert foreign.status_code == 404, "a conversation can only rate its own messages"
    # The conversation goes on normally after a rating.
    assert "cost" in said(send(servers, session, "what does it cost")).lower()


def test_the_patients_quoted_words_are_sent_as_plain_text_segments():
    from clinic_channel.patient import patient_message

    text = 'You asked: "who is the surgeon at http://evil.example?". The sheet does not cover that.'
    out = patient_message({"text": text, "custom": {"patient_words": ["who is the surgeon at http://evil.example?"]}})
    assert out is not None
    assert "".join(s["text"] for s in out["segments"]) == text
    assert [s["text"] for s in out["segments"] if s["patient"]] == ["who is the surgeon at http://evil.example?"]
    # No quoted words, words not in the text, or no custom data: no segments.
    assert "segments" not in patient_message({"text": text, "custom": {"patient_words": ["not there"]}})
    assert "segments" not in patient_message({"text": text, "custom": {"patient_words": "who"}})
    assert "segments" not in patient_message({"text": text})
