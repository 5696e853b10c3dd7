"""The fact book: provenance, coverage, no orphans, and no absolute promises."""

from __future__ import annotations

import re

import pytest
import yaml

from actions.facts import FactBook
from tests.patient_texts import all_patient_texts, fact_texts
from tests.conftest import FREQUENCY_WORDS, QUESTION_INTENTS, ROOT, absolute_claims_in

pytestmark = pytest.mark.unit


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_the_sheet_copy_in_the_repo_matches_the_shared_original(book: FactBook):
    shared = ROOT.parent / "shared" / "source" / "spinal-endoscopy-information-sheet.txt"
    if not shared.exists():
        pytest.skip(f"no ../shared beside the repo ({shared}); the repo copy is used")
    assert shared.read_text(encoding="utf-8") == book.sheet


def test_every_source_sentence_is_verbatim_in_the_sheet(book: FactBook):
    sheet = _norm(book.sheet)
    missing = [f.id for f in [*book.facts, *book.withheld] if _norm(f.source) not in sheet]
    assert missing == []


def test_fact_ids_are_unique(book: FactBook):
    ids = [f.id for f in book.facts] + [w.id for w in book.withheld]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("intent", QUESTION_INTENTS)
def test_every_question_intent_has_a_topic_and_primary_facts(book: FactBook, intent: str):
    assert book.has_topic(intent)
    assert book.facts_for(intent, primary=True), f"{intent} has no primary fact"


def test_no_fact_is_orphaned(book: FactBook, domain):
    """Every fact answers at least one intent of the domain, and that intent can reach it."""
    domain_intents = set(domain["intents"])
    reachable = set(book.topics) | {"ask_personal_advice"}
    for fact in book.facts:
        assert fact.intents, fact.id
        assert set(fact.intents) <= domain_intents, fact.id
        assert set(fact.intents) & set(book.topics), f"{fact.id} is reachable only through {fact.intents}"
        assert set(fact.intents) <= reachable, fact.id


def test_topics_are_domain_intents(book: FactBook, domain):
    assert set(book.topics) <= set(domain["intents"])


def test_withheld_claims_are_never_used_as_answers(book: FactBook):
    withheld_sources = {_norm(w.source) for w in book.withheld}
    for fact in book.facts:
        assert _norm(fact.source) not in withheld_sources, fact.id


def test_the_sheets_overclaims_are_recorded_as_withheld(book: FactBook):
    """The sheet promises no paralysis and no death: both are on the withheld list."""
    withheld = " ".join(w.source for w in book.withheld).lower()
    assert "absolutely no risk of paralysis" in withheld
    assert "will not die" in withheld


def test_no_answer_promises_absolute_safety(book: FactBook):
    assert [(name, absolute_claims_in(t)) for name, t in fact_texts(book) if absolute_claims_in(t)] == []


def test_the_absolute_claims_check_finds_promises_but_not_honest_limits():
    assert absolute_claims_in("There is absolutely no risk of paralysis.")
    assert absolute_claims_in("You will not be paralysed.") == ["will not"]
    assert absolute_claims_in("It never fails and is 100% safe.")
    assert absolute_claims_in("Results are GUARANTEED.") == ["guaranteed"]
    assert absolute_claims_in("It always works.")
    assert absolute_claims_in("I am not a doctor and cannot give medical advice.") == []
    assert absolute_claims_in("I can't say what is right for you.") == []
    assert absolute_claims_in("The sheet gives no figures for complications.") == []


def _words(text: str):
    """Lower-cased words, punctuation stripped (apostrophes kept inside words: "clinic's")."""
    return re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", text.lower())


def _ngrams(text: str, n: int):
    words = _words(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


FRAGMENT_WORDS = 5  # a run this long shared with a withheld claim is a repeat of it


def withheld_fragments_in(text: str, book: FactBook):
    """(withheld id, the shared words) for every run of 5 words ``text`` shares with a withheld claim;
    a claim shorter than 5 words ("basically no bleeding") counts when it appears whole."""
    found = []
    for w in book.withheld:
        n = min(FRAGMENT_WORDS, len(_words(w.source)))
        found += [(w.id, " ".join(g)) for g in sorted(_ngrams(w.source, n) & _ngrams(text, n))]
    return found


def test_no_text_repeats_any_part_of_a_withheld_claim(book: FactBook, domain):
    """Not just the whole withheld sentence: no answer, lead, gap, response, channel message or widget
    string shares any run of 5 consecutive words with one (e.g. "not hurt the nerves and")."""
    found = [(name, withheld_fragments_in(t, book)) for name, t in all_patient_texts(domain, book)]
    assert [(name, hits) for name, hits in found if hits] == []


def test_the_fragment_check_catches_a_paraphrase_around_a_withheld_fragment(book: FactBook):
    assert withheld_fragments_in("The surgeon will take care to not hurt the nerves and vessels.", book)
    assert withheld_fragments_in("Experts agree: there is absolutely no risk of paralysis here!", book)
    assert not withheld_fragments_in("The clinic's sheet says the surgeon has a clear view.", book)
    # A withheld claim shorter than the run: found when it is repeated whole, not by one shared word.
    assert withheld_fragments_in("The clinic's sheet says there is basically no bleeding.", book) == [
        ("claim.no_bleeding", "basically no bleeding")
    ]
    assert not withheld_fragments_in("Bleeding is a question for your surgeon.", book)


def test_withheld_claims_are_not_the_source_of_any_fact(book: FactBook):
    """A fact whose source overlaps a withheld claim (e.g. the cost part of "safest and economical")
    restates it: the source sentences never share 5 words with a withheld one."""
    assert [
        (f.id, withheld_fragments_in(f.source, book)) for f in book.facts if withheld_fragments_in(f.source, book)
    ] == []


def _has_word(word: str, text: str) -> bool:
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(word), text.lower()) is not None


def test_every_answer_is_attributed_to_the_clinics_sheet(book: FactBook):
    """Sheet content is stated as the clinic's information, never as the assistant's own fact."""
    assert [f.id for f in book.facts if not f.answer.startswith("The clinic's sheet ")] == []


def test_no_frequency_word_the_sheet_does_not_give(book: FactBook, domain):
    """ "Rare", "usually", "little" ... appear in an answer only when its own sheet sentence says so;
    in leads, gaps, domain responses and channel messages never."""
    from clinic_channel.patient import load_messages

    found = [
        (f.id, w) for f in book.facts for w in FREQUENCY_WORDS if _has_word(w, f.answer) and not _has_word(w, f.source)
    ]
    others = [(f"{i}:lead", t.lead) for i, t in book.topics.items()] + [
        (f"{i}:gap", t.gap or "") for i, t in book.topics.items()
    ]
    others += [(name, v.get("text") or "") for name, variants in domain["responses"].items() for v in variants]
    others += [(f"channel:{code}", text) for code, text in load_messages().items()]
    found += [(name, w) for name, text in others for w in FREQUENCY_WORDS if _has_word(w, text)]
    assert found == []


def test_the_frequency_check_can_fail():
    assert _has_word("rare", "Rare but serious problems can happen.")
    assert _has_word("usually", "You can usually get up.")
    assert not _has_word("most", "almost all types")
    assert _has_word("often", "Pain often eases fast.") and not _has_word("normally", "normal work")


def _composed_answers(book: FactBook):
    for intent in book.topics:
        yield intent, book.answer(intent).text
        if book.has_details(intent):
            yield f"{intent}:details", book.answer(intent, details=True).text


def test_med_is_glossed_as_the_sheet_does(book: FactBook, domain):
    """The sheet calls MED "posterior discoscopy"; every answer naming MED says so, and nothing
    calls it microdiscectomy (a different reading the sheet does not give)."""
    for name, text in _composed_answers(book):
        if re.search(r"\bMED\b", text):
            assert "posterior discoscopy" in text, name
    texts = [f.answer for f in book.facts] + [v.get("text") or "" for vs in domain["responses"].values() for v in vs]
    assert not [t for t in texts if "microdiscectomy" in t.lower()]


# Wording the content review took out (stronger than the sheet): it must not come back.
REVIEWED_OUT = [
    "also called foraminoscopy",  # the sheet says it can NOT be equated to foraminoscopy
    "no bone is removed",  # the sheet names bony lesions and fusion
    "no screws or other implants",
    "one stitch",  # the sheet says "only one needle"
    "works at once",  # pain relief: the clinic's claim, not a certainty
    "this takes the pressure off",
    "very little bleeding",
]


@pytest.mark.parametrize("phrase", REVIEWED_OUT)
def test_reviewed_out_wording_does_not_come_back(book: FactBook, phrase: str):
    assert not [f.id for f in book.facts if phrase in f.answer.lower()]


def test_answers_contain_no_number_the_sheet_does_not_have(book: FactBook):
    """No invented figures: every number in an answer appears in its own source sentence."""
    for fact in book.facts:
        for number in re.findall(r"\d+(?:[./-]\d+)?", fact.answer):
            assert number in fact.source or number.replace(" to ", "-") in fact.source, (fact.id, number)


def test_answer_composition_uses_lead_bullets_and_gap(book: FactBook):
    answer = book.answer("ask_recovery_time")
    lines = answer.text.split("\n")
    assert lines[0] == book.topics["ask_recovery_time"].lead
    assert "clinic's information" in lines[0]
    assert len([line for line in lines if line.startswith("• ")]) == len(answer.fact_ids) >= 2
    assert lines[-1] == book.topics["ask_recovery_time"].gap
    assert "hospital" in lines[-1]  # the sheet is silent on hospital stay: the answer says so


def test_details_answer_has_only_non_primary_facts(book: FactBook):
    details = book.answer("ask_comparison", details=True)
    primary_ids = {f.id for f in book.facts_for("ask_comparison", primary=True)}
    assert details.fact_ids and not (set(details.fact_ids) & primary_ids)


@pytest.mark.parametrize(
    "subject, intent",
    [
        ("price", "ask_cost"),
        ("insurance", "ask_cost"),
        ("success rate", "ask_pain_relief"),
        ("hospital", "ask_recovery_time"),
    ],
)
def test_where_the_sheet_is_silent_the_answer_says_so(book: FactBook, subject: str, intent: str):
    gap = book.topics[intent].gap or ""
    assert subject in gap.lower() and ("does not" in gap or "no " in gap)


def test_facts_file_loads_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from actions.settings import DEFAULT_FACTS_FILE

    assert FactBook.load(DEFAULT_FACTS_FILE).facts


def test_loader_rejects_a_facts_file_without_its_sheet(tmp_path):
    data = yaml.safe_load((ROOT / "facts" / "facts.yml").read_text())
    (tmp_path / "facts.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(FileNotFoundError):
        FactBook.load(tmp_path / "facts.yml")


@pytest.mark.parametrize(
    "intent, words",
    [
        ("ask_recovery_time", ["drive", "fly", "sex"]),
        ("ask_pain_relief", ["first days", "medicine", "how long the relief lasts"]),
        ("ask_safety", ["come back"]),
    ],
)
def test_a_gap_note_names_what_patients_ask_on_its_topic_and_the_sheet_does_not_say(book: FactBook, intent, words):
    """The sheet says nothing of flying or sex after the operation, of pain in the first days, of how
    long relief lasts or of the problem coming back: the topic's answer says so rather than leaving
    the patient to read its facts as an answer."""
    gap = book.topics[intent].gap or ""
    assert all(w in gap for w in words), gap


def test_follow_up_words_are_not_words_of_another_topics_follow_ups(book: FactBook):
    seen = {}
    for intent, topic in book.topics.items():
        for word in topic.follow_up_words:
            assert seen.setdefault(word, intent) == intent, word
    assert book.follows_up("ask_recovery_time", "sports") and book.follows_up("ask_cost", "insurance")
    assert not book.follows_up("ask_cost", "sports") and not book.follows_up("no_such_topic", "work")
