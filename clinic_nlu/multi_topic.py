"""Rasa NLU components: several questions in one message are classified part by part.

Two components bracket the pipeline's own featurizers and classifier, so each part of a message is
read by exactly the same model as a whole message (clinic_nlu/question_parts.py has the logic):

- :class:`QuestionSplitter`, first in the pipeline: when a message's text splits into two or more
  candidate questions (sentences, "and", "also", ...), it appends one extra message per part to the
  list of messages the graph passes on. The tokenizer, TF-IDF, MiniLM (batched) and the classifier
  then process the parts with the message. A message with nothing to split adds no work at all.
- :class:`MultiTopicCollector`, after the FallbackClassifier and before the topic margin (which
  leaves a message with several topics as this step set it: clinic_nlu/topic_margin_component.py)
  and the triage component (which stays last): it reads each part's classifier intent, removes the
  parts from the list, and when two or more topics were asked it sets ``topics`` (in the order
  asked, with each part's confidence) on the message. The message's intent becomes the first fact
  topic asked, so the topic rule runs ``action_answer_topic``, which answers every topic in one
  reply (actions/multi_topic.py); the whole message's own prediction stays under
  ``whole_message_intent``.

A message is only read as several topics when the classifier's whole-message prediction was itself
a fact topic or not understood (``nlu_fallback``): a message it reads as a question the sheet does
not answer stays one (measured: bench/multi_topic_eval.py) when it reads so as surely as a part must
to count as not covered (``not_covered_threshold``; below it the reading is as unsure as
``nlu_fallback``), and a greeting, a thank you, a request for a person or a question about the
patient's own case keeps its own handling (a personal question goes to ``action_defer_personal``
as before). A part that asks about the patient's own case is put first among the topics, so the
reply defers to a clinician before anything else.

A part the sheet does not answer ("how long is recovery and who is the surgeon?") is a topic too,
with its own threshold ``not_covered_threshold`` and its words kept (``questions``), so the reply
says, at its place, that the sheet does not cover it. The parts are cut from the spelling-corrected
text the classifier reads, but ``questions`` holds the words the patient typed
(:func:`clinic_nlu.question_parts.typed_parts`): a reply quotes the patient, never the corrector.
At least one part must be a fact topic. When
one of the topics is not covered, the message's intent is ``ask_not_covered``: its rule runs
``action_answer_not_covered``, which answers every topic in order and ends with the callback offer
(and a "yes" then starts the callback form). The triage component runs after this one and still
overrides everything on a red flag anywhere in the message.

A part that asks whether the problem can come back after the operation ("how long is recovery and can
the hernia come back?"; the patterns of clinic_nlu/recurrence.yml, on its typed or corrected words,
read as one of the intents data/rules.yml sends to that answer) is a topic of its own,
``recurrence_question``, with the classifier's topic kept under ``read_as``: the reply says at its
place that the sheet does not say whether it comes back, and ends with the callback offer, as for a
not-covered part (the intent is then ``ask_not_covered``). Never when the writer speaks of their own
case anywhere in the message (``own_case`` of recurrence.yml and own_case.yml's "came back" lists)
or a part is read as personal: the parts then keep the classifier's topics, and the personal
deferral comes first (clinic_nlu/own_case_component.py puts a ``read_as`` back where it finds the own
case later). ``recurrence: false`` in config.yml switches this off.

With ``silent_subjects: true`` (config.yml), a part whose words ask about a subject the sheet is
silent on (the patterns of clinic_nlu/sheet_silent.yml, on its typed or corrected words: "is it
painful and do you have parking?") is a not-covered part whatever the classifier read it as (out of
scope, not understood, or a topic whose facts would answer another question: parking is not the
operation's price), except a part read as the risk question or the patient's own case, which keep
their own answers, and never when a topic is asked after it: that is its follow-up ("is there parking,
and how much does it cost per day?"), and the message stays one not-covered question. For a whole
message of one question the topic margin does the same (clinic_nlu/topic_margin_component.py); here
the message's other topics are answered beside it instead of being dropped. Each such part is
listed under ``silent_parts`` (its words, the wording found and the classifier's reading) so staff
see why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.instructions_component import FULL_TEXT
from clinic_nlu.question_parts import ordered_topics, split_parts, typed_parts
from clinic_nlu.recurrence import RecurrenceRules, load_rules
from clinic_nlu.sheet_silent import SilentRules, in_typed_or_corrected
from clinic_nlu.sheet_silent import load_rules as load_silent_rules
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_vocabulary import (
    FACT_TOPIC_INTENTS,
    MULTI_TOPIC_INTENTS,
    NOT_COVERED_INTENT,
    OUT_OF_SCOPE_INTENT,
    PERSONAL_INTENT,
    RECURRENCE_READINGS,
    RECURRENCE_TOPIC,
    RISK_INTENT,
    TOPICS_KEY,
)

# The whole message's own prediction when the topics replaced it (not "classifier_intent": staff
# read that one as a red-flag override).
WHOLE_MESSAGE_INTENT_KEY = "whole_message_intent"
_PARTS = "question_parts"  # on the message: its part messages (never in the output)
_IS_PART = "is_question_part"  # on a part message
_TYPED = "question_part_as_typed"  # on a part message: its words as the patient typed them
# Whole-message predictions that may hide several questions.
# A message the classifier reads as not covered stays one question, since a false split of it
# ("should i stop smoking before the op and how long before") would state a topic's facts to a
# question the sheet does not answer.
_OPEN_INTENTS = (*FACT_TOPIC_INTENTS, DEFAULT_NLU_FALLBACK_INTENT_NAME)
_PART_TOPICS = (*MULTI_TOPIC_INTENTS, NOT_COVERED_INTENT, RECURRENCE_TOPIC)
# Topics whose part the sheet does not answer: one of them leads the intent as ``ask_not_covered``.
_NOT_ANSWERED = (NOT_COVERED_INTENT, RECURRENCE_TOPIC)
# Part readings a silent subject turns into a not-covered part (not the risk question, not the own case).
_SILENT_READINGS = (
    *(t for t in MULTI_TOPIC_INTENTS if t not in (RISK_INTENT, PERSONAL_INTENT)),
    NOT_COVERED_INTENT,
    OUT_OF_SCOPE_INTENT,
    DEFAULT_NLU_FALLBACK_INTENT_NAME,
)
# On the message: the parts a silent subject made not covered (never read as anything else).
SILENT_PARTS_KEY = "silent_parts"


def _top_intent(message: Message) -> Dict[Text, Any]:
    """A part's intent as the classifier set it; for ``nlu_fallback``, the classifier's best intent."""
    intent = message.get(INTENT) or {}
    if intent.get(INTENT_NAME_KEY) not in (None, DEFAULT_NLU_FALLBACK_INTENT_NAME):
        return intent
    for entry in message.get(INTENT_RANKING_KEY) or []:
        if entry.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return entry
    return message.get(INTENT) or {}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class QuestionSplitter(GraphComponent):
    """Adds one message per candidate question of a message, for the components that follow."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_parts": 4}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._max_parts = int(config["max_parts"])
        if self._max_parts < 2:
            raise ValueError("QuestionSplitter max_parts must be at least 2")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "QuestionSplitter":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        """Return the messages followed by the parts of every message that has two or more."""
        added: List[Message] = []
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/") or message.get(_IS_PART):
                continue
            parts = split_parts(text, self._max_parts)
            if len(parts) < 2:
                continue
            typed = typed_parts(parts, text, message.get(ORIGINAL_TEXT) or text)
            part_messages = [
                Message(data={TEXT: part, _IS_PART: True, _TYPED: words}) for part, words in zip(parts, typed)
            ]
            message.set(_PARTS, part_messages)
            added.extend(part_messages)
        return messages + added if added else messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MultiTopicCollector(GraphComponent):
    """Reads the parts' intents back into their message and removes the parts."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # A part counts when the classifier gives its topic at least this confidence (a part the sheet
        # does not answer: not_covered_threshold): calibrated by cross-validation on data/nlu.yml
        # (bench/multi_topic_eval.py), not below the fallback's 0.3.
        # ``recurrence``: a part asking whether the problem comes back is a topic of its own.
        # ``silent_subjects``: a part asking about a subject the sheet is silent on is not covered.
        return {"threshold": 0.3, "not_covered_threshold": 0.3, "recurrence": True, "silent_subjects": False}

    def __init__(
        self,
        config: Dict[Text, Any],
        rules: Optional[RecurrenceRules] = None,
        silent_rules: Optional[SilentRules] = None,
    ) -> None:
        self._threshold = float(config["threshold"])
        self._not_covered_threshold = float(config["not_covered_threshold"])
        for key in ("recurrence", "silent_subjects"):
            if not isinstance(config.get(key, False), bool):
                raise ValueError(f"MultiTopicCollector {key} must be true or false")
        self._recurrence = (rules or load_rules()) if config.get("recurrence", True) else None
        self._silent = (silent_rules or load_silent_rules()) if config.get("silent_subjects", False) else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MultiTopicCollector":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        """Set ``topics`` on messages asking about several; return the messages without their parts."""
        for message in messages:
            parts = message.data.pop(_PARTS, None)
            if parts:
                self._collect(message, parts)
        return [m for m in messages if not m.get(_IS_PART)]

    def _collect(self, message: Message, parts: List[Message]) -> None:
        predicted = message.get(INTENT) or {}
        name = predicted.get(INTENT_NAME_KEY)
        unsure_not_covered = (
            name == NOT_COVERED_INTENT
            and float(predicted.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < self._not_covered_threshold
        )
        if name not in _OPEN_INTENTS and not unsure_not_covered:
            return
        tops = [_top_intent(p) for p in parts]
        names = [str(t.get(INTENT_NAME_KEY)) for t in tops]
        texts = [str(p.get(_TYPED) or p.get(TEXT) or "") for p in parts]
        recurrent = self._recurrence_parts(message, parts, names, texts)
        silent = self._silent_parts(parts, names, texts, recurrent)
        hits = ordered_topics(
            [
                (RECURRENCE_TOPIC, float(t.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
                if again
                else (NOT_COVERED_INTENT, 1.0)  # a reviewed pattern decided it, as the topic margin's
                if subject is not None
                else (name, float(t.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
                for name, t, again, subject in zip(names, tops, recurrent, silent)
            ],
            _PART_TOPICS,
            self._threshold,
            # the patterns, not the classifier, found a recurrence part: no confidence asked of it
            {NOT_COVERED_INTENT: self._not_covered_threshold, RECURRENCE_TOPIC: 0.0},
            texts=texts,
        )
        read_as = next((n for n, again in zip(names, recurrent) if again), None)
        hits = [replace(h, read_as=read_as) if h.name == RECURRENCE_TOPIC else h for h in hits]
        hits = sorted(hits, key=lambda h: h.name != PERSONAL_INTENT)  # stable: the personal question first
        lead = next((h for h in hits if h.name in FACT_TOPIC_INTENTS), None)
        if len(hits) < 2 or lead is None:
            return
        # A part the sheet does not answer leads (as ask_not_covered): its rule answers every topic
        # and offers the callback.
        lead = next((h for h in hits if h.name in _NOT_ANSWERED), lead)
        lead_name = NOT_COVERED_INTENT if lead.name in _NOT_ANSWERED else lead.name
        message.set(TOPICS_KEY, [h.as_dict() for h in hits], add_to_output=True)
        message.set(WHOLE_MESSAGE_INTENT_KEY, predicted, add_to_output=True)
        found = [
            {"question": text, "subject": subject, "read_as": name}
            for text, subject, name in zip(texts, silent, names)
            if subject is not None
        ]
        if found:
            message.set(SILENT_PARTS_KEY, found, add_to_output=True)
        intent = {INTENT_NAME_KEY: lead_name, PREDICTED_CONFIDENCE_KEY: lead.confidence}
        rest = [
            r
            for r in message.get(INTENT_RANKING_KEY) or []
            if r.get(INTENT_NAME_KEY) not in (lead_name, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        ]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *rest], add_to_output=True)

    def _silent_parts(
        self, parts: List[Message], names: List[str], texts: List[str], recurrent: List[bool]
    ) -> List[Optional[str]]:
        """Per part, the wording of a subject the sheet is silent on that its typed (else corrected)
        words ask about, where that decides the part; else None."""
        rules = self._silent
        if rules is None:
            return [None] * len(parts)
        found: List[Optional[str]] = []
        for part, name, typed, again in zip(parts, names, texts, recurrent):
            own = (part.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if again or name not in _SILENT_READINGS or own in (RISK_INTENT, PERSONAL_INTENT):
                found.append(None)
                continue
            found.append(in_typed_or_corrected(rules.find, typed, str(part.get(TEXT) or "")))
        # A topic asked after a silent subject is its follow-up ("is there parking, and how much does it
        # cost per day?", "what is kyphoplasty and is it the same as endoscopy?"): the message stays one
        # question the sheet does not answer, as the topic margin reads it.
        first = next((i for i, subject in enumerate(found) if subject is not None), None)
        if first is not None and any(
            subject is None and name in FACT_TOPIC_INTENTS
            for subject, name in zip(found[first + 1 :], names[first + 1 :])
        ):
            return [None] * len(parts)
        return found

    def _recurrence_parts(
        self, message: Message, parts: List[Message], names: List[str], texts: List[str]
    ) -> List[bool]:
        """Per part, whether it asks in general whether the problem comes back: its typed or
        corrected words hold the wording, and the classifier read it as an intent that data/rules.yml
        sends to that answer. None when the writer speaks of their own case anywhere in the message
        or a part is read as personal (the own case is the clinician's)."""
        none = [False] * len(parts)
        rules = self._recurrence
        if rules is None or PERSONAL_INTENT in names:
            return none
        whole = [message.get(FULL_TEXT) or message.get(ORIGINAL_TEXT) or "", message.get(TEXT) or ""]
        if any(rules.own(t) for t in whole if t):
            return none
        return [
            (name in RECURRENCE_READINGS or (part.get(INTENT) or {}).get(INTENT_NAME_KEY) in RECURRENCE_READINGS)
            and any(rules.find(t) for t in (typed, str(part.get(TEXT) or "")) if t)
            for part, name, typed in zip(parts, names, texts)
        ]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
