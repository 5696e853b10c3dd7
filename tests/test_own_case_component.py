"""The Rasa component OwnCaseDeferral: an own-symptom question becomes the personal question."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.own_case_component import OwnCaseDeferral
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_vocabulary import OWN_CASE_KEY, PERSONAL_INTENT, RECURRENCE_TOPIC

pytestmark = pytest.mark.unit

OWN = "my scar is itchy, is that normal?"


def _message(text: str, intent: str, topics: Optional[List[Dict[str, Any]]] = None, **extra: Any) -> Message:
    data: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.8},
        "intent_ranking": [{"name": intent, "confidence": 0.8}, {"name": "ask_safety", "confidence": 0.1}],
        **extra,
    }
    if topics:
        data["topics"] = topics
    return Message(data=data)


def _run(message: Message, enabled: bool = True) -> Message:
    OwnCaseDeferral({"enabled": enabled}).process([message])
    return message


@pytest.mark.parametrize("intent", ["ask_scarring", "ask_not_covered", "nlu_fallback", "out_of_scope", "report_urgent"])
def test_an_own_symptom_question_read_as_a_topic_or_unsure_becomes_personal(intent):
    message = _run(_message(OWN, intent))
    assert message.get("intent") == {"name": PERSONAL_INTENT, "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == PERSONAL_INTENT
    assert [r["name"] for r in message.get("intent_ranking")[1:]] == [intent, "ask_safety"]  # kept for the action
    why = message.get(OWN_CASE_KEY)
    assert why["replaced"]["name"] == intent and why["symptom"] == "my scar is itchy" and why["question"]


@pytest.mark.parametrize("intent", ["greet", "request_human", "affirm", "thank"])
def test_other_intents_and_general_questions_are_left_alone(intent):
    message = _run(_message(OWN, intent))
    assert message.get("intent")["name"] == intent and message.get(OWN_CASE_KEY) is None
    general = _run(_message("is it normal to have pain after the operation?", "ask_pain_relief"))
    assert general.get("intent")["name"] == "ask_pain_relief" and general.get(OWN_CASE_KEY) is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("is that normal?", "deny"),
        ("is this normal", "bot_challenge"),
        ("normal?", "nlu_fallback"),
        ("should i worry?", "ask_safety"),
    ],
)
def test_nothing_but_the_question_after_telling_a_symptom_becomes_personal(text, intent):
    message = _run(_message(text, intent))
    assert message.get("intent")["name"] == PERSONAL_INTENT
    assert message.get(OWN_CASE_KEY)["symptom"] is None and message.get(OWN_CASE_KEY)["question"]


@pytest.mark.parametrize("text, intent", [("ok", "affirm"), ("no", "deny"), ("is it safe?", "ask_safety")])
def test_an_answer_or_a_topic_question_is_not_a_bare_normality_question(text, intent):
    message = _run(_message(text, intent))
    assert message.get("intent")["name"] == intent and message.get(OWN_CASE_KEY) is None


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "ask_not_covered"])
def test_a_symptom_told_without_a_question_and_no_topic_becomes_personal(intent):
    message = _run(_message("my back hurts when i sit", intent))
    assert message.get("intent")["name"] == PERSONAL_INTENT
    assert message.get(OWN_CASE_KEY) == {
        "replaced": {"name": intent, "confidence": 0.8},
        "symptom": "my back hurts",
        "question": None,
    }


def test_a_symptom_told_where_the_classifier_found_a_topic_keeps_the_topic():
    message = _run(_message("my scar itches", "ask_scarring"))
    assert message.get("intent")["name"] == "ask_scarring" and message.get(OWN_CASE_KEY) is None


def test_a_message_the_classifier_read_as_personal_keeps_its_reading_and_is_marked_for_the_safety_net():
    message = _run(_message("my leg still aches a bit. should i worry?", PERSONAL_INTENT))
    assert message.get("intent") == {"name": PERSONAL_INTENT, "confidence": 0.8}
    assert message.get(OWN_CASE_KEY)["symptom"] == "my leg still aches"


def test_the_typed_text_counts_when_the_correction_lost_the_symptom():
    message = _message("i get things when i turn over, is that ok", "ask_not_covered")
    message.set(ORIGINAL_TEXT, "i get twinges when i turn over, is that ok")
    assert _run(message).get("intent")["name"] == PERSONAL_INTENT


def test_switched_off_it_changes_nothing():
    message = _run(_message(OWN, "ask_scarring"), enabled=False)
    assert message.get("intent")["name"] == "ask_scarring" and message.get(OWN_CASE_KEY) is None
    with pytest.raises(ValueError):
        OwnCaseDeferral({"enabled": "yes"})


def test_in_a_message_of_several_topics_the_own_parts_become_one_personal_part_first():
    text = "my scar is itchy. should i be worried? and how much does it cost"
    topics = [
        {"name": "ask_scarring", "confidence": 0.5, "questions": ["my scar is itchy"]},
        {"name": "ask_safety", "confidence": 0.9, "questions": ["should i be worried?"]},
        {"name": "ask_cost", "confidence": 0.95, "questions": ["how much does it cost"]},
    ]
    message = _run(_message(text, "ask_scarring", topics))
    assert [t["name"] for t in message.get("topics")] == [PERSONAL_INTENT, "ask_cost"]
    assert message.get("topics")[0]["questions"] == ["my scar is itchy", "should i be worried?"]
    assert message.get("intent")["name"] == "ask_cost"  # the rule that answers several topics runs
    assert message.get(OWN_CASE_KEY)["replaced"]["name"] == "ask_scarring"


def test_several_parts_that_are_all_the_own_question_make_one_personal_question():
    topics = [
        {"name": "ask_scarring", "confidence": 0.5, "questions": ["my scar is itchy"]},
        {"name": "ask_safety", "confidence": 0.9, "questions": ["should i be worried?"]},
    ]
    message = _run(_message("my scar is itchy. should i be worried?", "ask_scarring", topics))
    assert message.get("topics") is None and message.get("intent")["name"] == PERSONAL_INTENT


def test_several_topics_none_of_them_the_own_question_are_left_alone():
    topics = [
        {"name": "ask_cost", "confidence": 0.9, "questions": ["how much is it"]},
        {"name": "ask_recovery_time", "confidence": 0.9, "questions": ["how long is recovery"]},
    ]
    text = "my back hurts, is that normal? how much is it and how long is recovery"
    message = _run(_message(text, "ask_cost", topics))
    assert [t["name"] for t in message.get("topics")] == ["ask_cost", "ask_recovery_time"]
    assert message.get(OWN_CASE_KEY) is None


@pytest.mark.parametrize("intent", ["ask_recovery_time", "ask_pain_relief", "ask_not_covered", "nlu_fallback"])
def test_a_report_that_the_problem_came_back_becomes_personal_asked_or_not_whatever_topic_was_read(intent):
    message = _run(_message("my pain is back 3 weeks after the endoscopy", intent))
    assert message.get("intent") == {"name": PERSONAL_INTENT, "confidence": 1.0}
    assert message.get(OWN_CASE_KEY) == {
        "replaced": {"name": intent, "confidence": 0.8},
        "symptom": "my pain is back",
        "question": None,
    }


def test_a_general_question_whether_it_comes_back_or_a_report_read_as_a_greeting_is_left_alone():
    general = _run(_message("will the sciatica come back?", "ask_safety"))
    assert general.get("intent")["name"] == "ask_safety" and general.get(OWN_CASE_KEY) is None
    greeting = _run(_message("hi, it came back", "greet"))
    assert greeting.get("intent")["name"] == "greet" and greeting.get(OWN_CASE_KEY) is None


def test_a_recurrence_part_beside_an_own_symptom_goes_back_to_the_topic_the_classifier_read():
    """ "i still get twinges, should i worry? and can the hernia come back?": the person's question,
    never the general recurrence answer (the reply then holds a topic back or answers it in general)."""
    topics = [
        {"name": "ask_pain_relief", "confidence": 0.6, "questions": ["i still get twinges, should i worry?"]},
        {"name": "ask_safety", "confidence": 0.9, "questions": ["is it safe"]},
        {"name": RECURRENCE_TOPIC, "confidence": 0.8, "questions": ["can it come back?"], "read_as": "ask_safety"},
        {"name": "ask_cost", "confidence": 0.9, "questions": ["what does it cost"]},
    ]
    text = "i still get twinges, should i worry? is it safe and can it come back? what does it cost"
    message = _run(_message(text, "ask_pain_relief", topics))
    assert message.get("topics") == [
        {
            "name": PERSONAL_INTENT,
            "confidence": 1.0,
            "questions": ["i still get twinges, should i worry?"],
        },
        # listed twice after the revert: kept once, at its first place, with both parts' words
        {"name": "ask_safety", "confidence": 0.9, "questions": ["is it safe", "can it come back?"]},
        {"name": "ask_cost", "confidence": 0.9, "questions": ["what does it cost"]},
    ]
    assert message.get("intent")["name"] == "ask_safety" and message.get(OWN_CASE_KEY)
