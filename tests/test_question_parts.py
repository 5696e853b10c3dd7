"""clinic_nlu/question_parts.py: splitting a message into candidate questions, topics in order."""

from __future__ import annotations

import re

import pytest

from clinic_nlu.question_parts import (
    TopicHit,
    is_multi_topic,
    ordered_topics,
    ranked_topics,
    sentences,
    split_parts,
    typed_parts,
)

pytestmark = pytest.mark.unit

TOPICS = {"ask_cost", "ask_recovery_time", "ask_safety", "ask_personal_advice"}


@pytest.mark.parametrize(
    "text, parts",
    [
        ("How long is recovery and what does it cost?", ["How long is recovery", "what does it cost?"]),
        ("cost? recovery?", ["cost?", "recovery?"]),
        ("Is it safe? Also what is the price", ["Is it safe?", "what is the price"]),
        ("what is it + how much", ["what is it", "how much"]),
        ("price, how long is recovery", ["price", "how long is recovery"]),
        ("the price, and how long is recovery", ["the price", "how long is recovery"]),
        ("Scar size and recovery time?", ["Scar size", "recovery time?"]),
    ],
)
def test_questions_are_cut_at_sentences_and_joining_words(text, parts):
    assert split_parts(text) == parts


@pytest.mark.parametrize(
    "text",
    ["how long is recovery", "is it better than laser or injections?", "scar, stitches?", "/ask_cost", "ok"],
)
def test_one_question_stays_whole(text):
    assert split_parts(text) == [text]


@pytest.mark.parametrize(
    "text, parts",
    [
        ("will it come back? the herniation i mean", ["will it come back? the herniation i mean"]),
        ("how much is it? i mean the op", ["how much is it? i mean the op"]),
        ("how long is recovery. I meant after the op", ["how long is recovery. I meant after the op"]),
        # a clarification that asks again is still a question of its own
        (
            "what does it cost? i mean, how long is recovery too",
            ["what does it cost? i mean", "how long is recovery too"],
        ),
        ("i mean the scar. how long is recovery", ["i mean the scar.", "how long is recovery"]),
    ],
)
def test_a_part_that_only_says_what_the_question_before_meant_joins_it(text, parts):
    assert split_parts(text) == parts


@pytest.mark.parametrize(
    "text, parts",
    [
        ("do i need a brace after and for how long", ["do i need a brace after for how long"]),
        ("will i need physio, and how often?", ["will i need physio how often?"]),
        ("do i take painkillers after and until when", ["do i take painkillers after until when"]),
        # a part with a subject of its own is still a question of its own
        (
            "how long off work and how often do i see the surgeon",
            ["how long off work", "how often do i see the surgeon"],
        ),
        ("how long is recovery and how much", ["how long is recovery", "how much"]),
    ],
)
def test_a_part_that_only_asks_how_long_or_how_often_about_the_one_before_joins_it(text, parts):
    assert split_parts(text) == parts


def test_a_symptom_list_is_cut_but_its_pieces_are_not_confident_topics():
    """ "pain in my back and leg" is cut (the splitter does not understand words); it stays one
    topic because "leg" alone is no confident question: ordered_topics keeps only sure parts."""
    assert split_parts("i have pain in my back and leg") == ["i have pain in my back", "leg"]
    hits = ordered_topics([("ask_pain_relief", 0.8), ("out_of_scope", 0.4)], TOPICS | {"ask_pain_relief"}, 0.3)
    assert [h.name for h in hits] == ["ask_pain_relief"] and not is_multi_topic(hits)


def test_the_number_of_parts_is_bounded_and_nothing_is_lost():
    text = "cost? recovery? scar? risks? anaesthesia? stitches?"
    parts = split_parts(text, max_parts=4)
    assert len(parts) == 4
    assert parts[-1] == "risks? anaesthesia? stitches?"


def test_parts_without_letters_are_dropped():
    assert split_parts("how much?? ... and ?? what about recovery") == ["how much?? ...", "what about recovery"]


def test_sentences_follow_punctuation():
    assert sentences("Is it safe? It hurts. What now!") == ["Is it safe?", "It hurts.", "What now!"]


def test_topics_keep_the_order_asked_and_appear_once():
    hits = ordered_topics(
        [("ask_recovery_time", 0.9), ("greet", 0.99), ("ask_cost", 0.6), ("ask_recovery_time", 0.95)], TOPICS, 0.3
    )
    assert hits == [TopicHit("ask_recovery_time", 0.95), TopicHit("ask_cost", 0.6)]
    assert is_multi_topic(hits)


def test_a_part_below_the_threshold_does_not_count():
    hits = ordered_topics([("ask_recovery_time", 0.9), ("ask_cost", 0.29)], TOPICS, 0.3)
    assert [h.name for h in hits] == ["ask_recovery_time"] and not is_multi_topic(hits)


def test_a_topic_may_have_its_own_threshold_and_keeps_the_words_of_its_parts():
    hits = ordered_topics(
        [("ask_recovery_time", 0.9), ("ask_not_covered", 0.45), ("ask_not_covered", 0.7), ("ask_cost", 0.4)],
        TOPICS | {"ask_not_covered"},
        0.3,
        {"ask_not_covered": 0.5},
        texts=["how long is recovery", "who is the surgeon", "what do i wear", "price"],
    )
    assert hits == [
        TopicHit("ask_recovery_time", 0.9, ("how long is recovery",)),
        TopicHit("ask_not_covered", 0.7, ("what do i wear",)),
        TopicHit("ask_cost", 0.4, ("price",)),
    ]
    assert hits[1].as_dict() == {"name": "ask_not_covered", "confidence": 0.7, "questions": ["what do i wear"]}


def test_ranked_topics_reads_a_ranking_in_its_own_order():
    ranking = [
        {"name": "ask_cost", "confidence": 0.5},
        {"name": "greet", "confidence": 0.3},
        {"name": "ask_safety", "confidence": 0.15},
        {"name": "ask_recovery_time", "confidence": 0.05},
    ]
    assert [h.name for h in ranked_topics(ranking, TOPICS, 0.1)] == ["ask_cost", "ask_safety"]
    assert is_multi_topic(ranked_topics(ranking, TOPICS, 0.1))
    assert not is_multi_topic(ranked_topics(ranking, TOPICS, 0.2))
    assert TopicHit("ask_cost", 0.5).as_dict() == {"name": "ask_cost", "confidence": 0.5}


@pytest.mark.parametrize(
    "typed, corrected",
    [
        (
            "how lnog is recovrey adn who is teh surgen?",
            "how long is recovery and who is the surgeon?",
        ),
        ("Wht does it cots? Also, who is teh surgen, pls", "what does it cost? Also, who is the surgeon, pls"),
        ("how lnog is recovrey & teh surgen i mean", "how long is recovery & the surgeon i mean"),
    ],
)
def test_parts_of_a_corrected_text_are_quoted_in_the_words_typed(typed, corrected):
    parts = split_parts(corrected)
    quotes = typed_parts(parts, corrected, typed)
    assert len(quotes) == len(parts)
    for part, quote in zip(parts, quotes):
        assert quote in typed  # the patient's own stretch of text, never the corrector's words
        # word for word the same stretch (a joined part keeps the "&" the patient typed between)
        assert len(re.findall("[A-Za-z]+", quote)) == len(re.findall("[A-Za-z]+", part))


def test_parts_that_cannot_be_lined_up_are_kept():
    assert typed_parts(["a b"], "a b", "a b") == ["a b"]
    assert typed_parts(["how long"], "how long", "how long is it") == ["how long"]
