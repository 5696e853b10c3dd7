"""clinic_nlu.topic_margin: a topic's facts only when the message is really about that topic."""

from __future__ import annotations

import pytest

from clinic_nlu.topic_margin import not_covered_instead
from clinic_vocabulary import NOT_COVERED_INTENT, QUESTION_TOPICS

pytestmark = pytest.mark.unit


def rank(*pairs):
    return [{"name": n, "confidence": c} for n, c in pairs]


def decide(intent, conf, ranking, minimum=0.6):
    return not_covered_instead(intent, conf, ranking, QUESTION_TOPICS, NOT_COVERED_INTENT, minimum)


def test_an_unsure_topic_next_to_not_covered_becomes_not_covered():
    assert decide("ask_recovery_time", 0.45, rank(("ask_recovery_time", 0.45), ("ask_not_covered", 0.3)))


def test_a_sure_topic_is_kept():
    assert not decide("ask_recovery_time", 0.61, rank(("ask_recovery_time", 0.61), ("ask_not_covered", 0.3)))


def test_an_unsure_topic_whose_runner_up_is_another_topic_is_kept():
    assert not decide("ask_cost", 0.4, rank(("ask_cost", 0.4), ("ask_comparison", 0.35), ("ask_not_covered", 0.2)))


def test_the_fallback_with_not_covered_first_becomes_not_covered_and_otherwise_stays():
    fallback = [{"name": "nlu_fallback", "confidence": 0.3}]
    assert decide("nlu_fallback", 0.3, fallback + rank(("ask_not_covered", 0.28), ("ask_personal_advice", 0.27)))
    assert not decide("nlu_fallback", 0.3, fallback + rank(("ask_cost", 0.28), ("ask_not_covered", 0.27)))


def test_intents_that_are_not_topics_are_never_touched():
    for intent in ("ask_personal_advice", "request_human", "out_of_scope", "report_emergency", "greet"):
        assert not decide(intent, 0.2, rank((intent, 0.2), ("ask_not_covered", 0.19)))


def test_the_topics_are_the_fact_books_topics(book):
    assert set(QUESTION_TOPICS) == set(book.topics)
