"""clinic_runtime: one visible, version-checked, switchable layer of runtime patches over Rasa."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List

import pytest
import requests
import yaml

import clinic_runtime
from clinic_runtime import layer
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.fixture
def plain_rasa(rasa_restored):
    """Rasa's own attributes before the test (other tests restore what they patch); the layer
    undone after it, and checked."""
    clinic_runtime.uninstall()
    before = {target: layer._read(target) for patch in layer.PATCHES for target in patch.targets}
    yield before
    clinic_runtime.uninstall()
    assert {target: layer._read(target) for target in before} == before


def test_install_replaces_every_target_logs_each_patch_and_uninstall_restores_rasa(plain_rasa, caplog):
    with caplog.at_level(logging.INFO, logger="clinic_runtime"):
        names = clinic_runtime.install(action_timeout=7, safe_reply="safe", env={})
    assert names == clinic_runtime.patch_names() == clinic_runtime.installed()
    changed = [target for target, value in plain_rasa.items() if layer._read(target) is not value]
    assert sorted(changed) == sorted(plain_rasa), "a patch left its target as Rasa's"
    import rasa.core.actions.action as rasa_action

    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 7
    assert [r.getMessage() for r in caplog.records] == [f"clinic_runtime: installed {n}" for n in names]
    # Idempotent: a channel installing again logs nothing new, and may set its own timeout.
    caplog.clear()
    assert clinic_runtime.install(action_timeout=3, env={}) == names and not caplog.records
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 3
    clinic_runtime.install(env={})  # no timeout given: the one set stays
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 3


def test_another_rasa_version_installs_nothing_and_says_so_in_one_line(plain_rasa, caplog):
    with caplog.at_level(logging.INFO, logger="clinic_runtime"):
        assert clinic_runtime.install(env={}, rasa_version="3.7.0") == []
    assert all(layer._read(target) is value for target, value in plain_rasa.items())
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.ERROR
    assert "written for Rasa 3.6.21, found Rasa 3.7.0" in caplog.records[0].getMessage()


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
def test_the_switch_gives_plain_rasa(plain_rasa, caplog, value):
    with caplog.at_level(logging.INFO, logger="clinic_runtime"):
        assert clinic_runtime.install(env={clinic_runtime.PATCHES_ENV: value}) == []
    assert all(layer._read(target) is value_ for target, value_ in plain_rasa.items())
    assert "plain Rasa" in caplog.records[0].getMessage()


def test_every_patched_module_lives_in_the_runtime_package():
    """Nothing outside clinic_runtime assigns to a Rasa class or module attribute."""
    import re

    assignment = re.compile(
        r"^\s*(?:rasa\.[\w.]+|MessageProcessor|DialogueStateTracker|EndpointConfig|RemoteAction|"
        r"Event|rasa_action|rasa_endpoints)\.\w+\s*=",
        re.M,
    )
    offenders = []
    for package in ("clinic_channel", "clinic_nlu", "clinic_store", "clinic_triage", "actions", "review"):
        for path in (ROOT / package).rglob("*.py"):
            if assignment.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- the running server ------------------------------------------------------------------------


def _conversation(base: str, messages: List[str]) -> List[List[Dict[str, Any]]]:
    sid = requests.post(f"{base}/webhooks/patient/session", json={}, timeout=30).json()["session_id"]
    replies = []
    for text in messages:
        answer = requests.post(
            f"{base}/webhooks/patient/message", json={"session_id": sid, "message": text}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        replies.append(
            [{k: m.get(k) for k in ("text", "buttons", "level", "emergency")} for m in answer.json()["messages"]]
        )
    return replies


@pytest.mark.integration
def test_plain_rasa_serves_the_same_answers_as_the_patched_server(tmp_path):
    """CLINIC_RASA_PATCHES=off: the same replies, turn by turn, over a conversation of held-out
    questions, follow-ups, a triage message and the callback form; and the log says which ran."""
    from tests.support.servers import running_servers

    held_out = yaml.safe_load((ROOT / "tests" / "nlu_test.yml").read_text())["nlu"]
    questions = [
        line[2:].strip()
        for block in held_out
        if block.get("intent", "").startswith("ask_")
        for line in block["examples"].splitlines()[:2]
        if line.startswith("- ")
    ]
    # Conversations short enough for the per-conversation rate limit.
    conversations = [
        ["hello", *questions[:5], "tell me more"],
        [*questions[5:11], "and the cost?"],
        [*questions[11:16], "I can't feel my legs and can't pee"],
        ["can someone call me", "thanks"],
    ]
    messages = [text for conversation in conversations for text in conversation]
    answers, logs = {}, {}
    for mode in ("on", "off"):
        env = {"CLINIC_RASA_PATCHES": mode, "PATIENT_SESSION_SECRET": uuid.uuid4().hex}
        (tmp_path / mode).mkdir()
        with running_servers(tmp_path / mode, extra_env=env) as servers:
            answers[mode] = [
                reply for conversation in conversations for reply in _conversation(servers.rasa_url, conversation)
            ]
            logs[mode] = (servers.workdir / "rasa.log").read_text(errors="replace")
    for turn, (patched, plain) in enumerate(zip(answers["on"], answers["off"])):
        assert patched == plain, (messages[turn], patched, plain)
    assert "clinic_runtime: installed parse_offload" in logs["on"]
    assert "clinic_runtime: CLINIC_RASA_PATCHES=off: plain Rasa" in logs["off"]
    assert "clinic_runtime: installed" not in logs["off"]
