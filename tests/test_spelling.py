"""The domain spelling corrector (clinic_nlu/spelling.py): fixes slips, never swaps medical words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, Set

import pytest
import yaml

from clinic_nlu.spelling import (
    DomainSpeller,
    WordContext,
    build_speller,
    domain_bigrams,
    domain_vocabulary,
    english,
    guard_words,
    medical_terms,
    one_edit,
    training_slips,
    negation_words,
    speller_settings,
    triage_words,
)
from clinic_triage.engine import LEVELS, default_triage
from clinic_nlu.typo_noise import NEIGHBOURS, add_typos

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def _training_texts():
    texts = []
    for block in yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]:
        if "intent" in block:
            texts += [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
    return texts


@pytest.fixture(scope="module")
def speller() -> DomainSpeller:
    return build_speller(_training_texts())


def one_slip_variants(word: str) -> Iterator[str]:
    """Every swap, drop, doubled letter and neighbouring-key replacement of ``word``."""
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]
        yield word[: i + 1] + word[i] + word[i + 1 :]
        for key in NEIGHBOURS.get(word[i], ""):
            yield word[:i] + key + word[i + 1 :]
        if i < len(word) - 1:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("enndoscopy", "endoscopy"),
        ("spinla", "spinal"),
        ("recovrey", "recovery"),
        ("ocst", "cost"),
        ("anaesthesai", "anaesthesia"),
        ("discectmy", "discectomy"),
        ("bladdr", "bladder"),
        ("numbnes", "numbness"),
        ("ibuprofn", "ibuprofen"),
        ("warfrin", "warfarin"),
        ("hwen", "when"),
    ],
)
def test_a_slip_in_a_clinic_or_everyday_word_is_corrected(speller, typed, meant):
    assert speller.correct_word(typed) == meant


def test_a_whole_message_keeps_its_punctuation_and_reports_each_change(speller):
    corrected, changes = speller.correct("How mmuch does the enndoscopy ocst?  Thanks!")
    assert corrected == "How much does the endoscopy cost?  Thanks!"
    assert [(c.typed, c.corrected) for c in changes] == [
        ("mmuch", "much"),
        ("enndoscopy", "endoscopy"),
        ("ocst", "cost"),
    ]


@pytest.mark.parametrize(
    "word",
    [
        "codeine",
        "cocaine",
        "iodine",
        "morphine",
        "tramadol",
        "gabapentin",
        "pregabalin",
        "foraminoscopy",
        "transforaminal",
        "discectomy",
        "cauda",
        "equina",
        "disk",
        "disc",
    ],
)
def test_a_correctly_spelt_medical_or_drug_word_is_never_changed(speller, word):
    assert speller.correct_word(word) == word


def test_a_slip_equally_close_to_two_medical_words_is_left_as_typed(speller):
    # "codine" is one edit from both codeine and iodine: the corrector does not guess the medicine.
    assert speller.correct_word("codine") == "codine"
    assert speller.correct_word("dis") == "dis"  # disc or disk


def test_no_slip_of_a_medical_word_is_corrected_into_another_medical_word(speller):
    """Every one-slip variant of every protected word: left as typed, back to itself, or to a
    non-medical word; never to a different medical word."""
    wrong: Set[str] = set()
    for word in sorted(medical_terms()):
        for typed in set(one_slip_variants(word)):
            corrected = speller.correct_word(typed)
            if corrected not in (typed, word) and corrected in speller.protected:
                wrong.add(f"{word} -> {typed} -> {corrected}")
    assert not wrong, sorted(wrong)[:20]


def test_everyday_known_words_short_words_and_numbers_are_kept(speller):
    for text in ("i am ok", "op on 12th", "L4-L5 disc", "pls", "its", "u"):
        assert speller.correct(text)[0] == text


def test_the_domain_vocabulary_has_the_clinic_words_from_data_domain_and_facts():
    counts = domain_vocabulary(["my recovry after surgery"])
    assert counts["recovry"] == 1  # a training example's own spelling is known
    assert counts["foraminoscopy"] > 0 or counts["transforaminal"] > 0  # from facts/facts.yml and domain.yml
    assert "discectomy" in counts


def test_the_medical_list_is_lower_case_words_without_duplicates():
    lines = [
        line.strip()
        for line in (ROOT / "clinic_nlu" / "medical_terms.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == len(set(lines)) and all(w.isalpha() and w == w.lower() for w in lines)
    assert medical_terms() == frozenset(lines)


@pytest.mark.parametrize("word", ["wasnt", "dont", "thx", "ppl", "cya", "danke", "chatgpt"])
def test_contractions_without_apostrophes_and_chat_words_are_not_slips(speller, word):
    assert speller.correct_word(word) == word


def test_the_chat_word_list_is_lower_case_words():
    from clinic_nlu.spelling import chat_words

    assert chat_words() and all(w.isalpha() and w == w.lower() for w in chat_words())


# The context step (real-word slips, non-words in context): the mechanism with fixed ratios here;
# config.yml's values are tested in tests/test_spelling_corrector.py.
CONTEXT = {"english_word_ratio": 1000, "non_word_ratio": 20, "real_words_after_a_slip": True, "context_min_letters": 2}


@pytest.fixture(scope="module")
def context_speller() -> DomainSpeller:
    return build_speller(_training_texts(), **speller_settings(CONTEXT))


@pytest.fixture(scope="module")
def symptom_speller() -> DomainSpeller:
    """The context step with config.yml's guard: negations and the symptom and body words only."""
    return build_speller(_training_texts(), **speller_settings({**CONTEXT, "context_guard": "symptom_words"}))


@pytest.fixture(scope="module", params=["triage_words", "symptom_words"])
def guarded_speller(request, context_speller, symptom_speller) -> DomainSpeller:
    return context_speller if request.param == "triage_words" else symptom_speller


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("hwo much does it cots", "how much does it cost"),  # "cots" is an English word
        ("waht does it cots", "what does it cost"),
    ],
)
def test_the_context_step_reads_real_word_slips_in_a_message_with_slips(context_speller, speller, typed, meant):
    assert context_speller.correct(typed)[0] == meant
    assert speller.correct(typed)[0] != meant  # the word step alone cannot


def test_without_an_unknown_word_real_words_and_two_letter_words_are_kept(context_speller):
    for text in ("how ling is recovery", "yo", "my gp said so", "i peed myself"):
        assert context_speller.correct(text)[0] == text


def test_with_every_ratio_at_zero_the_word_pairs_change_nothing(speller):
    """A speller that has the word-pair counts but every ratio at 0 corrects exactly as the word
    step alone does (the speller without the context step)."""
    texts = _training_texts()
    zero = DomainSpeller(
        dict(domain_vocabulary(texts)), medical_terms(), context=WordContext(dict(domain_bigrams(texts)))
    )
    assert zero.context is not None and speller.context is None
    typed = [add_typos(t, seed) for t in texts[:300] for seed in range(3)]
    assert [zero.correct(t)[0] for t in typed] == [speller.correct(t)[0] for t in typed]
    assert sum(speller.correct(t)[0] != t for t in typed) > 100  # the word step did correct them


# Each: typed with slips; the word step's text triages as severe as (or more than) the typed one, and
# the context step once changed a word that the triage rules or a negation needed.
TRIAGE_CASES = [
    "cantt feeel my bum.",  # "bum" -> "mum": a red flag became someone else's
    "my legs are nt weak aftre surgry",  # "nt" -> "not": a red flag became a denial
    "i dnt want to be alive anymor",  # "alive" -> "live"
]


@pytest.mark.parametrize("typed", TRIAGE_CASES)
def test_the_context_step_never_makes_the_triage_level_less_severe(guarded_speller, speller, typed):
    triage = default_triage()
    without = triage.assess(speller.correct(typed)[0]).level
    assert without != "none"  # a red flag the word step's text shows ...
    word_step, corrected, _ = guarded_speller.readings(typed)
    assert word_step == speller.correct(typed)[0]
    assert LEVELS.index(triage.assess(corrected).level) <= LEVELS.index(without)  # ... the context keeps


@pytest.mark.parametrize("guard", ["negations", "none"])
def test_without_the_symptom_words_guard_only_reading_the_word_step_keeps_the_red_flag(speller, guard):
    """Why the guard list exists: unguarded, the context step turns "bum" into "mum" (the corrected
    text shows no red flag); triage still sees it because it reads the word step's text too."""
    unguarded = build_speller(_training_texts(), **speller_settings({**CONTEXT, "context_guard": guard}))
    word_step, corrected, _ = unguarded.readings("cantt feeel my bum.")
    triage = default_triage()
    assert corrected == "cant feel my mum." and triage.assess(corrected).level == "none"
    assert triage.assess(word_step).level == "emergency"


def test_the_symptom_words_guard_lets_connective_words_be_corrected(context_speller, symptom_speller):
    for typed, meant in (
        ("how ling is teh recovrey", "how long is the recovery"),
        ("cn i drvie aftre", "can i drive after"),
    ):
        assert symptom_speller.correct(typed)[0] == meant
        assert context_speller.correct(typed)[0] != meant  # "long", "can": words the triage rules name


def test_the_context_step_never_changes_or_puts_in_a_guarded_word(guarded_speller):
    """Over seeded typo versions of every training example and of the red-flag messages above: no
    change the context step makes removes or adds a word of its guard list (the triage rules' words or
    their symptom and body words, and the negations)."""
    context_speller = guarded_speller
    texts = [add_typos(t, seed, probability=0.5) for t in _training_texts() for seed in range(2)]
    texts += [add_typos(t, seed, probability=0.5) for t in TRIAGE_CASES for seed in range(20)]
    changed, wrong = 0, []
    for text in texts:
        typed = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
        chosen = [context_speller.correct_word(w) for w in typed]
        for before, after in zip(chosen, context_speller.in_context(typed, chosen)):
            if before != after:
                changed += 1
                if context_speller.left_to_triage(before) or context_speller.left_to_triage(after):
                    wrong.append(f"{text!r}: {before} -> {after}")
    assert changed and not wrong, wrong[:10]


def test_the_triage_words_are_read_from_the_rules_and_the_negations_from_their_list(context_speller):
    words, stems = triage_words()
    assert {"bum", "arse", "alive", "feel", "cant", "legs", "leg", "dying"} <= words  # "legs?" names "leg"
    assert "numb" in stems and context_speller.left_to_triage("numbness")
    assert all(w.isalpha() for w in words) and all(len(s) >= 3 and s.isalpha() for s in stems)
    assert {"not", "nor", "none", "isnt", "havent", "hasnt", "nt"} <= negation_words()
    assert not context_speller.left_to_triage("cost") and not context_speller.left_to_triage("cots")


def test_the_symptom_words_guard_keeps_the_rules_symptom_words_and_the_negations_not_connectives():
    words, stems = guard_words("symptom_words")
    everything, all_stems = guard_words("triage_words")
    assert {"bum", "arse", "alive", "feel", "legs", "leg", "dying"} <= words and "numb" in stems
    assert negation_words() <= words and words <= everything and set(stems) <= set(all_stems)
    assert not {"how", "long", "can", "the", "what"} & words
    assert guard_words("negations") == (negation_words(), ()) and guard_words("none") == (frozenset(), ())
    with pytest.raises(ValueError):
        guard_words("symptoms")


def test_the_english_dictionary_is_built_once_and_shared(speller, context_speller):
    assert speller._english is context_speller._english is english(50000).dictionary
    assert english(50000).background is context_speller.context.background  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        english(50000).background["the"] = 1.0  # type: ignore[index]


def test_the_settings_of_the_corrector_become_build_speller_arguments():
    assert speller_settings({}) == {
        "english_words": 50000,
        "ratios": (0.0, 0.0, 0.0),
        "real_words_after_a_slip": False,
        "context_min_letters": 3,
        "context_guard": "triage_words",
        "slip_min_count": 0,
        "slip_ratio": 10.0,
    }
    read = speller_settings({"english_words": 20000, "non_word_ratio": 20, "context_min_letters": 2})
    assert read["english_words"] == 20000 and read["ratios"] == (0.0, 0.0, 20.0) and read["context_min_letters"] == 2


def test_the_context_step_never_changes_or_puts_in_a_protected_word(context_speller):
    """Over seeded typo versions of every training example and of messages around every protected
    word: each change the context step makes to the word step's result neither removes nor adds a
    medical or drug word."""
    texts = [add_typos(t, seed, probability=0.5) for t in _training_texts() for seed in range(2)]
    texts += [f"is {w} safe aftre the op" for w in sorted(context_speller.protected)]
    wrong = []
    for text in texts:
        typed = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
        chosen = [context_speller.correct_word(w) for w in typed]
        for before, after in zip(chosen, context_speller.in_context(typed, chosen)):
            if before != after and (before in context_speller.protected or after in context_speller.protected):
                wrong.append(f"{text!r}: {before} -> {after}")
    assert not wrong, wrong[:10]


def test_a_word_pair_the_clinic_texts_use_fits_better_than_one_they_do_not():
    context = WordContext(dict(domain_bigrams(["how long is the recovery", "how long does it take"], [])))
    assert context.score("how", "long", "is") > context.score("how", "ling", "is")
    assert context.score("<s>", "how", "long") > context.score("<s>", "who", "long")


# Slips in the training texts (slip_min_count): not domain words, so corrected like any other slip.
SLIPS = {"slip_min_count": 2, "slip_ratio": 10}


def test_one_edit_is_a_drop_an_insertion_a_replacement_or_a_swap():
    near = one_edit("want")
    assert {"wnat", "wan", "wamt", "wannt", "swant"} <= near and "want" not in near and "wnta" not in near


def test_a_rare_training_word_next_to_a_much_more_frequent_known_word_is_a_slip():
    english_words = frozenset({"want", "union", "surgeon", "the"})
    training = {"wnat": 1, "want": 30, "surgen": 1, "bunion": 1, "merhaba": 1, "clinik": 3, "codeinne": 1, "the": 50}
    clean = {"surgeon": 12, "clinic": 40}
    medical = frozenset({"codeine"})
    slips = training_slips(training, clean, english_words, medical, frozenset(), 2, 10)
    # "bunion": its neighbour "union" is never used; "merhaba": no neighbour; "clinik": seen twice or
    # more; "codeinne": one edit from a medical word, which the corrector never guesses between.
    assert slips == {"wnat", "surgen"}
    assert training_slips(training, clean, english_words, medical, frozenset(), 4, 10) == {"wnat", "surgen", "clinik"}
    assert training_slips(training, clean, english_words, medical, frozenset(), 2, 50) == set()  # not 50 times
    assert training_slips(training, clean, english_words, medical, frozenset(), 0, 10) == set()  # switched off


def test_short_words_english_words_and_clean_source_words_are_never_slips():
    english_words = frozenset({"can", "want"})
    training = {"cn": 1, "ur": 1, "wan": 1, "wantt": 1, "can": 40, "want": 40}
    slips = training_slips(training, {"wantt": 1}, english_words, frozenset(), frozenset(), 2, 10)
    assert slips == frozenset()  # "cn", "ur", "wan": under four letters; "wantt": in a clean source


@pytest.fixture(scope="module")
def slip_speller() -> DomainSpeller:
    return build_speller([*_training_texts(), "can i spaek to the surgoen"], **speller_settings(SLIPS))


def test_off_by_default_every_training_word_is_a_domain_word(speller):
    assert speller.slips == frozenset()
    assert speller.domain == dict(domain_vocabulary(_training_texts()))


def test_a_training_slip_is_not_known_not_a_candidate_and_not_protected(slip_speller):
    assert {"spaek", "surgoen"} <= slip_speller.slips  # seen once in the training texts
    assert not slip_speller.slips & set(slip_speller.domain)
    assert not slip_speller.slips & slip_speller.protected
    assert slip_speller.correct("can i spaek to the surgoen")[0] == "can i speak to the surgeon"
    # Nor a candidate: a slip one edit from a training slip goes to the real word.
    assert slip_speller.correct_word("surgoenn") == "surgeon"


def test_with_training_slips_left_out_medical_words_stay_protected_and_are_never_swapped(slip_speller):
    assert medical_terms() <= slip_speller.protected
    wrong: Set[str] = set()
    for word in sorted(medical_terms()):
        assert slip_speller.correct_word(word) == word
        for typed in set(one_slip_variants(word)):
            corrected = slip_speller.correct_word(typed)
            if corrected not in (typed, word) and corrected in slip_speller.protected:
                wrong.add(f"{word} -> {typed} -> {corrected}")
    assert not wrong, sorted(wrong)[:20]
