"""Rasa sparse featurizer: TF-IDF word 1-2-grams and char_wb 2-5-grams of the whole message.

Rasa's CountVectorsFeaturizer gives raw counts per token; for a linear intent classifier the
sublinear, L2-normalised TF-IDF of the whole sentence works better (BENCHMARKS.md, ablation).
Only a sentence-level feature is produced. The fitted vocabularies and IDF weights are stored as
JSON in the model (no pickle), so loading a model never executes code from it.

Training uses sklearn's ``TfidfVectorizer.fit``; inference does not use its ``transform``. Called
with one message at a time, as the server does, sklearn's transform of the two vectorizers spends
almost all its time on per-call input validation and sparse-matrix plumbing, not on extracting the
n-grams. ``_FastTfidf`` does the same arithmetic with each vectorizer's own analyzer (built once, at
load), a dict of counts and one sparse matrix built directly, in a fraction of the time
(BENCHMARKS.md, "Figures behind the code"). Its matrix equals sklearn's (bit for bit on the training
texts; tests/test_tfidf_featurizer.py checks the pattern and values to 1e-12).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

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


class _FastTfidf:
    """One fitted ``TfidfVectorizer``'s transform (sublinear tf, IDF, L2 norm) without sklearn.

    Same terms as sklearn (its own analyzer: preprocessing, lowercasing, tokenising, n-grams),
    same arithmetic: tf = 1 + log(count) for in-vocabulary terms, times ``idf_``, the row divided
    by its L2 norm (an empty row stays empty).
    """

    __slots__ = ("analyze", "vocabulary", "idf", "size")

    def __init__(self, vec: TfidfVectorizer) -> None:
        if not (vec.sublinear_tf and vec.use_idf and vec.norm == "l2"):
            raise ValueError("_FastTfidf reproduces only sublinear_tf=True, use_idf=True, norm='l2'")
        self.analyze: Callable[[str], List[str]] = vec.build_analyzer()
        self.vocabulary: Dict[str, int] = vec.vocabulary_
        self.idf: List[float] = np.asarray(vec.idf_, dtype=np.float64).tolist()
        self.size = len(self.idf)

    def row(self, text: str) -> Tuple[List[int], List[float]]:
        """Sorted column indices and L2-normalised TF-IDF values of one text."""
        # term -> column, counted; out-of-vocabulary terms have no column
        counts = Counter(j for j in map(self.vocabulary.get, self.analyze(text)) if j is not None)
        columns = sorted(counts)
        idf = self.idf
        # 1 + log(1) is exactly 1, so a term seen once weighs exactly its idf.
        values = [idf[j] if counts[j] == 1 else (math.log(counts[j]) + 1.0) * idf[j] for j in columns]
        squares = 0.0
        # Summed from the highest column down: the order of sklearn's row after its sparse
        # multiplication by diag(idf), so that the result is bit for bit the same here too.
        for value in reversed(values):
            squares += value * value
        if squares:
            norm = math.sqrt(squares)
            values = [value / norm for value in values]
        return columns, values


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
        self._vectorizers: List[TfidfVectorizer] = []
        self._fast: List[_FastTfidf] = []
        self._set_vectorizers(vectorizers or [])

    def _set_vectorizers(self, vectorizers: List[TfidfVectorizer]) -> None:
        """Keep the fitted vectorizers and build their fast transforms (analyzers) once."""
        self._vectorizers = vectorizers
        self._fast = [_FastTfidf(v) for v in vectorizers]

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
        vectorizers = [
            _vectorizer("word", self._config["word_ngram_range"]),
            _vectorizer("char_wb", self._config["char_ngram_range"]),
        ]
        for vec in vectorizers:
            vec.fit(texts)
        self._set_vectorizers(vectorizers)
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

    def _rows(self, texts: List[str]) -> Tuple[List[Tuple[List[int], List[float]]], int]:
        """Per text: its column indices (sorted) and values; and the width of the matrix."""
        if isinstance(texts, str):
            raise ValueError("expected a list of texts, not one string")
        if not self._fast:
            raise ValueError("TfidfFeaturizer is not trained")
        rows = []
        for text in texts:
            indices: List[int] = []
            data: List[float] = []
            offset = 0
            for block in self._fast:  # word block, then char block at len(word vocabulary)
                columns, values = block.row(text)
                indices.extend([j + offset for j in columns] if offset else columns)
                data.extend(values)
                offset += block.size
            rows.append((indices, data))
        return rows, sum(block.size for block in self._fast)

    def transform(self, texts: List[str]) -> scipy.sparse.csr_matrix:
        """The L2-normalised TF-IDF rows of ``texts`` (word and char blocks, each normalised).

        Equal to ``scipy.sparse.hstack([v.transform(texts) for v in self._vectorizers]).tocsr()``
        (float64, sorted int32 column indices), computed without sklearn (module docstring).
        """
        rows, width = self._rows(texts)
        indptr = [0]
        for indices, _ in rows:
            indptr.append(indptr[-1] + len(indices))
        return scipy.sparse.csr_matrix(
            (
                np.array([v for _, data in rows for v in data], dtype=np.float64),
                np.array([j for indices, _ in rows for j in indices], dtype=np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(rows), width),
        )

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the sentence feature to every message with text.

        Each message's 1 x width COO row is built straight from its indices and values: the same
        matrix as ``coo_matrix(self.transform(texts)[i])``, without slicing a CSR matrix.
        """
        todo = [m for m in messages if m.get(TEXT)]
        if not todo or not self._vectorizers:
            return messages
        rows, width = self._rows([m.get(TEXT) for m in todo])
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        for message, (indices, data) in zip(todo, rows):
            row = scipy.sparse.coo_matrix(
                (
                    np.array(data, dtype=np.float64),
                    (np.zeros(len(indices), dtype=np.int32), np.array(indices, dtype=np.int32)),
                ),
                shape=(1, width),
            )
            message.add_features(Features(row, FEATURE_TYPE_SENTENCE, TEXT, alias))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
