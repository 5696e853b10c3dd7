"""clinic_nlu.follow_up and its component: a bare follow-up ("and for that one?") asks for more."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Tuple

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.follow_up import follow_up_subject, is_bare_follow_up
from clinic_nlu.follow_up_component import NO_QUESTION_READINGS, BareFollowUp
from clinic_vocabulary import FOLLOW_UP_KEY
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "and for that one?",
        "what about that one",
        "same for that?",
        "for that too?",
        "what about for that",
        "and for the other one?",
        "how about this one",
        "what about it",
        "And for THAT one??",
    ],
)
def test_a_message_that_only_points_back_is_a_bare_follow_up(text):
    assert is_bare_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        "same",
        "and?",
        "ok",
        "bye",
        "that's all",
        "so what is it",
        "what is it",
        "is it safe",
        "and the scar?",
        "is that the same for everyone?",
        "and for that one, how much does it cost?",
        "that one costs 300",
    ],
)
def test_a_question_or_reply_of_its_own_is_not_a_bare_follow_up(text):
    assert not is_bare_follow_up(text)


def _training_examples() -> Iterator[Tuple[str, str]]:
    data = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))
    for block in data["nlu"]:
        for line in (block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                yield block["intent"], line.strip()[2:].strip()


def test_no_training_question_of_another_intent_is_read_as_a_bare_follow_up():
    assert [(i, t) for i, t in _training_examples() if i != "ask_more" and is_bare_follow_up(t)] == []


def _message(text: str, intent: str) -> Message:
    data: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.6},
        "intent_ranking": [{"name": intent, "confidence": 0.6}, {"name": "ask_more", "confidence": 0.2}],
    }
    return Message(data=data)


@pytest.mark.parametrize("intent", ["goodbye", "nlu_fallback", "ask_personal_advice", "out_of_scope"])
def test_the_component_reads_a_bare_follow_up_as_ask_more_and_keeps_the_classifiers_reading(intent):
    message = _message("and for that one?", intent)
    BareFollowUp({"enabled": True}).process([message])
    assert message.get("intent") == {"name": "ask_more", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["ask_more", intent]
    assert message.get(FOLLOW_UP_KEY)["replaced"]["name"] == intent


def test_the_component_leaves_other_messages_and_can_be_switched_off():
    other = _message("and the scar?", "ask_scarring")
    BareFollowUp({"enabled": True}).process([other])
    assert other.get("intent")["name"] == "ask_scarring" and other.get(FOLLOW_UP_KEY) is None
    off = _message("and for that one?", "goodbye")
    BareFollowUp({"enabled": False}).process([off])
    assert off.get("intent")["name"] == "goodbye"
    with pytest.raises(ValueError):
        BareFollowUp({"enabled": "yes"})


@pytest.mark.parametrize(
    "text, subject",
    [
        ("what about work", "work"),
        ("and sports?", "sports"),
        ("and the sports", "sports"),
        ("how about flying", "flying"),
        ("driving too?", "driving"),
        ("ok and work?", "work"),
        ("and what about work?", "work"),
        ("so what about the job", "job"),
        ("What about Insurance?", "insurance"),
    ],
)
def test_a_follow_up_with_a_subject_gives_its_subject(text, subject):
    assert follow_up_subject(text) == subject


@pytest.mark.parametrize(
    "text",
    [
        "and?",
        "and after?",
        "what about my mri",
        "and you?",
        "what about tomorrow",
        "what about monday morning",
        "what about 5pm",
        "and for that one?",
        "what about it",
        "and how long is recovery",
        "also is it safe",
        "work",
        "what about the long drive home after",
        "and bye",
        "bye too",
        "ok and goodbye",
        "and goodnight",
    ],
)
def test_a_question_of_its_own_a_time_or_the_own_case_has_no_follow_up_subject(text):
    assert follow_up_subject(text) is None


def test_no_training_example_of_a_reading_without_a_question_has_a_follow_up_subject():
    assert [(i, t) for i, t in _training_examples() if i in NO_QUESTION_READINGS and follow_up_subject(t)] == []


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "ask_personal_advice"])
def test_the_component_reads_a_follow_up_with_a_subject_as_ask_more_with_its_subject(intent):
    message = _message("what about work", intent)
    BareFollowUp({"enabled": True}).process([message])
    assert message.get("intent") == {"name": "ask_more", "confidence": 1.0}
    assert message.get(FOLLOW_UP_KEY) == {"replaced": {"name": intent, "confidence": 0.6}, "about": "work"}


@pytest.mark.parametrize(
    "text, intent", [("and the scar?", "ask_scarring"), ("what about pregnancy", "ask_not_covered")]
)
def test_a_follow_up_with_a_subject_the_classifier_read_as_a_question_keeps_that_reading(text, intent):
    message = _message(text, intent)
    BareFollowUp({"enabled": True}).process([message])
    assert message.get("intent")["name"] == intent and message.get(FOLLOW_UP_KEY) is None
