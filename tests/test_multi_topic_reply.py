"""actions/multi_topic.py and action_answer_topic: several topics answered in one short reply."""
from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.answering import ActionAnswerTopic
from actions.multi_topic import FACTS_PER_TOPIC, plan_reply, topics_asked
from tests.conftest import QUESTION_INTENTS, absolute_claims_in, response_names

pytestmark = pytest.mark.unit


def tracker_with_topics(topics: List[str], intent: str = "") -> Tracker:
    latest: Dict[str, Any] = {
        "text": "",
        "intent": {"name": intent or topics[0], "confidence": 0.9},
        "intent_ranking": [],
        "entities": [],
        "topics": [{"name": t, "confidence": 0.9} for t in topics],
    }
    return Tracker("test-sender", {}, latest, [], False, None, {}, "action_listen")


def test_topics_asked_keeps_known_topics_in_order_once(book):
    parse = {"topics": [{"name": "ask_cost"}, {"name": "nonsense"}, {"name": "ask_personal_advice"},
                        {"name": "ask_cost"}, "junk", {"name": "ask_scarring"}]}
    assert topics_asked(parse, book) == ["ask_cost", "ask_personal_advice", "ask_scarring"]
    assert topics_asked({}, book) == []


@pytest.mark.parametrize("first, second", [(a, b) for a in QUESTION_INTENTS for b in QUESTION_INTENTS if a != b])
def test_every_pair_is_answered_in_order_from_the_facts_and_short(book, first, second):
    reply = plan_reply(book, [first, second])
    assert reply.topics == [first, second]
    lead_a, lead_b = book.topics[first].lead, book.topics[second].lead
    assert reply.text.startswith(lead_a) and lead_b in reply.text
    assert reply.text.index(lead_a) < reply.text.index(lead_b)
    answers = {f.id: f.answer for f in book.facts}
    assert all(answers[i] in reply.text for i in reply.fact_ids)
    assert len(reply.fact_ids) <= 2 * FACTS_PER_TOPIC
    assert absolute_claims_in(reply.text) == []
    assert reply.after == ["utter_multi_topic_more"]
    assert reply.before[-1] == "utter_multi_topic_intro"


def test_the_risk_deferral_comes_first_even_when_risk_is_asked_second(book):
    reply = plan_reply(book, ["ask_cost", "ask_safety"])
    assert reply.before == ["utter_risk_defer", "utter_multi_topic_intro"]
    assert reply.topics == ["ask_cost", "ask_safety"]


def test_a_personal_question_is_deferred_first_and_only_allowed_topics_follow(book):
    reply = plan_reply(book, ["ask_personal_advice", "ask_cost", "ask_recovery_time", "ask_safety"])
    assert reply.before[:2] == ["utter_personal_defer", "utter_risk_defer"]
    assert reply.before[-1] == "utter_personal_general_intro"
    assert reply.topics == ["ask_cost"]  # recovery and safety could read as an answer about the person
    assert book.topics["ask_recovery_time"].lead not in reply.text
    assert all(book.may_follow_personal_question(f) for f in book.facts if f.id in reply.fact_ids)
    assert reply.after == ["utter_multi_topic_personal_contact"] and reply.personal


def test_a_personal_question_with_no_allowed_topic_gets_only_the_deferral(book):
    reply = plan_reply(book, ["ask_personal_advice", "ask_indications"])
    assert reply.before == ["utter_personal_defer"] and reply.text == "" and reply.topics == []


def test_a_fact_shared_by_two_topics_is_said_once_when_the_second_has_others(book):
    shared = [f for f in book.facts if f.primary and {"ask_what_is_endoscopy", "ask_pain_relief"} <= set(f.intents)]
    assert shared, "the facts file has a primary fact shared by what it is and pain relief"
    reply = plan_reply(book, ["ask_what_is_endoscopy", "ask_pain_relief"], facts_per_topic=10)
    assert reply.fact_ids.count(shared[0].id) == 1
    assert reply.topics == ["ask_what_is_endoscopy", "ask_pain_relief"]


def test_a_topic_whose_only_fact_was_given_still_gets_it(book):
    reply = plan_reply(book, ["ask_safety", "ask_scarring"])
    assert reply.topics == ["ask_safety", "ask_scarring"]
    scar_block = reply.text.split(book.topics["ask_scarring"].lead, 1)[1]
    assert any(f.answer in scar_block for f in book.facts_for("ask_scarring", primary=True))


@pytest.mark.asyncio
async def test_the_action_sends_one_reply_with_every_topic(book, dispatcher):
    events = await ActionAnswerTopic().run(dispatcher, tracker_with_topics(["ask_recovery_time", "ask_cost"]), {})
    assert response_names(dispatcher) == ["utter_multi_topic_intro", None, "utter_multi_topic_more"]
    [answer] = [m for m in dispatcher.messages if m.get("text")]
    assert answer["topics"] == ["ask_recovery_time", "ask_cost"] and answer["topic"] == "ask_recovery_time"
    assert SlotSet("last_topic", "ask_cost") in events
    assert SlotSet("fact_ids", answer["fact_ids"]) in events


@pytest.mark.asyncio
async def test_one_topic_is_answered_as_before(book, dispatcher):
    await ActionAnswerTopic().run(dispatcher, tracker_with_topics(["ask_recovery_time"]), {})
    expected = [None, "utter_offer_more"] if book.has_details("ask_recovery_time") else [None]
    assert response_names(dispatcher) == expected
    assert dispatcher.messages[0]["text"].startswith(book.topics["ask_recovery_time"].lead)


@pytest.mark.asyncio
async def test_the_action_records_a_personal_question(book, dispatcher):
    events = await ActionAnswerTopic().run(dispatcher,
                                           tracker_with_topics(["ask_personal_advice", "ask_cost"], "ask_cost"), {})
    assert response_names(dispatcher)[0] == "utter_personal_defer"
    assert SlotSet("personal_question", True) in events


def test_the_responses_exist(domain):
    for name in ("utter_multi_topic_intro", "utter_multi_topic_more", "utter_multi_topic_personal_contact"):
        assert domain["responses"][name][0]["text"]
