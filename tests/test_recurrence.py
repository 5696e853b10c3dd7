"""Recurrence questions ("will it come back?"): the reviewable patterns, the NLU step that marks them
with an entity (the intent kept), and the honest answer the not-covered action then gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from actions.not_covered import ActionAnswerNotCovered
from clinic_nlu.recurrence import RULES_FILE, load_rules
from clinic_nlu.recurrence_component import RecurrenceQuestion
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_vocabulary import (
    OWN_CASE_KEY,
    PERSONAL_INTENT,
    RECURRENCE_ENTITY,
    RECURRENCE_READINGS,
    RECURRENCE_RESPONSE,
    RECURRENCE_TOPIC,
)
from tests.conftest import ROOT, make_tracker, response_names

pytestmark = pytest.mark.unit

DEV: Dict[str, Any] = yaml.safe_load((ROOT / "bench" / "recurrence_dev.yml").read_text(encoding="utf-8"))
RULES = load_rules()


@pytest.mark.parametrize("text", DEV["recurrence"])
def test_a_general_recurrence_question_is_found(text):
    assert RULES.find(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        *DEV["near_miss"],
        "when will the pain come back to normal",
        "can i come back if i have more questions",
        "is it ok to come back to work after 3 weeks",
        "how long does the pain relief last",
    ],
)
def test_a_calm_question_on_another_topic_is_not_found(text):
    assert RULES.find(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "will it happen again",
        "could this happen again after the op",
        "is it going to happen again",
        "what if the disc comes out again",
        "is back pain common after the op, and can it come back?",
        "will the sciatica come back?",
        "what if it came back",
    ],
)
def test_the_problem_coming_or_happening_again_is_still_found(text):
    assert RULES.find(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "when can i go out again after the op?",
        "when can i go back again to the gym",
        "can i come again next week to change the dressing?",
        "will i be able to go out again the same week",
        "can my husband come again to pick me up",
    ],
)
def test_the_patient_going_or_coming_again_is_not_found(text):
    assert RULES.find(text) is None


@pytest.mark.parametrize(
    "text",
    [
        *DEV["own_case"],
        "the sciatica came back since the op, what do i do?",
        "it came back after the op, is that normal?",
        "it has come back since the op",
        "the pain is back 3 weeks after the endoscopy",
        "the disc slipped again after the op, what now?",
        "the pain has returned, will i need another op?",
    ],
)
def test_the_writers_own_case_is_not_found(text):
    assert RULES.find(text) is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("the sciatica came back since the op, what do i do?", "ask_not_covered"),
        ("it came back after the op, is that normal?", "ask_safety"),
        ("my pain is back 3 weeks after the endoscopy", "ask_recovery_time"),
    ],
)
def test_a_report_that_it_came_back_gets_the_personal_deferral_not_the_recurrence_answer(text, intent):
    """Both steps in pipeline order (OwnCaseDeferral, then RecurrenceQuestion), as config.yml runs them."""
    from clinic_nlu.own_case_component import OwnCaseDeferral

    message = _message(text, intent)
    OwnCaseDeferral({"enabled": True}).process([message])
    _run(message)
    assert message.get("intent")["name"] == PERSONAL_INTENT and message.get(OWN_CASE_KEY)
    assert not _entities(message)


def test_a_general_question_whether_it_comes_back_stays_a_recurrence_question():
    from clinic_nlu.own_case_component import OwnCaseDeferral

    message = _message("will the sciatica come back?", "ask_safety")
    OwnCaseDeferral({"enabled": True}).process([message])
    _run(message)
    assert message.get("intent")["name"] == "ask_safety" and not message.get(OWN_CASE_KEY)
    assert [e["value"] for e in _entities(message)] == ["the sciatica come back"]


def test_the_span_found_is_where_the_wording_is():
    text = "Hi, WILL IT COME BACK later?"
    start, end = RULES.find(text)
    assert text[start:end] == "IT COME BACK"
    curly = "what if it\u2019s coming back"
    start, end = RULES.find(curly)
    assert curly[start:end].lower() == "it\u2019s coming back"


@pytest.mark.parametrize("key", ["question", "own_case"])
def test_a_bad_or_missing_pattern_list_stops_loading_with_its_name(tmp_path: Path, key: str):
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    data[key] = ["(unclosed"]
    bad = tmp_path / "recurrence.yml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=key):
        load_rules(bad)
    data[key] = []
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=f"no {key} patterns"):
        load_rules(bad)


def _message(text: str, intent: str, **extra: Any) -> Message:
    ranking = [{"name": intent, "confidence": 0.7}, {"name": "ask_not_covered", "confidence": 0.2}]
    return Message(
        data={"text": text, "intent": {"name": intent, "confidence": 0.7}, "intent_ranking": ranking, **extra}
    )


def _entities(message: Message) -> List[Dict[str, Any]]:
    return [e for e in message.get("entities") or [] if e["entity"] == RECURRENCE_ENTITY]


def _run(message: Message, enabled: bool = True) -> Message:
    RecurrenceQuestion({"enabled": enabled}).process([message])
    return message


@pytest.mark.parametrize("intent", ["ask_safety", "ask_pain_relief", "nlu_fallback", "ask_not_covered"])
def test_the_step_adds_the_entity_and_leaves_the_intent(intent):
    message = _run(_message("can the hernia come back after the operation", intent))
    assert message.get("intent") == {"name": intent, "confidence": 0.7}
    assert [r["name"] for r in message.get("intent_ranking")] == [intent, "ask_not_covered"]
    (entity,) = _entities(message)
    assert entity["value"] == "the hernia come back" and (entity["start"], entity["end"]) == (4, 24)


def test_a_slip_fixed_by_the_corrector_is_found_and_the_whole_typed_text_marked():
    typed = "will it cmoe back"
    message = _run(_message("will it come back", "ask_safety", **{ORIGINAL_TEXT: typed}))
    (entity,) = _entities(message)
    assert (entity["start"], entity["end"], entity["value"]) == (0, len(typed), typed)


@pytest.mark.parametrize(
    "message",
    [
        _message("will it come back?", "ask_personal_advice"),
        _message("will it come back?", "ask_safety", **{OWN_CASE_KEY: {"symptom": "x", "question": "y"}}),
        _message("will it come back? and what does it cost?", "ask_safety", topics=[{"name": "a"}, {"name": "b"}]),
        _message("how long until i can go back to work", "ask_recovery_time"),
    ],
)
def test_the_own_case_several_topics_and_other_questions_get_no_entity(message):
    assert not _entities(_run(message))


def test_switched_off_the_step_adds_nothing_and_a_bad_switch_is_an_error():
    assert not _entities(_run(_message("will it come back?", "ask_safety"), enabled=False))
    with pytest.raises(ValueError, match="enabled"):
        RecurrenceQuestion({"enabled": "yes"})


@pytest.mark.asyncio
async def test_the_not_covered_action_says_what_the_sheet_does_not_say_then_offers_the_callback(dispatcher):
    tracker = make_tracker("ask_safety", text="will it come back?")
    tracker.latest_message["entities"] = [{"entity": RECURRENCE_ENTITY, "value": "it come back", "start": 5, "end": 17}]
    await ActionAnswerNotCovered().run(dispatcher, tracker, {})
    assert response_names(dispatcher) == [RECURRENCE_RESPONSE, "utter_offer_callback"]
    assert not any(m.get("fact_ids") for m in dispatcher.messages)


def test_the_recurrence_reply_promises_nothing_and_hands_over(domain):
    text = domain["responses"][RECURRENCE_RESPONSE][0]["text"]
    assert "does not say" in text and "surgeon" in text
    assert not any(ch.isdigit() for ch in text) and "%" not in text
    assert RECURRENCE_ENTITY in domain["entities"]


def test_the_not_covered_judge_takes_the_recurrence_reply_as_honest_and_nothing_else():
    from tests.support.not_covered import judge, response_text

    offer = {"text": response_text("utter_offer_callback"), "buttons": [{"title": "Yes"}]}
    recurrence = {"text": response_text(RECURRENCE_RESPONSE)}
    assert judge([recurrence, offer], [], None).ok
    assert not judge([{"text": response_text("utter_ask_rephrase")}, offer], [], None).honest
    assert not judge([recurrence], [], None).honest  # no callback offer


def test_the_readings_sent_to_the_recurrence_answer_are_those_of_the_rules():
    """clinic_nlu/multi_topic.py marks a part read as one of RECURRENCE_READINGS: the intents that
    data/rules.yml sends, with the entity, to the recurrence answer."""
    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    steps = [s for r in rules if r["rule"].startswith("Whether the problem comes back") for s in r["steps"]]
    read = {o["intent"] for s in steps for o in s.get("or", []) if RECURRENCE_ENTITY in (o.get("entities") or [])}
    assert read == set(RECURRENCE_READINGS)


def test_in_a_message_of_several_topics_the_entity_marks_the_recurrence_parts_words():
    text = "How long is recovery and can the hernia come back?"
    topics = [
        {"name": "ask_recovery_time", "questions": ["How long is recovery"]},
        {"name": RECURRENCE_TOPIC, "questions": ["can the hernia come back?"], "read_as": "ask_safety"},
    ]
    (entity,) = _entities(_run(_message(text, "ask_not_covered", topics=topics)))
    assert entity["value"] == "the hernia come back" and text[entity["start"] : entity["end"]] == entity["value"]
    beside_personal = [{"name": PERSONAL_INTENT, "questions": ["am i a good candidate"]}, *topics]
    assert not _entities(_run(_message(text, "ask_not_covered", topics=beside_personal)))


# ---- the one place for "it came back" wording (own_case.yml `came_back` and `came_back_wide`) ----


def test_no_came_back_wording_is_left_in_recurrence_yml():
    own_case = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["own_case"]
    assert not [p for p in own_case if " back" in p or "again" in p or "return" in p]  # "my back" is the body


@pytest.mark.parametrize(
    "text",
    [
        "the sciatica came back since the op, will i need another op?",
        "it came back after the op, is it permanent?",
        "the pain is back, will it come back again?",
        "the disc slipped again last month, will i need a second operation?",
        "the hernia has recurred, will i need another op?",
        "the condition came back after the op, will i need another one?",
    ],
)
def test_a_report_that_makes_a_message_personal_never_gets_the_recurrence_answer(text):
    from clinic_nlu.own_case import load_rules as own_case_rules

    assert own_case_rules().returned(text) is not None
    assert RULES.find(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # any subject or none: no recurrence answer, but too wide to make the message personal
        "the thing came back, will it come back again after another op?",
        "slipped again after the op, do i need another operation?",
        "when i came back from hospital, is the result permanent?",
    ],
)
def test_a_wider_came_back_wording_withholds_the_recurrence_answer_without_deferring(text):
    from clinic_nlu.own_case import load_rules as own_case_rules

    assert own_case_rules().returned(text) is None
    assert RULES.find(text) is None
