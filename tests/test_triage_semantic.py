"""The learned second reader of the triage (clinic_triage/semantic.py)."""

from __future__ import annotations

import copy
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
    # The n-grams alone (the sentence encoder is not needed for these tests; see the embedding tests).
    return dataclasses.replace(settings, corpus_files=(corpus,), calm_examples_from=None, embedding_weight=0.0)


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


# (the setting, the condition under which it applies) for each stricter threshold.
STRICTER_THRESHOLDS = {
    "discounted_threshold": "rules_discounted_all",  # the rules discounted every mention they found
    "unflagged_threshold": "rules_found_nothing",  # the rules found no red-flag mention at all
}


@pytest.mark.parametrize("setting", sorted(STRICTER_THRESHOLDS))
def test_a_stricter_threshold_applies_only_under_its_condition(tmp_path, setting):
    condition = STRICTER_THRESHOLDS[setting]
    ((other_setting, other_condition),) = [(s, c) for s, c in STRICTER_THRESHOLDS.items() if s != setting]
    settings = dataclasses.replace(_tiny_settings(tmp_path), threshold=0.6, **{setting: 0.0})
    reader = semantic.train(settings, lambda t: t)
    text = "i cannot pee at all since this morning"
    assert reader.probabilities(text)["none"] < 0.6
    assert reader.verdict(text)[0] == "emergency"
    assert reader.verdict(text, **{condition: True}) == (None, reader.probabilities(text)["none"])
    assert reader.limit(**{other_condition: True}) == getattr(reader, other_setting)
    unset = semantic.train(dataclasses.replace(settings, **{setting: None}), lambda t: t)
    assert getattr(unset, setting) == unset.threshold == 0.6
    assert unset.verdict(text, **{condition: True})[0] == "emergency"


def _finding(flag: str, counted: bool) -> Finding:
    return Finding(flag, "emergency", "words", ("NEGATED_EXISTENCE",) if not counted else (), counted)


def test_rules_discounted_all_means_mentions_found_and_none_counted():
    assert Assessment("none", (_finding("fever", False), _finding("retention", False))).rules_discounted_all
    assert not Assessment("emergency", (_finding("fever", False), _finding("retention", True))).rules_discounted_all
    assert not Assessment("none").rules_discounted_all, "no mention at all: nothing was explained"
    # The second reader's own finding is not a rule's.
    assert not Assessment("emergency", (_finding(CLASSIFIER_FLAG, True),)).rules_discounted_all
    assert Assessment("emergency", (_finding(CLASSIFIER_FLAG, True), _finding("fever", False))).rules_discounted_all


def test_rules_found_nothing_means_no_mention_of_the_rules_counted_or_not():
    assert Assessment("none").rules_found_nothing
    assert Assessment("emergency", (_finding(CLASSIFIER_FLAG, True),)).rules_found_nothing
    assert not Assessment("none", (_finding("fever", False),)).rules_found_nothing
    assert not Assessment("emergency", (_finding("fever", True),)).rules_found_nothing


class _RecordingReader:
    """Stands in for the second reader: records what the engine tells it, never escalates."""

    def __init__(self) -> None:
        self.calls: list = []

    def verdict(
        self,
        text: str,
        rules_discounted_all: bool = False,
        rules_found_nothing: bool = False,
        rules_discounted_crisis: bool = False,
    ):
        self.calls.append((rules_discounted_all, rules_found_nothing, rules_discounted_crisis))
        return None, 1.0


@pytest.mark.parametrize(
    "text, discounted_all, found_nothing, discounted_crisis",
    [
        (
            "I have no fever, no pain in the leg and the peeing goes normal. When can I go again to work?",
            True,
            False,
            False,
        ),
        ("I have a fever of 39 and the wound is leaking pus since this morning", False, False, False),
        ("how long will the operation take and when can i go home", False, True, False),
        # A self-harm mention the rules discounted (long past, well since).
        ("I had suicidal thoughts ten years ago, all fine now. How long is the recovery?", True, False, True),
    ],
)
def test_the_engine_tells_the_reader_what_the_rules_found(
    monkeypatch, text, discounted_all, found_nothing, discounted_crisis
):
    triage = default_triage()
    recording = _RecordingReader()
    monkeypatch.setattr(triage, "semantic", recording)
    monkeypatch.setattr(triage, "combine", "either")
    triage.assess(text)
    assert recording.calls == [(discounted_all, found_nothing, discounted_crisis)]
    rules_only = Triage(triage.rules).assess(text)
    assert rules_only.rules_discounted_all is discounted_all
    assert rules_only.rules_found_nothing is found_nothing
    assert rules_only.rules_discounted_crisis is discounted_crisis


_PROBABILITIES = {"crisis": 0.35, "emergency": 0.2, "none": 0.4, "urgent": 0.05}


def test_without_minimums_the_reader_names_its_most_likely_level_below_the_threshold():
    assert semantic.choose_level(_PROBABILITIES, 0.6, {}) == ("crisis", 0.35)
    assert semantic.choose_level(_PROBABILITIES, 0.4, {}) == (None, 0.4)
    tied = {"crisis": 0.3, "emergency": 0.3, "none": 0.4, "urgent": 0.0}
    assert semantic.choose_level(tied, 0.6, {})[0] == "crisis", "ties keep the fitted classes' order, as before"


def test_a_level_the_reader_is_not_sure_enough_of_counts_as_calm():
    # P(crisis) 0.35 < 0.5: crisis counts as calm, P(none) + P(crisis) = 0.75 is not below 0.6: none.
    assert semantic.choose_level(_PROBABILITIES, 0.6, {"crisis": 0.5}) == (None, 0.4)
    # ... but below 0.8: it falls back to its next most likely level.
    assert semantic.choose_level(_PROBABILITIES, 0.8, {"crisis": 0.5}) == ("emergency", 0.2)
    # That level's own minimum applies as well; a level that reaches its minimum is named as before.
    assert semantic.choose_level(_PROBABILITIES, 0.8, {"crisis": 0.5, "emergency": 0.3}) == (None, 0.4)
    assert semantic.choose_level(_PROBABILITIES, 0.6, {"crisis": 0.35}) == ("crisis", 0.35)
    assert semantic.choose_level(_PROBABILITIES, 0.6, {"emergency": 0.9}) == ("crisis", 0.35)


def test_crisis_alone_is_judged_again_at_the_crisis_limit():
    strict = 0.1  # P(none) 0.4 is not below it: nothing at the limit itself
    assert semantic.choose_level_with_crisis_limit(_PROBABILITIES, strict, {}, None) == (None, 0.4)
    assert semantic.choose_level_with_crisis_limit(_PROBABILITIES, strict, {}, 0.6) == ("crisis", 0.35)
    # Crisis's own minimum still applies; the level it would fall back to is not named.
    assert semantic.choose_level_with_crisis_limit(_PROBABILITIES, strict, {"crisis": 0.5}, 0.8) == (None, 0.4)
    mostly_emergency = {"crisis": 0.1, "emergency": 0.5, "none": 0.35, "urgent": 0.05}
    assert semantic.choose_level_with_crisis_limit(mostly_emergency, strict, {}, 0.6) == (None, 0.35)
    # Where the limit escalates already, the crisis limit changes nothing.
    assert semantic.choose_level_with_crisis_limit(mostly_emergency, 0.6, {}, 0.1) == ("emergency", 0.5)


def test_a_discounted_physical_red_flag_does_not_make_the_crisis_verdict_strict(reader):
    assert reader.discounted_other_crisis_threshold == 0.5, "rules/semantic.yml ships 0.5"
    assert reader.discounted_threshold == 0.1
    probabilities = {"crisis": 0.55, "emergency": 0.05, "none": 0.35, "urgent": 0.05}
    stub = copy.copy(reader)
    stub.probabilities = lambda text, embedding=None: dict(probabilities)  # type: ignore[method-assign]
    text = "five words or more here"
    # Only other flags' mentions were discounted (a stroke in 2019): crisis is judged at 0.5.
    assert stub.verdict(text, rules_discounted_all=True) == ("crisis", 0.55)
    # A self-harm mention was discounted (a past attempt, well since): 0.1 for every level.
    assert stub.verdict(text, rules_discounted_all=True, rules_discounted_crisis=True) == (None, 0.35)
    # Only crisis is judged again: an emergency verdict stays at the stricter threshold.
    probabilities.update(crisis=0.05, emergency=0.55)
    assert stub.verdict(text, rules_discounted_all=True) == (None, 0.35)
    # null: discounted_threshold for every level, as before.
    probabilities.update(crisis=0.55, emergency=0.05)
    stub.discounted_other_crisis_threshold = None
    assert stub.verdict(text, rules_discounted_all=True) == (None, 0.35)
    assert stub.crisis_limit(rules_discounted_all=True) is None


def test_the_reader_applies_its_level_minimums(tmp_path):
    text = "i cannot pee at all since this morning"
    plain = semantic.train(_tiny_settings(tmp_path), lambda t: t)
    level, probability = plain.verdict(text)
    assert level == "emergency"
    strict = semantic.train(
        dataclasses.replace(_tiny_settings(tmp_path), min_level_probability={"emergency": probability + 1e-6}),
        lambda t: t,
    )
    assert strict.verdict(text) == (None, strict.probabilities(text)["none"])


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
    other = re.sub(r"(?m)^discounted_other_crisis_threshold: .*$", "discounted_other_crisis_threshold: OC", shipped)
    bad.write_text(other.replace("DT", "0.1").replace("OC", "1.5"))
    with pytest.raises(ValueError, match="discounted_other_crisis_threshold"):
        semantic.load_settings(bad)
    bad.write_text(other.replace("DT", "0.1").replace("OC", "null"))
    assert semantic.load_settings(bad).discounted_other_crisis_threshold is None


def test_unflagged_threshold_and_level_minimums_are_checked(tmp_path):
    corpus = str(semantic.SETTINGS_FILE.parent.parent / "corpus" / "tune*.yml")
    shipped = semantic.SETTINGS_FILE.read_text().replace('"../corpus/tune*.yml"', f'"{corpus}"')
    shipped = re.sub(r"(?m)^unflagged_threshold: .*$", "unflagged_threshold: UT", shipped)
    shipped = re.sub(r"(?m)^  crisis: .*$", "  crisis: CM", shipped)
    bad = tmp_path / "semantic.yml"
    bad.write_text(shipped.replace("UT", "-0.1").replace("CM", "null"))
    with pytest.raises(ValueError, match="unflagged_threshold"):
        semantic.load_settings(bad)
    bad.write_text(shipped.replace("UT", "0.3").replace("CM", "2"))
    with pytest.raises(ValueError, match="min_level_probability.crisis"):
        semantic.load_settings(bad)
    bad.write_text(shipped.replace("UT", "0.3").replace("CM", "0.4"))
    loaded = semantic.load_settings(bad)
    assert loaded.unflagged_threshold == 0.3 and loaded.min_level_probability == {"crisis": 0.4}
    bad.write_text(shipped.replace("UT", "null").replace("CM", "null"))
    assert semantic.load_settings(bad).unflagged_threshold is None
    assert semantic.load_settings(bad).min_level_probability == {}, "null: no condition"
    bad.write_text(shipped.replace("UT", "null").replace("  crisis: CM", "  none: 0.5"))
    with pytest.raises(ValueError, match="min_level_probability"):
        semantic.load_settings(bad)


def test_unweighted_levels_give_the_rare_level_less_weight(tmp_path):
    settings = _tiny_settings(tmp_path)
    corpus = settings.corpus_files[0]
    corpus.write_text(corpus.read_text().replace("level: emergency", "level: none", 4))
    text = "i cannot pee at all since this morning"
    balanced = semantic.train(settings, lambda t: t).probabilities(text)["emergency"]
    unweighted = semantic.train(dataclasses.replace(settings, class_weight="none"), lambda t: t)
    assert unweighted.probabilities(text)["emergency"] < balanced


def test_the_corpus_calm_weight_weighs_only_the_corpus_calm_messages_and_is_checked(tmp_path):
    settings = dataclasses.replace(_tiny_settings(tmp_path), corpus_calm_weight=1.0)
    assert semantic.sample_weights(["none", "emergency"], 2, settings) is None, "1: no weights"
    heavier = dataclasses.replace(settings, corpus_calm_weight=2.0)
    assert semantic.sample_weights(["none", "emergency"], 2, heavier) == [2.0, 1.0, 1.0, 1.0]
    text = "i cannot pee at all since this morning"
    light = semantic.train(settings, lambda t: t).probabilities(text)["none"]
    assert (
        semantic.train(dataclasses.replace(settings, corpus_calm_weight=4.0), lambda t: t).probabilities(text)["none"]
        > light
    )
    corpus = str(semantic.SETTINGS_FILE.parent.parent / "corpus" / "tune*.yml")
    shipped = semantic.SETTINGS_FILE.read_text().replace('"../corpus/tune*.yml"', f'"{corpus}"')
    bad = tmp_path / "semantic.yml"
    bad.write_text(re.sub(r"(?m)^corpus_calm_weight: .*$", "corpus_calm_weight: 0", shipped))
    with pytest.raises(ValueError, match="corpus_calm_weight"):
        semantic.load_settings(bad)


# ---------------------------------------------------------------- the sentence embedding beside the n-grams


def _fake_embed(texts):
    """A deterministic stand-in for a sentence encoder: one normalised 8-wide row per text."""
    import hashlib

    import numpy as np

    rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)).normal(size=8) for t in texts]
    matrix = np.array(rows).reshape(len(texts), 8)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _three_level_settings(tmp_path, weight: float) -> semantic.SemanticSettings:
    """The tiny corpus with a third level, so the multinomial path is exercised as well."""
    settings = _tiny_settings(tmp_path)
    corpus = settings.corpus_files[0]
    corpus.write_text(
        corpus.read_text()
        + "".join(
            f'  - {{text: "i want to end it all tonight {i}", level: crisis, category: c, author: a{i % 3}}}\n'
            for i in range(6)
        )
    )
    return dataclasses.replace(settings, embedding_weight=weight)


EMBEDDED_TEXTS = ["i cannot pee at all since this morning", "i want to end it all", "how much", "", "zzzz qqqq x y z"]


@pytest.mark.parametrize("levels", [2, 3])
def test_with_an_embedding_its_scores_equal_scikit_learns(tmp_path, levels):
    settings = _three_level_settings(tmp_path, 2.0) if levels == 3 else _tiny_settings(tmp_path)
    settings = dataclasses.replace(settings, embedding_weight=2.0)
    reader = semantic.train(settings, lambda t: t, embed=_fake_embed)
    assert len(reader.classes) == levels
    for text in EMBEDDED_TEXTS:
        fast, reference = reader.probabilities(text), reader.sklearn_probabilities(text)
        assert max(abs(fast[c] - reference[c]) for c in reader.classes) < 1e-9
        given = reader.probabilities(text, embedding=_fake_embed([text])[0])
        assert given == fast, "an embedding passed in is the one computed"
    without = semantic.train(dataclasses.replace(settings, embedding_weight=0.0), lambda t: t, embed=_fake_embed)
    assert without.probabilities(EMBEDDED_TEXTS[0]) != reader.probabilities(EMBEDDED_TEXTS[0])
    assert without.embedding(EMBEDDED_TEXTS[0]) is None, "weight 0: nothing is embedded"


def test_an_embedding_weight_needs_an_encoder_and_is_checked(tmp_path):
    with pytest.raises(ValueError, match="embed"):
        semantic.train(_three_level_settings(tmp_path, 1.0), lambda t: t)
    corpus = str(semantic.SETTINGS_FILE.parent.parent / "corpus" / "tune*.yml")
    shipped = semantic.SETTINGS_FILE.read_text().replace('"../corpus/tune*.yml"', f'"{corpus}"')
    shipped = re.sub(r"(?m)^embedding_weight: .*$", "embedding_weight: EW", shipped)
    bad = tmp_path / "semantic.yml"
    bad.write_text(shipped.replace("EW", "-1"))
    with pytest.raises(ValueError, match="embedding_weight"):
        semantic.load_settings(bad)
    bad.write_text(shipped.replace("EW", "1.5"))
    assert semantic.load_settings(bad).embedding_weight == 1.5
    assert dataclasses.replace(semantic.load_settings(), embedding_weight=0.0).embedding_weight == 0.0


def test_the_cache_key_names_the_embedding_and_a_cached_reader_gets_its_encoder_back(tmp_path):
    settings = _three_level_settings(tmp_path, 1.0)
    off = dataclasses.replace(settings, embedding_weight=0.0)
    keys = {
        semantic.fingerprint(off),
        semantic.fingerprint(off, embedder="encoder A"),
        semantic.fingerprint(settings, embedder="encoder A"),
        semantic.fingerprint(dataclasses.replace(settings, embedding_weight=2.0), embedder="encoder A"),
        semantic.fingerprint(settings, embedder="encoder B"),
    }
    assert len(keys) == 4, "weight and encoder change the key; the encoder's name does not matter when off"
    key = semantic.fingerprint(settings, embedder="encoder A")
    first = semantic.train(settings, lambda t: t, cache_key=key, cache_dir=tmp_path / "cache", embed=_fake_embed)
    pickled = (tmp_path / "cache" / f"{key}.pkl").read_bytes()
    assert b"_fake_embed" not in pickled, "the encoder is not pickled"
    again = semantic.train(settings, lambda t: t, cache_key=key, cache_dir=tmp_path / "cache", embed=_fake_embed)
    assert again.probabilities(EMBEDDED_TEXTS[1]) == first.probabilities(EMBEDDED_TEXTS[1])


def test_the_embedding_cache_encodes_each_text_once():
    from clinic_triage.embedding import CachedEmbed

    calls = []

    def counting(texts):
        calls.append(list(texts))
        return _fake_embed(texts)

    cached = CachedEmbed(counting, maxsize=2)
    first = cached(["a b", "c d", "a b"])
    assert calls == [["a b", "c d"]] and first.shape == (3, 8)
    assert (cached(["c d"]) == first[1]).all() and len(calls) == 1
    cached(["e f"])  # "a b" is now the least recently used of three: dropped
    cached(["a b"])
    assert calls[-1] == ["a b"] and len(calls) == 3
    assert cached([]).shape[0] == 0


def test_the_engine_encodes_one_messages_readings_once(tmp_path):
    calls = []

    def counting(texts):
        calls.append(list(texts))
        return _fake_embed(texts)

    triage = Triage(semantic_settings=_three_level_settings(tmp_path, 1.0), embed=counting)
    calls.clear()
    text = "How long will the operation take and when can I go home"
    triage.assess(text)
    triage.assess(text.lower())  # another reading, the same text for the reader
    triage.assess("hi")  # shorter than min_words: nothing to embed
    assert calls == [[triage.classifier_text(text)]]


def test_the_triage_package_does_not_import_the_nlu_package():
    import subprocess
    import sys

    code = (
        "import sys, clinic_triage, clinic_triage.engine, clinic_triage.semantic, clinic_triage.embedding;"
        "assert not [m for m in sys.modules if m.startswith('clinic_nlu')], 'clinic_nlu imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(semantic.SETTINGS_FILE.parents[2]))
