"""Training data and held-out test set: enough examples, no leakage, no conflicts."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from tests.conftest import QUESTION_INTENTS, ROOT

pytestmark = pytest.mark.unit


def _examples(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (b["intent"], line.strip()[2:].strip())
        for b in data["nlu"]
        for line in b["examples"].splitlines()
        if line.strip()
    ]


TRAIN = _examples(ROOT / "data" / "nlu.yml")
TEST = _examples(ROOT / "tests" / "nlu_test.yml")


def test_held_out_examples_are_never_trained_on():
    train = {t.lower() for _, t in TRAIN}
    assert [t for _, t in TEST if t.lower() in train] == []


def test_every_question_intent_has_at_least_40_training_examples():
    counts = Counter(i for i, _ in TRAIN)
    assert {i: counts[i] for i in QUESTION_INTENTS if counts[i] < 40} == {}


def test_every_domain_intent_has_at_least_10_held_out_examples(domain):
    counts = Counter(i for i, _ in TEST)
    # ask_more: covered by story tests; not_english: set from word lists, never by the classifier
    # (clinic_nlu/language_component.py; tests/test_language.py, tests/test_patient_words_http.py)
    tested = set(domain["intents"]) - {"ask_more", "not_english"}
    assert {i: counts[i] for i in tested if counts[i] < 10} == {}


def test_no_example_is_labelled_with_two_intents():
    labels = {}
    for intent, text in TRAIN:
        labels.setdefault(text.lower(), set()).add(intent)
    assert {t: found for t, found in labels.items() if len(found) > 1} == {}
