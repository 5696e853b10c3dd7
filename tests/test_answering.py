"""action_answer_topic and action_tell_more answer from the facts only."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import ActionAnswerTopic, ActionTellMore, send_topic_answer
from tests.conftest import QUESTION_INTENTS, response_names

pytestmark = pytest.mark.unit


async def _run(action, dispatcher, tracker):
    return await action.run(dispatcher, tracker, {})


@pytest.mark.asyncio
@pytest.mark.parametrize("intent", QUESTION_INTENTS)
async def test_each_topic_is_answered_from_its_facts(book, dispatcher, tracker_for, intent):
    events = await _run(ActionAnswerTopic(), dispatcher, tracker_for(intent))
    [first] = [m for m in dispatcher.messages if m.get("topic") == intent]
    assert first["text"].startswith(book.topics[intent].lead)
    expected_ids = [f.id for f in book.facts_for(intent, primary=True)]
    assert first["fact_ids"] == expected_ids
    for fact in book.facts_for(intent, primary=True):
        assert fact.answer in first["text"]
    assert SlotSet("last_topic", intent) in events
    assert SlotSet("fact_ids", expected_ids) in events


@pytest.mark.asyncio
async def test_safety_answer_defers_risk_to_the_surgeon(dispatcher, tracker_for):
    await _run(ActionAnswerTopic(), dispatcher, tracker_for("ask_safety"))
    assert "utter_risk_defer" in response_names(dispatcher)


@pytest.mark.asyncio
async def test_the_risk_deferral_comes_before_any_of_the_sheets_points(dispatcher, tracker_for):
    """A risk question is handed to the surgeon FIRST: the deferral is the very first message, and
    the sheet's points only follow it."""
    await _run(ActionAnswerTopic(), dispatcher, tracker_for("ask_safety"))
    assert response_names(dispatcher)[0] == "utter_risk_defer"
    facts_at = [i for i, m in enumerate(dispatcher.messages) if m.get("topic") == "ask_safety"]
    assert facts_at and min(facts_at) > 0


@pytest.mark.asyncio
async def test_the_safety_answer_states_only_attributed_sheet_content(book, dispatcher, tracker_for):
    await _run(ActionAnswerTopic(), dispatcher, tracker_for("ask_safety"))
    [facts] = [m for m in dispatcher.messages if m.get("topic") == "ask_safety"]
    bullets = [line[2:] for line in facts["text"].split("\n") if line.startswith("• ")]
    assert bullets
    for bullet in bullets:
        assert bullet.startswith("The clinic's sheet "), bullet


@pytest.mark.parametrize("details", [False, True])
def test_every_risk_answer_starts_with_the_deferral(book, details):
    """Also for "tell me more" (the detail facts) and after a personal question: send_topic_answer
    is the one place that sends topic facts, and it puts the deferral first."""
    dispatcher = CollectingDispatcher()
    send_topic_answer(dispatcher, book, "ask_safety", details=details)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_risk_defer", None]
    assert dispatcher.messages[1]["topic"] == "ask_safety"


@pytest.mark.asyncio
@pytest.mark.parametrize("intent", [i for i in QUESTION_INTENTS if i != "ask_safety"])
async def test_other_topics_do_not_add_the_risk_deferral(dispatcher, tracker_for, intent):
    await _run(ActionAnswerTopic(), dispatcher, tracker_for(intent))
    assert "utter_risk_defer" not in response_names(dispatcher)


@pytest.mark.asyncio
async def test_more_is_offered_only_when_there_are_details(book, tracker_for):
    for intent in QUESTION_INTENTS:
        dispatcher = CollectingDispatcher()
        await _run(ActionAnswerTopic(), dispatcher, tracker_for(intent))
        assert ("utter_offer_more" in response_names(dispatcher)) == book.has_details(intent), intent


@pytest.mark.asyncio
async def test_a_non_topic_intent_gets_the_topic_menu(dispatcher, tracker_for):
    events = await _run(ActionAnswerTopic(), dispatcher, tracker_for("greet"))
    assert response_names(dispatcher) == ["utter_ask_which_topic"]
    assert events == []


@pytest.mark.asyncio
async def test_tell_more_gives_the_detail_facts_of_the_last_topic(book, dispatcher, tracker_for):
    events = await _run(ActionTellMore(), dispatcher, tracker_for("ask_more", slots={"last_topic": "ask_comparison"}))
    detail_ids = [f.id for f in book.facts_for("ask_comparison", primary=False)]
    assert dispatcher.messages[0]["fact_ids"] == detail_ids
    assert SlotSet("fact_ids", detail_ids) in events


@pytest.mark.asyncio
async def test_tell_more_without_details_says_that_is_all(dispatcher, tracker_for):
    events = await _run(
        ActionTellMore(), dispatcher, tracker_for("ask_more", slots={"last_topic": "ask_recovery_time"})
    )
    assert response_names(dispatcher) == ["utter_no_more_details"]
    assert SlotSet("fact_ids", []) in events


@pytest.mark.asyncio
async def test_a_second_more_on_the_same_topic_says_that_is_all_instead_of_repeating(dispatcher, tracker_for):
    """ "more" then "more" again: the details once, then "that is all the sheet says", not the same
    five paragraphs again."""
    first = await _run(ActionTellMore(), dispatcher, tracker_for("ask_more", slots={"last_topic": "ask_comparison"}))
    assert SlotSet("more_given", "ask_comparison") in first
    again = CollectingDispatcher()
    slots = {"last_topic": "ask_comparison", "more_given": "ask_comparison"}
    events = await _run(ActionTellMore(), again, tracker_for("ask_more", slots=slots))
    assert response_names(again) == ["utter_no_more_details"]
    assert not [m for m in again.messages if m.get("fact_ids")]
    assert SlotSet("fact_ids", []) in events


@pytest.mark.asyncio
async def test_a_new_answer_on_the_topic_lets_more_give_the_details_again(dispatcher, tracker_for):
    slots = {"last_topic": "ask_comparison", "more_given": "ask_comparison"}
    events = await _run(ActionAnswerTopic(), dispatcher, tracker_for("ask_comparison", slots=slots))
    assert SlotSet("more_given", None) in events


@pytest.mark.asyncio
async def test_ok_after_an_answer_with_nothing_more_is_not_told_that_is_all(dispatcher, tracker_for):
    """ "ok" after the safety answer (no "would you like to know more?" was asked) reads as an
    acknowledgement: "anything else?", not "That is all the sheet says about this"."""
    await _run(ActionTellMore(), dispatcher, tracker_for("affirm", slots={"last_topic": "ask_safety"}))
    assert response_names(dispatcher) == ["utter_anything_else"]


@pytest.mark.asyncio
async def test_tell_more_without_a_topic_asks_which_topic(dispatcher, tracker_for):
    await _run(ActionTellMore(), dispatcher, tracker_for("ask_more"))
    assert response_names(dispatcher) == ["utter_ask_which_topic"]


def _follow_up(about, topic):
    from tests.conftest import make_tracker

    tracker = make_tracker("ask_more", slots={"last_topic": topic}, text=f"what about {about}")
    tracker.latest_message["follow_up"] = {"replaced": {"name": "out_of_scope", "confidence": 0.6}, "about": about}
    return tracker


@pytest.mark.asyncio
@pytest.mark.parametrize("about", ["work", "sports", "flying", "sex"])
async def test_a_follow_up_whose_subject_belongs_to_the_last_topic_gets_that_answer_again(book, dispatcher, about):
    """ "what about work" after the recovery answer: "as I said" and the recovery answer again, with
    its gap note (what the sheet does not say), not "that is all" or a goodbye."""
    events = await _run(ActionTellMore(), dispatcher, _follow_up(about, "ask_recovery_time"))
    assert response_names(dispatcher)[0] == "utter_answer_again"
    [facts] = [m for m in dispatcher.messages if m.get("topic") == "ask_recovery_time"]
    assert book.topics["ask_recovery_time"].gap in facts["text"]
    assert SlotSet("fact_ids", facts["fact_ids"]) in events


@pytest.mark.asyncio
@pytest.mark.parametrize("last_topic", ["ask_recovery_time", None])
async def test_a_follow_up_whose_subject_belongs_to_another_topic_gets_that_topics_answer(dispatcher, last_topic):
    events = await _run(ActionTellMore(), dispatcher, _follow_up("insurance", last_topic))
    assert "utter_answer_again" not in response_names(dispatcher)
    assert [m["topic"] for m in dispatcher.messages if m.get("topic")] == ["ask_cost"]
    assert SlotSet("last_topic", "ask_cost") in events


@pytest.mark.asyncio
@pytest.mark.parametrize("last_topic", ["ask_cost", None])
@pytest.mark.parametrize("about", ["weather", "bleeding", "peeing"])
async def test_a_follow_up_whose_subject_belongs_to_no_topic_is_not_understood_with_the_safety_line(
    dispatcher, domain, last_topic, about
):
    """ "and the bleeding?" may be a symptom the triage did not escalate: the not-understood reply, which
    says to call the emergency number if very unwell, never a bare "which topic?"."""
    events = await _run(ActionTellMore(), dispatcher, _follow_up(about, last_topic))
    assert response_names(dispatcher) == ["utter_ask_rephrase"]
    assert "emergency number" in domain["responses"]["utter_ask_rephrase"][0]["text"]
    assert not [m for m in dispatcher.messages if m.get("fact_ids")]
    assert SlotSet("fact_ids", []) in events


def test_actions_have_names_and_docstrings():
    for action in (ActionAnswerTopic(), ActionTellMore()):
        assert action.name().startswith("action_") and type(action).__doc__


@pytest.mark.asyncio
async def test_the_same_topic_as_the_answer_before_is_answered_again_after_a_short_lead(dispatcher, tracker_for):
    tracker = tracker_for("ask_recovery_time", slots={"last_topic": "ask_recovery_time"})
    await _run(ActionAnswerTopic(), dispatcher, tracker)
    assert response_names(dispatcher)[0] == "utter_answer_again"
    assert any(m.get("topic") == "ask_recovery_time" for m in dispatcher.messages)


@pytest.mark.asyncio
async def test_a_new_topic_gets_no_lead(dispatcher, tracker_for):
    await _run(ActionAnswerTopic(), dispatcher, tracker_for("ask_cost", slots={"last_topic": "ask_recovery_time"}))
    assert "utter_answer_again" not in response_names(dispatcher)
