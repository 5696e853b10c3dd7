"""The learned second reader of the triage (clinic_triage/semantic.py)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from clinic_triage import semantic
from clinic_triage.engine import default_triage, normalise

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def reader() -> semantic.SemanticTriage:
    assert default_triage().semantic is not None, "rules/semantic.yml ships with the second reader on"
    return default_triage().semantic


@pytest.mark.integration  # a trained model, several processes or every corpus text: not the inner loop
def test_its_scores_equal_scikit_learns_on_the_whole_corpus(reader):
    texts = [normalise(m["text"]) for m in semantic.load_corpus(semantic.load_settings().corpus_files)]
    texts += ["", "xdiscountedx", "zzzz qqqq", "a" * 3000]
    worst = max(
        abs(reader.probabilities(t)[c] - reader.sklearn_probabilities(t)[c]) for t in texts for c in reader.classes
    )
    assert worst < 1e-9


def test_short_messages_are_left_to_the_rules(reader):
    assert reader.verdict("i dont think so") == (None, 1.0)
    assert len("i dont think so".split()) < reader.min_words


def test_it_reads_wording_no_pattern_describes():
    result = default_triage().assess("my waterworks packed in since last night and my belly is like a drum")
    assert result.level != "none"


def _tiny_settings(tmp_path) -> semantic.SemanticSettings:
    corpus = tmp_path / "tune.yml"
    corpus.write_text(
        "version: 1\nmessages:\n"
        + "".join(
            f'  - {{text: "i cannot pee at all since {i} hours", level: emergency, category: c, author: '
            f"a{i % 3}}}\n"
            for i in range(6)
        )
        + "".join(
            f'  - {{text: "how much does the operation cost {i}", level: none, category: c, ' f"author: a{i % 3}}}\n"
            for i in range(6)
        )
    )
    settings = semantic.load_settings()
    return dataclasses.replace(settings, corpus_files=(corpus,), calm_examples_from=None)


def test_a_fitted_reader_is_reused_and_refitted_when_an_input_changes(tmp_path):
    settings = _tiny_settings(tmp_path)
    calls = []

    def prepare(text: str) -> str:
        calls.append(text)
        return text

    key = semantic.fingerprint(settings)
    first = semantic.train(settings, prepare, cache_key=key, cache_dir=tmp_path / "cache")
    fitted = len(calls)
    again = semantic.train(settings, prepare, cache_key=key, cache_dir=tmp_path / "cache")
    assert fitted == 12 and len(calls) == fitted, "the second start fitted again"
    assert again.probabilities("i cannot pee") == first.probabilities("i cannot pee")
    settings.corpus_files[0].write_text(settings.corpus_files[0].read_text().replace("cost", "price"))
    assert semantic.fingerprint(settings) != key


def test_a_damaged_cache_file_means_fitting_again(tmp_path):
    settings = _tiny_settings(tmp_path)
    key = semantic.fingerprint(settings)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / f"{key}.pkl").write_bytes(b"not a pickle")
    reader = semantic.train(settings, lambda t: t, cache_key=key, cache_dir=tmp_path / "cache")
    assert reader.verdict("i cannot pee at all since this morning")[0] == "emergency"
    # Two levels: scikit-learn's binary model, scored the same way by the lean path.
    text = "i cannot pee at all since this morning"
    assert abs(reader.probabilities(text)["none"] - reader.sklearn_probabilities(text)["none"]) < 1e-9
    assert isinstance(pickle.loads((tmp_path / "cache" / f"{key}.pkl").read_bytes()), semantic.SemanticTriage)


def test_settings_are_checked(tmp_path):
    bad = tmp_path / "semantic.yml"
    bad.write_text(semantic.SETTINGS_FILE.read_text().replace("combine: either", "combine: sometimes"))
    with pytest.raises(ValueError, match="combine"):
        semantic.load_settings(bad)
