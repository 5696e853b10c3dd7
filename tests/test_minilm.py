"""The MiniLM encoder (ONNX Runtime and NumPy backends) reproduces the reference implementation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clinic_nlu.minilm import MiniLMEncoder
from tests.conftest import ROOT

pytestmark = pytest.mark.unit

REFERENCE = json.loads((ROOT / "tests" / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()  # the default backend, as the Rasa component uses it


@pytest.fixture(scope="module")
def numpy_encoder() -> MiniLMEncoder:
    return MiniLMEncoder(backend="numpy")


def test_the_default_backend_is_onnx_runtime(encoder):
    assert encoder.backend == "onnx"


@pytest.mark.parametrize("backend", ["onnx", "numpy"])
def test_embeddings_match_the_transformers_reference(backend, encoder, numpy_encoder):
    """Reference vectors come from transformers 4.36.2's TFBertModel (bench/verify_minilm.py)."""
    ours = (encoder if backend == "onnx" else numpy_encoder).encode_texts(REFERENCE["sentences"])
    ref = np.array(REFERENCE["embeddings"], dtype=np.float32)
    assert ours.shape == ref.shape == (len(REFERENCE["sentences"]), 384)
    assert np.abs(ours - ref).max() < 1e-5


@pytest.mark.integration  # a trained model, several processes or every corpus text: not the inner loop
def test_onnx_and_numpy_backends_agree_on_every_training_text(encoder, numpy_encoder):
    """Same hidden states (not just pooled vectors) for real patient texts, batched with padding."""
    from rasa.shared.nlu.training_data.loading import load_data

    texts = [m.get("text") for m in load_data(str(ROOT / "data" / "nlu.yml")).training_examples]
    texts += ["", "🙂🙂", "ПОМОГИТЕ спина болит", "pain " * 300]
    words = [t.split() or [""] for t in texts]
    fast = encoder.encode_words(words, batch_size=32)
    slow = numpy_encoder.encode_words(words, batch_size=32)
    assert len(fast) == len(slow) == len(texts)
    worst = max(float(np.abs(a.hidden - b.hidden).max()) for a, b in zip(fast, slow))
    assert worst < 1e-4
    assert all(a.word_ids == b.word_ids for a, b in zip(fast, slow))


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        MiniLMEncoder(backend="torch")


def test_embeddings_are_unit_length_and_batching_does_not_change_them(encoder):
    texts = ["is it safe", "how long until i can work again after the keyhole operation on my back"]
    together = encoder.encode_texts(texts, batch_size=2)
    alone = np.stack([encoder.encode_texts([t])[0] for t in texts])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.abs(together - alone).max() < 1e-5  # padding is masked out


def test_similar_questions_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.encode_texts(
        ["how much does it cost", "what is the price of the operation", "will i have a scar"]
    )
    assert a @ b > a @ c + 0.2


def test_word_features_have_one_row_per_word(encoder):
    words = ["paralysed", "after", "endoscopy", "?"]
    (enc,) = encoder.encode_words([words])
    feats = enc.word_embeddings(len(words))
    assert feats.shape == (4, 384)
    assert all(np.abs(row).sum() > 0 for row in feats)
    assert enc.sentence_embedding().shape == (384,)


def test_long_input_is_truncated_not_rejected(encoder):
    (enc,) = encoder.encode_words([["pain"] * 1000])
    assert enc.hidden.shape[0] == encoder.max_pieces
    assert enc.word_embeddings(1000).shape == (1000, 384)


def test_a_lone_surrogate_does_not_break_the_encoder(encoder):
    """JSON may carry "\\ud83d" (half an emoji): the tokenizer must not crash on it."""
    vectors = encoder.encode_texts(["\ud83d", "is it safe \udcff"])
    assert vectors.shape == (2, 384) and np.isfinite(vectors).all()


def test_creating_the_encoder_limits_blas_to_one_thread(encoder):
    from threadpoolctl import threadpool_info

    from clinic_nlu.minilm import MiniLMEncoder

    MiniLMEncoder()  # the limit applies to the BLAS libraries loaded when an encoder is created
    numpy_blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]
    assert numpy_blas and all(lib["num_threads"] == 1 for lib in numpy_blas)
