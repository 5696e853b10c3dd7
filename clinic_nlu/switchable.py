"""What the project's rule components share: an ``enabled`` switch and how they replace an intent.

Several NLU components change the classifier's reading at run time from rules a clinician can read
(OwnCaseDeferral, BareFollowUp, NotEnglish, SetAsideInstructions, NothingLeftToRead). Each is
visible in config.yml and switched off there with ``enabled: false``; each is untrained and leaves
training messages as written. When one replaces the intent, it keeps the classifier's reading for
staff under its own key (``replaced``) and puts its decision first in the ranking, so the staff app
and Rasa's policies read the same intent.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_vocabulary import TOPICS_KEY

SwitchableT = TypeVar("SwitchableT", bound="SwitchableComponent")


class SwitchableComponent(GraphComponent):
    """An untrained rule component with an ``enabled`` switch (default on) in config.yml."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"enabled": True}

    @classmethod
    def enabled_in(cls, config: Dict[Text, Any]) -> bool:
        """The ``enabled`` setting of ``config``; anything but true or false is a configuration error."""
        enabled = config.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"{cls.__name__}: enabled must be true or false")
        return enabled

    @classmethod
    def create(
        cls: type[SwitchableT],
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SwitchableT:
        return cls(config)  # type: ignore[call-arg]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training messages are read as written."""
        return training_data


def set_intent(message: Message, decided: Dict[str, Any]) -> None:
    """``decided`` as the message's intent, first in its ranking."""
    name = decided[INTENT_NAME_KEY]
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, decided, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [decided, *ranking], add_to_output=True)


def replace_intent(message: Message, intent: Text, key: Text, why: Optional[Dict[str, Any]] = None) -> None:
    """Make ``intent`` the message's whole reading (confidence 1, no several topics), keeping the
    classifier's reading under ``key`` (``{"replaced": ..., **why}``) for staff."""
    predicted = dict(message.get(INTENT) or {})
    message.set(key, {"replaced": predicted, **(why or {})}, add_to_output=True)
    message.data.pop(TOPICS_KEY, None)
    set_intent(message, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0})
