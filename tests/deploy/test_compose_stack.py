"""The Compose deployment (deploy/compose.yml) as a patient and a member of staff meet it: the real
images, PostgreSQL, Redis and nginx, over real HTTP through the one public port."""

from __future__ import annotations

import pytest

import re
import subprocess
import sys
import uuid
from urllib.parse import parse_qs

import requests

from tests.deploy.compose_stack import ROOT, Stack
from tests.support.process import http_ok, wait_until

pytestmark = pytest.mark.integration

EMERGENCY_TEXT = "i cant pee since last night and my groin is numb"
STAFF_PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CONV_LINK_RE = re.compile(r'href="/conversation\?id=([^"&]+)"')


def patient_message(stack: Stack, session_id: str, text: str) -> dict:
    r = requests.post(
        stack.public_url + "/webhooks/patient/message",
        timeout=90,
        json={"session_id": session_id, "message": text, "message_id": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text[:500]
    return r.json()


def test_outside_in_probe_passes_through_the_proxy(stack: Stack):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "probe.py"), stack.public_url, "--proxy"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_patient_conversation_with_an_emergency_and_staff_see_it(stack: Stack):
    r = requests.post(stack.public_url + "/webhooks/patient/session", json={}, timeout=60)
    assert r.status_code == 200, r.text[:500]
    session_id = r.json()["session_id"]

    answer = patient_message(stack, session_id, "how long is the recovery after spinal endoscopy?")
    assert answer["messages"] and all(m.get("level") in (None, "none") for m in answer["messages"]), answer
    answer = patient_message(stack, session_id, EMERGENCY_TEXT)
    emergency = [m for m in answer["messages"] if m.get("level") == "emergency"]
    assert emergency and emergency[0].get("emergency"), answer
    assert "emergency" in emergency[0]["text"].lower(), answer

    # Staff: an account made with the review image's CLI, then the web app on its loopback-only port.
    made = stack.exec(
        "review", "python", "-m", "review.cli", "create-user", "nurse", "--password-stdin", stdin=STAFF_PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stdout + made.stderr
    staff = requests.Session()
    page = staff.get(stack.review_url + "/login", timeout=30)
    token = CSRF_RE.search(page.text).group(1)
    login = staff.post(
        stack.review_url + "/login",
        allow_redirects=False,
        timeout=60,
        data={"username": "nurse", "password": STAFF_PASSWORD, "csrf_token": token},
    )
    assert login.status_code == 303, login.text[:500]

    def linked_conversations() -> list:
        page = staff.get(stack.review_url + "/open", timeout=30).text
        return [parse_qs("id=" + raw)["id"][0] for raw in CONV_LINK_RE.findall(page)]

    # The review app folds new events into its summaries in the background: wait for it.
    wait_until(lambda: session_id in linked_conversations(), "the emergency conversation among the open items", 120)
    conversation = staff.get(stack.review_url + "/conversation", params={"id": session_id}, timeout=30)
    assert conversation.status_code == 200
    assert "turn-emergency" in conversation.text


def test_only_the_patient_channel_and_the_widget_are_public(stack: Stack):
    public = stack.public_url
    assert requests.get(public + "/widget/clinic-chat.js", timeout=30).status_code == 200
    for method, path in [
        ("GET", "/status"),
        ("GET", "/version"),
        ("POST", "/model/parse"),
        ("GET", "/conversations/x/tracker"),
        ("POST", "/webhooks/rest/webhook"),
        ("GET", "/login"),
        ("GET", "/healthz"),
        ("GET", "/open"),
        ("GET", "/health"),
        ("POST", "/webhook"),
        ("GET", "/widget/demo/index.html"),
    ]:
        r = requests.request(method, public + path, json={} if method == "POST" else None, timeout=30)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
    # Published ports: the proxy's (public) and the review app's, on loopback only; no other service.
    published = {}
    for service in ("proxy", "review", "rasa", "actions", "postgres", "redis"):
        out = subprocess.run(["podman", "port", stack.container(service)], capture_output=True, text=True, timeout=60)
        published[service] = out.stdout.split()
    assert not any(published[s] for s in ("rasa", "actions", "postgres", "redis")), published
    assert all(p.startswith("127.0.0.1:") for p in published["review"] if ":" in p), published


EMERGENCY_ADVICE = "In an emergency, call your local emergency number now."


def assert_channel_error(r: requests.Response, status: int, code: str) -> None:
    """The patient channel's JSON error (docs/patient-api.md) with the emergency advice, not an HTML page."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
    body = r.json()
    assert body["code"] == code and body["error"] == code, body
    assert body["message"].endswith(EMERGENCY_ADVICE), body


def test_too_large_bodies_get_the_channels_json_with_the_emergency_advice(stack: Stack):
    url = stack.public_url + "/webhooks/patient/message"
    # 30 kB: over the channel's max_body_bytes, under the proxy's limit (the channel answers); 100 kB:
    # over the proxy's client_max_body_size (nginx answers, from deploy/nginx-errors.conf).
    for size in (30_000, 100_000):
        body = '{"session_id": "x", "message": "' + "a" * size + '"}'
        r = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=60)
        assert_channel_error(r, 413, "request_too_large")


def test_what_is_not_public_gets_the_channels_json_not_an_html_page(stack: Stack):
    assert_channel_error(requests.get(stack.public_url + "/status", timeout=30), 404, "not_found")


def test_the_review_image_groups_questions_with_the_minilm_encoder(stack: Stack):
    # The staff app falls back to grouping by wording when its encoder cannot load: the image's own
    # requirements (requirements-review.txt) must be enough for the real one.
    script = (
        "from review import unanswered as u; v = u.embed(['how long is recovery', 'how long does recovery "
        "take', 'what does it cost']); print(u._encoder_error, v.shape, u.cluster(v))"
    )
    result = stack.exec("review", "python", "-c", script)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[0] == "None (3, 384) [[0, 1], [2]]", result.stdout


def test_the_servers_run_unprivileged(stack: Stack):
    for service in ("rasa", "actions", "review"):
        uid = stack.exec(service, "id", "-u")
        assert uid.returncode == 0 and uid.stdout.strip() != "0", (service, uid.stdout, uid.stderr)


def test_each_image_healthcheck_reports_healthy(stack: Stack):
    # What Docker, or podman with systemd, runs every 10 s (podman-compose waits on it for
    # `condition: service_healthy`); run here once by hand, as these machines have no systemd.
    for service in ("actions", "rasa", "review"):
        result = subprocess.run(
            ["podman", "healthcheck", "run", stack.container(service)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (service, result.stdout, result.stderr)


def test_with_the_rasa_server_down_the_proxy_answers_the_channels_json(stack: Stack):
    """nginx's own 502/504 while the Rasa container is stopped; the stack is restored afterwards."""
    subprocess.run(
        ["podman", "stop", "-t", "10", stack.container("rasa")], check=True, capture_output=True, timeout=120
    )
    try:
        r = requests.post(
            stack.public_url + "/webhooks/patient/message",
            timeout=60,
            json={"session_id": "x", "message": "hello", "message_id": uuid.uuid4().hex},
        )
        assert r.status_code in (502, 503, 504), (r.status_code, r.text[:300])
        assert_channel_error(r, r.status_code, "not_ready")
    finally:
        subprocess.run(["podman", "start", stack.container("rasa")], check=True, capture_output=True, timeout=120)
        # nginx resolved the container's address at its start: restart it with the Rasa server's
        wait_until(
            lambda: subprocess.run(
                ["podman", "healthcheck", "run", stack.container("rasa")], capture_output=True, timeout=120
            ).returncode
            == 0,
            "the Rasa server healthy again",
            600,
            interval=2,
        )
        subprocess.run(["podman", "restart", stack.container("proxy")], check=True, capture_output=True, timeout=120)
        wait_until(
            lambda: http_ok(stack.public_url + "/webhooks/patient/health", timeout=5),
            "the proxy answering the health check again",
            120,
            interval=1,
        )
