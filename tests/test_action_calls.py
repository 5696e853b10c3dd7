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
