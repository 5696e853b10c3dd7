"""TfidfFeaturizer's own transform equals sklearn's TfidfVectorizer.transform.

The featurizer computes the TF-IDF rows without sklearn at inference (clinic_nlu/tfidf_featurizer.py
says why). Fitted on the real training texts of data/nlu.yml, its matrix must equal the hstack of
the fitted vectorizers' own ``transform``: same nonzero pattern, same values (up to float rounding),
for every training text and for awkward input; and ``process`` adds exactly one sentence feature.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import List

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.tfidf_featurizer import TfidfFeaturizer, _from_dict

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {**TfidfFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "tfidf"}
CONTEXT = ExecutionContext(GraphSchema({}), "test")

AWKWARD = {
    "empty": "",
    "space": "   ",
    "punctuation": "?!... ,;: -- ??",
    "emoji": "😷🤕 💉💉 🙏",
    "emoji_with_words": "how much does it cost 😬😬",
    "chinese": "脊柱内窥镜手术多少钱",
    "cyrillic": "Операция болезненна?",
    "arabic": "كم تكلفة العملية",
    "hindi": "मुझे दर्द है",
    "accents": "Café naïve rôle — opération coûte combien",
    "combining": "cafe\u0301 ope\u0301ration",
    "unknown_words": "zxqv blorf qwrtp vvvvvv",
    "upper_case": "HOW MUCH DOES THE OPERATION COST",
    "mixed_case": "WiLL iT HuRT aFtEr SuRgErY",
    "repeated_words": "pain pain pain pain pain pain pain back back back",
    "repeated_chars": "soooooooo painfulllllllll !!!!!!!",
    "whitespace": "  how\tmuch\n\nis it\r\n  ",
    "digits": "123 4567 2 weeks 10000",
    "single_char": "a",
    "lone_surrogate": "\ud800",
    "surrogate_in_words": "how much \ud800 cost\udfff",
    "nul_and_controls": "cost\x00 of\x07 the op\x1b",
}


@pytest.fixture(scope="module")
def training_texts() -> List[str]:
    texts = [m.get(TEXT) for m in load_data(str(ROOT / "data" / "nlu.yml")).training_examples if m.get(TEXT)]
    assert len(texts) > 100
    return texts


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> LocalModelStorage:
    directory = tmp_path_factory.mktemp("tfidf") / "storage"
    directory.mkdir()
    return LocalModelStorage(directory)


@pytest.fixture(scope="module")
def featurizer(storage, training_texts) -> TfidfFeaturizer:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    component = TfidfFeaturizer.create(CONFIG, storage, Resource("tfidf"), CONTEXT)
    component.train(TrainingData([Message(data={TEXT: t}) for t in training_texts]))
    return component


def long_text(training_texts: List[str]) -> str:
    """5,000 characters of training sentences: many n-grams seen many times (tf = 1 + log count)."""
    text = " ".join(training_texts)
    while len(text) < 5000:
        text += " " + text
    return text[:5000]


def sklearn_matrix(component: TfidfFeaturizer, texts: List[str]) -> scipy.sparse.csr_matrix:
    """What the featurizer computed before: sklearn's transform of each vectorizer, hstacked."""
    return scipy.sparse.hstack([v.transform(texts) for v in component._vectorizers]).tocsr()


def assert_same(fast: scipy.sparse.csr_matrix, reference: scipy.sparse.csr_matrix) -> None:
    assert isinstance(fast, scipy.sparse.csr_matrix)
    assert fast.shape == reference.shape
    assert fast.dtype == np.float64
    assert fast.has_sorted_indices
    reference = reference.copy()
    reference.sort_indices()
    # identical nonzero pattern (sklearn never stores explicit zeros: tf >= 1, idf >= 1)
    np.testing.assert_array_equal(fast.indptr, reference.indptr)
    np.testing.assert_array_equal(fast.indices, reference.indices)
    assert np.count_nonzero(fast.data) == fast.nnz
    # same values, compared dense a few rows at a time (the full matrix would be hundreds of MB)
    for start in range(0, fast.shape[0], 64):
        rows = slice(start, start + 64)
        assert np.allclose(fast[rows].toarray(), reference[rows].toarray(), rtol=0, atol=1e-12)


def test_the_vectorizers_are_the_configured_ones(featurizer):
    word, char = featurizer._vectorizers
    assert (word.analyzer, tuple(word.ngram_range)) == ("word", (1, 2))
    assert (char.analyzer, tuple(char.ngram_range)) == ("char_wb", (2, 5))
    assert word.sublinear_tf and char.sublinear_tf and word.lowercase and char.lowercase
    assert word.norm == char.norm == "l2"


def test_training_texts_match_sklearn_as_one_batch(featurizer, training_texts):
    assert_same(featurizer.transform(training_texts), sklearn_matrix(featurizer, training_texts))


@pytest.mark.integration  # every corpus text: not the inner loop
def test_training_texts_match_sklearn_one_per_call(featurizer, training_texts):
    """The server's case: one message per call."""
    for text in training_texts:
        assert_same(featurizer.transform([text]), sklearn_matrix(featurizer, [text]))


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_text_matches_sklearn(featurizer, name):
    text = AWKWARD[name]
    assert_same(featurizer.transform([text]), sklearn_matrix(featurizer, [text]))


def test_a_5000_character_text_matches_sklearn(featurizer, training_texts):
    text = long_text(training_texts)
    assert len(text) == 5000
    fast = featurizer.transform([text])
    assert fast.nnz > 1000
    assert_same(fast, sklearn_matrix(featurizer, [text]))
    assert_same(featurizer.transform([text.upper()]), sklearn_matrix(featurizer, [text.upper()]))


def test_awkward_and_training_texts_mixed_in_one_batch(featurizer, training_texts):
    texts = list(AWKWARD.values()) + [long_text(training_texts)] + training_texts[:50] + [""]
    assert_same(featurizer.transform(texts), sklearn_matrix(featurizer, texts))


def test_the_char_block_starts_after_the_word_vocabulary(featurizer):
    word, char = featurizer._vectorizers
    row = featurizer.transform(["cost"])
    assert row.shape == (1, len(word.vocabulary_) + len(char.vocabulary_))
    assert row.indices[0] == word.vocabulary_["cost"]
    assert len(word.vocabulary_) + char.vocabulary_[" c"] in row.indices
    # each block has unit L2 norm on its own
    split = len(word.vocabulary_)
    assert np.isclose(np.linalg.norm(row.data[row.indices < split]), 1.0)
    assert np.isclose(np.linalg.norm(row.data[row.indices >= split]), 1.0)


def test_text_without_known_ngrams_gives_an_empty_row(featurizer):
    row = featurizer.transform(["😷"])
    assert row.shape[0] == 1 and row.nnz == 0


def test_an_empty_list_gives_an_empty_matrix(featurizer):
    """sklearn raises on no documents; process never asks, and an empty matrix is the honest answer."""
    matrix = featurizer.transform([])
    assert matrix.shape == (0, featurizer.transform(["x"]).shape[1]) and matrix.nnz == 0


def test_a_bare_string_is_rejected_as_sklearn_does(featurizer):
    with pytest.raises(ValueError):
        featurizer.transform("how much does it cost")


def test_a_loaded_model_transforms_the_same(featurizer, storage, training_texts):
    loaded = TfidfFeaturizer.load(CONFIG, storage, Resource("tfidf"), CONTEXT)
    texts = training_texts[:200] + list(AWKWARD.values())
    assert_same(loaded.transform(texts), sklearn_matrix(loaded, texts))
    assert_same(loaded.transform(texts), featurizer.transform(texts))


@pytest.mark.integration  # a trained model, several processes or every corpus text: not the inner loop
def test_the_shipped_models_stored_vectorizers_transform_the_same(training_texts):
    """Models trained before this transform existed load and give sklearn's rows."""
    stored = None
    for archive in sorted((ROOT / "models").glob("*.tar.gz")):
        try:
            with tarfile.open(archive) as tar:
                # the node's index is its position in config.yml's pipeline
                member = next(m for m in tar.getmembers() if re.search(r"TfidfFeaturizer\d+/tfidf\.json$", m.name))
                stored = json.loads(tar.extractfile(member).read().decode("utf-8"))
            break
        except (StopIteration, tarfile.TarError, OSError, ValueError):
            continue
    if stored is None:
        pytest.skip("no trained model with a TfidfFeaturizer in models/")
    resource = Resource("tfidf")
    component = TfidfFeaturizer(CONFIG, None, resource, [_from_dict(d) for d in stored])
    texts = training_texts[:300] + list(AWKWARD.values())
    assert_same(component.transform(texts), sklearn_matrix(component, texts))


def test_process_adds_exactly_one_sentence_feature(featurizer):
    messages = [Message(data={TEXT: "how much does it cost"}), Message(data={TEXT: "😷"}), Message(data={})]
    featurizer.process(messages)
    width = featurizer.transform(["x"]).shape[1]
    for message in messages[:2]:
        assert len(message.features) == 1
        feature = message.features[0]
        assert feature.type == FEATURE_TYPE_SENTENCE
        assert feature.attribute == TEXT
        assert feature.origin == "tfidf"
        assert feature.is_sparse() and feature.features.shape == (1, width)
        expected = scipy.sparse.coo_matrix(sklearn_matrix(featurizer, [message.get(TEXT)]))
        assert feature.features.nnz == expected.nnz
        assert np.allclose(feature.features.toarray(), expected.toarray(), rtol=0, atol=1e-12)
    assert messages[1].features[0].features.nnz == 0
    assert messages[2].features == []
    sequence, sentence = messages[0].get_sparse_features(TEXT)
    assert sequence is None and sentence is not None


def test_process_batch_equals_one_by_one(featurizer, training_texts):
    batch = [Message(data={TEXT: t}) for t in training_texts[:40]]
    featurizer.process(batch)
    for message in batch:
        single = Message(data={TEXT: message.get(TEXT)})
        featurizer.process([single])
        a, b = message.features[0].features, single.features[0].features
        assert isinstance(a, scipy.sparse.coo_matrix)
        np.testing.assert_array_equal(a.col, b.col)
        np.testing.assert_array_equal(a.row, np.zeros_like(a.col))
        np.testing.assert_array_equal(a.data, b.data)


def test_an_untrained_featurizer_adds_nothing(storage):
    component = TfidfFeaturizer.load(CONFIG, storage, Resource("missing"), CONTEXT)
    message = Message(data={TEXT: "hello"})
    component.process([message])
    assert message.features == []
