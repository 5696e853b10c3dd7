"""Rasa sparse featurizer: TF-IDF word 1-2-grams and char_wb 2-5-grams of the whole message.

Rasa's CountVectorsFeaturizer gives raw counts per token; for a linear intent classifier the
sublinear, L2-normalised TF-IDF of the whole sentence works better (BENCHMARKS.md, ablation).
Only a sentence-level feature is produced. The fitted vocabularies and IDF weights are stored as
JSON in the model (no pickle), so loading a model never executes code from it.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

logger = logging.getLogger(__name__)

_FILE = "tfidf.json"


def _vectorizer(analyzer: str, ngram_range: List[int]) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=analyzer, ngram_range=tuple(ngram_range), sublinear_tf=True, lowercase=True)


def _to_dict(vec: TfidfVectorizer) -> Dict[str, Any]:
    return {
        "analyzer": vec.analyzer,
        "ngram_range": list(vec.ngram_range),
        "vocabulary": {term: int(i) for term, i in vec.vocabulary_.items()},
        "idf": vec.idf_.tolist(),
    }


def _from_dict(data: Dict[str, Any]) -> TfidfVectorizer:
    vec = _vectorizer(data["analyzer"], data["ngram_range"])
    vec.vocabulary_ = data["vocabulary"]
    vec.idf_ = np.asarray(data["idf"], dtype=np.float64)
    return vec


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TfidfFeaturizer(SparseFeaturizer, GraphComponent):
    """Adds one sparse sentence feature: TF-IDF of word and character n-grams."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            "word_ngram_range": [1, 2],
            "char_ngram_range": [2, 5],
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizers: Optional[List[TfidfVectorizer]] = None,
    ) -> None:
        super().__init__(resource.name, config)
        self._storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers or []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TfidfFeaturizer":
        return cls(config, model_storage, resource)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """N-gram ranges are two ascending positive integers."""
        for key in ("word_ngram_range", "char_ngram_range"):
            low, high = config[key]
            if not 1 <= low <= high:
                raise ValueError(f"{key} must be [low, high] with 1 <= low <= high, got {config[key]}")

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vocabularies and IDF weights on the texts of the training examples."""
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT)]
        self._vectorizers = [
            _vectorizer("word", self._config["word_ngram_range"]),
            _vectorizer("char_wb", self._config["char_ngram_range"]),
        ]
        for vec in self._vectorizers:
            vec.fit(texts)
        with self._storage.write_to(self._resource) as directory:
            (directory / _FILE).write_text(json.dumps([_to_dict(v) for v in self._vectorizers]), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TfidfFeaturizer":
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / _FILE).read_text(encoding="utf-8"))
        except ValueError:
            logger.warning("TfidfFeaturizer: no trained vocabulary in the model; producing no features")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, [_from_dict(d) for d in data])

    def transform(self, texts: List[str]) -> scipy.sparse.csr_matrix:
        """The L2-normalised TF-IDF rows of ``texts`` (word and char blocks, each normalised)."""
        return scipy.sparse.hstack([v.transform(texts) for v in self._vectorizers]).tocsr()

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the sentence feature to every message with text."""
        todo = [m for m in messages if m.get(TEXT)]
        if not todo or not self._vectorizers:
            return messages
        matrix = self.transform([m.get(TEXT) for m in todo])
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        for i, message in enumerate(todo):
            row = scipy.sparse.coo_matrix(matrix[i])
            message.add_features(Features(row, FEATURE_TYPE_SENTENCE, TEXT, alias))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
