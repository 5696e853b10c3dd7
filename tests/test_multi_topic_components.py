"""clinic_nlu/multi_topic.py: the parts travel through the pipeline and come back as topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.multi_topic import MultiTopicCollector, QuestionSplitter
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_nlu.topic_margin_component import TopicMargin
from clinic_vocabulary import (
    FACT_TOPIC_INTENTS,
    MULTI_TOPIC_INTENTS,
    NOT_COVERED_INTENT,
    PERSONAL_INTENT,
    RECURRENCE_TOPIC,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def classified(message: Message, ranking: List[Tuple[str, float]]) -> Message:
    """Set an intent and ranking on ``message`` as the classifier (and the fallback) would."""
    entries = [{"name": n, "confidence": c} for n, c in ranking]
    message.set("intent", entries[0], add_to_output=True)
    message.set("intent_ranking", entries, add_to_output=True)
    return message


def split(text: str) -> Tuple[Message, List[Message]]:
    message = Message(data={"text": text})
    out = QuestionSplitter.create({}, None, None, None).process([message])  # type: ignore[arg-type]
    assert out[0] is message
    return message, out[1:]


def test_a_message_with_several_questions_gets_its_parts_appended():
    message, parts = split("How long is recovery and what does it cost?")
    assert [p.get("text") for p in parts] == ["How long is recovery", "what does it cost?"]


@pytest.mark.parametrize("text", ["how long is recovery", "/ask_cost", ""])
def test_nothing_is_added_when_there_is_nothing_to_split(text):
    message, parts = split(text)
    assert parts == [] and "question_parts" not in message.data


def collect(
    whole: List[Tuple[str, float]],
    parts: List[List[Tuple[str, float]]],
    threshold: float = 0.3,
    not_covered: float = 0.3,
) -> Tuple[Message, List[Message]]:
    message, part_messages = split(" and ".join(f"question {i}" for i in range(len(parts))) or "x")
    assert len(part_messages) == len(parts)
    classified(message, whole)
    for part, ranking in zip(part_messages, parts):
        classified(part, ranking)
    config = {"threshold": threshold, "not_covered_threshold": not_covered}
    collector = MultiTopicCollector.create(config, None, None, None)  # type: ignore[arg-type]
    out = collector.process([message, *part_messages])
    return message, out


def test_the_topics_come_back_in_order_and_the_parts_go():
    message, out = collect(
        [("ask_cost", 0.52), ("ask_recovery_time", 0.5)],
        [[("ask_recovery_time", 0.9)], [("ask_cost", 0.8)]],
    )
    assert out == [message]
    assert message.get("topics") == [
        {"name": "ask_recovery_time", "confidence": 0.9, "questions": ["question 0"]},
        {"name": "ask_cost", "confidence": 0.8, "questions": ["question 1"]},
    ]
    assert message.get("intent") == {"name": "ask_recovery_time", "confidence": 0.9}
    assert [r["name"] for r in message.get("intent_ranking")] == ["ask_recovery_time", "ask_cost"]
    assert message.get("whole_message_intent") == {"name": "ask_cost", "confidence": 0.52}
    assert message.get("classifier_intent") is None  # staff read that key as a red-flag override
    assert "question_parts" not in message.data
    assert "topics" in message.as_dict(only_output_properties=True)


def test_a_not_understood_message_with_two_clear_parts_is_answered():
    message, _ = collect(
        [("nlu_fallback", 0.3), ("ask_cost", 0.4), ("ask_scarring", 0.38)],
        [[("nlu_fallback", 0.3), ("ask_scarring", 0.95)], [("ask_cost", 0.99)]],
    )
    assert [t["name"] for t in message.get("topics")] == ["ask_scarring", "ask_cost"]
    assert message.get("intent")["name"] == "ask_scarring"
    assert all(r["name"] != "nlu_fallback" for r in message.get("intent_ranking"))


@pytest.mark.parametrize("whole", ["greet", "request_human", PERSONAL_INTENT, "out_of_scope"])
def test_other_intents_keep_their_own_handling(whole):
    message, out = collect([(whole, 0.9)], [[("ask_recovery_time", 0.9)], [("ask_cost", 0.9)]])
    assert out == [message] and message.get("topics") is None and message.get("intent")["name"] == whole


def test_one_confident_topic_is_not_several():
    message, _ = collect([("ask_pain_relief", 0.9)], [[("ask_pain_relief", 0.8)], [("ask_cost", 0.29)]])
    assert message.get("topics") is None and message.get("intent") == {"name": "ask_pain_relief", "confidence": 0.9}


def test_a_personal_part_comes_first_and_a_fact_topic_leads_the_intent():
    message, _ = collect(
        [("ask_cost", 0.7)],
        [[("ask_cost", 0.9)], [(PERSONAL_INTENT, 0.8)]],
    )
    assert [t["name"] for t in message.get("topics")] == [PERSONAL_INTENT, "ask_cost"]
    assert message.get("intent")["name"] == "ask_cost"


def test_two_personal_parts_and_no_fact_topic_change_nothing():
    message, _ = collect([("ask_cost", 0.7)], [[(PERSONAL_INTENT, 0.9)], [("greet", 0.9)]])
    assert message.get("topics") is None


@pytest.mark.parametrize("whole", ["ask_recovery_time", "nlu_fallback"])
def test_a_part_the_sheet_does_not_answer_is_kept_in_order_and_leads_the_intent(whole):
    message, out = collect(
        [(whole, 0.6), ("ask_recovery_time", 0.3)],
        [[("ask_recovery_time", 0.9)], [(NOT_COVERED_INTENT, 0.7), ("ask_safety", 0.2)]],
        not_covered=0.5,
    )
    assert out == [message]
    assert message.get("topics") == [
        {"name": "ask_recovery_time", "confidence": 0.9, "questions": ["question 0"]},
        {"name": NOT_COVERED_INTENT, "confidence": 0.7, "questions": ["question 1"]},
    ]
    # Its rule (action_answer_not_covered) answers every topic and ends with the callback offer.
    assert message.get("intent") == {"name": NOT_COVERED_INTENT, "confidence": 0.7}
    assert message.get("whole_message_intent")["name"] == whole


def test_the_topic_margin_after_the_collector_leaves_several_topics_as_they_were_set():
    """TopicMargin runs after the collector: a loose topic part (runner-up "not covered") still counts
    as its topic, and the margin does not turn a message with several topics into one answer."""
    message, parts = split("how long is recovery and is it safe")
    classified(message, [("ask_recovery_time", 0.55), (NOT_COVERED_INTENT, 0.4)])
    classified(parts[0], [("ask_recovery_time", 0.9)])
    classified(parts[1], [("ask_safety", 0.5), (NOT_COVERED_INTENT, 0.4)])
    out = MultiTopicCollector.create({}, None, None, None).process([message, *parts])  # type: ignore[arg-type]
    margin = TopicMargin.create({"min_topic_confidence": 0.6}, None, None, None)  # type: ignore[arg-type]
    assert margin.process(out) == [message]
    assert [t["name"] for t in message.get("topics")] == ["ask_recovery_time", "ask_safety"]
    assert message.get("intent") == {"name": "ask_recovery_time", "confidence": 0.9}
    assert message.get("topic_margin") is None


def test_a_message_the_classifier_reads_as_not_covered_stays_one_question():
    """A false split of it would give a topic's facts to a question the sheet does not answer."""
    message, _ = collect([(NOT_COVERED_INTENT, 0.85)], [[(NOT_COVERED_INTENT, 0.9)], [("ask_recovery_time", 0.6)]])
    assert message.get("topics") is None and message.get("intent") == {"name": NOT_COVERED_INTENT, "confidence": 0.85}


def test_a_message_read_as_not_covered_less_surely_than_a_part_must_be_is_split():
    """Below ``not_covered_threshold`` the whole message's "not covered" is as unsure as a fallback."""
    message, _ = collect(
        [(NOT_COVERED_INTENT, 0.55), ("ask_safety", 0.3)],
        [[(NOT_COVERED_INTENT, 0.8)], [("ask_safety", 0.9)], [("ask_anesthesia", 0.9)]],
        not_covered=0.7,
    )
    assert [t["name"] for t in message.get("topics")] == [NOT_COVERED_INTENT, "ask_safety", "ask_anesthesia"]
    assert message.get("whole_message_intent") == {"name": NOT_COVERED_INTENT, "confidence": 0.55}


def test_a_message_read_as_not_covered_as_surely_as_a_part_must_be_stays_one_question():
    message, _ = collect(
        [(NOT_COVERED_INTENT, 0.7)], [[(NOT_COVERED_INTENT, 0.9)], [("ask_safety", 0.9)]], not_covered=0.7
    )
    assert message.get("topics") is None and message.get("intent") == {"name": NOT_COVERED_INTENT, "confidence": 0.7}


def test_a_not_covered_part_below_its_own_threshold_does_not_count():
    message, _ = collect(
        [("ask_recovery_time", 0.8)],
        [[("ask_recovery_time", 0.9)], [(NOT_COVERED_INTENT, 0.45)]],
        not_covered=0.5,
    )
    assert message.get("topics") is None and message.get("intent") == {"name": "ask_recovery_time", "confidence": 0.8}


def test_only_not_covered_parts_stay_one_not_covered_question():
    """Without a part the sheet answers, the whole message gets the single not-covered answer."""
    message, _ = collect([(NOT_COVERED_INTENT, 0.8)], [[(NOT_COVERED_INTENT, 0.9)], [(NOT_COVERED_INTENT, 0.7)]])
    assert message.get("topics") is None and message.get("intent")["name"] == NOT_COVERED_INTENT


def test_training_data_passes_unchanged():
    data = TrainingData([Message(data={"text": "a and b", "intent": "ask_cost"})])
    assert QuestionSplitter.create({}, None, None, None).process_training_data(data) is data  # type: ignore[arg-type]
    collector = MultiTopicCollector.create({}, None, None, None)  # type: ignore[arg-type]
    assert collector.process_training_data(data) is data
    with pytest.raises(ValueError):
        QuestionSplitter({"max_parts": 1})


def test_the_pipeline_splits_before_classifying_collects_after_the_fallback_and_triages_last():
    """The splitter comes before the tokenizer (only the spelling corrector, which corrects the
    whole message, and the step that sets instruction-like text aside may come before it: the parts
    then carry the corrected words, without the instructions)."""
    names = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    splitter = names.index("clinic_nlu.multi_topic.QuestionSplitter")
    assert set(names[:splitter]) <= {
        "clinic_nlu.spelling_corrector.SpellingCorrector",
        "clinic_nlu.instructions_component.SetAsideInstructions",
    }
    assert splitter < names.index("WhitespaceTokenizer")
    # The parts are collected from the classifier's own reading; the topic margin comes after and
    # leaves a message with several topics as the collector set it.
    collector = names.index("clinic_nlu.multi_topic.MultiTopicCollector")
    assert collector == names.index("FallbackClassifier") + 1
    assert names.index("clinic_nlu.topic_margin_component.TopicMargin") == collector + 1
    assert names[-1] == "clinic_nlu.triage_component.TriageOverride"


def test_the_topics_are_the_fact_books_and_the_personal_question():
    facts = yaml.safe_load((ROOT / "facts" / "facts.yml").read_text())
    assert set(FACT_TOPIC_INTENTS) == set(facts["topics"])
    assert set(MULTI_TOPIC_INTENTS) == set(FACT_TOPIC_INTENTS) | {PERSONAL_INTENT}


def collect_texts(
    parts: List[Tuple[str, List[Tuple[str, float]]]],
    whole: Tuple[str, float] = ("ask_recovery_time", 0.6),
    typed: str = "",
    **config: Any,
) -> Message:
    """Split the parts' texts joined by "and" (``typed``: the text as typed, the joined one then being
    the corrector's), classify the parts as given, collect."""
    text = " and ".join(p for p, _ in parts)
    message = Message(data={"text": text, **({ORIGINAL_TEXT: typed} if typed else {})})
    out = QuestionSplitter.create({}, None, None, None).process([message])  # type: ignore[arg-type]
    assert [p.get("text") for p in out[1:]] == [p for p, _ in parts]
    classified(message, [whole])
    for part, (_, ranking) in zip(out[1:], parts):
        classified(part, ranking)
    MultiTopicCollector.create(config, None, None, None).process(out)  # type: ignore[arg-type]
    return message


def test_a_part_asking_whether_the_problem_comes_back_is_a_topic_of_its_own_and_leads_as_not_covered():
    message = collect_texts(
        [("how long is recovery", [("ask_recovery_time", 0.9)]), ("can the hernia come back", [("ask_safety", 0.8)])]
    )
    assert message.get("topics") == [
        {"name": "ask_recovery_time", "confidence": 0.9, "questions": ["how long is recovery"]},
        {
            "name": RECURRENCE_TOPIC,
            "confidence": 0.8,
            "questions": ["can the hernia come back"],
            "read_as": "ask_safety",
        },
    ]
    # Its rule (action_answer_not_covered) answers every topic and ends with the callback offer.
    assert message.get("intent") == {"name": NOT_COVERED_INTENT, "confidence": 0.8}


def test_a_recurrence_part_read_as_the_same_topic_as_another_part_is_still_its_own():
    message = collect_texts(
        [("is it safe", [("ask_safety", 0.9)]), ("can the disc slip again", [("ask_safety", 0.7)])],
        whole=("ask_safety", 0.9),
    )
    assert [t["name"] for t in message.get("topics")] == ["ask_safety", RECURRENCE_TOPIC]


def test_a_recurrence_part_the_classifier_is_unsure_of_still_counts_and_a_slip_is_read_corrected():
    message = collect_texts(
        [("how long is recovery", [("ask_recovery_time", 0.9)]), ("can the hernia come back", [("nlu_fallback", 0.3)])],
        typed="how long is recovery and can the hernia cmoe back",
    )
    (recurrence,) = [t for t in message.get("topics") if t["name"] == RECURRENCE_TOPIC]
    assert recurrence["questions"] == ["can the hernia cmoe back"]  # the patient's words, quoted as typed


@pytest.mark.parametrize(
    "parts",
    [
        # the writer speaks of their own case somewhere in the message: the person's question
        [
            ("how long is recovery for my back", [("ask_recovery_time", 0.9)]),
            ("can it come back", [("ask_safety", 0.8)]),
        ],
        [("the pain came back", [("ask_pain_relief", 0.5)]), ("will i need a second op", [("ask_safety", 0.8)])],
        # a part read as personal
        [("am i a good candidate", [(PERSONAL_INTENT, 0.6)]), ("can the hernia come back", [("ask_safety", 0.8)])],
        # read as a topic data/rules.yml does not send to the recurrence answer ("how much is a second op")
        [("how long is recovery", [("ask_recovery_time", 0.9)]), ("how much is a second op", [("ask_cost", 0.9)])],
    ],
)
def test_no_recurrence_topic_for_the_own_case_a_personal_part_or_another_reading(parts):
    message = collect_texts(parts)
    assert RECURRENCE_TOPIC not in [t["name"] for t in message.get("topics") or []]
    assert message.get("intent")["name"] != NOT_COVERED_INTENT


def test_switched_off_a_recurrence_part_keeps_the_classifiers_topic():
    parts = [
        ("how long is recovery", [("ask_recovery_time", 0.9)]),
        ("can the hernia come back", [("ask_safety", 0.8)]),
    ]
    message = collect_texts(parts, recurrence=False)
    assert [t["name"] for t in message.get("topics")] == ["ask_recovery_time", "ask_safety"]
    with pytest.raises(ValueError, match="recurrence"):
        MultiTopicCollector({"threshold": 0.3, "not_covered_threshold": 0.3, "recurrence": "yes"})


def test_a_part_on_a_subject_the_sheet_is_silent_on_is_not_covered_beside_the_other_topic():
    # read as out of scope on its own, the parking part would have cost the message its pain topic
    message = collect_texts(
        [("is it painful", [("ask_pain_relief", 0.9)]), ("do you have parking", [("out_of_scope", 0.96)])],
        whole=("nlu_fallback", 0.3),
        silent_subjects=True,
    )
    assert message.get("topics") == [
        {"name": "ask_pain_relief", "confidence": 0.9, "questions": ["is it painful"]},
        {"name": NOT_COVERED_INTENT, "confidence": 1.0, "questions": ["do you have parking"]},
    ]
    assert message.get("intent") == {"name": NOT_COVERED_INTENT, "confidence": 1.0}
    assert message.get("silent_parts") == [
        {"question": "do you have parking", "subject": "parking", "read_as": "out_of_scope"}
    ]


def test_a_silent_subject_read_as_a_topic_never_gets_that_topics_facts():
    # "how much is parking" read as the price: the cost facts would answer another question
    message = collect_texts(
        [("how long is recovery", [("ask_recovery_time", 0.9)]), ("how much is parking", [("ask_cost", 0.8)])],
        silent_subjects=True,
    )
    assert [t["name"] for t in message.get("topics")] == ["ask_recovery_time", NOT_COVERED_INTENT]


@pytest.mark.parametrize(
    "second",
    [
        ("is there a risk with parking", [("ask_safety", 0.8)]),  # the risk question keeps the risk answer
        ("can i drive to the parking", [(PERSONAL_INTENT, 0.8)]),  # the own case keeps the deferral
        ("what does it cost", [("ask_cost", 0.8)]),  # no silent subject: the classifier's topic
    ],
)
def test_a_risk_own_case_or_plain_part_keeps_its_reading(second):
    message = collect_texts([("how long is recovery", [("ask_recovery_time", 0.9)]), second], silent_subjects=True)
    assert NOT_COVERED_INTENT not in [t["name"] for t in message.get("topics")]
    assert message.get("silent_parts") is None


@pytest.mark.parametrize(
    "parts",
    [
        [
            ("is there parking at the clinic", [("out_of_scope", 0.9)]),
            ("how much does it cost per day", [("ask_cost", 0.9)]),
        ],
        [("what is kyphoplasty", [("nlu_fallback", 0.3)]), ("is it the same as endoscopy", [("ask_comparison", 0.8)])],
    ],
)
def test_a_topic_asked_after_a_silent_subject_is_its_follow_up_and_not_a_topic_of_its_own(parts):
    message = collect_texts(parts, whole=("ask_cost", 0.6), silent_subjects=True)
    assert message.get("topics") is None and message.get("silent_parts") is None


def test_switched_off_a_silent_part_keeps_the_classifiers_reading():
    parts = [("is it painful", [("ask_pain_relief", 0.9)]), ("how much is parking", [("ask_cost", 0.8)])]
    message = collect_texts(parts)
    assert [t["name"] for t in message.get("topics")] == ["ask_pain_relief", "ask_cost"]
    with pytest.raises(ValueError, match="silent_subjects"):
        MultiTopicCollector({"threshold": 0.3, "not_covered_threshold": 0.3, "silent_subjects": "yes"})
