"""A generated suite of malformed requests against the real server (both patient-facing channels).

Hypothesis generates wrong types, missing fields, empty/whitespace text, huge text, invalid UTF-8,
non-JSON, deeply nested JSON, RTL/zero-width/emoji/NUL text and slash-intent injections. After
all of them: no 5xx, the server still answers, nothing was stored in a ``default`` conversation,
and no injected command restarted a conversation or set entities. The counts are written to
``var/results/bad_input.json`` (quoted in BENCHMARKS.md).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from typing import Any, Dict, Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

EXAMPLES_PER_CHANNEL = 300
CREDENTIALS = ROOT / "bench" / "credentials.load.yml"  # rate limits lifted: the suite sends fast
TRICKY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\n\t",
        "\x00",
        "\x00hello",
        "\u200b",
        "\u200b\u200d\ufeff",
        "\u202eevil",
        "مرحبا كيف حالك",
        "שלום",
        "😟😟😟",
        "👩‍⚕️?",
        "a" * 2001,
        "b" * 50_000,
        "/restart",
        "/session_start",
        '/ask_cost{"x": {"$gt": ""}}',
        "/greet@0.01",
        "/report_emergency",
        '/ask_safety{"a":1}@1.0',
        "<img src=x onerror=alert(1)>",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "' OR 1=1 --",
        "\udcff lone surrogate",
        "\ud83d",
    ]
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50))
JSON_ANY = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Bodies that are not a proper JSON object at all."""
    return st.one_of(
        st.binary(max_size=300),  # random bytes, mostly invalid UTF-8
        st.just(b""),
        st.just(b"\xff\xfe\x00\x00"),
        st.integers(10, 3000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
        st.integers(10, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        JSON_ANY.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
        st.just(b"x" * 300_000),  # over the body cap
    )


def field_values() -> st.SearchStrategy[Any]:
    return st.one_of(TRICKY_TEXT, JSON_ANY, st.text(max_size=200))


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    workdir = tmp_path_factory.mktemp("badinput")
    with running_servers(workdir, extra_env={"PATIENT_SESSION_SECRET": uuid.uuid4().hex}, credentials=CREDENTIALS) as s:
        yield s


@pytest.fixture(scope="module")
def tally() -> Iterator[Dict[str, Counter]]:
    counts: Dict[str, Counter] = {"patient": Counter(), "rest": Counter()}
    yield counts
    out = ROOT / "var" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bad_input.json").write_text(json.dumps({k: dict(v) for k, v in counts.items()}, indent=2, sort_keys=True))


def post(servers: Servers, path: str, body: bytes) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}{path}", data=body, headers={"Content-Type": "application/json"}, timeout=30
    )


def record(tally: Counter, answer: requests.Response) -> None:
    tally["requests"] += 1
    tally[f"status_{answer.status_code}"] += 1
    if answer.status_code >= 500 and answer.status_code != 503:
        tally["5xx"] += 1
    assert answer.status_code < 500, answer.text[:200]
    if answer.status_code >= 400:
        assert answer.json()["message"], "every refusal carries a message the widget can show"


@settings(max_examples=EXAMPLES_PER_CHANNEL, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_patient_channel_bad_requests(servers, tally, data):
    kind = data.draw(st.sampled_from(["raw", "fields", "valid_session"]))
    if kind == "raw":
        body = data.draw(raw_bodies())
    elif kind == "fields":
        fields = data.draw(
            st.dictionaries(
                st.sampled_from(["session_id", "message", "message_id", "retry", "extra"]), field_values(), max_size=5
            )
        )
        body = json.dumps(fields).encode()
    else:
        session = requests.post(f"{servers.rasa_url}/webhooks/patient/session", json={}, timeout=10).json()[
            "session_id"
        ]
        fields = {"session_id": session, "message": data.draw(st.one_of(TRICKY_TEXT, st.text(max_size=300)))}
        if data.draw(st.booleans()):
            fields["message_id"] = data.draw(field_values())
        body = json.dumps(fields).encode()
    record(tally["patient"], post(servers, "/webhooks/patient/message", body))


@settings(max_examples=EXAMPLES_PER_CHANNEL, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_rest_channel_bad_requests(servers, tally, data):
    if data.draw(st.booleans()):
        body = data.draw(raw_bodies())
    else:
        fields = data.draw(
            st.dictionaries(
                st.sampled_from(["sender", "message", "metadata", "input_channel"]), field_values(), max_size=4
            )
        )
        if data.draw(st.booleans()):
            fields["sender"] = f"fuzz-{uuid.uuid4().hex[:8]}"
        body = json.dumps(fields).encode()
    record(tally["rest"], post(servers, "/webhooks/rest/webhook", body))


def test_after_the_suite_nothing_went_to_default_and_no_command_ran(servers, tally):
    assert sum(c["requests"] for c in tally.values()) >= 2 * EXAMPLES_PER_CHANNEL, "run with the suites above"
    assert sum(c["5xx"] for c in tally.values()) == 0
    assert requests.get(f"{servers.rasa_url}/webhooks/patient/health", timeout=10).status_code == 200
    with sqlite3.connect(servers.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events WHERE sender_id = 'default'").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM events WHERE type_name = 'restart'").fetchone() == (0,)
        users = [json.loads(r[0]) for r in conn.execute("SELECT data FROM events WHERE type_name = 'user'")]
    assert users, "some generated messages were valid and reached the assistant"
    assert all(u["parse_data"].get("entities", []) == [] for u in users), "no entities smuggled in"
    tally["patient"]["stored_user_messages"] = len(users)
