"""End to end over real HTTP: the real action server and Rasa server, the trained model in
models/, the REST channel, and a SQLite tracker store read back over a real connection."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Dict, Iterator, List

import pytest
import requests

from tests.conftest import ROOT, absolute_claims_in
from tests.support.servers import running_servers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Dict[str, object]]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    env = {"CLINIC_PHONE": "", "CLINIC_EMAIL": ""}
    workdir = tmp_path_factory.mktemp("servers")
    with running_servers(workdir, extra_env=env) as s:
        yield {"url": s.webhook, "db": s.db, "logs": [workdir / "rasa.log", workdir / "actions.log"]}


def say(servers, sender: str, text: str) -> List[Dict]:
    r = requests.post(servers["url"], json={"sender": sender, "message": text}, timeout=30)
    assert r.status_code == 200
    return r.json()


def texts(replies: List[Dict]) -> str:
    return "\n".join(m.get("text", "") for m in replies)


def test_a_conversation_over_rest(servers):
    sender = f"it-{uuid.uuid4()}"
    greeting = say(servers, sender, "hi there")
    assert "automated assistant" in texts(greeting)
    assert any(m.get("buttons") for m in greeting)

    recovery = texts(say(servers, sender, "how long does it take to recover"))
    assert "clinic's information sheet" in recovery and "3 to 6 weeks" in recovery

    cost = texts(say(servers, sender, "and how much does it cost?"))
    assert "one third of the cost of open surgery" in cost and "no exact price" in cost

    safety = texts(say(servers, sender, "could i end up paralysed after this?"))
    assert "Every operation carries some risk" in safety
    assert absolute_claims_in(safety) == []


def test_an_emergency_is_escalated_even_mid_conversation(servers):
    sender = f"it-{uuid.uuid4()}"
    say(servers, sender, "how big is the scar")
    urgent = texts(say(servers, sender, "also since this morning i can't control my bladder and my groin feels numb"))
    assert "emergency" in urgent.lower() and "emergency number" in urgent


def test_a_question_about_the_patients_own_symptom_is_deferred_calmly(servers, domain, book):
    """ "My scar is itchy, is that ok?" is the patient's own case: the deferral and the calm safety-net
    line, no facts about the scar, no alarm; the same symptom asked in general stays a topic."""
    own = say(servers, f"it-{uuid.uuid4()}", "my scar is itchy is that ok")
    said = texts(own)
    for name in ("utter_personal_defer", "utter_own_symptom_safety_net"):
        assert domain["responses"][name][0]["text"] in said
    assert not [f.id for f in book.facts if f.answer in said]
    assert all(r[0]["text"] not in said for n, r in domain["responses"].items() if n.startswith("utter_emergency"))
    general = say(servers, f"it-{uuid.uuid4()}", "will the scar itch when it heals")
    assert domain["responses"]["utter_personal_defer"][0]["text"] not in texts(general)
    # told first, asked after: "normal?" alone (read alone as "no" or not understood) is the own case
    sender = f"it-{uuid.uuid4()}"
    say(servers, sender, "my scar itches")
    later = texts(say(servers, sender, "normal?"))
    assert domain["responses"]["utter_own_symptom_safety_net"][0]["text"] in later
    # a symptom told, nothing asked: the deferral, not "I can only answer general questions"
    told = texts(say(servers, f"it-{uuid.uuid4()}", "my back hurts when i sit"))
    assert domain["responses"]["utter_personal_defer"][0]["text"] in told
    assert domain["responses"]["utter_out_of_scope"][0]["text"] not in told


def test_should_i_worry_after_the_emergency_advice_gets_it_again_not_a_calmer_line(servers, domain):
    sender = f"it-{uuid.uuid4()}"
    say(servers, sender, "my wound is leaking pus and i have a fever")
    again = texts(say(servers, sender, "should i worry?"))
    assert domain["responses"]["utter_emergency"][0]["text"] in again
    assert domain["responses"]["utter_own_symptom_safety_net"][0]["text"] not in again
    assert domain["responses"]["utter_personal_defer"][0]["text"] not in again


def test_every_message_gets_a_reply_and_is_stored(servers):
    sender = f"it-{uuid.uuid4()}"
    messages = ["hello", "asdf qwer zxcv", "blorp fnord", "yes", "what is the capital of france", "thanks, bye"]
    for message in messages:
        assert texts(say(servers, sender, message)).strip(), message
    with sqlite3.connect(servers["db"]) as conn:
        rows = conn.execute(
            "SELECT type_name, intent_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    user_events = [r for r in rows if r[0] == "user"]
    assert len(user_events) == len(messages)
    assert [r for r in rows if r[0] == "bot"], "bot replies are stored"


def test_bot_replies_record_which_facts_they_stated(servers):
    """Staff review needs to see which facts a reply stated: they are in the stored bot event."""
    import json

    sender = f"it-{uuid.uuid4()}"
    say(servers, sender, "how long until i can go back to work")
    with sqlite3.connect(servers["db"]) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id", (sender,)
        ).fetchall()
    metadata = [json.loads(r[0]).get("metadata", {}) for r in rows]
    stated = [m for m in metadata if m.get("fact_ids")]
    assert stated and stated[0]["topic"] == "ask_recovery_time"
    assert "recovery.work_exercise" in stated[0]["fact_ids"]


def test_application_logs_hold_no_patient_text(servers):
    """Logs at the default level must not contain what patients wrote (health information)."""
    marker = f"zebra{uuid.uuid4().hex[:8]} my sciatica is terrible"
    say(servers, f"it-{uuid.uuid4()}", marker)
    for log in servers["logs"]:
        assert marker.split()[0] not in log.read_text(errors="replace"), log.name


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"message": "hello"}, 400, "invalid_sender"),
        ({"sender": "default", "message": "hello"}, 400, "invalid_sender"),
        ({"sender": "a b c", "message": "hello"}, 400, "invalid_sender"),
        ({"sender": 12, "message": "hello"}, 400, "invalid_sender"),
        ({"sender": "p1." + "0" * 32 + "." + "0" * 32, "message": "hello"}, 403, "unknown_session"),
        ({"sender": "it-ok", "message": 5}, 400, "invalid_request"),
        ({"sender": "it-ok", "message": None}, 400, "invalid_request"),
        ({"sender": "it-ok", "message": " \n "}, 422, "empty_message"),
        ({"sender": "it-ok", "message": "x" * 2001}, 413, "message_too_long"),
    ],
)
def test_the_rest_channel_refuses_bad_requests_with_a_json_error(servers, body, status, code):
    r = requests.post(servers["url"], json=body, timeout=30)
    assert r.status_code == status
    assert r.json()["error"] == code and r.json()["message"]
    with sqlite3.connect(servers["db"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events WHERE sender_id = 'default'").fetchone() == (0,)


def test_the_rest_channel_reads_slash_commands_as_text(servers):
    sender = f"it-{uuid.uuid4()}"
    assert say(servers, sender, '/ask_cost{"x": {"$gt": ""}}')
    assert say(servers, sender, "/restart")
    with sqlite3.connect(servers["db"]) as conn:
        rows = conn.execute(
            "SELECT type_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    import json

    users = [json.loads(d) for t, _, d in rows if t == "user"]
    assert users[0]["parse_data"]["entities"] == [] and users[0]["parse_data"]["intent"]["confidence"] != 1.0
    assert not any(t == "restart" or a == "action_restart" for t, a, _ in rows)
