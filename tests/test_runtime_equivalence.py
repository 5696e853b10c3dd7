"""The patched server equals plain Rasa on the project's own conversations.

Every story of tests/test_stories.yml and every held-out message of tests/nlu_test.yml is replayed
over HTTP through two servers started the same way (``python -m clinic_runtime``, the real action
server, the project's tracker store): one with the runtime layer, one with
``CLINIC_RASA_PATCHES=off``. Everything is compared: the replies turn by turn and the stored
conversation - each parse (intent, ranking within a float tolerance, entities, the pipeline's own
keys), each predicted action with its policy and confidence, each bot message with its buttons and
data, each slot value, the active form. A recording proxy in front of the action server keeps every
action call of both runs, so the custom actions can also be run on Rasa's full tracker and on the
trimmed one the layer sends (clinic_runtime.action_calls), and their events and messages compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from tests import replay
from tests.conftest import ROOT
from tests.replay import RecordingProxy, differences, paired_calls, trimmed_body
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

SHOWN = 25  # differences printed when the test fails (all of them are in the JSON files)


@dataclass
class Running:
    """A server pair started with ``CLINIC_RASA_PATCHES=<mode>``, its action calls recorded by the proxy."""

    servers: Servers
    proxy: RecordingProxy

    def log(self) -> str:
        return (self.servers.workdir / "rasa.log").read_text(errors="replace")


@dataclass
class Run:
    """One server's replay: the conversations, the action calls per conversation, the server's log."""

    recorded: Dict[str, Any]
    calls: Dict[str, List[Dict[str, Any]]]
    log: str
    dump: Path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Running]]:
    """A patched and a plain server pair for the module, started the same way, one after the other
    (two Rasa servers starting at once on a busy machine can outlast the start-up wait,
    tests/support/servers.py). Each test talks in conversations of its own, so the tests share the
    servers without reading each other's conversations or action calls."""
    with contextlib.ExitStack() as stack:
        pairs = {}
        for mode in ("on", "off"):
            env = {"CLINIC_RASA_PATCHES": mode, "PATIENT_SESSION_SECRET": uuid.uuid4().hex}
            proxy = stack.enter_context(RecordingProxy())
            servers = stack.enter_context(
                running_servers(
                    tmp_path_factory.mktemp(f"patches-{mode}"),
                    extra_env=env,
                    rasa_args=["--enable-api"],
                    action_endpoint=proxy.url,
                )
            )
            proxy.target = f"{servers.action_url}/webhook"
            pairs[mode] = Running(servers, proxy)
        yield pairs


def _replay(pair: Running, plan: Dict[str, List[str]]) -> Run:
    """The plan through one server pair; the action calls of the plan's conversations."""
    recorded = replay.replay(pair.servers.rasa_url, plan)
    senders = {replay.sender_id(key) for key in plan}
    calls = {sender: made for sender, made in pair.proxy.calls_by_sender().items() if sender in senders}
    dump = pair.servers.workdir / "replay.json"
    dump.write_text(json.dumps({"conversations": recorded, "action_calls": calls}, indent=1), encoding="utf-8")
    return Run(recorded, calls, pair.log(), dump)


@pytest.fixture(scope="module")
def runs(running: Dict[str, Running]) -> Dict[str, Run]:
    plan = replay.conversations()
    return {mode: _replay(running[mode], plan) for mode in ("on", "off")}


def _report(found: List[str], runs: Dict[str, Run]) -> str:
    return f"{len(found)} differences (patched: {runs['on'].dump}, plain: {runs['off'].dump}):\n" + "\n".join(
        found[:SHOWN]
    )


def test_the_replay_covers_every_story_and_held_out_message(runs):
    """What the comparisons below rest on: both servers ran what they were meant to, and every
    story turn and held-out message was answered."""
    assert "clinic_runtime: installed parse_offload" in runs["on"].log
    assert "clinic_runtime: CLINIC_RASA_PATCHES=off: plain Rasa" in runs["off"].log
    assert "clinic_runtime: installed" not in runs["off"].log
    stories, messages = replay.story_conversations(), replay.held_out_messages()
    counts = replay.count_predictions(runs["on"].recorded)
    assert counts["conversations"] == len(stories) + replay.NLU_CONVERSATIONS
    assert counts["turns"] == counts["parsed_messages"] == sum(map(len, stories.values())) + len(messages)
    assert counts["predicted_actions"] > 2 * counts["turns"], counts  # each turn: its actions, then listen
    for key, conversation in runs["on"].recorded.items():
        assert all(conversation["replies"]), f"{key}: a turn without a reply"


def test_patched_and_plain_servers_predict_answer_and_store_the_same(runs):
    found = replay.compare_replays(runs["on"].recorded, runs["off"].recorded)
    assert found == [], _report(found, runs)


def test_the_patched_server_sends_rasas_action_call_with_only_the_recent_events(runs):
    """Each action call of the patched run is the plain run's call (Rasa's body) with the events
    before the patient's latest message left out, and nothing else changed."""
    pairs, unpaired = paired_calls(runs["off"].calls, runs["on"].calls)
    assert unpaired == []
    found = []
    for full, sent in pairs:
        found += differences(trimmed_body(full["body"]), sent["body"], f"{sent['body']['sender_id']}")
    assert found == [], _report(found, runs)
    trimmed = sum(
        len(full["body"]["tracker"]["events"]) > len(sent["body"]["tracker"]["events"]) for full, sent in pairs
    )
    assert trimmed > len(pairs) // 2, "most calls should come after earlier turns, with events left out"


def _execute(bodies: List[Dict[str, Any]]) -> List[Any]:
    """The project's custom actions (rasa_sdk's executor, in this process) on each request body."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")

    async def run_all() -> List[Any]:
        return [await executor.run(body) for body in bodies]

    return asyncio.run(run_all())


def test_the_actions_answer_the_same_on_the_full_and_on_the_trimmed_tracker(runs):
    """Every action call of the replay, run on Rasa's full tracker and on the trimmed one: the same
    events and messages (and the same as the real action server answered in both runs)."""
    pairs, unpaired = paired_calls(runs["off"].calls, runs["on"].calls)
    assert unpaired == []
    on_full = _execute([full["body"] for full, _sent in pairs])
    on_trimmed = _execute([sent["body"] for _full, sent in pairs])
    found = []
    for (full, sent), a, b in zip(pairs, on_full, on_trimmed):
        where = f"{sent['body']['sender_id']} {sent['body']['next_action']}"
        found += differences(a, b, f"{where} full vs trimmed")
        found += differences(a, full["answer"], f"{where} in-process vs action server (plain run)")
        found += differences(b, sent["answer"], f"{where} in-process vs action server (patched run)")
    assert found == [], _report(found, runs)
    called = Counter(sent["body"]["next_action"] for _full, sent in pairs)
    # The calls cover the actions the stories are about, the callback form's validation included.
    assert {
        "action_answer_topic",
        "action_tell_more",
        "action_handoff",
        "validate_callback_form",
        "action_submit_callback",
    } <= set(called), called
    assert all(call["status"] == 200 for _full, sent in pairs for call in (_full, sent))


# --- the patient channel (the widget's) -----------------------------------------------------------


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


def test_plain_rasa_serves_the_same_answers_as_the_patched_server(running):
    """CLINIC_RASA_PATCHES=off: the same replies over the patient channel, turn by turn, over a
    conversation of held-out questions, follow-ups, a triage message and the callback form; and the
    log says which ran."""
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
    answers = {
        mode: [
            reply
            for conversation in conversations
            for reply in _conversation(running[mode].servers.rasa_url, conversation)
        ]
        for mode in ("on", "off")
    }
    for turn, (patched, plain) in enumerate(zip(answers["on"], answers["off"])):
        assert patched == plain, (messages[turn], patched, plain)
    logs = {mode: running[mode].log() for mode in ("on", "off")}
    assert "clinic_runtime: installed parse_offload" in logs["on"]
    assert "clinic_runtime: CLINIC_RASA_PATCHES=off: plain Rasa" in logs["off"]
    assert "clinic_runtime: installed" not in logs["off"]
