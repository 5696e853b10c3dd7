"""Personal questions are deferred to a clinician, with general facts where they apply."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.triage import ActionDeferPersonal, general_topic
from tests.conftest import response_names


@pytest.mark.asyncio
async def test_personal_question_gets_deferral_and_general_facts(book, dispatcher, tracker_for):
    ranking = [
        {"name": "ask_personal_advice", "confidence": 0.7},
        {"name": "ask_safety", "confidence": 0.2},
        {"name": "ask_cost", "confidence": 0.01},
    ]
    events = await ActionDeferPersonal().run(dispatcher, tracker_for("ask_personal_advice", 0.7, ranking), {})
    names = response_names(dispatcher)
    assert names[0] == "utter_personal_defer"
    assert names[1] == "utter_personal_general_intro"
    assert names[2] == "utter_risk_defer"  # a risk-related personal question still gets the risk deferral, first
    assert dispatcher.messages[3]["topic"] == "ask_safety"
    assert names[-1] == "utter_offer_contact"
    assert SlotSet("personal_question", True) in events
    assert SlotSet("last_topic", "ask_safety") in events


@pytest.mark.asyncio
async def test_personal_question_without_a_clear_topic_gets_only_the_deferral(dispatcher, tracker_for):
    ranking = [{"name": "ask_personal_advice", "confidence": 0.97}, {"name": "ask_cost", "confidence": 0.01}]
    events = await ActionDeferPersonal().run(dispatcher, tracker_for("ask_personal_advice", 0.97, ranking), {})
    assert response_names(dispatcher) == ["utter_personal_defer", "utter_offer_contact"]
    assert events == [SlotSet("personal_question", True)]


@pytest.mark.parametrize(
    "ranking, expected",
    [
        ([{"name": "ask_personal_advice", "confidence": 0.8}, {"name": "ask_recovery_time", "confidence": 0.15}], "ask_recovery_time"),
        ([{"name": "ask_personal_advice", "confidence": 0.8}, {"name": "greet", "confidence": 0.15}], None),
        ([{"name": "ask_personal_advice", "confidence": 0.95}, {"name": "ask_cost", "confidence": 0.02}], None),
        ([], None),
    ],
)
def test_general_topic_picks_the_first_confident_topic(book, ranking, expected):
    assert general_topic(ranking, book, 0.1) == expected
