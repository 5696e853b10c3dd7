"""actions/multi_topic.py and action_answer_topic: several topics answered in one short reply."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.answering import ActionAnswerTopic
from actions.multi_topic import FACTS_PER_TOPIC, MAX_QUOTE_CHARS, plan_reply, questions_asked, quoted, topics_asked
from actions.not_covered import ActionAnswerNotCovered
from clinic_vocabulary import RECURRENCE_RESPONSE, RECURRENCE_TOPIC
from tests.conftest import QUESTION_INTENTS, absolute_claims_in, response_names

pytestmark = pytest.mark.unit


def tracker_with_topics(topics: List[str], intent: str = "", questions: Dict[str, List[str]] | None = None) -> Tracker:
    latest: Dict[str, Any] = {
        "text": "",
        "intent": {"name": intent or topics[0], "confidence": 0.9},
        "intent_ranking": [],
        "entities": [],
        "topics": [{"name": t, "confidence": 0.9, "questions": (questions or {}).get(t, [])} for t in topics],
    }
    return Tracker("test-sender", {}, latest, [], False, None, {}, "action_listen")


def test_topics_asked_keeps_known_topics_in_order_once(book):
    parse = {
        "topics": [
            {"name": "ask_cost"},
            {"name": "nonsense"},
            {"name": "ask_personal_advice"},
            {"name": "ask_cost"},
            "junk",
            {"name": "ask_scarring"},
        ]
    }
    assert topics_asked(parse, book) == ["ask_cost", "ask_personal_advice", "ask_scarring"]
    assert topics_asked({}, book) == []
    mixed = {"topics": [{"name": "ask_not_covered"}, {"name": "ask_cost"}]}
    assert topics_asked(mixed, book) == ["ask_not_covered", "ask_cost"]


def test_questions_asked_gives_the_patients_words_per_topic():
    parse = {
        "topics": [
            {"name": "ask_cost", "questions": ["price ", 3]},
            {"name": "ask_not_covered", "questions": ["who is the surgeon"]},
            {"name": "ask_not_covered", "questions": [" "]},
            {"questions": ["x"]},
        ]
    }
    assert questions_asked(parse) == {"ask_cost": ["price"], "ask_not_covered": ["who is the surgeon"]}


def test_a_long_question_is_quoted_cut_at_a_word():
    assert quoted("  who is\nthe surgeon? ") == "who is the surgeon?"
    long = "so i was wondering " * 20
    cut = quoted(long)
    assert len(cut) <= MAX_QUOTE_CHARS + 1 and cut.endswith("…") and long.startswith(cut[:-1])


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
    assert reply.before == ["utter_personal_defer", "utter_risk_defer"]
    assert [m.response for m in reply.messages] == [
        "utter_personal_general_intro",  # right before the sheet's general facts
        None,  # cost
        "utter_multi_topic_held_back",  # recovery
        "utter_multi_topic_held_back",  # safety
    ]
    assert reply.topics == ["ask_cost"]  # recovery and safety could read as an answer about the person
    assert book.topics["ask_recovery_time"].lead not in reply.text
    assert all(book.may_follow_personal_question(f) for f in book.facts if f.id in reply.fact_ids)
    assert reply.after == ["utter_multi_topic_personal_contact"] and reply.personal


def test_a_topic_held_back_after_a_personal_question_is_said_not_dropped(book):
    """ "how long is recovery and what does it cost? my back still hurts, is that ok?": the recovery
    question is quoted at its place and left to the team, not silently skipped."""
    reply = plan_reply(
        book,
        ["ask_personal_advice", "ask_recovery_time", "ask_cost"],
        questions={
            "ask_personal_advice": ["my back still hurts is that ok?"],
            "ask_recovery_time": ["how long is recovery"],
        },
        own_symptom=True,
    )
    assert [(m.response, m.values.get("question"), m.topics) for m in reply.messages] == [
        ("utter_multi_topic_held_back", "how long is recovery", []),
        ("utter_personal_general_intro", None, []),
        (None, None, ["ask_cost"]),
    ]
    assert reply.topics == ["ask_cost"] and book.topics["ask_recovery_time"].lead not in reply.text


def test_a_held_back_topic_without_the_patients_words_is_named_by_its_title(book):
    reply = plan_reply(book, ["ask_personal_advice", "ask_indications"])
    assert [m.values for m in reply.messages] == [{"question": book.topics["ask_indications"].title}]


def test_an_own_symptom_part_adds_the_safety_net_line_after_the_deferral(book):
    reply = plan_reply(book, ["ask_personal_advice", "ask_cost"], own_symptom=True)
    assert reply.before[:2] == ["utter_personal_defer", "utter_own_symptom_safety_net"]
    assert "utter_own_symptom_safety_net" not in plan_reply(book, ["ask_personal_advice", "ask_cost"]).before


def test_a_personal_question_with_no_allowed_topic_gets_the_deferral_and_no_facts(book):
    reply = plan_reply(book, ["ask_personal_advice", "ask_indications"])
    assert reply.before == ["utter_personal_defer"] and reply.text == "" and reply.topics == []
    assert [m.response for m in reply.messages] == ["utter_multi_topic_held_back"] and not reply.fact_ids


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
    events = await ActionAnswerTopic().run(
        dispatcher, tracker_with_topics(["ask_personal_advice", "ask_cost"], "ask_cost"), {}
    )
    assert response_names(dispatcher)[0] == "utter_personal_defer"
    assert SlotSet("personal_question", True) in events


@pytest.mark.parametrize("topics", [["ask_recovery_time", "ask_not_covered"], ["ask_not_covered", "ask_recovery_time"]])
def test_a_part_the_sheet_does_not_answer_is_said_at_its_place_and_the_callback_is_offered(book, topics):
    reply = plan_reply(book, topics, questions={"ask_not_covered": ["who is the surgeon?"]})
    kinds = [m.response or "facts" for m in reply.messages]
    assert kinds == ["facts" if t != "ask_not_covered" else "utter_multi_topic_not_covered" for t in topics]
    [said] = [m for m in reply.messages if m.response]
    assert said.values == {"question": "who is the surgeon?"}
    assert reply.topics == ["ask_recovery_time"] and reply.not_covered
    assert reply.before == ["utter_multi_topic_intro"]
    assert reply.after == ["utter_multi_topic_more", "utter_offer_callback"]
    assert set(reply.fact_ids) <= {f.id for f in book.facts_for("ask_recovery_time", primary=True)}


def test_topics_on_both_sides_of_a_not_covered_part_keep_the_order(book):
    reply = plan_reply(
        book, ["ask_cost", "ask_not_covered", "ask_scarring"], questions={"ask_not_covered": ["what do i wear"]}
    )
    assert [m.response for m in reply.messages] == [None, "utter_multi_topic_not_covered", None]
    assert reply.messages[0].topics == ["ask_cost"] and reply.messages[2].topics == ["ask_scarring"]
    assert reply.topics == ["ask_cost", "ask_scarring"]


def test_a_not_covered_part_gets_the_one_related_fact_attributed(book):
    reply = plan_reply(
        book, ["ask_cost", "ask_not_covered"], questions={"ask_not_covered": ["which camera do you use"]}
    )
    assert [m.response for m in reply.messages] == [
        None,
        "utter_multi_topic_not_covered",
        "utter_not_covered_related",
        None,
    ]
    assert reply.messages[-1].fact_ids == ["what.endoscope"] and reply.messages[-1].topics == ["ask_not_covered"]
    assert "what.endoscope" in reply.fact_ids
    assert book.fact("what.endoscope").answer not in reply.text  # .text: the topics' facts only


def test_each_not_covered_question_of_a_message_is_said(book):
    reply = plan_reply(
        book, ["ask_not_covered", "ask_cost"], questions={"ask_not_covered": ["who is the surgeon", "what do i wear"]}
    )
    assert [m.values.get("question") for m in reply.messages if m.response] == ["who is the surgeon", "what do i wear"]


def test_a_personal_question_with_a_not_covered_part_defers_first_and_still_offers(book):
    reply = plan_reply(
        book,
        ["ask_personal_advice", "ask_indications", "ask_not_covered"],
        questions={"ask_not_covered": ["who is the surgeon"]},
    )
    assert reply.before == ["utter_personal_defer"] and reply.topics == []
    assert [m.response for m in reply.messages] == ["utter_multi_topic_held_back", "utter_multi_topic_not_covered"]
    assert reply.after == ["utter_multi_topic_personal_contact", "utter_offer_callback"]


@pytest.mark.asyncio
async def test_the_not_covered_action_answers_every_topic_in_order_and_offers_the_callback(book, dispatcher):
    tracker = tracker_with_topics(
        ["ask_recovery_time", "ask_not_covered"], "ask_not_covered", {"ask_not_covered": ["who is the surgeon?"]}
    )
    events = await ActionAnswerNotCovered().run(dispatcher, tracker, {})
    assert response_names(dispatcher) == [
        "utter_multi_topic_intro",
        None,
        "utter_multi_topic_not_covered",
        "utter_multi_topic_more",
        "utter_offer_callback",
    ]
    assert dispatcher.messages[2]["question"] == "who is the surgeon?"  # fills the response's {question}
    answer = dispatcher.messages[1]
    assert answer["topics"] == ["ask_recovery_time"]
    assert answer["text"].startswith(book.topics["ask_recovery_time"].lead)
    assert SlotSet("last_topic", "ask_recovery_time") in events and SlotSet("fact_ids", answer["fact_ids"]) in events


@pytest.mark.parametrize(
    "topics, kinds",
    [
        (["ask_recovery_time", RECURRENCE_TOPIC], ["facts", RECURRENCE_RESPONSE]),
        # consecutive topics' facts are one message
        ([RECURRENCE_TOPIC, "ask_cost", "ask_scarring"], [RECURRENCE_RESPONSE, "facts"]),
        (["ask_cost", RECURRENCE_TOPIC, "ask_scarring"], ["facts", RECURRENCE_RESPONSE, "facts"]),
    ],
)
def test_a_recurrence_part_is_said_at_its_place_with_no_fact_and_the_callback_is_offered(book, topics, kinds):
    reply = plan_reply(book, topics, questions={RECURRENCE_TOPIC: ["can the hernia come back?"]})
    assert [m.response or "facts" for m in reply.messages] == kinds
    facts = [t for t in topics if t != RECURRENCE_TOPIC]
    assert reply.topics == facts and reply.not_covered
    assert set(reply.fact_ids) <= {f.id for t in facts for f in book.facts_for(t, primary=True)}
    assert reply.before == ["utter_multi_topic_intro"]
    assert reply.after == ["utter_multi_topic_more", "utter_offer_callback"]


def test_beside_a_personal_question_a_recurrence_part_is_held_back_never_answered_in_general(book):
    reply = plan_reply(
        book,
        ["ask_personal_advice", "ask_cost", RECURRENCE_TOPIC],
        questions={RECURRENCE_TOPIC: ["will i need a second op?"]},
    )
    responses = [m.response for m in reply.messages]
    assert RECURRENCE_RESPONSE not in responses and RECURRENCE_RESPONSE not in reply.before + reply.after
    [held] = [m for m in reply.messages if m.response == "utter_multi_topic_held_back"]
    assert held.values == {"question": "will i need a second op?"}
    assert reply.before == ["utter_personal_defer"] and reply.topics == ["ask_cost"] and not reply.not_covered


@pytest.mark.asyncio
async def test_the_not_covered_action_answers_a_recurrence_part_among_the_topics(book, dispatcher):
    tracker = tracker_with_topics(
        ["ask_recovery_time", RECURRENCE_TOPIC], "ask_not_covered", {RECURRENCE_TOPIC: ["can it come back?"]}
    )
    events = await ActionAnswerNotCovered().run(dispatcher, tracker, {})
    assert response_names(dispatcher) == [
        "utter_multi_topic_intro",
        None,
        RECURRENCE_RESPONSE,
        "utter_multi_topic_more",
        "utter_offer_callback",
    ]
    assert SlotSet("last_topic", "ask_recovery_time") in events
    assert topics_asked(tracker.latest_message, book) == ["ask_recovery_time", RECURRENCE_TOPIC]


@pytest.mark.asyncio
async def test_a_single_not_covered_question_is_answered_as_before(dispatcher):
    tracker = tracker_with_topics(["ask_not_covered"], questions={"ask_not_covered": ["x"]})
    await ActionAnswerNotCovered().run(dispatcher, tracker, {})
    assert response_names(dispatcher) == ["utter_not_covered", "utter_offer_callback"]


def test_the_responses_exist(domain):
    for name in (
        "utter_multi_topic_intro",
        "utter_multi_topic_more",
        "utter_multi_topic_personal_contact",
        "utter_multi_topic_not_covered",
        "utter_multi_topic_held_back",
    ):
        assert domain["responses"][name][0]["text"]
    assert "{question}" in domain["responses"]["utter_multi_topic_not_covered"][0]["text"]
    assert "{question}" in domain["responses"]["utter_multi_topic_held_back"][0]["text"]
