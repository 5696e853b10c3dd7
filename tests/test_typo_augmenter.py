"""Typo augmentation at training time (clinic_nlu/typo_augmenter.py): seeded copies, data untouched."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.typo_augmenter import AUGMENTED, TypoAugmenter
from clinic_nlu.typo_noise import add_typos

pytestmark = pytest.mark.unit


def _data() -> TrainingData:
    return TrainingData(
        [
            Message(data={"text": "How long is the recovery after the operation", "intent": "ask_recovery_time"}),
            Message(data={"text": "What does the endoscopic discectomy cost", "intent": "ask_cost"}),
            Message(
                data={
                    "text": "I take ibuprofen",
                    "intent": "ask_medication",
                    "entities": [{"start": 7, "end": 16, "value": "ibuprofen", "entity": "drug"}],
                }
            ),
        ]
    )


def _augmenter(**config) -> TypoAugmenter:
    return TypoAugmenter({**TypoAugmenter.get_default_config(), **config})


def test_each_intent_example_gets_its_seeded_noisy_copies_after_the_originals():
    data = _data()
    augmented = _augmenter(copies=2, seed=5).process_training_data(data)
    examples = augmented.training_examples
    assert examples[:3] == data.training_examples
    copies = examples[3:]
    assert [c.get("text") for c in copies[:2]] == [add_typos(data.training_examples[0].get("text"), s) for s in (5, 6)]
    assert all(c.get(AUGMENTED) and c.get("intent") in ("ask_recovery_time", "ask_cost") for c in copies)
    assert len(copies) == 4
    assert {m.get("intent") for m in augmented.intent_examples} == {"ask_recovery_time", "ask_cost", "ask_medication"}


def test_the_copies_are_the_same_on_every_run_and_the_input_is_not_changed():
    first = [m.get("text") for m in _augmenter().process_training_data(_data()).training_examples]
    second = [m.get("text") for m in _augmenter().process_training_data(_data()).training_examples]
    assert first == second
    assert len(_data().training_examples) == 3


def test_an_example_with_entities_is_not_copied_so_no_offset_goes_wrong():
    copies = _augmenter(copies=3).noisy_copies(_data().training_examples)
    assert all("ibuprofen" not in c.get("text") and c.get("entities") is None for c in copies)


def test_parsing_a_message_changes_nothing():
    message = Message(data={"text": "recovry time?"})
    _augmenter().process([message])
    assert message.get("text") == "recovry time?" and message.get(AUGMENTED) is None


def test_zero_copies_gives_the_data_back_and_bad_settings_are_refused():
    data = _data()
    assert _augmenter(copies=0).process_training_data(data) is data
    with pytest.raises(ValueError):
        TypoAugmenter.validate_config({"copies": -1, "seed": 1, "word_probability": 0.3})
    with pytest.raises(ValueError):
        TypoAugmenter.validate_config({"copies": 1, "seed": 1, "word_probability": 1.5})
