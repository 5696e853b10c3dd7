"""Fault injection against the real processes: the action server dies or hangs, the Rasa server restarts.

"Nothing lost": every accepted patient message gets a reply within seconds (a safe one if the
action server is gone), the emergency reply never depends on the action server, and a restarted
Rasa server resumes the conversation with its slots. (The tracker-store outage is in
test_patient_channel.py.)
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests

from clinic_channel.patient import load_messages
from clinic_triage import assess as triage_assess
from tests.conftest import ROOT
from tests.support.process import wait_until
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

ACTION_TIMEOUT = 2
CREDENTIALS = f"""
clinic_channel.patient.PatientInput:
  action_timeout: {ACTION_TIMEOUT}
  session_rate: "1000/60"
  client_rate: "1000/60"
  session_start_rate: "1000/3600"
"""
NO_REPLY = load_messages()["no_reply"]
# Saddle numbness with typos: the typed text's triage is calm, the corrected reading's an emergency.
TYPO_HIDDEN_RED_FLAG = "cantt feeel my bum"


@pytest.fixture
def servers(tmp_path) -> Iterator[Servers]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(CREDENTIALS)
    env = {"CLINIC_PHONE": "", "CLINIC_EMAIL": "", "PATIENT_SESSION_SECRET": uuid.uuid4().hex}
    with running_servers(tmp_path, extra_env=env, credentials=credentials) as s:
        yield s


def session(servers: Servers) -> str:
    return requests.post(f"{servers.rasa_url}/webhooks/patient/session", json={}, timeout=10).json()["session_id"]


def send(servers: Servers, sid: str, text: str) -> Dict[str, Any]:
    answer = requests.post(
        f"{servers.rasa_url}/webhooks/patient/message", json={"session_id": sid, "message": text}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def texts(answer: Dict[str, Any]) -> str:
    return "\n".join(m["text"] for m in answer["messages"])


def stored_users(servers: Servers, sid: str) -> List[str]:
    with sqlite3.connect(servers.db) as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sid,))
        return [json.loads(r[0])["text"] for r in rows]


class BlackHole:
    """Accepts connections on a port and never answers: an action server that hangs."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.conns: List[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
        except OSError:
            pass

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_action_server_killed_mid_conversation(servers):
    sid = session(servers)
    assert "3 to 6 weeks" in texts(send(servers, sid, "how long is recovery?"))
    servers.actions.kill()
    started = time.monotonic()
    answer = send(servers, sid, "how big is the scar?")
    assert time.monotonic() - started < 5
    assert texts(answer) == NO_REPLY, "a safe reply, not silence"
    urgent = send(servers, sid, "i cant control my bladder since this morning")
    assert urgent["messages"][0]["emergency"] is True, "the emergency reply needs no action server"
    # The crisis and urgent replies are domain responses; the contact action after each fails, and
    # no "please try again" follows a complete triage reply.
    for text, level in (
        ("i dont want to be alive anymore", "crisis"),
        ("my wound is redder and more sore than yesterday but no fever", "urgent"),
    ):
        answer = send(servers, session(servers), text)
        assert [m.get("level") for m in answer["messages"]] == [level], (text, answer)
        assert NO_REPLY not in texts(answer)
    health = requests.get(f"{servers.rasa_url}/webhooks/patient/health", timeout=10)
    assert health.status_code == 503 and health.json()["action_server"] is False
    servers.start_actions()
    assert "scar" in texts(send(servers, sid, "how big is the scar?")).lower()
    assert stored_users(servers, sid) == [
        "how long is recovery?",
        "how big is the scar?",
        "i cant control my bladder since this morning",
        "how big is the scar?",
    ]
    # The safe reply is part of the stored conversation, marked with the action that failed ...
    safe = [b for b in stored_bots(servers, sid) if b["text"] == NO_REPLY]
    assert len(safe) == 1 and safe[0]["metadata"]["failed_action"].startswith("action_")
    # ... and the staff review app flags the turn, filters by it and lists it among the open items.
    from review import store as review
    from review.settings import load_settings

    settings = load_settings({"DATABASE_URL": f"sqlite:///{servers.db}"})
    engine = review.make_engine(settings)
    try:
        review.create_schema(engine)
        review.index_new_events(engine, settings)
        assert "failed_action" in review.get_summary(engine, sid, 0.5)["flags"]
        for flag in ("failed_action", "any"):
            page = review.list_conversations(engine, review.ListFilter(flag=flag, reviewed=False), 0.5, 100)
            assert sid in [r["sender_id"] for r in page.rows], flag
        turns = review.build_transcript(review.conversation_events(engine, sid), 0.5, True, {})
        assert [t.text for t in turns if "failed_action" in t.flags] == ["how big is the scar?"]
    finally:
        engine.dispose()


def stored_bots(servers: Servers, sid: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(servers.db) as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id", (sid,))
        return [{"text": d.get("text"), "metadata": d.get("metadata") or {}} for d in (json.loads(r[0]) for r in rows)]


def test_a_hanging_action_server_times_out_quickly(servers):
    sid = session(servers)
    port = int(servers.action_url.rsplit(":", 1)[1])
    servers.stop_actions()
    hole = BlackHole(port)
    try:
        started = time.monotonic()
        answer = send(servers, sid, "what does it cost")
        elapsed = time.monotonic() - started
        assert ACTION_TIMEOUT <= elapsed < ACTION_TIMEOUT + 5
        assert texts(answer) == NO_REPLY
        # The conversation is not stuck behind its lock: the next message is handled too.
        assert send(servers, sid, "thanks")["messages"]
    finally:
        hole.close()
    servers.start_actions()
    assert "cost" in texts(send(servers, sid, "what does it cost")).lower()


def bot_topics(servers: Servers, sid: str) -> List[Any]:
    with sqlite3.connect(servers.db) as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id", (sid,))
        return [json.loads(r[0]).get("metadata", {}).get("topic") for r in rows]


def test_a_restarted_rasa_server_resumes_the_conversation_with_its_slots(servers):
    sid = session(servers)
    assert "scar" in texts(send(servers, sid, "how big is the scar?")).lower()
    before = len(bot_topics(servers, sid))
    servers.stop_rasa()
    servers.start_rasa()
    more = send(servers, sid, "tell me more")
    assert more["messages"] and texts(more) != NO_REPLY
    # "tell me more" is answered from the slot last_topic, set before the restart.
    assert "ask_scarring" in bot_topics(servers, sid)[before:]
    assert stored_users(servers, sid) == ["how big is the scar?", "tell me more"]


def test_a_retry_sent_while_the_original_is_still_running_is_not_handled_twice(servers):
    """The widget retries after its own timeout; the server may still be working on the original."""
    sid = session(servers)
    port = int(servers.action_url.rsplit(":", 1)[1])
    servers.stop_actions()
    hole = BlackHole(port)  # the original hangs for the action timeout
    answers: Dict[str, Any] = {}

    def post(name: str, retry: bool) -> None:
        answers[name] = requests.post(
            f"{servers.rasa_url}/webhooks/patient/message",
            json={"session_id": sid, "message": "how big is the scar", "message_id": "race-00000001", "retry": retry},
            timeout=60,
        )

    try:
        original = threading.Thread(target=post, args=("original", False))
        original.start()
        # the original turn is waiting for the action server
        wait_until(lambda: len(hole.conns) >= 1, "the turn's call to the action server")
        post("retry", True)
        original.join()
    finally:
        hole.close()
    assert answers["original"].status_code == answers["retry"].status_code == 200
    assert answers["retry"].json()["messages"] == answers["original"].json()["messages"]
    assert stored_users(servers, sid) == ["how big is the scar"]


def test_a_burst_beyond_capacity_is_told_busy_at_once_but_an_emergency_is_always_handled(tmp_path):
    """max_turns_in_flight: 2, max_queue_seconds: 0.5. Two turns hang on the action server (30 s timeout, far
    longer than the checks made while they hang take even on a loaded machine); a third
    patient waits half a second for a slot, then is answered "busy" (not after the hung turns); a
    red-flag message does not wait and is handled; the refused message goes through when sent again
    with the same message_id."""
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        CREDENTIALS.replace(f"action_timeout: {ACTION_TIMEOUT}", "action_timeout: 30")
        + "  max_turns_in_flight: 2\n  max_queue_seconds: 0.5\n"
    )
    env = {"CLINIC_PHONE": "", "CLINIC_EMAIL": "", "PATIENT_SESSION_SECRET": uuid.uuid4().hex}
    busy_text = load_messages()["busy"]
    with running_servers(tmp_path, extra_env=env, credentials=credentials) as servers:
        sids = [session(servers) for _ in range(5)]
        port = int(servers.action_url.rsplit(":", 1)[1])
        servers.stop_actions()
        hole = BlackHole(port)
        answers: Dict[int, requests.Response] = {}

        def post(i: int) -> None:
            answers[i] = requests.post(
                f"{servers.rasa_url}/webhooks/patient/message",
                json={"session_id": sids[i], "message": "what does it cost"},
                timeout=60,
            )

        hanging = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
        try:
            for thread in hanging:
                thread.start()
            # both turns are now waiting for the action server
            wait_until(lambda: len(hole.conns) >= 2, "both turns' calls to the action server")
            started = time.monotonic()
            refused = requests.post(
                f"{servers.rasa_url}/webhooks/patient/message",
                json={"session_id": sids[2], "message": "how big is the scar", "message_id": "burst-0000000001"},
                timeout=60,
            )
            assert time.monotonic() - started >= 0.5, "refused only after the bounded wait"
            assert all(thread.is_alive() for thread in hanging), "refused before the hung turns ended"
            assert refused.status_code == 503 and refused.json()["error"] == "busy"
            assert refused.json()["message"] == busy_text and "emergency" in busy_text
            assert refused.headers["Retry-After"] == "3"
            emergency = requests.post(
                f"{servers.rasa_url}/webhooks/patient/message",
                json={"session_id": sids[3], "message": "I can't control my bladder since yesterday"},
                timeout=60,
            )
            assert emergency.status_code == 200, emergency.text  # a queued message would have been told busy
            assert all(thread.is_alive() for thread in hanging), "answered while every slot was still taken"
            assert any(m.get("emergency") for m in emergency.json()["messages"])
            # A red flag that only the spelling corrector's reading shows does not wait either.
            assert not triage_assess(TYPO_HIDDEN_RED_FLAG).escalated, "the typed text alone must be calm here"
            hidden = requests.post(
                f"{servers.rasa_url}/webhooks/patient/message",
                json={"session_id": sids[4], "message": TYPO_HIDDEN_RED_FLAG},
                timeout=60,
            )
            assert hidden.status_code == 200, hidden.text
            assert all(thread.is_alive() for thread in hanging), "answered while every slot was still taken"
            assert [m.get("level") for m in hidden.json()["messages"]] == ["emergency"]
        finally:
            for thread in hanging:
                thread.join()
            hole.close()
        assert [answers[i].status_code for i in (0, 1)] == [200, 200]
        assert stored_users(servers, sids[2]) == [], "the refused message was not taken"
        servers.start_actions()
        again = requests.post(
            f"{servers.rasa_url}/webhooks/patient/message",
            json={
                "session_id": sids[2],
                "message": "how big is the scar",
                "message_id": "burst-0000000001",
                "retry": True,
            },
            timeout=60,
        )
        assert again.status_code == 200 and "scar" in texts(again.json()).lower()
        assert stored_users(servers, sids[2]) == ["how big is the scar"]


def _replace_with_read_only_copy(db: Path) -> Callable[[], None]:
    """Swap the SQLite file for a copy the server can only open read-only; returns the undo.

    A new file (not a chmod in place): the server's kept connection notices the swap and reopens
    the path. chmod 444 stops other users; root ignores it, so as root the copy is also made
    immutable (chattr +i). Skips the test if the copy is still writable.
    """
    copy = db.with_name("read-only-copy.db")
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # no WAL: reading needs no -shm write
    original = db.with_name("original.db")
    os.link(db, original)
    os.replace(copy, db)
    os.chmod(db, 0o444)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode == 0

    def undo() -> None:
        if immutable:
            subprocess.run(["chattr", "-i", str(db)], check=True)
        os.replace(original, db)

    try:
        os.close(os.open(db, os.O_RDWR))
    except OSError:
        return undo
    undo()
    pytest.skip("cannot make a file read-only for this user (root without chattr)")


def test_health_is_503_when_the_database_takes_no_writes_and_liveness_stays_200(servers):
    """Reading a read-only database still works, so a read-only health check said ok while every
    message failed with not_saved. Health now tries a write (rolled back); liveness touches no database."""
    health_url = f"{servers.rasa_url}/webhooks/patient/health"
    live_url = f"{servers.rasa_url}/webhooks/patient/live"
    sid = session(servers)
    assert send(servers, sid, "how long is recovery?")["messages"]
    assert requests.get(health_url, timeout=10).status_code == 200
    undo = _replace_with_read_only_copy(servers.db)
    try:
        refused = requests.post(
            f"{servers.rasa_url}/webhooks/patient/message",
            json={"session_id": sid, "message": "how big is the scar?"},
            timeout=30,
        )
        assert refused.status_code == 503 and refused.json()["error"] == "not_saved"
        health = requests.get(health_url, timeout=10)
        assert health.status_code == 503, health.text
        assert health.json()["tracker_store"] is False and health.json()["model"] is True
        live = requests.get(live_url, timeout=10)
        assert live.status_code == 200 and live.json() == {"status": "alive"}
    finally:
        undo()
    assert requests.get(health_url, timeout=10).status_code == 200
    assert stored_users(servers, sid) == ["how long is recovery?"], "the check itself stored nothing"
    with sqlite3.connect(servers.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events WHERE id < 0 OR sender_id = 'health-check'").fetchone() == (0,)
