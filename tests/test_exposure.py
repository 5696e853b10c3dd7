"""What the servers expose: CORS only to configured origins, the HTTP API off unless a token is set
(and then every API route needs it), both servers bound to loopback."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator, List

import pytest
import requests

from tests.conftest import ROOT
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

ALLOWED = "http://127.0.0.1:8080"
FOREIGN = "http://evil.example"
TOKEN = uuid.uuid4().hex


def _servers(tmp_path_factory, name: str, rasa_args: List[str]) -> Iterator[Servers]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    env = {"PATIENT_SESSION_SECRET": uuid.uuid4().hex}
    with running_servers(tmp_path_factory.mktemp(name), extra_env=env, rasa_args=rasa_args) as s:
        yield s


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Iterator[Servers]:
    """As `make run` starts it: no HTTP API, CORS for the demo page's origin."""
    yield from _servers(tmp_path_factory, "plain", ["--cors", ALLOWED])


@pytest.fixture(scope="module")
def with_api(tmp_path_factory) -> Iterator[Servers]:
    """As `RASA_API_TOKEN=... make run` starts it."""
    yield from _servers(tmp_path_factory, "api", ["--cors", ALLOWED, "--enable-api", "--auth-token", TOKEN])


def preflight(url: str, origin: str) -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )


def test_cors_is_granted_to_the_configured_origin_only(plain):
    url = f"{plain.rasa_url}/webhooks/patient/session"
    assert preflight(url, ALLOWED).headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert (
        requests.post(url, json={}, headers={"Origin": ALLOWED}, timeout=10).headers.get("Access-Control-Allow-Origin")
        == ALLOWED
    )
    for answer in (preflight(url, FOREIGN), requests.post(url, json={}, headers={"Origin": FOREIGN}, timeout=10)):
        assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize(
    "method, path",
    [("POST", "/model/parse"), ("GET", "/conversations/x/tracker"), ("PUT", "/model"), ("GET", "/status")],
)
def test_without_a_token_the_http_api_does_not_exist(plain, method, path):
    answer = requests.request(method, f"{plain.rasa_url}{path}", json={"text": "hi"}, timeout=10)
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "method, path", [("POST", "/model/parse"), ("GET", "/conversations/x/tracker"), ("GET", "/status")]
)
def test_api_routes_refuse_a_missing_or_wrong_token(with_api, method, path):
    url = f"{with_api.rasa_url}{path}"
    assert requests.request(method, url, json={"text": "hi"}, timeout=10).status_code == 401
    assert requests.request(method, url, params={"token": "wrong"}, json={"text": "hi"}, timeout=10).status_code == 401


def test_the_api_answers_with_the_token(with_api):
    answer = requests.post(
        f"{with_api.rasa_url}/model/parse", params={"token": TOKEN}, json={"text": "how long is recovery"}, timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["intent"]["name"] == "ask_recovery_time"


def _listening_addresses(port: int) -> List[str]:
    """Local addresses of the listening TCP sockets on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.append(address)
    return found


def test_both_servers_listen_on_loopback_only(plain):
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    for url in (plain.rasa_url, plain.action_url):
        addresses = _listening_addresses(int(url.rsplit(":", 1)[1]))
        assert addresses and set(addresses) <= loopback, (url, addresses)


def test_the_action_server_grants_no_cors(plain):
    answer = requests.get(f"{plain.action_url}/health", headers={"Origin": FOREIGN}, timeout=10)
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_the_shipped_credentials_name_only_the_guarded_channels():
    import yaml

    channels = set(yaml.safe_load((ROOT / "credentials.yml").read_text()))
    assert channels == {"clinic_channel.patient.PatientInput", "clinic_channel.rest.GuardedRestInput"}


@pytest.mark.parametrize("path", ["/socket.io/?EIO=4&transport=polling", "/webhooks/socketio/webhook"])
def test_no_socketio_channel_is_mounted(plain, path):
    """Rasa's socket.io channel takes any sender id, typed /intent payloads and unlimited text."""
    assert requests.get(f"{plain.rasa_url}{path}", timeout=10).status_code == 404


def test_the_root_page_does_not_disclose_the_rasa_version(plain, with_api):
    """ "Hello from Rasa: 3.6.21" tells a scanner which advisories apply; probes only need the 200."""
    import rasa

    for servers in (plain, with_api):
        answer = requests.get(f"{servers.rasa_url}/", timeout=10)
        assert answer.status_code == 200
        assert "Rasa" not in answer.text and rasa.__version__ not in answer.text


def test_cors_grants_no_credentials(plain):
    """Nothing here uses cookies or HTTP authentication across origins."""
    url = f"{plain.rasa_url}/webhooks/patient/session"
    answers = [
        preflight(url, ALLOWED),
        requests.post(url, json={}, headers={"Origin": ALLOWED}, timeout=10),
        requests.get(f"{plain.rasa_url}/nowhere", headers={"Origin": ALLOWED}, timeout=10),
    ]
    for answer in answers:
        assert answer.headers.get("Access-Control-Allow-Origin") == ALLOWED, answer.request.method
        assert "Access-Control-Allow-Credentials" not in answer.headers, answer.request.method


@pytest.mark.parametrize(
    "method, path, body_bytes, status, code",
    [
        ("GET", "/nowhere", 0, 404, "not_found"),
        ("GET", "/webhooks/socketio/webhook", 0, 404, "not_found"),
        ("GET", "/webhooks/patient/message", 0, 405, "method_not_allowed"),
        ("DELETE", "/webhooks/patient/session", 0, 405, "method_not_allowed"),
        ("POST", "/webhooks/patient/message", 200_000, 413, "request_too_large"),
        ("POST", "/webhooks/rest/webhook", 200_000, 413, "request_too_large"),
    ],
)
def test_the_servers_own_errors_are_json_with_a_code_and_the_emergency_line(
    plain, method, path, body_bytes, status, code
):
    """Sanic answers these before any channel code runs; the widget must still be able to show them."""
    answer = requests.request(
        method,
        f"{plain.rasa_url}{path}",
        data=b"x" * body_bytes or None,
        timeout=10,
        headers={"Origin": ALLOWED, "Content-Type": "application/json"},
    )
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/json")
    payload = answer.json()
    assert payload["error"] == payload["code"] == code
    assert "emergency number" in payload["message"]
    assert answer.headers.get("Access-Control-Allow-Origin") == ALLOWED, "readable by the widget"
    if status == 405:
        assert "POST" in answer.headers["Allow"]


def test_rasa_api_errors_keep_their_own_format(with_api):
    """The server-wide JSON errors must not replace the Rasa HTTP API's error bodies."""
    refused = requests.get(f"{with_api.rasa_url}/status", timeout=10)
    assert refused.status_code == 401 and refused.json()["reason"] == "NotAuthenticated"
    bad = requests.get(
        f"{with_api.rasa_url}/conversations/x/tracker", params={"token": TOKEN, "include_events": "NOPE"}, timeout=10
    )
    assert bad.status_code == 400 and bad.json()["reason"] == "BadRequest"
    assert requests.get(f"{with_api.rasa_url}/status", params={"token": TOKEN}, timeout=10).status_code == 200
