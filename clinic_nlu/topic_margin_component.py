"""Rasa NLU component: a topic's facts only when the message is really about that topic.

Placed after the FallbackClassifier and the MultiTopicCollector (clinic_nlu/multi_topic.py) and
before the triage: a message with several topics is left as the collector set it (each topic is
answered; measured: with the margin first, the parts of two-topic messages were read as not covered
and a topic went unanswered, BENCHMARKS.md). Applies
:func:`clinic_nlu.topic_margin.not_covered_instead`; when it holds, the intent becomes
``ask_not_covered`` (with the classifier's own confidence for it) and the replaced prediction is kept
under ``topic_margin`` so staff see why. ``min_topic_confidence`` was chosen on the development set
(tests/data/not_covered_dev.yml and the training data), never on the held-out sets (BENCHMARKS.md).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.multi_topic import TOPICS_KEY
from clinic_nlu.topic_margin import not_covered_instead
from clinic_vocabulary import NOT_COVERED_INTENT, QUESTION_TOPICS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TopicMargin(GraphComponent):
    """Turns an unsure topic (or fallback) next to "not covered" into the not-covered intent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_topic_confidence": 0.6}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._min = float(config["min_topic_confidence"])
        if not 0.0 <= self._min <= 1.0:
            raise ValueError("min_topic_confidence must be between 0 and 1")

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
            if not not_covered_instead(
                predicted.get(INTENT_NAME_KEY),
                topic_confidence,
                ranking,
                QUESTION_TOPICS,
                NOT_COVERED_INTENT,
                self._min,
            ):
                continue
            confidence = next(
                (
                    float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                    for r in ranking
                    if r.get(INTENT_NAME_KEY) == NOT_COVERED_INTENT
                ),
                0.0,
            )
            message.set("topic_margin", {"replaced": dict(predicted)}, add_to_output=True)
            message.set(
                INTENT, {INTENT_NAME_KEY: NOT_COVERED_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
