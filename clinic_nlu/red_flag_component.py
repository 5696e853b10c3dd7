"""Rasa NLU component: escalate red-flag symptoms whatever the classifier predicted.

Placed last in the pipeline (after DIET and the FallbackClassifier).  When
:func:`clinic_nlu.red_flags.detect` finds a red flag, the message's intent becomes
``report_emergency`` with confidence 1.0; the classifier's own prediction is kept under
``classifier_intent`` and the flags under ``red_flags`` so staff can see why.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.red_flags import detect, load_rules

EMERGENCY_INTENT = "report_emergency"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagOverride(GraphComponent):
    """Deterministically overrides the intent with ``report_emergency`` on a red flag."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": EMERGENCY_INTENT}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent = config["intent"]
        self._rules = load_rules()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RedFlagOverride":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Run the red-flag check on each message and override the intent on a hit."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            flags = detect(text, self._rules)
            message.set("red_flags", [f.as_dict() for f in flags], add_to_output=True)
            if not flags:
                continue
            predicted = message.get(INTENT) or {}
            message.set("classifier_intent", predicted, add_to_output=True)
            override = {INTENT_NAME_KEY: self._intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != self._intent]
            message.set(INTENT, override, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [override, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
