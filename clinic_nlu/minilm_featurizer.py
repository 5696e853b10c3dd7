"""Rasa dense featurizer: all-MiniLM-L6-v2 sentence and word embeddings of the user text.

The sentence feature is sentence-transformers' own mean-pooled, normalised embedding; it is what
:mod:`clinic_nlu.linear_classifier` reads beside the TF-IDF features. Sequence features are the
mean of each token's word pieces (one row per Rasa token, the shape Rasa's dense features have).
The encoder (:class:`clinic_nlu.minilm.MiniLMEncoder`) is loaded once per process, when the
component is created, never at import.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.minilm import MiniLMEncoder

logger = logging.getLogger(__name__)


@lru_cache(maxsize=2)
def _encoder(model_dir: Optional[str], backend: str) -> MiniLMEncoder:
    return MiniLMEncoder(model_dir=Path(model_dir) if model_dir else None, backend=backend)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds MiniLM embeddings of the user text as dense sequence and sentence features."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # backend: "onnx" (ONNX Runtime, default) or "numpy" (the reference); same features.
        return {**DenseFeaturizer.get_default_config(), "model_dir": None, "batch_size": 64, "backend": "onnx"}

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self._encoder = _encoder(self._config["model_dir"], self._config["backend"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MiniLMFeaturizer":
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """The backend must be one the encoder knows."""
        from clinic_nlu.minilm import BACKENDS

        if config.get("backend", "onnx") not in BACKENDS:
            raise ValueError(f"MiniLMFeaturizer backend must be one of {BACKENDS}, got {config.get('backend')!r}")

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurise the text of every message that has tokens (batched)."""
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        words = [[t.text for t in m.get(TOKENS_NAMES[TEXT])] for m in todo]
        encoded = self._encoder.encode_words(words, batch_size=self._config["batch_size"])
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        for message, tokens, enc in zip(todo, words, encoded):
            sequence = enc.word_embeddings(len(tokens))
            sentence = enc.sentence_embedding()[None, :].astype(np.float32)
            message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
            message.add_features(Features(sentence, FEATURE_TYPE_SENTENCE, TEXT, alias))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
