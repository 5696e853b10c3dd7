"""The learned second reader of the triage (clinic_triage/semantic.py)."""

from __future__ import annotations

import dataclasses
import pickle
import re

import pytest

from clinic_triage import semantic
from clinic_triage.engine import CLASSIFIER_FLAG, Assessment, Finding, Triage, default_triage, normalise

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


def test_a_stricter_threshold_applies_only_when_the_rules_discounted_every_mention(tmp_path):
    settings = dataclasses.replace(_tiny_settings(tmp_path), threshold=0.6, discounted_threshold=0.0)
    reader = semantic.train(settings, lambda t: t)
    text = "i cannot pee at all since this morning"
    assert reader.probabilities(text)["none"] < 0.6
    assert reader.verdict(text)[0] == "emergency"
    assert reader.verdict(text, rules_discounted_all=True) == (None, reader.probabilities(text)["none"])
    unset = semantic.train(dataclasses.replace(settings, discounted_threshold=None), lambda t: t)
    assert unset.discounted_threshold == unset.threshold == 0.6
    assert unset.verdict(text, rules_discounted_all=True)[0] == "emergency"


def _finding(flag: str, counted: bool) -> Finding:
    return Finding(flag, "emergency", "words", ("NEGATED_EXISTENCE",) if not counted else (), counted)


def test_rules_discounted_all_means_mentions_found_and_none_counted():
    assert Assessment("none", (_finding("fever", False), _finding("retention", False))).rules_discounted_all
    assert not Assessment("emergency", (_finding("fever", False), _finding("retention", True))).rules_discounted_all
    assert not Assessment("none").rules_discounted_all, "no mention at all: nothing was explained"
    # The second reader's own finding is not a rule's.
    assert not Assessment("emergency", (_finding(CLASSIFIER_FLAG, True),)).rules_discounted_all
    assert Assessment("emergency", (_finding(CLASSIFIER_FLAG, True), _finding("fever", False))).rules_discounted_all


class _RecordingReader:
    """Stands in for the second reader: records what the engine tells it, never escalates."""

    def __init__(self) -> None:
        self.calls: list = []

    def verdict(self, text: str, rules_discounted_all: bool = False):
        self.calls.append(rules_discounted_all)
        return None, 1.0


@pytest.mark.parametrize(
    "text, discounted_all",
    [
        ("I have no fever, no pain in the leg and the peeing goes normal. When can I go again to work?", True),
        ("I have a fever of 39 and the wound is leaking pus since this morning", False),
        ("how long will the operation take and when can i go home", False),
    ],
)
def test_the_engine_tells_the_reader_when_the_rules_discounted_every_mention(monkeypatch, text, discounted_all):
    triage = default_triage()
    recording = _RecordingReader()
    monkeypatch.setattr(triage, "semantic", recording)
    monkeypatch.setattr(triage, "combine", "either")
    triage.assess(text)
    assert recording.calls == [discounted_all]
    rules_only = Triage(triage.rules)
    assert rules_only.assess(text).rules_discounted_all is discounted_all


def test_discounted_threshold_is_checked(tmp_path):
    corpus = str(semantic.SETTINGS_FILE.parent.parent / "corpus" / "tune*.yml")
    shipped = semantic.SETTINGS_FILE.read_text().replace('"../corpus/tune*.yml"', f'"{corpus}"')
    bad = tmp_path / "semantic.yml"
    shipped = re.sub(r"(?m)^discounted_threshold: .*$", "discounted_threshold: DT", shipped)
    bad.write_text(shipped.replace("DT", "1.5"))
    with pytest.raises(ValueError, match="discounted_threshold"):
        semantic.load_settings(bad)
    bad.write_text(shipped.replace("DT", "null"))
    assert semantic.load_settings(bad).discounted_threshold is None
    bad.write_text(shipped.replace("DT", "0.2"))
    assert semantic.load_settings(bad).discounted_threshold == 0.2
    bad.write_text(shipped.replace("DT", "0.2").replace("class_weight: balanced", "class_weight: heavy"))
    with pytest.raises(ValueError, match="class_weight"):
        semantic.load_settings(bad)


def test_unweighted_levels_give_the_rare_level_less_weight(tmp_path):
    settings = _tiny_settings(tmp_path)
    corpus = settings.corpus_files[0]
    corpus.write_text(corpus.read_text().replace("level: emergency", "level: none", 4))
    text = "i cannot pee at all since this morning"
    balanced = semantic.train(settings, lambda t: t).probabilities(text)["emergency"]
    unweighted = semantic.train(dataclasses.replace(settings, class_weight="none"), lambda t: t)
    assert unweighted.probabilities(text)["emergency"] < balanced
