"""Rasa NLU component: a topic's facts only when the message is really about that topic.

Placed after the FallbackClassifier and the MultiTopicCollector (clinic_nlu/multi_topic.py) and
before the triage: a message with several topics is left as the collector set it (each topic is
answered; measured: with the margin first, the parts of two-topic messages were read as not covered
and a topic went unanswered, BENCHMARKS.md). Applies
:func:`clinic_nlu.topic_margin.not_covered_instead`; when it holds, the intent becomes
``ask_not_covered`` (with the classifier's own confidence for it) and the replaced prediction is kept
under ``topic_margin`` so staff see why. ``min_topic_confidence`` was chosen on the development set
(tests/data/not_covered_dev.yml and the training data), never on the held-out sets (BENCHMARKS.md).

With ``silent_subjects: true`` (config.yml) it also gives the not-covered answer to a message read as a
topic (not safety: a risk question keeps the risk answer) or not understood that asks about a subject
the sheet is silent on, or what a medical word the sheet never uses means (the patterns of
``sheet_silent.yml``, :mod:`clinic_nlu.sheet_silent`), and to one read as out of scope that asks what
such a medical word means or names the day of the operation ("what do i wear on the day"); the
wording found is kept under ``topic_margin`` as ``silent_subject``.
The writer's own case is decided afterwards (OwnCaseDeferral) and the triage after that.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.instructions_component import FULL_TEXT
from clinic_nlu.multi_topic import TOPICS_KEY
from clinic_nlu.sheet_silent import SilentRules, in_typed_or_corrected, load_rules
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_nlu.topic_margin import FALLBACK_INTENT, not_covered_instead
from clinic_vocabulary import NOT_COVERED_INTENT, OUT_OF_SCOPE_INTENT, QUESTION_TOPICS, RISK_INTENT


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TopicMargin(GraphComponent):
    """Turns an unsure topic (or fallback) next to "not covered" into the not-covered intent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_topic_confidence": 0.6, "silent_subjects": False}

    def __init__(self, config: Dict[Text, Any], rules: Optional[SilentRules] = None) -> None:
        self._min = float(config["min_topic_confidence"])
        if not 0.0 <= self._min <= 1.0:
            raise ValueError("min_topic_confidence must be between 0 and 1")
        silent = config.get("silent_subjects", False)
        if not isinstance(silent, bool):
            raise ValueError("silent_subjects must be true or false")
        self._silent = (rules or load_rules()) if silent else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TopicMargin":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if len(message.get(TOPICS_KEY) or []) > 1:
                continue  # several topics (MultiTopicCollector): each is answered
            predicted = message.get(INTENT) or {}
            ranking = message.get(INTENT_RANKING_KEY) or []
            topic_confidence = float(predicted.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            silent = self._silent_subject(message, predicted.get(INTENT_NAME_KEY))
            if silent is None and not not_covered_instead(
                predicted.get(INTENT_NAME_KEY),
                topic_confidence,
                ranking,
                QUESTION_TOPICS,
                NOT_COVERED_INTENT,
                self._min,
            ):
                continue
            confidence = (
                1.0  # a reviewed rule decided it, as OwnCaseDeferral's own case
                if silent is not None
                else next(
                    (
                        float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                        for r in ranking
                        if r.get(INTENT_NAME_KEY) == NOT_COVERED_INTENT
                    ),
                    0.0,
                )
            )
            why: Dict[str, Any] = {"replaced": dict(predicted)}
            if silent is not None:
                why["silent_subject"] = silent
            message.set("topic_margin", why, add_to_output=True)
            message.set(
                INTENT, {INTENT_NAME_KEY: NOT_COVERED_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True
            )
        return messages

    def _silent_subject(self, message: Message, intent: Optional[str]) -> Optional[str]:
        """The silent subject or undefined medical word asked about (typed text first, then the
        corrected one), where it decides the answer for a message read as ``intent``; else None."""
        if self._silent is None:
            return None
        if intent in QUESTION_TOPICS and intent != RISK_INTENT or intent == FALLBACK_INTENT:
            find = self._silent.find
        elif intent == OUT_OF_SCOPE_INTENT:
            find = self._silent.find_any_reading  # "what is DVT?", what to wear on the day: not any subject
        else:
            return None
        typed = message.get(FULL_TEXT) or message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
        corrected = message.get(TEXT) or ""
        return in_typed_or_corrected(find, typed, corrected)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
