"""The unmasked reading (clinic_nlu/unmask.py): a red flag in disguise is read as the red flag, and
an ordinary message is left alone."""

from __future__ import annotations

import pytest

from clinic_nlu.unmask import split_words, unmasked
from clinic_triage import LEVELS
from clinic_triage.engine import default_triage
from clinic_triage.semantic import load_corpus
from tests.conftest import ROOT

pytestmark = pytest.mark.unit

DISGUISED = [
    ("I c4n't p33 s1nc3 th1s m0rn1ng", "emergency"),
    ("1 c4nt f33l my l3gs", "emergency"),
    ("numbness in my s4ddle area", "emergency"),
    ("l3gs numb, c4nt w4lk", "emergency"),
    ("I w4nt t0 k1ll mys3lf", "crisis"),
    (" ".join("I can't pee since this morning"), "emergency"),
    ("c a n t  f e e l  m y  l e g s", "emergency"),
    (".".join("icantfeelmylegs"), "emergency"),
    ("I can't p-e-e", "emergency"),
    ("cant-feel-my-legs", "emergency"),
    ("i_want_to_kill_myself", "crisis"),
    ("icantfeelmylegs", "emergency"),
    ("ican'tpee", "emergency"),
    ("".join(ch + "\u0301" if ch.isalpha() else ch for ch in "I can't feel my legs"), "emergency"),  # accents
    ("i want 2 die", "crisis"),
]


@pytest.mark.parametrize("typed, level", DISGUISED)
def test_a_red_flag_in_disguise_is_read_as_the_red_flag(typed, level):
    triage = default_triage()
    assert triage.assess(typed).level == "none"  # the typed text alone hides it
    assert triage.assess(unmasked(typed)).level == level


@pytest.mark.parametrize(
    "typed",
    [
        "how long is recovery?",
        "I had L4-L5 surgery 2 weeks ago",
        "I take 2 paracetamol",
        "is endoscopic discectomy painful",
        "my back is killing me",
        "non-urgent question, e.g. about the scar",
    ],
)
def test_an_ordinary_message_is_left_as_typed(typed):
    assert unmasked(typed) is typed


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("Afebrile, wound dry", "afebrile"),  # a medical word is not "a febrile"
        ("Negative for pyrexia", "pyrexia"),  # nor "pyrex i a"
        ("recovary time after the op", "recovary"),  # a typo is no run of words ("rec ovary")
        ("I cannot walk far yet", "cannot"),
        ("bruise about 4 x 3 cm", "4 x 3"),  # single characters that spell no words stay as typed
        ("r u a bot", "r u a"),
    ],
)
def test_medical_words_typos_and_measurements_are_not_split(typed, kept):
    assert kept in unmasked(typed).lower()


def test_split_words_needs_every_piece_to_be_a_word():
    assert split_words("icantfeelmylegs") == ["i", "cant", "feel", "my", "legs"]
    assert split_words("xqzvbn") is None


@pytest.mark.integration  # every corpus text: not the inner loop
def test_the_unmasked_reading_raises_no_tuning_corpus_message_above_its_level():
    """The reading may only add a level a disguise hid: no corpus message (calm ones included) gets a
    higher level from it than from its typed text."""
    triage = default_triage()
    corpus = load_corpus(sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml")))
    raised = []
    for m in corpus:
        plain = unmasked(m["text"])
        if plain is m["text"]:
            continue
        typed, read = triage.assess(m["text"]).level, triage.assess(plain).level
        if LEVELS.index(read) < LEVELS.index(typed) and LEVELS.index(read) < LEVELS.index(m["level"]):
            raised.append((m["text"], m["level"], read))
    assert raised == []


def test_a_run_of_letters_too_long_for_a_sentence_is_left_as_it_is():
    """Only runs up to MAX_SPLIT letters are split into words (a longer one is no sentence typed
    without spaces, and its typo lookup would cost a tenth of a second per message)."""
    from clinic_nlu.unmask import MAX_SPLIT

    assert unmasked("x" * 2000) == "x" * 2000
    assert unmasked("icantfeelmylegs" * (MAX_SPLIT // 15 + 1)) == "icantfeelmylegs" * (MAX_SPLIT // 15 + 1)
