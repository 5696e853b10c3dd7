"""tests/replay.py: the comparison behind the patched-vs-plain replay finds what it must find."""

from __future__ import annotations

import copy

import pytest

from tests import replay
from tests.replay import differences, trimmed_body

pytestmark = pytest.mark.unit

USER = {
    "event": "user",
    "timestamp": 1.0,
    "text": "how much is it",
    "parse_data": {
        "intent": {"name": "ask_cost", "confidence": 0.91},
        "intent_ranking": [{"name": "ask_cost", "confidence": 0.91}, {"name": "ask_safety", "confidence": 0.05}],
        "entities": [],
        "message_id": "abc",
    },
    "message_id": "abc",
}
ACTION = {"event": "action", "timestamp": 2.0, "name": "action_answer_topic", "policy": "RulePolicy", "confidence": 1.0}


def test_same_conversation_with_other_times_and_message_ids_has_no_differences():
    other = copy.deepcopy([USER, ACTION])
    other[0]["timestamp"], other[0]["message_id"], other[0]["parse_data"]["message_id"] = 9.0, "zz", "zz"
    other[1]["timestamp"] = 10.0
    assert differences([USER, ACTION], other) == []


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda e: e[0]["parse_data"]["intent"].update(name="ask_safety"), "$[0].parse_data.intent.name"),
        (
            lambda e: e[0]["parse_data"]["intent_ranking"][1].update(confidence=0.06),
            "$[0].parse_data.intent_ranking[1]",
        ),
        (lambda e: e[0]["parse_data"]["entities"].append({"entity": "x"}), "$[0].parse_data.entities"),
        (lambda e: e[1].update(policy="MemoizationPolicy"), "$[1].policy"),
        (lambda e: e[1].update(name="action_tell_more"), "$[1].name"),
        (lambda e: e.append({"event": "slot", "name": "last_topic", "value": "ask_cost"}), "$: 2 vs 3 items"),
        (lambda e: e[1].pop("confidence"), "$[1].confidence: only in first"),
        (lambda e: e[1].update(confidence=True), "$[1].confidence"),
    ],
)
def test_a_changed_prediction_or_event_is_a_difference(change, where):
    other = copy.deepcopy([USER, ACTION])
    change(other)
    found = differences([USER, ACTION], other)
    assert len(found) == 1 and found[0].startswith(where), found


def test_floats_agree_within_the_tolerance_only():
    assert differences({"c": 0.5}, {"c": 0.5 + replay.FLOAT_TOLERANCE / 2}) == []
    assert differences({"c": 0.5}, {"c": 0.5 + replay.FLOAT_TOLERANCE * 2}) != []
    assert differences({"c": 1}, {"c": 1.0}) == []


def test_the_trimmed_body_keeps_the_events_from_the_latest_user_message_and_everything_else():
    body = {
        "next_action": "action_tell_more",
        "sender_id": "s",
        "version": "3.6.21",
        "tracker": {"slots": {"last_topic": "ask_cost"}, "events": [ACTION, USER, ACTION, USER, {"event": "slot"}]},
    }
    cut = trimmed_body(body)
    assert cut["tracker"]["events"] == [USER, {"event": "slot"}]
    assert {k: v for k, v in cut["tracker"].items() if k != "events"} == {"slots": {"last_topic": "ask_cost"}}
    assert {k: v for k, v in cut.items() if k != "tracker"} == {k: v for k, v in body.items() if k != "tracker"}
    assert len(body["tracker"]["events"]) == 5, "the original is left as it was"


def test_the_plan_holds_every_story_turn_and_every_held_out_message_once():
    plan = replay.conversations()
    stories = replay.story_conversations()
    assert len(stories) == replay.STORIES_FILE.read_text(encoding="utf-8").count("- story:")
    assert all(plan[key] == turns and turns for key, turns in stories.items())
    dealt = [text for key, turns in plan.items() if key.startswith("nlu:") for text in turns]
    assert sorted(dealt) == sorted(replay.held_out_messages())
    assert len(dealt) == sum(
        1
        for line in replay.NLU_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("- ") and "intent:" not in line
    )
    assert len({replay.sender_id(key) for key in plan}) == len(plan)
