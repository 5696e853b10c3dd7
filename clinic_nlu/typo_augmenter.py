"""Rasa NLU component: at training time, adds seeded typo copies of the intent examples.

Each intent example gets ``copies`` noisy versions (:func:`clinic_nlu.typo_noise.add_typos`, the
same kind of phone slips as the typo split of the held-out set, with other seeds), so the
classifier learns that "recovry" and "recovery" mean the same. Nothing is written to ``data/``:
the copies exist only inside training, and the same data and seed always give the same copies.
At inference the component does nothing. Copies are marked ``typo_augmented`` so that
vocabularies (the spelling corrector's) are built from the clean examples only.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.typo_noise import WORD_PROBABILITY, add_typos

AUGMENTED = "typo_augmented"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TypoAugmenter(GraphComponent):
    """Adds noisy copies of the training examples; passes messages through at inference."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"copies": 1, "seed": 1000, "word_probability": WORD_PROBABILITY}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TypoAugmenter":
        return cls(config)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """A non-negative number of copies and a word probability in [0, 1]."""
        if int(config["copies"]) < 0 or not 0.0 <= float(config["word_probability"]) <= 1.0:
            raise ValueError("TypoAugmenter needs copies >= 0 and 0 <= word_probability <= 1")

    def noisy_copies(self, examples: List[Message]) -> List[Message]:
        """The noisy copies of the intent examples without entities (a copy equal to its original is left out)."""
        copies = []
        for message in examples:
            text, intent = message.get(TEXT), message.get(INTENT)
            if not text or not intent or message.get(AUGMENTED) or message.get(ENTITIES):
                continue  # an example with entities keeps its offsets: it is not copied
            seen = {text}
            for k in range(int(self._config["copies"])):
                noisy = add_typos(text, int(self._config["seed"]) + k, float(self._config["word_probability"]))
                if noisy not in seen:
                    seen.add(noisy)
                    copies.append(Message(data={TEXT: noisy, INTENT: intent, AUGMENTED: True}))
        return copies

    def process(self, messages: List[Message]) -> List[Message]:
        """Nothing to do when parsing a message."""
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """The training data with the noisy copies added after the original examples."""
        copies = self.noisy_copies(training_data.training_examples)
        if not copies:
            return training_data
        return TrainingData(
            training_examples=[*training_data.training_examples, *copies],
            entity_synonyms=training_data.entity_synonyms,
            regex_features=training_data.regex_features,
            lookup_tables=training_data.lookup_tables,
            responses=training_data.responses,
        )
