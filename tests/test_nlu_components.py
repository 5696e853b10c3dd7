"""clinic_nlu's trainable components: TF-IDF featurizer and linear intent classifier.

Trained on a small set, stored in a real Rasa model storage, loaded back: predictions survive the
round trip, the stored files hold no pickle, and the ranking is a probability distribution.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.linear_classifier import LinearIntentClassifier, softmax
from clinic_nlu.tfidf_featurizer import TfidfFeaturizer

pytestmark = pytest.mark.unit

EXAMPLES: List[Tuple[str, str]] = [
    ("how much does it cost", "ask_cost"),
    ("what is the price", "ask_cost"),
    ("is it expensive", "ask_cost"),
    ("cost of the operation", "ask_cost"),
    ("how long is recovery", "ask_recovery_time"),
    ("when can i go back to work", "ask_recovery_time"),
    ("how many weeks to recover", "ask_recovery_time"),
    ("recovery time after surgery", "ask_recovery_time"),
    ("how big is the scar", "ask_scarring"),
    ("will there be a scar", "ask_scarring"),
    ("do i need stitches", "ask_scarring"),
    ("size of the cut", "ask_scarring"),
]


def data(examples: List[Tuple[str, str]]) -> TrainingData:
    return TrainingData([Message(data={"text": t, "intent": i}) for t, i in examples])


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def trained(storage, context) -> Tuple[TfidfFeaturizer, LinearIntentClassifier]:
    featurizer = TfidfFeaturizer.create(
        {**TfidfFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "tfidf"}, storage, Resource("tfidf"), context
    )
    classifier = LinearIntentClassifier.create({}, storage, Resource("linear"), context)
    training = data(EXAMPLES)
    featurizer.train(training)
    featurizer.process_training_data(training)
    classifier.train(training)
    return featurizer, classifier


def predict(featurizer, classifier, text: str) -> Message:
    message = Message(data={"text": text})
    featurizer.process([message])
    classifier.process([message])
    return message


@pytest.mark.parametrize(
    "text, intent",
    [
        ("how much is it", "ask_cost"),
        ("when can i return to work", "ask_recovery_time"),
        ("scar size?", "ask_scarring"),
    ],
)
def test_trained_components_classify_unseen_questions(storage, context, text, intent):
    featurizer, classifier = trained(storage, context)
    message = predict(featurizer, classifier, text)
    assert message.get("intent")["name"] == intent
    ranking = message.get("intent_ranking")
    assert ranking[0]["name"] == intent
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_a_stored_model_loads_back_and_predicts_the_same(storage, context):
    featurizer, classifier = trained(storage, context)
    before = predict(featurizer, classifier, "what will it cost me").get("intent_ranking")
    config = {**TfidfFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "tfidf"}
    featurizer2 = TfidfFeaturizer.load(config, storage, Resource("tfidf"), context)
    classifier2 = LinearIntentClassifier.load({}, storage, Resource("linear"), context)
    after = predict(featurizer2, classifier2, "what will it cost me").get("intent_ranking")
    assert [r["name"] for r in after] == [r["name"] for r in before]
    assert np.allclose([r["confidence"] for r in after], [r["confidence"] for r in before])


def test_the_stored_files_are_json_and_plain_arrays_not_pickles(storage, context):
    trained(storage, context)
    with storage.read_from(Resource("linear")) as directory:
        arrays = np.load(directory / "weights.npz", allow_pickle=False)  # raises on any object array
        assert arrays["coef"].shape[0] == 3
    with storage.read_from(Resource("tfidf")) as directory:
        assert (directory / "tfidf.json").read_text().startswith("[")


def test_an_untrained_classifier_leaves_messages_alone(storage, context):
    classifier = LinearIntentClassifier.load({}, storage, Resource("missing"), context)
    message = Message(data={"text": "hello"})
    classifier.process([message])
    assert message.get("intent") is None


def test_two_intents_still_give_two_probabilities(storage, context):
    featurizer = TfidfFeaturizer.create(
        {**TfidfFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "tfidf"}, storage, Resource("t2"), context
    )
    classifier = LinearIntentClassifier.create({}, storage, Resource("l2"), context)
    training = data(EXAMPLES[:8])
    featurizer.train(training)
    featurizer.process_training_data(training)
    classifier.train(training)
    ranking = predict(featurizer, classifier, "price please").get("intent_ranking")
    assert {r["name"] for r in ranking} == {"ask_cost", "ask_recovery_time"}
    assert ranking[0]["name"] == "ask_cost"


def test_softmax_is_stable_for_large_scores():
    probs = softmax(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-12 and probs[0, 0] > 0.99


def test_bad_ngram_ranges_are_rejected():
    with pytest.raises(ValueError):
        TfidfFeaturizer.validate_config({"word_ngram_range": [2, 1], "char_ngram_range": [2, 5]})


def test_the_per_message_scores_equal_the_matrix_product_with_sparse_and_dense_features(storage, context):
    """process() scores one message from the weight rows of its non-zero columns; the result must be
    predict_proba's (the sparse/dense matrix product) for TF-IDF + MiniLM features, known or unknown words."""
    from clinic_nlu.linear_classifier import softmax
    from clinic_nlu.minilm_featurizer import MiniLMFeaturizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage, Resource("tok"), context)
    tfidf = TfidfFeaturizer.create(
        {**TfidfFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "tfidf"}, storage, Resource("tfidf"), context
    )
    minilm = MiniLMFeaturizer({**MiniLMFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "minilm"}, "minilm")
    classifier = LinearIntentClassifier.create({"dense_weight": 1.5}, storage, Resource("linear"), context)
    training = data(EXAMPLES)
    tokenizer.process_training_data(training)
    tfidf.train(training)
    tfidf.process_training_data(training)
    minilm.process_training_data(training)
    classifier.train(training)
    for text in ["what will it cost me", "scar?", "zzzz qqqq", "HOW LONG until work", "ok"]:
        message = Message(data={"text": text})
        tokenizer.process([message])
        tfidf.process([message])
        minilm.process([message])
        fast = softmax(classifier._scores(message)[None, :])[0]
        reference = classifier.predict_proba([message])[0]
        assert np.abs(fast - reference).max() < 1e-12, text
        classifier.process([message])
        assert message.get("intent")["confidence"] == pytest.approx(float(reference.max()), abs=1e-12)
