"""PostgreSQL (tracker store) and Redis (lock store) become unreachable under a running Rasa server.

The real servers run against the machine's PostgreSQL and Redis through a TCP relay that the test
cuts and restores (an outage as the Rasa server sees it, without stopping the shared services).
"Nothing lost": while a service is down every message gets an explicit 503 with the message to
show (and the emergency advice for an emergency), nothing is half-stored, and after the outage
the conversation goes on with every earlier turn intact. Skipped, visibly, where PostgreSQL or
Redis is not reachable.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import ROOT
from tests.support.process import free_port, wait_until
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CREDENTIALS = """
clinic_channel.patient.PatientInput:
  action_timeout: 5
  session_rate: "1000/60"
  client_rate: "1000/60"
  session_start_rate: "1000/3600"
"""


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Relay:
    """A TCP relay 127.0.0.1:<port> -> 127.0.0.1:<target> that can be cut (all connections dropped,
    new ones refused) and restored on the same port."""

    def __init__(self, target: int) -> None:
        self.target, self.port = target, free_port()
        self.conns: List[socket.socket] = []
        self.listener: Optional[socket.socket] = None
        self.restore()

    def restore(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self.listener:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the relay thread
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.conns = []


@pytest.fixture
def database() -> Iterator[str]:
    if not reachable(5432):
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432: the PostgreSQL outage test is skipped")
    name = f"faults_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def start(tmp_path, **kwargs: Any):
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(CREDENTIALS)
    return running_servers(
        tmp_path, extra_env={"PATIENT_SESSION_SECRET": uuid.uuid4().hex}, credentials=credentials, **kwargs
    )


def new_session(servers: Servers) -> str:
    return requests.post(f"{servers.rasa_url}/webhooks/patient/session", json={}, timeout=10).json()["session_id"]


def send(servers: Servers, sid: str, text: str) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}/webhooks/patient/message", json={"session_id": sid, "message": text}, timeout=60
    )


def send_until_ok(servers: Servers, sid: str, text: str, deadline: float = 60.0) -> Dict[str, Any]:
    """After an outage the first request may still meet a dead pooled connection: the patient retries
    (each refusal a 503 with a message) until an answer comes, within ``deadline`` seconds."""
    answers: List[requests.Response] = []

    def answered() -> bool:
        answer = send(servers, sid, text)
        if answer.status_code != 200:
            assert answer.status_code == 503 and answer.json()["message"]
        answers.append(answer)
        return answer.status_code == 200

    wait_until(answered, f"an answer to {text!r}", deadline, interval=0.5)
    return answers[-1].json()


def user_texts(url: str, sid: str) -> List[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id")
            rows = conn.execute(query, {"s": sid})
            return [json.loads(r[0])["text"] for r in rows]
    finally:
        engine.dispose()


def test_postgresql_outage_is_an_explicit_error_and_nothing_is_half_stored(tmp_path, database):
    relay = Relay(5432)
    url = f"postgresql://postgres@127.0.0.1:{relay.port}/{database}"
    direct = f"postgresql://postgres@127.0.0.1:5432/{database}"
    try:
        with start(tmp_path, database_url=url) as servers:
            sid = new_session(servers)
            answer = send_until_ok(servers, sid, "how long is recovery?")
            assert "3 to 6 weeks" in "\n".join(m["text"] for m in answer["messages"])
            relay.cut()
            answer = send(servers, sid, "and the cost?")
            assert answer.status_code == 503 and answer.json()["error"] == "not_saved"
            assert "emergency number" in answer.json()["message"]
            urgent = send(servers, sid, "i suddenly cant feel my legs and cant pee")
            assert urgent.status_code == 503
            assert any(m["emergency"] for m in urgent.json()["messages"]), "the emergency advice is still shown"
            health = requests.get(f"{servers.rasa_url}/webhooks/patient/health", timeout=30)
            assert health.status_code == 503 and health.json()["tracker_store"] is False
            relay.restore()
            after = send_until_ok(servers, sid, "and the cost?")
            assert "cost" in "\n".join(m["text"] for m in after["messages"]).lower()
            assert user_texts(direct, sid) == ["how long is recovery?", "and the cost?"]
    finally:
        relay.cut()


def test_redis_lock_store_outage_is_an_explicit_error(tmp_path):
    if not reachable(6379):
        pytest.skip("Redis not reachable at 127.0.0.1:6379: the lock-store outage test is skipped")
    relay = Relay(6379)
    lock_store = (
        f'lock_store:\n  type: redis\n  url: "127.0.0.1"\n  port: {relay.port}\n'
        f'  key_prefix: "faults{uuid.uuid4().hex[:6]}"\n'
    )
    try:
        with start(tmp_path, endpoints_extra=lock_store) as servers:
            sid = new_session(servers)
            assert send_until_ok(servers, sid, "hello")["messages"]
            relay.cut()
            answer = send(servers, sid, "how big is the scar")
            assert answer.status_code == 503 and answer.json()["message"]
            urgent = send(servers, sid, "my leg is getting weaker fast and i cant control my bowels")
            assert urgent.status_code == 503
            assert any(m["emergency"] for m in urgent.json()["messages"]), "the emergency advice is still shown"
            relay.restore()
            answer = send_until_ok(servers, sid, "how big is the scar")
            assert "scar" in "\n".join(m["text"] for m in answer["messages"]).lower()
            import sqlite3

            with sqlite3.connect(servers.db) as conn:
                rows = conn.execute(
                    "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sid,)
                )
                assert [json.loads(r[0])["text"] for r in rows] == ["hello", "how big is the scar"]
    finally:
        relay.cut()
