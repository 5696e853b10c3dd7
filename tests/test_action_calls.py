"""clinic_channel.action_calls: the cached validator accepts and rejects exactly what Rasa's does."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from clinic_channel.action_calls import _validate_action_result, install_cached_validation

GOOD = [
    {"events": [{"event": "slot", "name": "last_topic", "value": "ask_cost"}], "responses": [{"text": "hi"}]},
    {"events": [], "responses": []},
    {},
]
BAD = [
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"events": "nope"},
    {"responses": [1, 2]},
]


@pytest.mark.parametrize("result", GOOD)
def test_valid_results_pass(result):
    action = RemoteAction("action_x", None)
    validate(result, action.action_response_format_spec())  # Rasa's own check agrees
    assert _validate_action_result(action, result) is True


@pytest.mark.parametrize("result", BAD)
def test_invalid_results_fail_as_in_rasa(result):
    action = RemoteAction("action_x", None)
    with pytest.raises(ValidationError):
        validate(result, action.action_response_format_spec())
    with pytest.raises(ValidationError) as raised:
        _validate_action_result(action, result)
    assert "Failed to validate Action server response" in raised.value.message


def test_install_replaces_rasas_method():
    install_cached_validation()
    assert RemoteAction._validate_action_result is _validate_action_result


def test_only_the_events_since_the_latest_user_message_are_sent():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from clinic_channel.action_calls import install_short_action_calls
    from tests.conftest import ROOT

    install_short_action_calls()
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("s", [
        ActionExecuted("action_listen"), UserUttered("how much", {"name": "ask_cost", "confidence": 0.9}),
        ActionExecuted("action_answer_topic"), SlotSet("last_topic", "ask_cost"), ActionExecuted("action_listen"),
        UserUttered("tell me more", {"name": "ask_more", "confidence": 0.9}),
    ], slots=domain.slots)
    sent = RemoteAction("action_tell_more", None)._action_call_format(tracker, domain)["tracker"]
    assert [e["event"] for e in sent["events"]] == ["user"]
    assert sent["events"][0]["text"] == "tell me more"
    assert sent["slots"]["last_topic"] == "ask_cost", "slot values still travel with the call"
    assert sent["latest_message"]["intent"]["name"] == "ask_more"
