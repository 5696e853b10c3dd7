"""clinic_triage/dictation.py: what a phone's dictation wrote as words is read as typed text."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic_triage.dictation import DICTATION_FILE, Dictation, load_dictation
from clinic_triage.engine import Triage, load_rules

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def dictation() -> Dictation:
    loaded = load_dictation()
    assert loaded is not None
    return loaded


@pytest.mark.parametrize(
    "said, read",
    [
        ("he fainted ten minutes ago comma he is grey full stop", "he fainted ten minutes ago, he is grey."),
        ("is that common question mark", "is that common?"),
        ("help exclamation mark new line my leg", "help! my leg"),
        # a noun, not a mark: a coma misheard, a full stop in a sentence
        ("he went into a comma last year", "he went into a comma last year"),
        ("it all came to a full stop", "it all came to a full stop"),
    ],
)
def test_spoken_marks_are_read_as_marks_unless_the_words_are_a_noun(dictation, said, read):
    assert dictation.read(said) == read


@pytest.mark.parametrize(
    "said, read",
    [
        ("in nineteen seventy eight i had a reaction", "in 1978 i had a reaction"),
        ("nineteen oh five", "1905"),
        ("in two thousand five i fell", "in 2005 i fell"),
        ("in two thousand and twelve", "in 2012"),
        ("twenty sixteen he had the op", "2016 he had the op"),
        ("twenty twenty two", "2022"),
        ("my temperature was thirty nine point one", "my temperature was 39.1"),
        ("thirty-eight point five", "38.5"),
        ("a hundred and two degrees", "102 degrees"),
        ("one hundred and one point five", "101.5"),
        # other number words stay words: the rules read "two dressings", "three times"
        ("been through two dressings three times", "been through two dressings three times"),
        ("twenty four hours", "twenty four hours"),
        # an amount is no year
        ("after two thousand milligrams of paracetamol", "after two thousand milligrams of paracetamol"),
        ("two thousand five hundred steps", "two thousand five hundred steps"),
        ("at nineteen i was", "at nineteen i was"),
    ],
)
def test_spoken_years_and_readings_are_figures_and_other_numbers_stay_words(dictation, said, read):
    assert dictation.read(said) == read


def test_numbers_switch_off_and_a_missing_file_reads_nothing(tmp_path: Path):
    off = tmp_path / "dictation.yml"
    off.write_text(DICTATION_FILE.read_text().replace("numbers: true", "numbers: false"))
    loaded = load_dictation(off)
    assert loaded is not None and loaded.read("thirty nine point one comma") == "thirty nine point one,"
    assert load_dictation(tmp_path / "absent.yml") is None
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nnumbers: yes please\n")
    with pytest.raises(ValueError, match="numbers"):
        load_dictation(bad)


@pytest.fixture(scope="module")
def rules_only() -> Triage:
    return Triage(load_rules())


@pytest.mark.parametrize(
    "text, level",
    [
        # a dictated fever is a figure the fever rules read
        ("my temperature is thirty nine point two and i am shivering under the duvet", "emergency"),
        # a year said as words is a past the context rules read
        ("in nineteen seventy eight i had a blood clot in my leg, never since. do i tell the anaesthetist?", "none"),
        # sentences end where the patient said they end
        (
            "my brother had this op full stop he could not feel his legs for two days comma then it came back "
            "full stop is that common question mark",
            "none",
        ),
    ],
)
def test_the_rules_read_dictated_text_as_they_read_typed_text(rules_only, text, level):
    assert rules_only.assess(text).level == level


def test_the_dictation_file_is_one_of_the_rule_files():
    assert DICTATION_FILE in load_rules().files
