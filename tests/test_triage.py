"""Personal questions are deferred to a clinician; general facts follow only from allow-listed topics."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import load_settings
from actions.triage import ActionDeferPersonal, general_topic
from tests.conftest import QUESTION_INTENTS, response_names

pytestmark = pytest.mark.unit

# Topics whose facts would read as an answer about the person's own case ("can you treat MY disc?"):
# never added after a personal question, whatever the classifier says.
NEVER_AFTER_PERSONAL = {"ask_indications", "ask_pain_relief", "ask_recovery_time", "ask_safety"}


def _personal(ranking):
    return ("ask_personal_advice", ranking[0]["confidence"], ranking)


async def _run(dispatcher, tracker_for, ranking):
    return await ActionDeferPersonal().run(dispatcher, tracker_for(*_personal(ranking)), {})


def _stated_facts(dispatcher):
    return [fid for m in dispatcher.messages for fid in (m.get("fact_ids") or [])]


@pytest.mark.asyncio
async def test_can_you_treat_my_calcified_disc_gets_only_the_deferral(book, dispatcher, tracker_for):
    """The classifier sees "what it can treat" behind the question: the indications facts would read
    as a yes, so the patient gets the deferral and the offer of contact, and no fact at all."""
    ranking = [
        {"name": "ask_personal_advice", "confidence": 0.52},
        {"name": "ask_indications", "confidence": 0.41},
        {"name": "ask_what_is_endoscopy", "confidence": 0.04},
        {"name": "ask_cost", "confidence": 0.01},
    ]
    events = await _run(dispatcher, tracker_for, ranking)
    assert response_names(dispatcher) == ["utter_personal_defer", "utter_offer_contact"]
    assert _stated_facts(dispatcher) == []
    assert not [m for m in dispatcher.messages if "calcification" in (m.get("text") or "")]
    assert events == [SlotSet("personal_question", True)]


@pytest.mark.asyncio
async def test_an_allow_listed_topic_follows_the_deferral_as_general_information(book, dispatcher, tracker_for):
    ranking = [{"name": "ask_personal_advice", "confidence": 0.5}, {"name": "ask_cost", "confidence": 0.45}]
    events = await _run(dispatcher, tracker_for, ranking)
    names = response_names(dispatcher)
    assert names[0] == "utter_personal_defer"
    assert names[1] == "utter_personal_general_intro"  # "general information, not about your case"
    assert dispatcher.messages[2]["topic"] == "ask_cost"
    assert dispatcher.messages[2]["fact_ids"] == ["cost.third"]
    assert names[-1] == "utter_offer_contact"
    assert SlotSet("personal_question", True) in events
    assert SlotSet("last_topic", "ask_cost") in events


@pytest.mark.asyncio
@pytest.mark.parametrize("topic", QUESTION_INTENTS)
async def test_no_indications_or_outcome_fact_ever_follows_a_personal_question(book, tracker_for, topic):
    """Whatever topic the classifier sees behind a personal question, and however sure it is, no fact
    about who can be treated, pain relief, recovery or safety is added; anything added comes after the
    general-information intro and is on the allow-list."""
    dispatcher = CollectingDispatcher()
    ranking = [{"name": topic, "confidence": 0.9}, {"name": "ask_personal_advice", "confidence": 0.1}]
    await _run(dispatcher, tracker_for, ranking)
    names = response_names(dispatcher)
    assert names[0] == "utter_personal_defer" and names[-1] == "utter_offer_contact"
    stated = [f for f in book.facts if f.id in _stated_facts(dispatcher)]
    for fact in stated:
        assert not set(fact.intents) & (NEVER_AFTER_PERSONAL | {"ask_personal_advice"}), fact.id
        assert all(book.topics[i].general_after_personal for i in fact.intents), fact.id
    if stated:
        assert names[1] == "utter_personal_general_intro"
        assert book.topics[topic].general_after_personal
    if topic in NEVER_AFTER_PERSONAL:
        assert _stated_facts(dispatcher) == []
        assert "utter_personal_general_intro" not in names


@pytest.mark.asyncio
async def test_a_personal_risk_question_gets_the_risk_deferral_and_no_safety_facts(dispatcher, tracker_for):
    ranking = [{"name": "ask_personal_advice", "confidence": 0.55}, {"name": "ask_safety", "confidence": 0.4}]
    await _run(dispatcher, tracker_for, ranking)
    assert response_names(dispatcher) == ["utter_personal_defer", "utter_risk_defer", "utter_offer_contact"]
    assert _stated_facts(dispatcher) == []


@pytest.mark.asyncio
async def test_an_own_symptom_question_gets_the_safety_net_line_not_the_risk_deferral(dispatcher, domain):
    """ "My leg aches, should I worry?": the deferral, then the calm safety-net line (a domain response);
    the worry about the symptom is not a question about the operation's risks."""
    from rasa_sdk import Tracker

    ranking = [{"name": "ask_personal_advice", "confidence": 1.0}, {"name": "ask_safety", "confidence": 0.7}]
    latest = {
        "text": "my leg aches, should i worry",
        "intent": ranking[0],
        "intent_ranking": ranking,
        "own_case": {"symptom": "my leg aches", "question": "should i worry"},
    }
    tracker = Tracker("test-sender", {}, latest, [], False, None, {}, "action_listen")
    await ActionDeferPersonal().run(dispatcher, tracker, {})
    names = response_names(dispatcher)
    assert names == ["utter_personal_defer", "utter_own_symptom_safety_net", "utter_offer_contact"]
    assert "utter_own_symptom_safety_net" in domain["responses"] and _stated_facts(dispatcher) == []


def test_the_allow_list_is_data_and_excludes_indications_and_outcomes(book):
    allowed = {i for i, t in book.topics.items() if t.general_after_personal}
    assert allowed and not allowed & NEVER_AFTER_PERSONAL
    assert allowed <= {"ask_what_is_endoscopy", "ask_anesthesia", "ask_cost"}
    for intent in allowed:  # every allow-listed topic has something it may say
        assert book.general_answer(intent) is not None, intent


def test_facts_tagged_for_personal_questions_never_follow_one(book):
    for fact in book.facts:
        if "ask_personal_advice" in fact.intents or "ask_indications" in fact.intents:
            assert not book.may_follow_personal_question(fact), fact.id


@pytest.mark.asyncio
async def test_personal_question_without_a_clear_topic_gets_only_the_deferral(dispatcher, tracker_for):
    ranking = [{"name": "ask_personal_advice", "confidence": 0.97}, {"name": "ask_cost", "confidence": 0.01}]
    events = await _run(dispatcher, tracker_for, ranking)
    assert response_names(dispatcher) == ["utter_personal_defer", "utter_offer_contact"]
    assert events == [SlotSet("personal_question", True)]


def test_the_default_confidence_threshold_is_high():
    """A topic the classifier only half-guesses (0.05 was the old default) is never added."""
    assert load_settings({}).personal_context_min_confidence >= 0.3
    assert load_settings({"PERSONAL_CONTEXT_MIN_CONFIDENCE": "0.5"}).personal_context_min_confidence == 0.5


@pytest.mark.parametrize(
    "ranking, expected",
    [
        (
            [{"name": "ask_personal_advice", "confidence": 0.6}, {"name": "ask_what_is_endoscopy", "confidence": 0.35}],
            "ask_what_is_endoscopy",
        ),
        # not sure enough
        ([{"name": "ask_personal_advice", "confidence": 0.6}, {"name": "ask_cost", "confidence": 0.2}], None),
        # not allowed
        ([{"name": "ask_personal_advice", "confidence": 0.5}, {"name": "ask_recovery_time", "confidence": 0.45}], None),
        (
            [
                {"name": "ask_personal_advice", "confidence": 0.5},
                {"name": "ask_indications", "confidence": 0.4},
                {"name": "ask_cost", "confidence": 0.35},
            ],
            None,
        ),  # the most likely topic is not allowed: nothing
        ([{"name": "ask_personal_advice", "confidence": 0.6}, {"name": "greet", "confidence": 0.35}], None),
        ([], None),
    ],
)
def test_general_topic_only_picks_a_confident_allow_listed_topic(book, ranking, expected):
    assert general_topic(ranking, book, 0.3) == expected
