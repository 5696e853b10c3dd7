"""The rule components' shared switch and intent replacement (clinic_nlu/switchable.py)."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.follow_up_component import BareFollowUp
from clinic_nlu.instructions_component import NothingLeftToRead, SetAsideInstructions
from clinic_nlu.language_component import NotEnglish
from clinic_nlu.own_case_component import OwnCaseDeferral
from clinic_nlu.switchable import SwitchableComponent, replace_intent, set_intent

pytestmark = pytest.mark.unit

RULE_COMPONENTS = [BareFollowUp, NothingLeftToRead, SetAsideInstructions, NotEnglish, OwnCaseDeferral]


def classified(name: str = "goodbye", confidence: float = 0.7) -> Message:
    message = Message(data={"text": "<img src=x onerror=alert(1)>"})
    message.set("intent", {"name": name, "confidence": confidence})
    message.set("intent_ranking", [{"name": name, "confidence": confidence}, {"name": "greet", "confidence": 0.2}])
    message.set("topics", [{"name": name}, {"name": "greet"}])
    return message


@pytest.mark.parametrize("component", RULE_COMPONENTS, ids=lambda c: c.__name__)
def test_every_rule_component_is_switchable_and_on_by_default(component: type) -> None:
    assert issubclass(component, SwitchableComponent)
    assert component.get_default_config()["enabled"] is True


@pytest.mark.parametrize("component", RULE_COMPONENTS, ids=lambda c: c.__name__)
def test_an_enabled_setting_that_is_not_true_or_false_is_refused_by_name(component: type) -> None:
    with pytest.raises(ValueError, match=f"{component.__name__}: enabled must be true or false"):
        component({**component.get_default_config(), "enabled": "no"})


@pytest.mark.parametrize("component", RULE_COMPONENTS, ids=lambda c: c.__name__)
def test_switched_off_a_rule_component_leaves_the_classifiers_reading(component: type) -> None:
    message = classified()
    message.set("instructions_only", True)
    component({**component.get_default_config(), "enabled": False}).process([message])
    assert message.get("intent") == {"name": "goodbye", "confidence": 0.7}
    assert message.get("topics") == [{"name": "goodbye"}, {"name": "greet"}]


def test_training_messages_are_read_as_written() -> None:
    data = TrainingData([Message(data={"text": "what about work", "intent": "ask_more"})])
    assert NothingLeftToRead({"enabled": True}).process_training_data(data) is data


def test_replace_intent_keeps_the_classifiers_reading_for_staff_and_decides_alone() -> None:
    message = classified()
    replace_intent(message, "nlu_fallback", "instructions_only", {"why": "markup"})
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert message.get("instructions_only") == {"replaced": {"name": "goodbye", "confidence": 0.7}, "why": "markup"}
    assert message.get("topics") is None
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "goodbye", "greet"]
    assert "instructions_only" in message.as_dict(only_output_properties=True)


def test_set_intent_puts_the_decision_first_once() -> None:
    message = classified()
    set_intent(message, {"name": "greet", "confidence": 1.0})
    assert message.get("intent") == {"name": "greet", "confidence": 1.0}
    assert message.get("intent_ranking") == [
        {"name": "greet", "confidence": 1.0},
        {"name": "goodbye", "confidence": 0.7},
    ]
    assert message.get("topics") == [{"name": "goodbye"}, {"name": "greet"}]
