"""Clinical triage (clinic_triage): the tuning corpus, the context rules, the rule files.

The held-out part of the corpus is never used here: it is the end-to-end gate in
tests/test_triage_heldout.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List

import pytest
import yaml

from clinic_triage import CRISIS, EMERGENCY, ESCALATED, LEVELS, NONE, URGENT, assess, normalise
from clinic_triage.engine import RULES_DIR, Triage, consonants, default_triage, load_rules
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


def _levels(triage: Triage, texts: Iterable[str]) -> Dict[str, str]:
    """Each text with the level ``triage`` gives it (compared whole, so a failure names every text)."""
    return {t: triage.assess(t).level for t in texts}


@pytest.fixture(scope="module")
def rules_only() -> Triage:
    """The shipped rules without the second reader, built once: what most tests here pin down."""
    return Triage(default_triage().rules)


TRIAGE_DATA = ROOT / "tests" / "data" / "triage"


def _rules_with(folder: Path, files: Dict[str, str]) -> Path:
    """A rules folder in ``folder``: the shipped targets.yml and context.yml, then ``files`` (name -> text)
    written over them or beside them, for a test that one bad file stops the rules from loading."""
    for name in ("targets.yml", "context.yml"):
        (folder / name).write_text((RULES_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _review_probes(name: str) -> Dict[str, str]:
    """A review's probes kept at their level (tests/data/triage/<name>): text -> expected level."""
    probes = yaml.safe_load((TRIAGE_DATA / name).read_text(encoding="utf-8"))["probes"]
    return {p["text"]: p["level"] for p in probes}


TUNING_FILES = sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml"))
LEVEL_NAMES = set(LEVELS)


def load_corpus(path: Path) -> List[Dict[str, str]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]


TUNING = [m for path in TUNING_FILES for m in load_corpus(path)]
KNOWN_MISSES = yaml.safe_load((TRIAGE_DATA / "tuning_known_misses.yml").read_text(encoding="utf-8"))["known_misses"]


def _is(known: Dict[str, str], text: str) -> bool:
    """Whether ``text`` is the known miss ``known`` (given whole, or by its first words)."""
    return text == known.get("text") or bool(known.get("text_starts") and text.startswith(known["text_starts"]))


def _known_miss(text: str) -> bool:
    return any(_is(known, text) for known in KNOWN_MISSES)


def _tuning_case(m: Dict[str, str]):
    marks = (
        [pytest.mark.xfail(strict=True, reason="tests/data/triage/tuning_known_misses.yml")]
        if _known_miss(m["text"])
        else []
    )
    return pytest.param(m, marks=marks, id=f"{m['author']}-{m['level']}-{m['category']}")


def test_the_corpus_is_large_and_spread_as_the_standard_asks():
    held_out = load_corpus(TRIAGE_DATA / "heldout.yml")
    every = TUNING + held_out
    escalated = [m for m in every if m["level"] in ESCALATED]
    calm = [m for m in every if m["level"] == NONE]
    assert len(escalated) >= 250 and len(calm) >= 250
    categories = {m["category"] for m in escalated}
    assert {
        "cauda_equina",
        "infection",
        "haematoma",
        "csf_leak",
        "clot",
        "anaphylaxis",
        "collapse",
        "heavy_bleeding",
        "uncontrolled_pain",
        "self_harm",
    } <= categories
    assert {
        "general_risk_question",
        "negated_list",
        "resolved_past",
        "other_person_past",
        "preop_history",
        "normal_healing",
        "logistics",
    } <= {m["category"] for m in calm}
    for m in every:
        assert set(m) == {"text", "level", "category", "author"} and m["level"] in LEVEL_NAMES, m
    # The held-out part is written by other authors than the parts the rules were tuned on.
    assert not {m["author"] for m in held_out} & {m["author"] for m in TUNING}
    assert not {m["text"] for m in held_out} & {m["text"] for m in TUNING}


def test_every_known_miss_is_in_the_tuning_corpus_and_over_triaged():
    for known in KNOWN_MISSES:
        matches = [m for m in TUNING if _is(known, m["text"])]
        assert len(matches) == 1, known
        # A missed or lowered escalation is never an accepted known miss: only an answer above the label.
        answered = assess(matches[0]["text"]).level
        assert LEVELS.index(answered) < LEVELS.index(matches[0]["level"]), (known, answered)


@pytest.mark.integration  # every corpus text: not the inner loop
@pytest.mark.parametrize("case", [_tuning_case(m) for m in TUNING])
def test_tuning_corpus_message_gets_its_level(case):
    result = assess(case["text"])
    assert result.level == case["level"], result.as_dict()


@pytest.mark.parametrize(
    "text, level, flag",
    [
        # negation, including far from the symptom and after it
        ("I have no fever", NONE, None),
        ("no fever, no chills, no numbness. when can i drive?", NONE, None),
        ("No idea why but I can't pee", EMERGENCY, "bladder"),
        ("no fever but i cant pee since last night", EMERGENCY, "bladder"),
        ("the wound doesn't smell and there is no pus", NONE, None),
        ("the wound is since yesterday more red, fever I have not", URGENT, "wound_worsening"),
        # a symptom inside a question about it, and a general question about a risk
        ("Is it normal that I can not pee since the operation?", EMERGENCY, "bladder"),
        ("can this surgery cause incontinence?", NONE, None),
        ("will i bleed a lot during the operation", NONE, None),
        ("I'm nervous, I think I have a fever", EMERGENCY, "fever"),
        ("i'm scared of getting an infection", NONE, None),
        # the past, and a past that is not over
        ("i had a fever last year, it's gone", NONE, None),
        ("had a temperature on monday but it's gone now", NONE, None),
        ("the tingling between my legs hasn't gone away", EMERGENCY, "saddle_numbness"),
        # other people: their past is calm, their emergency now is not
        ("my dad had a blood clot after his hip op in 2015", NONE, None),
        ("my husband just collapsed and won't wake up", EMERGENCY, "collapse"),
        ("my husband had his op on monday and he has a fever", EMERGENCY, "fever"),
        # crisis: direct, indirect, and conditional
        ("i want to kill myself", CRISIS, "self_harm"),
        ("everyone would be better off without me", CRISIS, "self_harm"),
        ("if the op fails i'll end it all", CRISIS, "self_harm"),
        ("im not suicidal, just fed up with the pain", NONE, None),
        # urgent, and urgent against emergency in one message
        ("the painkillers are not working at all", URGENT, "uncontrolled_pain"),
        ("wound is redder and sore, and now i have a temperature of 38.6", EMERGENCY, "fever"),
        # a long urgent match does not hide a short emergency one
        ("the wound is red and swollen and yellow pus is coming out", EMERGENCY, "wound_infection"),
        # a negation whose verb starts the red flag's words, and a question about the threshold
        ("i dont have a temperature", NONE, None),
        ("i have not had any fainting, chest pain or breathlessness since the operation", NONE, None),
        ("what temperature counts as a fever after the op?", NONE, None),
        ("what temperature counts as a fever? mine is 38.9 now", EMERGENCY, "fever"),
        # a list of what to watch for is not a report; a report after it in its own clause is
        ("the nurse told me to look out for swelling in the neck or trouble swallowing", NONE, None),
        ("they told me to look out for pus and there is pus coming out of my wound", EMERGENCY, "wound_infection"),
        # long-standing or long past, and "just" before what happened to someone else now
        ("my legs have been weak for months, that is why i am having the operation", NONE, None),
        ("ma pal's just collapsed in the pub, he had the same op as me last week", EMERGENCY, "collapse"),
        # both legs in telegraphic words, with no "my"
        ("legs numb, cant walk", EMERGENCY, "both_legs"),
        ("legs weak for months, thats why im having the op", NONE, None),
        # "emergency" as the first word, also typed as a command or after punctuation
        ("/emergency", EMERGENCY, "emergency_request"),
        ("!! emergency", EMERGENCY, "emergency_request"),
        ("no emergency, just a question about the scar", NONE, None),
    ],
)
def test_context(text, level, flag):
    result = assess(text)
    assert result.level == level, result.as_dict()
    if flag:
        assert flag in result.flags


def test_words_quoted_from_the_sheet_are_calm_for_the_rules_but_a_report_after_them_is_not(rules_only: Triage):
    """The rules alone (no second reader): a quoted warning list is not a report; a new clause or a
    "but" after the quote is read on its own."""
    quoted = [
        "Paper say: fever, numb, toilet problem, phone 999. Me none. Only question: car drive when?",
        "the leaflet's list of warning signs (fever, numbness, incontinence), none of which I have",
        'in the paper they write "clear fluid from the wound, call". what is this clear fluid?',
    ]
    reported = [
        "the sheet mentions pus, there is yellow pus coming out of my wound",
        "the leaflet lists clear fluid from the wound and i have clear fluid from the wound since this morning",
        "the discharge letter says watch for a fever but i have had shivers and a temperature all night",
    ]
    assert _levels(rules_only, quoted) == {t: NONE for t in quoted}
    assert _levels(rules_only, reported) == {t: EMERGENCY for t in reported}


def test_idioms_and_accidents_are_calm_for_the_rules_but_what_they_resemble_is_not(rules_only: Triage):
    """The rules alone (no second reader): lay idioms and everyday accidents that share words with a
    red flag stay calm; the red flag itself, in the same words, is still escalated."""
    calm = [
        "i wanted to die of embarrassment when the nurse helped me in the shower",
        "i hurt myself laughing at a meme, the scar pulled a bit",
        "my mum keeps worrying, can you tell her the odds so she chills",
        "im so fed up of lying around like a lemon",
        "if i have fever after, i call who? the clinic or the 15 (samu)?",
        "i get breathless on the stairs with my asthma since many years",
        "had a heart attack in 2011, no trouble since, will they still do the operation",
    ]
    escalated = {
        "i want to die": CRISIS,
        "i keep wanting to hurt myself": CRISIS,
        "got the chills really bad, shaking under two duvets": EMERGENCY,
        "a lump on my back like a lemon": EMERGENCY,
        "please call an ambulance": EMERGENCY,
        "both me legs have gone weak this morning": EMERGENCY,
        "my husband fell just now and he does not move his legs": EMERGENCY,
        "she told me we'd all be better off without her": CRISIS,
        "the painkillers arent touching it": URGENT,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_the_saddle_check_said_as_a_habit_is_current_not_a_condition(rules_only: Triage):
    """ "When I wipe" / "when I use toilet paper" report what happens now (docs/triage-levels.md lists
    "when I wipe" among the saddle-area words); "if" still makes it a question. Rules alone."""
    assert rules_only.assess("when i use toilet paper i don't feel nothing on my bottom").level == EMERGENCY
    assert rules_only.assess("since monday, when i wipe i cant feel it down there").level == EMERGENCY
    assert rules_only.assess("what should i do if i cant feel my bottom when i wipe").level == NONE
    assert rules_only.assess("if i ever cant feel anything when i go to the toilet, who do i call").level == NONE


def test_lay_and_non_native_cues_of_a_general_question_or_the_past_but_not_of_a_symptom_now(rules_only: Triage):
    """Rules alone: "is possible to have" (no "it"), "yrs ago", "her knee op", "when i was baby" and a
    form's or nurse's question about one's history ("if i ever had", "have you ever had") are general
    or over; the same symptoms told as happening now stay escalated."""
    calm = [
        "after operation is possible to have infection in the wound?",
        "my mum fainted after her knee op yrs ago, will they monitor me for that",
        "the form asks if i ever had seizures, what do i write",
        "have you ever had a patient who cant pee after this",
        "when i was baby i had one fit with fever, never again",
    ]
    escalated = {
        "worst headache i have ever had and my legs are numb": EMERGENCY,
        "i cant pee, is possible?": EMERGENCY,
        "my dad fainted yrs ago and now he collapsed again": EMERGENCY,
        # "since / after her knee op" dates a symptom that is here now: not the past.
        "my mum cant feel her legs since her knee op": EMERGENCY,
        "my dad cant pee since his hip op": EMERGENCY,
        "since her hip replacement she cant feel her legs": EMERGENCY,
        "i cant feel my legs since my knee op": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_own_symptom_claimed_in_the_sentence_after_a_general_question_is_a_red_flag_now(rules_only: Triage):
    """Rules alone: a general question followed by the writer's own claim in the next sentence ("...
    after? because i cant", "mine has been numb since last night", "i did twice this morning") is the
    red flag now; the same question followed by a worry, "mine is fine" or an old episode stays calm."""
    calm = [
        "have you ever had a patient who cant pee after? i'm just nervous",
        "have you ever had a patient who cant pee after? because i cant stop thinking about it",
        "do people get numb down below after this? mine is fine so far",
        "i've read people can pass out after this op. i did once in 2010 at the dentist",
        # an operation date, feeling well, reading, a scab, something long-standing or over
        "can you get numb down below after the op? mine is next tuesday",
        "is it common to get a fever after this surgery? i am now 2 weeks after the op and feel good",
        "is it common to get a fever after this surgery? i have now booked my op for june",
        "is it common to get a fever after this surgery? i am just now reading the leaflet",
        "do people get numb down below after this? mine did too but it went away after a day",
        "do wounds bleed after this? mine has a small scab",
        "do legs go weak after this op? mine has always been weak since childbirth",
    ]
    escalated = {
        "can the wound bleed a lot after? mine is bleeding through the dressing now": EMERGENCY,
        "have you ever had a patient who cant pee after? because i cant, since this morning": EMERGENCY,
        "do people get numb down below after this? mine has been numb since last night": EMERGENCY,
        "i've read people can pass out after this op. i did twice this morning": EMERGENCY,
        "is it common to get a fever after this? same here, 38.6 and shaking": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_a_short_sentence_saying_it_is_over_ends_a_single_past_report_only(rules_only: Triage):
    """Rules alone: "had fever tues. gone now" and "i had a headache yesterday. it finished quickly" are
    over; "still there now" is not, and when the report has two red flags ("... and i cant pee. gone
    now") nothing is taken as over."""
    calm = ["had fever tues. gone now", "i had a fever on monday. it finished quickly", "had a fever sunday. fine now"]
    escalated = {
        # a bare "ok", "normal" or "better" is no all-clear
        "had blood soaking through the dressing. normal": EMERGENCY,
        "was bleeding heavily from the wound. the wound is better": EMERGENCY,
        "was coughing up blood. ok": EMERGENCY,
        "had fever tues. still there now": EMERGENCY,
        "i had a fever yesterday and i cant pee. gone now": EMERGENCY,
        "cant pee since this morning. the headache is gone now": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_said_to_be_over_is_calm_when_long_past_but_a_symptom_of_today_or_yesterday_stays_escalated(rules_only: Triage):
    """Rules alone: over and long past is calm; a symptom of today or yesterday said to be over ("i had a
    temp yesterday, it went away") stays escalated, because a clot, a leak or an infection can seem to
    settle for hours; "went away for a bit", "since this morning" or "but came back" keep it there."""
    calm = [
        "my sister tried to end her life when she was a teenager, she is fine now",
        "i had an infection after my knee op years ago, it cleared up",
        "the calf tightness goes away when i rest",
    ]
    escalated = {
        "i had a temp yesterday, it went away": EMERGENCY,
        "my calf was hot and swollen this morning, it went away after i put my feet up": EMERGENCY,
        "pus from the wound this morning, it stopped after i cleaned it": EMERGENCY,
        "i cant pee since this morning, it went away for a bit but still cant": EMERGENCY,
        "i had a fever yesterday, it went away but came back tonight": EMERGENCY,
        "i wanted to end it all last night, it passed": CRISIS,
        "i tried to kill myself once": CRISIS,
        "my husband fainted in the bathroom, only once": EMERGENCY,
        "can u pass out from pain my mum passed out on the floor": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_over_said_of_something_else_or_of_a_medicine_never_hides_a_red_flag(rules_only: Triage):
    """Rules alone: "the headache went away", "my chest infection cleared up", "the epidural wore off"
    are over for something else, not for the red flag told with them; a red flag that came back
    ("its back now", "numb again", "returned today") is there now; a return that is denied ("never
    came back", "hasnt come back since") is no sign that it is still there; an over-phrase whose subject
    is the symptom itself or "that" still says it is over."""
    escalated = {
        "i cant pee this morning, the headache went away": EMERGENCY,
        "coughing up blood today, my chest infection cleared up last week": EMERGENCY,
        "cant feel my legs today but my back pain has recovered": EMERGENCY,
        "my calf is swollen and hot, the bleeding stopped after i pressed on it": EMERGENCY,
        "i cant pee, it stopped after the catheter came out": EMERGENCY,
        "my temp is 39 today even after antibiotics": EMERGENCY,
        "my legs went numb when the epidural wore off this morning": EMERGENCY,
        "numbness round my bum went away after an hour but its back now": EMERGENCY,
        "numb down there gone away but today numb again": EMERGENCY,
        "the numbness in my groin wore off but returned today": EMERGENCY,
        "no pee nothing since 6am": EMERGENCY,
        "couldnt pee this morning, it went away": EMERGENCY,
        "i fainted this morning but im fine now": EMERGENCY,
        "walk into the sea and not come back": CRISIS,
        "i cant pee, my temperature is back to normal": EMERGENCY,
        "my legs are numb, my temp came down": EMERGENCY,
        "i cant pee, the wound healed fine": EMERGENCY,
    }
    calm = [
        "my numb bum went away on tuesday and hasnt come back since",
        "i had a temperature after the op but that went away",
        "i had a fever after the op but my temperature is back to normal",
        "i had pus from the wound after the op, that cleared up",
        "there was some pus after the op, the infection cleared up with antibiotics",
        "i had pus from the wound after the op, the wound healed fine",
    ]
    assert _levels(rules_only, escalated) == escalated
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_a_reviews_lay_wordings_of_red_flags_and_the_calm_sentences_they_resemble(rules_only: Triage):
    """Rules alone: a temperature without its unit after a general question, trying to wee and
    nothing, a puffy red leg, wanting to die said as seeing no point in waking up or putting tablets
    aside are red flags; shyness about peeing in front of people, "no breathing problems", "is clear
    fluid a bad sign?" and reading about a condition last night are not."""
    calm = [
        "i cant pee in front of people lol, will i need a catheter?",
        "no chest pain no breathing problems, just wondering about driving",
        "is clear fluid from the wound a bad sign?",
        "reading about cauda equina last night, what are the first signs?",
        "i have 38 stitches apparently, is that a lot?",
        "i faint at needles, will there be many?",
        "after the endoscopy, can the bulge grow back?",
        "my disc bulge got bigger on the scan, can you still do it?",
    ]
    escalated = {
        "do people get fever after spine surgery? i have 39 now": EMERGENCY,
        "ive been trying to wee for 3 hours and nothing": EMERGENCY,
        "there is a bulge next to the scar and its getting bigger and really painful": EMERGENCY,
        "leg all puffy and red below the knee": EMERGENCY,
        "dont see the point of waking up": CRISIS,
        "been putting my tramadol aside": CRISIS,
        "mum had a fall and passed out, shes breathing but not making much sense": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_new_voices_red_flags_in_dialect_and_non_native_english_and_the_calm_sentences_they_resemble(
    rules_only: Triage,
):
    """Rules alone, wordings of two new tuning parts (Scots, London slang, non-native English, a
    checklist): each is a red flag; the sentences beside them, with the same words in an ordinary
    sense, stay calm."""
    escalated = {
        "ive no been able tae pass water since last night": EMERGENCY,
        "bladder not emptied since 6. feels full, nothing coming": EMERGENCY,
        "the 2 legs are weak since this morning": EMERGENCY,
        "my legs went from under me on the stairs": EMERGENCY,
        "im shiverin and my teeth are chatterin": EMERGENCY,
        "i am shaking like cold under the blanket": EMERGENCY,
        "a bubble of blood at the op place, every hour more big": EMERGENCY,
        "blood coming from the wound continuously": EMERGENCY,
        "the back of my leg is hot and swollen": EMERGENCY,
        "i cannae get a breath sitting in my chair": EMERGENCY,
        "my dad fell in the kitchen, not talking, eyes closed": EMERGENCY,
        "he aint waking up": EMERGENCY,
        "pus coming out and its gone green": EMERGENCY,
        "when i stay seated my head hurts, when i lie down it passes": EMERGENCY,
        "cant take this no more": CRISIS,
        "no point me being here, everyone be better off": CRISIS,
        "id rather not wake up at all": CRISIS,
        "i want that god take me": CRISIS,
        "been thinking its the easy way out.": CRISIS,
        "if the pain no stop i take everything": CRISIS,
        "i dont feel like living": CRISIS,
        # "it not better" says the symptom is still there, however the pain's "no stop" is read
        "my calf was swollen last week and it not better": EMERGENCY,
        # a named reading is read on its own side of a "but"
        "no fever but temp of 39 now": EMERGENCY,
    }
    calm = [
        "is surgery the easy way out?",
        "i take everything the doctor gives me",
        "i stopped the painkillers on purpose because they made me sick",
        "i'd rather not wake up during the op",
        "there's no point me being here early if the op is at 10",
        "tell my wife i loved the food",
        "i put ice on the swelling every hour, is that ok?",
        "my body is very hot in this weather",
        "i cant get a breath of fresh air in this ward",
        "he fell asleep, eyes closed, snoring",
        "what if i get a headache when i sit up?",
        "pus: none. fever: no. redness a bit more today",
        "i shake like a leaf before any operation, will i get something to calm me?",
        # two overlapping wordings of one fever ("had a temp", "temp of 38") are dated together
        "had a temp of 38 the day after surgery, it went away",
    ]
    assert _levels(rules_only, escalated) == escalated
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_ordinary_frustration_in_the_words_of_a_crisis_and_the_crises_beside_it(rules_only: Triage):
    """Rules alone: a stay, a week's absence, a letter for work, "sick of", waking up during the
    operation are ordinary; the same words meaning life are a crisis."""
    calm = [
        "i don't want to be here in the hospital for long, my shop will suffer",
        "i don't want to wake up during the op",
        "they'd be better off without me for a week while i rest",
        "the team will be better off without me for two weeks",
        "can the clinic write a letter for uni",
        "sick of lying on the floor all day, is that normal",
        "kept aside my tablets for the morning of the op as told",
        "wrote a note to my mates about the op date",
    ]
    crisis = [
        "ah dinnae want tae be here",
        "nae point in anything any more",
        "kinda just want to stop existing",
        "there is no point for me to continue this life",
        "theyd all be better off with me gone",
        "everyone'd be better off with the insurance.",
        "they'd be better off without me",
        "i have kept back a month's supply of my sleeping tablets",
        "i collect the pills from doctor, not take it, i keep in drawer",
        "she intends to take all her pills tonight",
        "i do not wish to wake up after the anaesthetic",
        "i dont want to be here anymore",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, crisis) == {t: CRISIS for t in crisis}
    assert rules_only.assess("my bladdar wont emty, ive been trying for hours").level == EMERGENCY


def test_burdens_farewells_and_means_at_hand_in_new_words_and_their_calm_look_alikes(rules_only: Triage):
    """Rules alone: a burden on one's parents, sorry and goodbye, tara to everyone, gone from the world,
    tablets to be used all at one time, a gun or a poison looked at, a car running in a shut garage,
    things given away one after another, not needed after a near day, not troubling anyone much longer
    are a crisis; the same words for a lift, an apology, a stay in hospital or a dose question are not."""
    crisis = [
        "honestly i'm just a burden on my mum and dad",
        "she keeps telling me she's only a drag on us",
        "sick of being a weight on my grandkids",
        "left a card for them saying sorry and goodbye",
        "my dad has been texting bye to everyone all evening",
        "i want to vanish from this world",
        "i've got enough tablets to rest for good",
        "i am going to swallow them all in one go",
        "my husband keeps the shotgun in the shed and he keeps staring at it",
        "the weedkiller is under the sink and i cant stop thinking about it",
        "sat in the van in the garage, engine running and the shutter down",
        "gave me guitar to me nephew and me records to me mate",
        "me bike is going to me grandson",
        "mi nah need dem after friday",
        "i won't be a bother to anyone much longer",
        "she is on the roof of the car park and wants to disappear",
    ]
    calm = [
        "my mum and dad drove me to the op, i feel guilty",
        "i'm too heavy for my son to carry up the stairs",
        "i said sorry to everyone for snapping yesterday",
        "i'd like to disappear from the world for a few days after the op",
        "can i swallow them all at once or one at a time?",
        "my dad keeps his rifle in the cupboard and takes it out to clean it",
        "we warmed the car up in the garage with the engine running and the door open",
        "the cat is going to my sister while i'm in hospital",
        "my tools are going to my apprentice when i retire",
        "i won't need my brace after friday right?",
        "i won't bother you much longer, last question: can i shower?",
        "i need to sleep for good recovery, how many hours?",
    ]
    assert _levels(rules_only, crisis) == {t: CRISIS for t in crisis}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_fine_or_gone_said_of_someone_or_something_else_does_not_deny_the_red_flag_before_it(rules_only: Triage):
    """Rules alone: "my wife is gone" after a wish to die is bereavement, not a denial; "my bladder is
    fine" still denies, and "he is fine now" still speaks of the person with the symptom."""
    crisis = [
        "i want to end it all my wife is gone",
        "no reason to live anymore since my wife is gone",
        "no point going on work is gone",
        "dont want to live. the farm is gone, the kids are fine without me",
    ]
    assert _levels(rules_only, crisis) == {t: CRISIS for t in crisis}
    assert rules_only.assess("i cant pee since this morning my husband is fine").level == EMERGENCY
    calm = [
        "no fever, my wound is fine, when can i shower",
        "peeing is fine, when can i drive",
        "my dad fainted at the hospital in 2019, he is fine now",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_ordinary_wordings_are_reported_never_counted_and_left_out_for_the_second_reader():
    """ordinary.yml: "i want the pain to stop" is reported as a pain wish, counts for nothing and is
    left out of what the reader reads; a red flag that overlaps it ("... to stop for good") counts and stays
    visible; "i want it all to stop", "no point going on" are never ordinary."""
    triage = default_triage()
    found = triage.assess("i want the pain to stop")
    assert [(f.flag, f.counted, f.context) for f in found.findings if f.flag != "classifier"] == [
        ("pain_wish", False, ("ORDINARY",))
    ]
    assert triage.classifier_text("honestly i just want the pain to stop") == "honestly i just"
    assert triage.classifier_text("i want my life back") == "i"
    assert triage.classifier_text("i want the old me back") == "i"
    assert triage.classifier_text("any point in me icing it") == "it"
    assert triage.classifier_text("i want the pain to stop for good") == "i want the pain to stop for good"
    assert triage.assess("i want the pain to stop for good").level == CRISIS
    assert triage.assess("i want the pain to stop. i have my tablets ready").level == CRISIS
    rules = triage.rules
    never_ordinary = [
        "i want it all to stop",
        "i just want everything to stop",
        "no point going on",
        "no point going on work is gone",
        "no point in living",
        "no point trying any more",
        "no point doing it anymore",
        "i don't want to wake up",
        "i dont want to wake up tomorrow",
        "the pain is killing me slowly inside",
    ]
    for text in never_ordinary:
        clean = normalise(text)
        hits = [name for name, (_, patterns) in rules.ordinary.items() for p in patterns if p.search(clean)]
        assert hits == [], (text, hits)
    for name in rules.ordinary:
        assert name not in rules.flags and rules.description_of(name), name


def test_checklists_answered_with_no_and_new_wordings_of_collapse_haematoma_foot_drop_and_saddle_numbness(
    rules_only: Triage,
):
    """Rules alone: "fever no, pus no," denies each item; a faint called syncope, confusion called
    muddled, a relative who "does not wake up", a lump "blown up" to a cricket ball, a foot "dropping more",
    "i do not sense" down below are emergencies; their ordinary neighbours are not."""
    emergency = [
        "dad had a syncope on the stairs just now",
        "she is very muddled since she woke, doesnt know what day it is",
        "my wife fell in the garden and she does not wake up",
        "the swelling by the scar has ballooned up since lunch",
        "there is a lump at the op site about a cricket ball",
        "left foot is drooping more since this morning",
        "i dont sense anything down below when i wipe",
        "fever no. but i cant pee since morning",
    ]
    calm = [
        "fever no, pus no, leg numb no, pee fine. when can i shower?",
        "temperature no, redness no. the stitches itch a bit, is that normal",
        "my son does not wake up in the morning for school, can he visit me after the op",
        "i had a syncope once in 2010, is local anaesthetic ok for me",
        "i get muddled with the dates, when is the op",
        "the bruise blew up like a balloon last week but it went down",
        "mi rather dead dan have catheter lol, do they put one in?",
        "i'd rather die than eat hospital food, can i bring my own",
    ]
    assert _levels(rules_only, emergency) == {t: EMERGENCY for t in emergency}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert rules_only.assess("i'd rather die than have to live like this").level == CRISIS


def test_words_typed_without_vowels_are_read_as_the_red_flag_words_they_spell(rules_only: Triage):
    """no_vowels.yml: "cnt pee", "clf swln", "fvr 39 shkng" are red flags; text speak with no vowels
    ("pls", "thx", "tbh", "ppl") stays as typed, and "cnt wait" is no red flag."""
    emergency = [
        "cnt pee since 6am",
        "clf swln and hot since yday",
        "fvr 39 and shkng",
        "cnt brth",
        "blood soakng thrgh drssng",
    ]
    calm = ["pls thx, cnt wait for the op lol", "tbh scar dry, no pus, ppl say its fine", "hw lng is rcvry"]
    assert _levels(rules_only, emergency) == {t: EMERGENCY for t in emergency}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    rules = default_triage().rules
    assert rules.read_no_vowels("cnt pee frm ystrdy, pls hlp") == "cant pee from ystrdy, pls help"
    assert consonants("dripping") == consonants("drppng") == "drpng"


def test_a_list_of_no_vowel_words_where_two_words_share_their_consonants_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scr"):
        load_rules(_rules_with(tmp_path, {"no_vowels.yml": "version: 1\nwords: [scar, score]\n"}))


def test_a_loss_the_feeling_dates_from_and_tablets_kept_for_when_one_is_ready(rules_only: Triage):
    """Rules alone: "since my joan passed last year i see no point going on" is now, though "last year"
    dates the loss; tablets kept "for when i am ready" are a means at hand. A clot after a bereavement
    years ago stays the past; tablets kept in a jar in the kitchen are a habit."""
    crisis = [
        "since my husband died last year i see no point going on",
        "since my son passed in 2021 i dont want to be here",
        "i keep my pills in a tin for when i'm ready",
    ]
    calm = [
        "since my wife died in 2019 i had a clot once, is that a problem for the op",
        "i keep my tablets in a jar in the kitchen, can i bring them",
    ]
    assert _levels(rules_only, crisis) == {t: CRISIS for t in crisis}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_text_speak_bleeding_and_one_limb_numbness_and_a_denied_breathing_problem(rules_only: Triage):
    """Rules alone: "bled thru 3 pads" is heavy bleeding; "leg pins n needles since op" is one-limb
    numbness (urgent), "pins n needles before the op" is not; "no problem with breathing" denies the
    symptom (a rash after a new tablet stays urgent), "now i have problem with breathing" reports it."""
    assert rules_only.assess("bled thru 3 pads").level == EMERGENCY
    assert rules_only.assess("blood coming thru the dressing all night").level == EMERGENCY
    assert rules_only.assess("leg pins n needles since op. one leg. not worse").level == URGENT
    assert rules_only.assess("had pins n needles in my leg for years before the op").level == NONE
    rash = "new tablet and now i have red itchy points on my arms, no problem with breathing"
    assert rules_only.assess(rash).level == URGENT
    # the marks the stitches left are no rash
    assert rules_only.assess("little red dots where the stitches were, is that normal?").level == NONE
    assert rules_only.assess("no problem with breathing, just wondering when i can drive").level == NONE
    assert rules_only.assess("now i have problem with breathing").level == EMERGENCY


def test_urgent_wordings_of_failing_painkillers_new_one_limb_numbness_a_redder_wound_and_a_carers_rash(
    rules_only: Triage,
):
    """Rules alone: painkillers that "have done nothing", are "daein nothin", "not help", that the pain
    "got the better of", pain "in spite of" them or "very very strong" while taking them, a pain that
    "shot up" or is "9 of 10"; one limb numb, tingly or "sleeping" since yesterday or for two days, with
    no verb; a wound that "is noticeably redder"; a relative's rash after a new medicine, told by a carer,
    are urgent. The calm sentences they resemble (tablets that help, pain that is "a bit worse when i
    sit", a numb spot since before the op, a limb that is not or less numb, a person doing nothing, the
    weather "a bit warmer", someone's rash years ago or asked about) are not."""
    urgent = [
        "the painkillers have done nothing for the pain since this morning",
        "the pills they sent me home with are doin nothin, cannae sleep",
        "my pain meds are not doing anything",
        "the pills not help, the pain is very strong",
        "my back pain has got the better of the painkillers",
        "pain is still there despite taking my painkillers regularly",
        "pain persists in spite of all the prescribed tablets",
        "im taking the codeine but the pain is getting worse",
        "the pain has jumped to a 10 in the last hour",
        "pain in my leg is 10 of 10 today",
        "left arm numb since this morning, not getting worse",
        "my left hand has been tingling since i woke up",
        "right thigh tingly for two days now, not worse",
        "since this morning my left foot is numb, only that one",
        "since 3 days my foot is sleeping, only the left",
        "the cut was fine this morning but now it is definitely redder",
        "my husband got a rash on his chest after the new antibiotics, no swelling",
    ]
    calm = [
        "is it normal to have some pain, the tablets help",
        "i take paracetamol but the pain is still there a little, is it normal?",
        "i take paracetamol and the pain is a bit worse when i sit, normal?",
        "i take the tablets and the pain is so much better",
        "i'm on painkillers and not doing anything, just resting, when can i walk more",
        "i'm on the tablets and have done nothing all day, when can i drive",
        "the pain got the better of me on the walk so i sat down, is walking ok",
        "despite my blood pressure tablets my pressure is high, does it matter for the op",
        "the pain shot down my leg when i sneezed, is that normal",
        "my pain jumped to a 4 when i bent, is that ok",
        "my pain score was 9 before the op and now it is 3",
        "i have had a numb spot on my thigh since before the op, will it go",
        "my leg was tingly for a couple days after the op but it stopped a week ago",
        "my foot is not numb since yesterday, it is better",
        "my leg is less numb since yesterday",
        "i have had tingling in my left hand since two years",
        "it's a bit warmer today, can i go for a walk",
        "the scar is pink and a little puffy, normal healing?",
        "my daughter had a rash after her new antibiotics last year, will she react again",
        "no rash after the new tablet, can she take it with food",
        "what if she gets a rash after the new tablets",
    ]
    assert _levels(rules_only, urgent) == {t: URGENT for t in urgent}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_an_earlier_time_said_to_be_fine_does_not_deny_the_symptom_told_before_it(rules_only: Triage):
    """Rules alone: "yesterday was ok" after a red flag dates it (the symptom is new), it does not deny
    it as "... is fine" does; a symptom said to be fine stays calm."""
    assert rules_only.assess("the tablets not help, yesterday was ok, today i cry").level == URGENT
    assert rules_only.assess("i cant pee, yesterday was fine").level == EMERGENCY
    assert rules_only.assess("no fever, bladder is fine, when can i drive").level == NONE


def test_the_time_of_reading_about_a_condition_is_not_the_time_of_a_symptom(rules_only: Triage):
    """Rules alone: "i was reading on a forum last night about people who end up with cauda equina" is
    a worry about something read, not the condition last night; a symptom told after the reading is
    still a red flag now."""
    calm = "i was reading on a forum last night about people who end up with cauda equina after this op"
    assert rules_only.assess(calm).level == NONE
    assert rules_only.assess("i was reading on a forum last night and now i cant feel my bottom").level == EMERGENCY
    assert rules_only.assess("read about clots yesterday, my calf is swollen and hot").level == EMERGENCY
    # the time of the reading dates the symptom when the symptom, not what was read, follows
    assert rules_only.assess("i was reading this morning when my legs went numb, cant pee").level == EMERGENCY
    assert rules_only.assess("was watching it last night when i collapsed").level == EMERGENCY


def test_non_native_cannot_and_not_feel_are_red_flags_now_and_calm_as_a_question_or_the_past(rules_only: Triage):
    """Rules alone: "i no can feel legs", "me no feel legs, no can pee" are a cauda equina emergency as
    much as "i cant feel my legs"; the same words asked about ("will i no can pee after operation?",
    "will i not feel my legs after the op?") or told as someone else's past stay calm, and "no can do"
    or "i no can come on monday" are no symptom."""
    calm = [
        "will i no can pee after operation?",
        "will i not feel my legs after the op?",
        "is it possible that i no can pee after?",
        "my mother no could pee after her op years ago",
        "no can do, sorry",
        "i no can come on monday, other day ok?",
    ]
    escalated = {
        "i no can feel legs": EMERGENCY,
        "me no feel legs, no can pee": EMERGENCY,
        "i no can pee since yesterday": EMERGENCY,
        "i no can control pee": EMERGENCY,
        "she not feel her feet": EMERGENCY,
        "i not feel my legs will i be ok": EMERGENCY,
        "help no feel legs": EMERGENCY,
        "sciatica came back, no feel legs": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


def test_text_speak_general_questions_are_calm_but_requests_and_red_flags_in_text_speak_are_not(rules_only: Triage):
    """Rules alone: "u" for "you" and "r u" for "are you" make the same general question as the words
    they stand for; a request for help ("can you get me an ambulance", "call someone") is not a
    question about a risk, so the red flag after it stays escalated, typed out or in text speak."""
    calm = [
        "will u bleed a lot after the op",
        "r u likely 2 get a fever after surgery",
        "do u get a fever after the op usually",
        "can u get a blood clot from this op",
        "if u ever had a clot do they still operate",
    ]
    escalated = {
        "can you get me an ambulance my legs are numb": EMERGENCY,
        "can u get me an ambulance my legs are numb": EMERGENCY,
        "can you get an ambulance please my husband collapsed": EMERGENCY,
        "can u call someone i cant breathe": EMERGENCY,
        "can you call someone i cant breathe": EMERGENCY,
        "can u get someone i cant feel my legs": EMERGENCY,
        "u there? i cant pee since last night": EMERGENCY,
        "will u send an ambulance i collapsed": EMERGENCY,
    }
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert _levels(rules_only, escalated) == escalated


@pytest.mark.parametrize(
    "text, level",
    [
        # ordinary pain or stiffness that is still there, asked about: calm (the personal deferral)
        ("i still feel some pain down my leg, is something wrong", NONE),
        ("two weeks since my op and bending still hurts, is it ok", NONE),
        # a red flag asked about as "is that normal?" is that red flag
        ("i cant feel my bum since yesterday is that normal", EMERGENCY),
        ("my wound is leaking clear fluid is that ok", EMERGENCY),
        ("i cant pee since this morning, is something wrong", EMERGENCY),
        ("both my legs went numb today, is that normal", EMERGENCY),
        ("my legs keep giving way, is something wrong", EMERGENCY),
        ("headache when i sit up and it goes away when i lie down, is that normal after the op", EMERGENCY),
        ("the pain is much worse and the painkillers dont help at all, is that normal", URGENT),
        ("my wound is redder and warmer than yesterday, is it ok", URGENT),
    ],
)
def test_own_symptom_asked_about_as_normal_gets_the_level_of_the_symptom(text, level):
    result = assess(text)
    assert result.level == level, result.as_dict()


def test_indirect_self_harm_wordings_are_a_crisis_but_the_everyday_sentences_they_resemble_are_calm(rules_only: Triage):
    """The rules alone: indirect self-harm in lay, dialect and reported words is a crisis (someone
    else's too, also when told in the past tense without being over); everyday sentences with the
    same words stay calm."""
    crisis = [
        "dont want to be around anymore",
        "it will be better for my husband if i am not more here",
        "mi a burden pon mi daughter",
        "i see no reason to stay alive",
        "i keep thinking about the rope in the garage, i went and looked at it today",
        "i have been cutting myself when the pain comes",
        "dad wrote 'goodbye' notes to all of us and put them on the table",
        "she says she's going to do away with herself",
        "i'd rather be dead than have surgery again",
        "if it comes back again i cant go on",
    ]
    calm = [
        "i cut myself shaving, can i still have the op?",
        "it would be easier if i was not there when they change the dressing",
        "my husband wants to be dead tired after the op so he sleeps",
        "there is no point in me coming to the appointment if the scan is not ready",
        "i forgive everyone for the mix-up with the appointment, no worries",
        "my sister tried to end her life when she was a teenager, she is fine now",
        "i went down on the floor to do my physio exercises, is that ok?",
        "i'd rather be awake than asleep for the op",
        "i kept my tablets by the bed",
        "im putting the ibuprofen aside until after the op as told",
        "i cant go on holiday for 6 weeks?",
        "i cant go on the bike yet, when can i",
    ]
    assert _levels(rules_only, crisis) == {t: CRISIS for t in crisis}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_every_finding_reports_its_context_for_staff():
    result = assess("no fever but my calf is swollen and hot")
    by_flag = {f.flag: f for f in result.findings}
    assert by_flag["fever"].counted is False and "NEGATED" in by_flag["fever"].context
    assert by_flag["clot"].counted is True
    record = result.as_dict()
    assert record["level"] == EMERGENCY and "clot" in record["flags"] and "fever" not in record["flags"]
    assert {"flag", "level", "matched", "context", "counted"} <= set(record["findings"][0])


def test_normalise_handles_case_apostrophes_invisible_characters_and_lines():
    assert normalise("  I CAN\u2019T\u200b  pee\x00 ") == "i can't pee"
    assert normalise("no fever\ncan't pee") == "no fever. can't pee"
    assert assess("I CAN\u2019T\u200b pee").level == EMERGENCY


@pytest.mark.parametrize(
    "text, level",
    [
        ("I can't p\u0435\u0435", EMERGENCY),  # Cyrillic "е"
        ("I \u0441\u0430n't \u0440\u0435\u0435 sin\u0441\u0435 this m\u043erning", EMERGENCY),  # not a crisis
        ("I w\u0430nt t\u03bf kill mys\u0435lf", CRISIS),  # Cyrillic "а", "е", Greek "ο"
        ("\u043f\u0440\u0438\u0432\u0435\u0442, how long is recovery?", NONE),
    ],
)
def test_latin_look_alike_letters_are_read_as_latin(text, level):
    assert assess(text).level == level
    assert normalise("\u043f\u0440\u0438\u0432\u0435\u0442 p\u0435\u0435") == "\u043f\u0440\u0438\u0432\u0435\u0442 pee"


def test_empty_and_huge_messages():
    assert assess("").level == NONE and assess("   ").level == NONE
    assert assess("a " * 5000 + " i cant pee").level == EMERGENCY


def test_no_false_alarm_on_the_held_out_topic_questions():
    """The held-out NLU questions (tests/nlu_test.yml) of every topic intent stay calm."""
    held_out = yaml.safe_load((ROOT / "tests" / "nlu_test.yml").read_text(encoding="utf-8"))["nlu"]
    alarms = []
    for block in held_out:
        if block["intent"].startswith("report_"):
            continue
        for line in block["examples"].splitlines():
            text = line.strip()[2:].strip()
            if text and assess(text).level != NONE:
                alarms.append((block["intent"], text, assess(text).flags))
    assert alarms == []


def test_rules_load_every_flag_with_a_level_and_description():
    rules = load_rules()
    assert rules.flags, "no flags"
    for name, spec in rules.flags.items():
        assert spec["level"] in ESCALATED and spec["description"] and spec["patterns"], name
        for pattern in spec["patterns"]:
            assert "{" not in re.sub(r"\{\d+(,\d*)?\}", "", pattern), f"unexpanded fragment in {name}: {pattern[:60]}"
    levels = {spec["level"] for spec in rules.flags.values()}
    assert levels == {EMERGENCY, CRISIS, URGENT}


def test_a_bad_rule_file_is_refused(tmp_path):
    targets = (RULES_DIR / "targets.yml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="unknown level"):
        load_rules(_rules_with(tmp_path, {"targets.yml": targets.replace("level: urgent", "level: soon", 1)}))


@pytest.mark.parametrize(
    "entry, refusal",
    [
        ("  - category: HISTORICAL\n    patterns: ['^x$']\n", "needs applies_to"),
        ("  - category: HISTORICAL\n    applies_to: any\n    patterns: ['^x$']\n", "needs applies_to"),
        ("  - category: HISTORICAL\n    applies_to: [PAST]\n    reach: 3\n    patterns: ['^x$']\n", "unknown keys"),
        ("  - category: HISTORICAL\n    applies_to: [PAST]\n", "needs \\['patterns'\\]"),
        (
            "  - category: HISTORICAL\n    applies_to: [PAST]\n    allowed_types: [self_harmm]\n"
            "    patterns: ['^x$']\n",
            "names no flag",
        ),
    ],
)
def test_a_later_sentences_cue_that_could_silently_widen_is_refused(tmp_path, entry, refusal):
    """A ``previous_sentence`` cue changes red flags in another sentence: a missing ``applies_to``, a
    key the engine does not know (a misspelt or an unsupported condition) or ``allowed_types`` naming no
    flag must stop the rules from loading, not widen the cue to every mention or leave it reaching none."""
    context = (RULES_DIR / "context.yml").read_text(encoding="utf-8")
    widened = context.replace("previous_sentence:\n", "previous_sentence:\n" + entry, 1)
    with pytest.raises(ValueError, match=refusal):
        load_rules(_rules_with(tmp_path, {"context.yml": widened}))


def test_a_flag_with_a_condition_the_engine_does_not_know_is_refused(tmp_path):
    """A misspelt flag condition ("not_in_mesage") would be ignored and leave the flag wider than written:
    the rules must not load."""
    targets = (RULES_DIR / "targets.yml").read_text(encoding="utf-8")
    marker = "  self_harm:\n    level: crisis\n"
    assert marker in targets
    misspelt = targets.replace(marker, marker + "    not_in_mesage: ['\\bdog\\b']\n", 1)
    with pytest.raises(ValueError, match=r"flag self_harm: unknown keys \['not_in_mesage'\]"):
        load_rules(_rules_with(tmp_path, {"targets.yml": misspelt}))


def test_medspacy_overlap_fix_is_what_keeps_inner_negations_and_scopes_right():
    """medspaCy 1.3.1's own overlap check misses a modifier strictly inside a target ("can NOT pee")
    and limits no scope at a clause boundary: both cases go wrong without the fix."""
    from clinic_triage import medspacy_setup

    cases = {
        "is it normal that i can not pee since the operation?": EMERGENCY,
        "my leg is swollen, hot and painful, the other one is normal.": EMERGENCY,
    }
    assert {t: default_triage().assess(t).level for t in cases} == cases
    medspacy_setup.uninstall()
    try:
        unfixed = Triage(default_triage().rules)  # install() is called again by the constructor ...
        medspacy_setup.uninstall()  # ... so take it out again for this pipeline's run
        assert {t: unfixed.assess(t).level for t in cases} == {t: NONE for t in cases}
    finally:
        assert medspacy_setup.install()


def test_the_overlap_fix_refuses_another_medspacy_version(monkeypatch, caplog):
    import medspacy

    from clinic_triage import medspacy_setup

    monkeypatch.setattr(medspacy, "__version__", "9.9.9")
    assert medspacy_setup.install() is False
    assert "unexpected_version" in caplog.text


@pytest.mark.integration  # 400 corpus texts, in four threads: not the inner loop
def test_assess_gives_the_same_results_from_several_threads_at_once():
    """The server triages on the parse worker thread and (busy check) on the event loop at once."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [m["text"] for m in TUNING[:400]]
    sequential = [assess(t).as_dict() for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda t: assess(t).as_dict(), texts))
    assert concurrent == sequential


@pytest.mark.integration  # a trained model, several processes or every corpus text: not the inner loop
def test_the_prefilter_changes_no_result():
    """Messages no target pattern matches skip the spaCy pass: the same assessment either way."""
    from clinic_triage import semantic

    texts = [m["text"] for m in TUNING] + [m["text"] for m in load_corpus(TRIAGE_DATA / "heldout.yml")]
    texts += semantic.calm_examples(semantic.load_settings())[:400] + ["", "   ", "ok", "a" * 3000]
    full = Triage(load_rules(), semantic.load_settings(), prefilter=False)
    fast = default_triage()
    assert [fast.assess(t).as_dict() for t in texts] == [full.assess(t).as_dict() for t in texts]


def test_future_questions_past_events_told_as_over_and_new_wordings_of_red_flags_by_the_rules_alone(rules_only: Triage):
    """Rules alone: a question about the wound's future, "scared ill ..." (I'll), "he's sound now",
    "it went the same day", a partner called "the missus" or "me arl fella" are calm; medicines stopped
    to die, a rope with a plan, "head is wrecked" on sitting up, "can't
    hardly get me breath", lips "like sausages", painkillers that "ain't touching it", an "itchy red
    spot" after a new antibiotic and one numb foot "since the surgery" keep their levels."""
    calm = [
        "will the wound get infected if i eat crab?",
        "is my scar going to split when i bend over",
        "bit scared ill wet meself on the table lol, do they put a catheter in",
        "me arl fella had sepsis after his bowel op years ago, hes sound now. am i more likely to get it",
        "had a temp on day 2 but it went the same day, been grand since. do i mention it at my check",
        "the missus had a clot after her knee op years ago, is that a risk for me",
        "i stopped taking my blood pressure tablets on the doctors advice, is that ok before the op",
        "can i bring a skipping rope for exercise, i have a plan for tonight's workout",
        "can i stash my tablets in my bag for the trip",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    still_flagged = {
        "my wound is hot and red now, will it get worse?": URGENT,
        "scared ill with a fever of 39 and shaking": EMERGENCY,
        "i quit taking my heart pills on purpose, if it stops it stops": CRISIS,
        "he has a rope in his garage and a plan for tonight": CRISIS,
        "ive bin savin up my tablits for a wile now": CRISIS,
        "im stashing my pills": CRISIS,
        "i won't be a bother to anybody no more": CRISIS,
        "me head is wrecked every time i sit up, lie flat and its gone": EMERGENCY,
        "me face has blown up and i can't hardly get me breath": EMERGENCY,
        "lips like a pair of sausages since the new tablets": EMERGENCY,
        "the painkillers ain't touching it, me back's screaming": URGENT,
        "started the antibiotic 2 days ago, now got itchy red spot on my arm, no swelling": URGENT,
        "my left foot's been numb on top since the surgery, not spreading": URGENT,
        "since the operation on monday the top of my left foot has been numb": URGENT,
    }
    assert _levels(rules_only, still_flagged) == still_flagged


def test_red_flags_told_across_sentences_by_carers_and_in_dialect_and_their_calm_neighbours_by_the_rules_alone(
    rules_only: Triage,
):
    """Rules alone: a headache named in one sentence and its positions told in the next, a collapse
    "half an hour ago" said to be over, a relative who "went down ... out cold", a swelling that has
    "doubled", one leg swollen "below the knee", tablets being collected, given-away belongings, a means
    and a way out, a rope and a chosen spot, painkillers "not touching it" keep their levels; the same
    words about the back, a disc on a scan, a prescription collected or an exercise are calm."""
    still_flagged = {
        "awful headache. when i stand up its pounding, lying flat it goes": EMERGENCY,
        "the headache is back. it gets worse when i sit up and eases when i lie down": EMERGENCY,
        "i fainted half an hour ago in the shower, feel fine now": EMERGENCY,
        "my wife passed out 20 minutes ago, she's ok now": EMERGENCY,
        "dad went down in the garden just now, out cold for a minute": EMERGENCY,
        "the swelling by my stitches has doubled since lunch": EMERGENCY,
        "my right leg is swollen and hot below the knee": EMERGENCY,
        "i couldnt feel the toilet paper when i wiped this morning": EMERGENCY,
        "i havent had a wee since last night and my belly is tight as a drum": EMERGENCY,
        "i can not take breath and my chest is pressing": EMERGENCY,
        "ive been collecting my sleeping tablets": CRISIS,
        "giving away all my things this week, i wont need them": CRISIS,
        "the rope is in the shed and i know the spot": CRISIS,
        "she said the pills are her way out": CRISIS,
        "i just want to go to sleep and not wake up": CRISIS,
        "the tablets from the ward arent touching it, pain is 9": URGENT,
        "i do not intend to be alive next week, the means are at home": CRISIS,
        "i couldnt tell if i was finished on the loo and had to check if i had wet myself": EMERGENCY,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "my back is sore when i sit up and fine when i lie flat, normal?",
        "had a headache yesterday. my back aches sitting but is better lying down",
        "can i do chest press at the gym after",
        "the stockings leave red marks below the knee, is that ok",
        "im on painkillers and not doing anything, just resting, when can i walk more",
        "giving away all my old clothes to charity before we move, will i be fit to lift boxes",
        "is there a way out of the car park at the back",
        "i am not able to work 6 weeks after the op, who writes my fit note",
        "i cant tell if im finished with the physio exercises",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_another_persons_recovery_makes_only_their_own_red_flag_calm_never_the_writers(rules_only: Triage):
    """Rules alone: "he's fine now", "my dad is fine now", "she recovered" (OTHER_RECOVERED) say that
    another person is well, so their red flag told before is over; the writer's own red flag in the same
    sentence stays escalated, and someone else's red flag of minutes ago stays an emergency."""
    still_flagged = {
        "i cant pee at all, my dad had that after his op and hes totally fine now": EMERGENCY,
        "my calf is swollen and hot and my friend had it after her op and she's ok now": EMERGENCY,
        "i cant feel my legs or bum and my brother had that and he's fine now, should i wait?": EMERGENCY,
        "i cant feel my bum when i sit, my mate had it too and he recovered": EMERGENCY,
        "i want to end it all, my friend went through this and she's fine now": CRISIS,
        "my wife fainted an hour ago, she's ok now": EMERGENCY,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "my dad fainted at the weekend, he's fine now",
        "my husband had sepsis after his op, he's fully recovered",
        "my friend had numbness down below after the same op and she's back to normal",
        "my brother couldnt pee after his op, he's right as rain now",
        "my son passed out at the blood test, he's ok now",
        "my mum had a fever after her op and she recovered",
        "i had a fever last week but im fine now",
        "my legs went numb for a bit, they're fine now",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    found = rules_only.assess("my son passed out at the blood test, he's ok now").findings
    assert [f.context for f in found if f.flag == "collapse"] == [("OTHER_PERSON", "OTHER_RECOVERED")]


def test_red_flags_of_tune22_and_tune23_in_new_words_and_the_ordinary_sentences_that_share_them(rules_only: Triage):
    """Rules alone: a relative's past told after the writer's own red flag ("my mum had a dvt 5 years
    ago") dates only the relative's; a fear of not waking is ordinary unless a wish follows it; "is after
    falling", "she dont know who i am", God asked to take one, hoping not to wake, "the sea can have me",
    tablets lined up, dressings gone through, a lump grown from an egg to an orange, a pee not felt, a limb
    numb since waking from the anaesthetic and painkillers that "no longer touch it" keep their levels;
    the everyday sentences in the same words stay calm."""
    still_flagged = {
        "my calf is hot and swollen, my mum had a dvt 5 years ago, is it the same?": EMERGENCY,
        "i cant pee and my dad had the same years ago": EMERGENCY,
        "both my legs have gone numb, my brother had that in 2015": EMERGENCY,
        "what if i dont wake up, honestly i hope i dont": CRISIS,
        "what if i dont wake up? part of me wants that": CRISIS,
        "me mammy is after falling in the kitchen and she dont know who i am": EMERGENCY,
        "every night mi ask god fi tek mi inna mi sleep": CRISIS,
        "she's praying to murugan to take her soon": CRISIS,
        "every night im hoping ill no wake up": CRISIS,
        "been thinking about the beach tonight. the sea can have me": CRISIS,
        "he's got all his tablets lined up on his desk and he's done with it": CRISIS,
        "they'd aw be better aff wi'oot me": CRISIS,
        "a bleed fae the wound, morag's been through four dressings and a towel since dinner time": EMERGENCY,
        "where is the cut there is lump, this morning like egg, now like orange": EMERGENCY,
        "since yesterday i dont feel when i am peeing": EMERGENCY,
        "from yesterday evening i pee in my trousers without feeling it": EMERGENCY,
        "since i woke from the operation the big toe and the top of my right foot are numb": URGENT,
        "my left foot has been numb since i was discharged on monday": URGENT,
        "paracetamol and codeine, taken exactly as directed, no longer touch it": URGENT,
        "the tablets are doing nothing for the pain, its 10 out of 10": URGENT,
        "since i was allowed up on saturday i have a headache whenever i sit or stand, gone lying flat": EMERGENCY,
        "mum is not waking up": EMERGENCY,
        "my husband wont wake up": EMERGENCY,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "my mum had a clot after her op, she's fine now",
        "ngl im so scared of being put to sleep, what if i dont wake up?? i know thats dramatic",
        "scared i wont wake up after the gas",
        "me mam is proper scared she wont wake up from the anaesthetic, she keeps going on about it",
        "Things I'm worried about: - not waking up - being awake during it",
        "what if i wake up during it? i hope i dont!",
        "i hope he doesnt wake up during the op",
        "she was hoping i would not wake the baby",
        "mi nearly jump off di bed when she press it",
        "she was after falling asleep on the couch",
        "i pray god takes me through the operation safely",
        "i dont want to see another day like yesterday, the pain was awful",
        "the tablets are in the kitchen, i know what i will do: ask the pharmacist",
        "i have my tablets lined up for the week in a pill box, is that ok",
        "the kids will be better aff wi'oot me for a week while i'm in hospital",
        "since the op my leg is not numb any more",
        "my foot has been numb for years, since i was discharged from the army",
        "last time i had a pee was this morning and my belly is a bit bloated from the hospital food",
        "she has been through two dressings this week, normal healing",
        "my kids see no reason to continue with the physio",
        "by sunday i will be with the lord at church",
        "i'm allergic to ibuprofen, it makes me wheezy. anything i need to do before the op?",
        "me brother had incontinence after his op in 2015 but it came back and hes grand now",
        "paracetamol for the pain, how often?",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_the_review_of_tune22_and_tune23s_rules_red_flags_beside_their_cues_and_ordinary_sentences_in_their_words(
    rules_only: Triage,
):
    """From a review of this round's rules (rules alone): a wish told after the fear of not waking, a
    relative not waking after a dash, a reaction to an allergen taken today keep their levels; God asked
    to take away the pain, a lump going down, dressings that peel off, a period, a catheter, the kitchen
    wiped, falling out with the physio, an accident at work, "had enough of the codeine" stay calm."""
    still_flagged = {
        "scared i wont wake up after the op, but maybe that would be for the best": CRISIS,
        "what if i dont wake up. honestly i wouldnt mind": CRISIS,
        "mum is on the sofa - not waking up when i shake her, breathing funny": EMERGENCY,
        "allergic to ibuprofen it gives me hives, took one by mistake an hour ago and my throat is tight": EMERGENCY,
        "i pray every night the lord takes me": CRISIS,
        "legs both gone weak since getting up": EMERGENCY,
        "paracetamol no good for the pain at all, its 10/10": URGENT,
        "my husband passed out on the loo, hes come round and says hes fine now but hes grey and sweaty": EMERGENCY,
        "i cant feel anything when i wipe since last night. my brother had the same op and hes fine now": EMERGENCY,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "by sunday i will be with the lord again at my own church",
        "my mum asks god to take her pain away every night",
        "hoping i dont wake up again at 3am with the nerve pain",
        "once the wound heals the sea can have me back",
        "insurance wants a letter so it will look like an accident at work",
        "tablets all set out in the pill box, had enough of the codeine making me sick",
        "i have the old tablets, i know what i'll do with them. ill drop them at the chemist",
        "the nurse changed my dressing four times since the op, all clean",
        "gone through two plasters today because they keep peeling off",
        "i dont feel that i'm peeing with the catheter in, is that normal?",
        "when i clean the cut there is no feeling at all around it",
        "insides of my thighs are dead sore from the physio stretches",
        "mum's after falling over the dog but she's fine, just a bruise",
        "he's after falling out with the physio again",
        "she dont know who i am talking about when i mention the surgeon",
        "she sees no reason to continue taking the gabapentin since her pain is gone",
        "what if i never wake up again after the general?",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_the_review_of_tune20s_rules_red_flags_beside_their_cues_and_ordinary_sentences_in_their_words(
    rules_only: Triage,
):
    """From a review of this round's rules (rules alone): no new calm cue may hide a red flag ("before 3
    months" and "thirty year ago" date the operation, not the symptom; "nowt" and "sweet as now" were
    tried and not kept; "earlier today", "since 3 hours ago" and "a short while ago" keep their own cues;
    tablets being collected stay a crisis wherever they are collected), and the new red-flag wordings must
    not catch ordinary sentences: a prescription collected, a room cleared, a door out, a fear of the
    anaesthetic, a sample, motion sickness, a disc on a scan, a near miss, headaches in general, minutes
    ago that date a reading."""
    still_flagged = {
        "Operation done before 3 months, wound is giving yellow pus and fever also coming": EMERGENCY,
        "Been to the doctors wi me back thirty year ago, both legs are numb an ah cannae pee": EMERGENCY,
        "Theres nowt ah can do, both me legs have gone numb and theyre buckling": EMERGENCY,
        "Fainted at the bus stop an hour ago, a bloke caught me, im sweet as now": EMERGENCY,
        "been collecting paracetamol from boots and the chemist, two packs each time so nobody asks": CRISIS,
        "I keep collecting my tramadol on my way home and putting it aside in a tin, nobody knows": CRISIS,
        "collecting my diazepam from the gp every week and not taking it, 60 now": CRISIS,
        "had a temp of 38.6 earlier today, it went away": EMERGENCY,
        "my father he was not able to pass urine since 3 hours ago": EMERGENCY,
        "no problems a short while ago now both my legs have gone numb": EMERGENCY,
        "cant peeeee since this morning": EMERGENCY,
        "numb about 2 inches either side of my spine right down to my feet": EMERGENCY,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "I collected my painkillers from Asda pharmacy this morning, how many do I take",
        "My daughter collected my tablets yesterday but they gave her the wrong strength",
        "We're giving away everything in the spare room so I can sleep downstairs after the op",
        "Nobody wants to be hanging about in A&E all day, how long is the wait",
        "Forgot my pills at home, is there a way out the back to the pharmacy?",
        "I'm scared I'll close my eyes and not wake up from the anaesthetic",
        "i dont want 2 wake up early for the 7am slot",
        "Haven't had a pee sample done yet for my pre-op",
        "I don't know when I need to go to the hospital, what time should I arrive?",
        "cant control motion sickness in the car, can i take a tablet",
        "The bulge on my disc has doubled in size on the latest scan",
        "I've got a swollen disc in my back and it's killing me, when is my op?",
        "My mum crumpled up in tears when they gave her the date",
        "I nearly wet mesel laughing at the nurse",
        "The co-codamol gives me headaches. Sitting is horrendous, lying flat its much better.",
        "Was reading a forum an hour ago about people going numb down below, how common is it?",
        "both legs are swollen below the knee with my lipoedema, is that a problem",
        "My mum went down to reception and they didn't answer her questions",
        "the lump on my wrist went from a pea to an egg over the years, the GP says its a ganglion",
        "Moving into a bungalow after the op so I'm giving away everything I own that won't fit",
        "I'd rather sleep and not bother waking up for the 6am obs, the nurses are relentless",
        "Been on pills for 3 years for this disc, the op is my way out.",
        "the GP doubled my water tablet for my puffy ankles, is that ok with the op",
        "can you check if i had a fever on my notes from the op",
        "I have a headache today. Sitting is unbearable with the sciatica, lying flat it's much less",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_the_calm_cues_of_tune19s_rules_never_hide_a_red_flag_told_beside_them(rules_only: Triage):
    """Rules alone, from a review of those rules: a question about the future needs a question mark or
    a condition ("will my legs be ok both numb and weak" is a red flag now); the feeling or strength that
    "went" was lost, not over; "been grand for weeks before this" dates the time before; "ill" read as
    I'll only before what is feared; someone else telling what happened to the writer ("the missus says i
    ... passed out", "my other half found me") ends the other person's scope; a relative "now booked in"
    after a red flag is not told as over. And the new red-flag wordings stay narrow: medicines stopped
    before the op or to drive, a rope for stretching, tablets stashed away from the dog, a head "wrecked"
    by a waiting room, lips that look like slugs in lipstick, a red spot on the nose, a leg weak for years,
    "won't be bothering you no more" once the appointment is sorted are calm."""
    emergency = [
        "will my legs be ok both numb and weak",
        "will the scar be ok fever 39 and shaking",
        "are my legs gonna be ok they keep giving way under me",
        "the problem is my legs go from under me and i fall",
        "what scares me is my wound start to open and leak yellow",
        "woke up and both legs were numb, the feeling went overnight",
        "my legs gave way on the stairs, the strength went within a day",
        "calf is swollen hot and red, been grand for weeks before this",
        "both legs numb and weak, been sound for weeks after the op",
        "feeling scared ill shivering burning up 39.8 wound oozing",
        "the missus says i went grey and passed out in the bathroom",
        "my other half found me on the floor i had blacked out",
        "my mum went numb down below and wet herself and is now booked in for an mri on monday",
        "ive wet myself twice without noticing, the feeling went in a few hours",
    ]
    calm = [
        "do i need to stop my bp tablets so i can have the op",
        "i stopped my diabetes tablets on purpose before the op like the nurse said",
        "stopped taking my meds so i can drive",
        "physio gave me a rope to stretch my hamstrings, ill do it tonight",
        "can i use the rope pulley in my garage gym",
        "stashing my meds in the top cupboard away from the dog",
        "me head is wrecked from sitting in that waiting room all day",
        "my daughter says my lips look like slugs in this lipstick lol",
        "red spot on my nose, can i still have the op",
        "my leg's been weak for years, since the op its stronger",
        "wont be bothering you no more, got my appointment sorted",
    ]
    assert _levels(rules_only, emergency) == {t: EMERGENCY for t in emergency}
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    assert rules_only.assess("i stopped my insulin to end it all").level == CRISIS


def test_statements_that_a_function_is_normal_are_ordinary_and_a_but_after_them_is_not():
    """ordinary.yml's normal_function: "passing water normally", "full feeling in both legs",
    "waterworks as normal", "legs strong" are left out of what the second reader reads (so a checklist of
    what is well does not read like a red flag); followed by "but" they are not ordinary, and a red flag
    told beside them still counts; after "not" or before a question mark they are not ordinary either."""
    triage = default_triage()
    assert triage.classifier_text("i am passing water normally and have full feeling in both legs. ok?") == (
        "i am and . ok?"
    )
    assert triage.classifier_text("waterworks as normal, legs strong. when can i drive?") == ", . when can i drive?"
    for text in (
        "passing water ok but i cant feel my bum",
        "bladder fine, but both legs have gone weak",
        "not passing water normally, only dribbles and i cant tell when i need to go",
        "i dont have full feeling in both legs anymore",
    ):
        assert "normal_function" not in [f.flag for f in triage.assess(text).findings], text
        assert triage.assess(text).level == EMERGENCY, text
    assert triage.assess("legs fine, waterworks fine, but i cant pee since last night").level == EMERGENCY


def test_a_normal_temperature_is_ordinary_and_a_fever_beside_it_is_still_read():
    """ordinary.yml's normal_temperature: a checklist's "temp 36.7" or "temperature is normal" (also said in
    words, read as a figure) is left out of what the second reader reads; a reading of 37.5 or more is
    not ordinary, a fever told after a normal one is still read, and "normal but ..." keeps its words."""
    triage = default_triage()
    assert triage.classifier_text("Day 2: temp 36.7, wound dry. ok to drive?") == "day 2: , wound dry. ok to drive?"
    assert triage.classifier_text("my temperature this morning was thirty six point nine") == "my"
    for text in ("my temp is 37.8", "temp 37 then 38.5 now and shaking", "temperature is normal but i cant pee"):
        assert "normal_temperature" not in [f.flag for f in triage.assess(text).findings], text
    assert triage.assess("temp 37 then 38.5 now and shaking").level == EMERGENCY
    assert triage.assess("temp 36.8, but i cant pee since last night").level == EMERGENCY


def test_tablets_kept_for_someone_coming_home_a_bus_got_off_and_sleep_are_errands_not_red_flags(rules_only: Triage):
    """Rules alone: tablets saved "for when she comes home", getting off a bus or a train and a sleeping
    aid that "no longer helps me sleep" are ordinary; tablets saved with a wish, stepping in front of a bus,
    a bridge, and painkillers that no longer help the pain keep their levels."""
    still_flagged = {
        "ive been saving my tablets, i want it over": CRISIS,
        "he's been saving his mother's sleeping tablets": CRISIS,
        "im thinking of stepping in front of a bus": CRISIS,
        "i want to jump off a bridge": CRISIS,
        "the tramadol no longer helps, pain is awful": URGENT,
        "the painkillers are not helping me at all": URGENT,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "im saving her tablets for when she comes home from the hospital",
        "i could jump off the bus with joy when they gave me the date",
        "i jumped off the train and felt my back go, is that the disc",
        "stepping off the bus yesterday my back twinged, is that normal",
        "the tramadol no longer helps me sleep, can i take something else at night",
        "the amitriptyline is not helping with my sleep, who do i ask",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_a_swelling_measured_twice_is_an_emergency_only_when_the_later_size_is_bigger(rules_only: Triage):
    """Rules alone: the engine compares the two sizes (mm, cm, inches) of ``haematoma_measured``."""
    growing = [
        "the swelling by my scar was 3 cm yesterday and it is 6 cm today",
        "lump by the cut 2cm this morning, 5cm tonight",
        "swelling at the wound 3 cm \u2192 6 cm since lunch",
        "swelling on my back where they operated was 1 inch yesterday now 3 inches",
        "the swelling was 30mm at lunch and now 45mm",
        "the swelling was 2 cm at lunch and now 35 mm",
    ]
    for text in growing:
        found = rules_only.assess(text)
        assert found.level == EMERGENCY and "haematoma_measured" in found.flags, text
    calm = [
        "the lump next to the wound was 6cm last week, now 3cm, going down nicely",
        "the bump near the cut was 4cm on monday now 4cm still, no change",
        "the swelling is 2cm wide and 4cm long, is that normal",
        "the bump at my scar is 3 cm today, it was 5 cm yesterday",
        "my disc bulge was 5mm on the mri last year, now 8mm on the new scan",
        "the swelling was 40 mm at lunch and now 4.2 cm",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_a_size_comparison_without_its_groups_is_refused(tmp_path):
    targets = (RULES_DIR / "targets.yml").read_text(encoding="utf-8")
    renamed = targets.replace("(?P<after_unit>", "(?P<later_unit>", 1)
    with pytest.raises(ValueError, match="grows_by_at_least"):
        load_rules(_rules_with(tmp_path, {"targets.yml": renamed}))


def test_the_review_of_tune24s_rules_red_flags_beside_their_new_cues_and_ordinary_sentences_in_their_words(
    rules_only: Triage,
):
    """From a review of this round's rules (rules alone, 131 probes written before any run): Jamaican "nuh"
    negates only the word right after it, never across a comma nor as "nuh joke"; long-standing "for five
    years" looks back only; "nothing since lunch" is no recovery; a leaking wound is no hygiene question;
    a decimal comma and a later size dated by the clock still grow; tablets saved for when someone is out
    stay a crisis; and the new crisis wordings leave insulin stopped as told, a load for the children, a
    climbing rope, next week's appointment and "better i'm gone home" calm."""
    still_flagged = {
        "mi nuh know why mi cyaan pee since mawnin, belly full up": EMERGENCY,
        "nuh sleep all night, fever 39 and mi a shiver": EMERGENCY,
        "nuh eat nuttin today, mi have fever an chills from last night": EMERGENCY,
        "nuh feeling inna mi batty an mi private part from last night": EMERGENCY,
        "baby father nuh breathing good, him just drop dung pon di floor": EMERGENCY,
        "nuh stop bleed, di wound a pour out blood, two towel soak already": EMERGENCY,
        "mi nuh bodda wid doctor but di headache bad when mi siddung, it gone when mi lie dung": EMERGENCY,
        "nuh lie, both mi leg dem weak an numb, cyaan stand up": EMERGENCY,
        "nuh joke, mi lip an mi tongue a swell up now after di new tablet": EMERGENCY,
        "mi nuh waan live nuh more, mi tired": CRISIS,
        "I have a nut allergy, it makes my lips swell and I ate a flapjack with almonds at lunch, my "
        "lips are huge": EMERGENCY,
        "shellfish allergy makes my tongue swell - had prawns for tea and my tongue is swelling up": EMERGENCY,
        "latex allergy makes my face swell, nurse changed dressing with latex gloves and my face is "
        "puffing up": EMERGENCY,
        "codeine allergy gives me wheezing and a tight chest, GP gave me co-codamol earlier and i cant "
        "breathe properly": EMERGENCY,
        "penicillin allergy gives me hives and my throat closes, had an antibiotic at the ward, throat "
        "tight": EMERGENCY,
        "peanut allergy, it makes my lips swell. There was peanut in the sauce and my lips swelled up": EMERGENCY,
        "I've had sciatica for about five years but since last night I cant feel my bum or my bits when "
        "I wipe": EMERGENCY,
        "back pain for about five years and now both my legs are giving way": EMERGENCY,
        "for nearly ten years my back has been bad, yesterday i couldnt pee at all and still cant": EMERGENCY,
        "diabetic for about five years, now fever 39.5 and shaking after the op": EMERGENCY,
        "on blood thinners for the past two years and my calf is hot and swollen": EMERGENCY,
        "bad back for around 5 years and my right calf is red and hot and hurts": EMERGENCY,
        "my left foot has been numb for over 5 years but now the other leg is numb too, both weak": EMERGENCY,
        "cant pee, nuttin since last night": EMERGENCY,
        "i cant wee, nothing since lunch even though i'm bursting": EMERGENCY,
        "cant feel nothing down below when i wipe, nuttin since the op": EMERGENCY,
        "theres yellow pus coming from my wound, i try to clear it out with salt water": EMERGENCY,
        "green smelly stuff in the cut, my wife tries to clear it out but it keeps coming": EMERGENCY,
        "blood keeps pouring from the scar, i clear it off with a towel and it pours again": EMERGENCY,
        "the wound has opened, i cleared it out and put a plaster on": EMERGENCY,
        "my stitches keep leaking when I sit up": EMERGENCY,
        "my scar is leaking when I bend over, is that normal?": EMERGENCY,
        "my wound is seeping, fine yesterday but now the dressing is wet through": EMERGENCY,
        "incision leaking?! wet patch on my pillow every morning": EMERGENCY,
        "wound wet? its been dripping clear water since i got up": EMERGENCY,
        "headache awful when i sit up, lying flat it goes, then i stand and it's back": EMERGENCY,
        "my headache is gone lying down but when i stand up it's back pounding": EMERGENCY,
        "I've been saving up my sleeping pills for when my husband is out at work": CRISIS,
        "stockpiling my oxycodone till he gets home, then nobody can stop me": CRISIS,
        "hiding my tablets for when my mum is out, i want it all over": CRISIS,
        "I keep my mum's tablets for her but I've been saving some for myself to end it": CRISIS,
        "keeping my dad's pills for him since he said he'd take the whole lot tonight": CRISIS,
        "thinking of jumping off the multi-storey car park, there's no room for joy in my life": CRISIS,
        "going to jump off the car park roof tonight, my wife will jump for joy": CRISIS,
        "I'll throw myself off the balcony, nobody here leaps for joy at me anyway": CRISIS,
        "swelling by my scar was 3 cm this morning, now 6 cm": EMERGENCY,
        "lump next to the wound 2,5 cm this morning now 4 cm": EMERGENCY,
        "swelling at the cut 2cm yesterday, today my husband measured it at 5cm": EMERGENCY,
        "lump by the scar 3cm at 8am, by 2pm it was 5cm and hard": EMERGENCY,
        "swelling beside stitches: 15mm yesterday, 3cm today": EMERGENCY,
        "lump 3 cm -> 5 cm since lunch, by the wound": EMERGENCY,
        "my op site swelling gone from 2 cm to 4 cm in an hour": EMERGENCY,
        "swelling at the wound 4cm, now 10 cm and really painful": EMERGENCY,
        "swelling near my incision measured 1 inch at lunch, tonight 2 inches": EMERGENCY,
        "lump by the cut was the size of a coin this morning, now it's like an egg": EMERGENCY,
        "swelling beside the wound like a 10p coin at breakfast and now like a golf ball": EMERGENCY,
        "pain is still 8 out of 10 despite the prescribed regimen": URGENT,
        "in agony despite my prescribed pain relief": URGENT,
        "I'm ready, let God take me tonight": CRISIS,
        "i stopped taking my heart pills on purpose, i want to go": CRISIS,
        "they'd all be better me gone": CRISIS,
        "i just want to step of the edge and be done": CRISIS,
        "i don't want to see next christmas": CRISIS,
        "I've been staring at a picture of a noose all night": CRISIS,
        "I'm just a load on my children now": CRISIS,
        "i wrote them a letter like goodbye and put it in the drawer": CRISIS,
        "gonna take the lot tonight and that'll be me": CRISIS,
        "my right calf has gone fat and hot since yesterday": EMERGENCY,
        "both mi foot dem weak an numb from mawnin": EMERGENCY,
        "tried to void 4 times, output: nil, belly tight": EMERGENCY,
        "even water won't stay down since last night": URGENT,
        "me dressin's soaked red, it keeps coming": EMERGENCY,
        "thinking of stepping off the train platform tonight": CRISIS,
    }
    assert _levels(rules_only, still_flagged) == still_flagged
    calm = [
        "nuh fever, nuh pus, wound look good, when mi can bathe?",
        "mi nuh have nuh numbness, jus waan know when mi can drive",
        "nut allergy, it makes my lips swell, is the hospital food nut-free?",
        "I've a plaster allergy - it gives me hives, can you use a different dressing on my back?",
        "allergy to iodine makes my lips swell, will you use iodine to clean my skin?",
        "my legs have been weak for about five years, nothing new, where do I park?",
        "I've had numbness in my left foot for around ten years, will the op fix it?",
        "had a bit of a temperature the day after my op three weeks ago, nuttin since",
        "had a bit of discharge in week one, the nurse cleared it up with antibiotics, fine since",
        "stitches wet ok or not ok?",
        "can my wound get wet in the shower?",
        "is it fine if the incision gets wet when i wash my hair?",
        "My headache has gone. Standing up the stiffness comes back, lying down it eases",
        "I had a headache before the op. Sitting it's back to being stiff and sore, lying down it goes",
        "I keep my husband's tablets in the kitchen drawer for him",
        "saving her tablets for when she comes home from hospital",
        "I sort my dad's pills into the dosette for him every sunday",
        "when the surgeon said i could go home i could have jumped off the bed with joy",
        "I'd jump off the number 16 bus with joy if the pain went",
        "swelling at the scar was 5cm last week, now 3cm",
        "lump 4cm on monday, still 4cm today, is that ok?",
        "the disc bulge was 6mm on the old MRI and 9mm on the new one",
        "the swelling is 2 cm wide and 4 cm long, it has been the same for a week",
        "if the swelling by the wound goes from a coin to an egg should I ring you?",
        "despite the pain relief making me constipated, the pain is fine now, can I cut down?",
        "let God take me by the hand through the op on thursday",
        "my diabetes nurse stopped my insulin on purpose before the op, is that right?",
        "I stopped my blood thinners deliberately 5 days before, like the letter said",
        "it's better me gone to the clinic early than sitting here worrying",
        "is it better I'm gone home the same day or stay overnight?",
        "on my walk i go up the bridge and look down at the canal boats, it's lovely",
        "I went to the bridge club and looked over my cards for hours, is sitting that long ok?",
        "how do i step of the edge of the kerb with my walker?",
        "I don't want to see next week's appointment moved again",
        "dont want to see another year go by on this waiting list",
        "here's a picture of the rope I use at climbing, can I go back to bouldering?",
        "my husband sent me a photo of the rope on his boat, can I go sailing 6 weeks after?",
        "can i carry a load for my children to the laundrette after the op?",
        "got a message like goodbye from my physio, she's retiring, who do I see now?",
        "can I take the lot in one go in the morning? that'll be me done for the day",
        "my calves are fatter since I started cycling again, good sign?",
        "my calf is thicker than before thanks to the physio exercises",
        "both mi foot dem feel strong, nuh numbness, thank God",
        "pee fine. drain output: nil since yesterday, when does the drain come out?",
        "the bruise round my scar was the size of a 5p, now it's like a lemon colour, fading",
        "if food won't stay down after the op, who do I ring?",
        "dressin's soaked from the shower, can i change it myself?",
        "nobody would even clock i was gone from the ward, the nurses are so busy lol",
        "can I step off the bus on my own two weeks after the op?",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_retention_in_dialect_and_a_saddle_down_dere_are_found_and_the_scots_small_wee_is_no_pee(rules_only: Triage):
    """Passing no water told in Jamaican ("nuh pass water from yesterday"), Yorkshire ("nowt since
    breakfast" after a wee) or with "nuttin come out" is retention; "down dere" is the saddle. A "wee
    bit" of fluid, fasting "nothing since breakfast", a full nose or tube with nothing coming out, and a
    toe "down there" are not."""
    flagged = [
        "mi nuh pass water from yesterday evening an mi belly swell",
        "mi bladder full but nuttin come out",
        "tried for a wee, nowt since breakfast and me belly's rock hard",
        "nowt's come out since this morning when i try to wee",
        "bladder feel full full but notten come out",
        "nuh pee from last night, belly a hurt mi",
        "been on the loo three times, nowt comes out",
        "numb down dere since this morning, cyaan feel when mi wipe",
    ]
    assert _levels(rules_only, flagged) == {t: EMERGENCY for t in flagged}
    calm = [
        "mi nuh pee myself or anything, just wondering about the stitches",
        "nowt since breakfast, i'm starving, when can i eat after the op",
        "i need a wee but had nothing since breakfast, can i drink before the op",
        "there was a wee bit of fluid on the dressing but nothing coming out now",
        "a wee bit sore at the cut, nothing came out of it though",
        "my nose is full but nothing comes out when i blow it",
        "the tube of cream is full but nothing comes out",
        "nuh pass water problem before di operation, mi jus want know di cost",
        "mi foot numb down dere by di toe from before the op",
        "can the operation make it so your bladder feels full but nothing comes out?",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_tune25s_rules_find_lay_red_flags_and_leave_their_ordinary_lookalikes_calm(rules_only: Triage):
    """Rules written after the twenty-fifth part was measured: legs that "go down" and "no power in both",
    shaking under the duvets and "my body is hot", a green-yellow stain on the dressing, a swelling
    "enlarging", a "cafe" (calf) swollen, blood coughed into a hanky, "just went aw black", red patches
    after a new tablet, tablets kept back, "no use continuing", a rope looked at, not having to wake up,
    someone who "does not want to continue anymore", lingering on a bridge looking down. Each beside the
    ordinary sentence in the same words."""
    flagged = {
        "today two times my legs go down, no power in both, I fall in kitchen": EMERGENCY,
        "no power in both legs since morning": EMERGENCY,
        "since last night my body is hot and I was shaking under two duvets": EMERGENCY,
        "the dressin's got a green-yella stain on it an it's mingin": EMERGENCY,
        "swelling over wound site, tense, enlarging since this morning": EMERGENCY,
        "left cafe swolen up like a ballon n its red n hot": EMERGENCY,
        "a wee bit o' bright red in the hanky when I coughed": EMERGENCY,
        "I went ower in the kitchen, just went aw black an the next thing I'm lyin on the lino": EMERGENCY,
        "after starting the new tablet, itching all over and some red patches on chest and back": URGENT,
        "I've been keepin the wee white pills back, no takin them, just pittin them in the tin": CRISIS,
        "have enough oramorph and diazepam put by. Not for the pain. Letters written.": CRISIS,
        "I have decided there is no use continuing at this age with this neck": CRISIS,
        "keep looking at the rope in the barn. Thought about it a lot since the op.": CRISIS,
        "how peaceful it would be to go to sleep one night and not have to wake up to any of this": CRISIS,
        "he told me this morning he does not want to continue anymore": CRISIS,
        "i went up the bridge again last night and stood looking down at the water for an hour": CRISIS,
        "i keep going to the cliff and staring down at the rocks, its calling me": CRISIS,
        "i dont want to go on like this": CRISIS,
    }
    assert _levels(rules_only, flagged) == flagged
    calm = [
        "the swelling in my legs went down after the op, good",
        "my legs go down the stairs slowly, is that ok",
        "no power in both arms after the gym lol",
        "my body is hot after the shower, is it normal",
        "i was shaking under the duvet from the cold, heating broke, can i use a hot water bottle",
        "yellow stain on the dressing, i think its the iodine they put on",
        "went to the cafe, my left leg was fine, can i walk more",
        "i have a cough, no blood, just phlegm, can i have the op",
        "my toe went all black after i dropped the tin on it",
        "the bruise went all black and blue, normal?",
        "red patches from the tape on my back, no itch",
        "i have enough paracetamol put by for after the operation",
        "keep the tablets back from the kids, they're curious",
        "there is no use continuing the physio if it hurts more",
        "i keep looking at the rope ladder in the loft, can i climb it after",
        "will i not have to wake up during the op? i'm scared",
        "i dont want to continue anymore with the physio, it hurts",
        "i dont want to go on the waiting list again",
        "on my walk i go up the bridge and look down at the canal boats, it's lovely",
        "every evening we go up the bridge and look over the town, can i still do the walk after?",
        "we went to the pier again and looked over the railings at the seals",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}


def test_the_review_of_this_rounds_rules_probes_stay_at_their_level(rules_only: Triage):
    """The review's probes (tests/data/triage/review25_probes.yml): red flags near the new wordings keep
    their level, ordinary sentences in the same words stay calm."""
    expected = _review_probes("review25_probes.yml")
    assert len(expected) >= 149
    assert _levels(rules_only, expected) == expected


def test_a_red_flag_now_stays_escalated_whatever_the_next_sentence_says_and_the_general_questions_stay_calm(
    rules_only: Triage,
):
    """A second review's probes (tests/data/triage/review26_probes.yml): another person's red flag now
    followed by "she's fine now otherwise", a red flag of today followed by "I've been fine since", a
    report asked as a question, a recent year beside a current symptom keep their level; the calm
    messages the new cues were written for stay calm. And the cues kept from this round: an operation of
    this year or last is no time long past, "can man ...?", "these products can make infection in the
    cut?" and "is it possible for legs to give way?" are general questions, "nothing numb down there" and
    "havnt had a fit" deny, "wen i was 12" is long ago, "either leg" is both legs."""
    expected = _review_probes("review26_probes.yml")
    assert len(expected) >= 110
    assert _levels(rules_only, expected) == expected
    calm = [
        "After this operation can man not able to pass urine? My friend say this.",
        "these products can make infection in the cut? how long I need to wait to go back",
        "is it possible for legs to give way after this op?",
        "day 7 no temprachur, no gunk from the stiches, wee normal, nothing numm down there",
        "i hav epilepsy sinse i was a kid, havnt had a fit in 6 yeers. is it safe",
        "i fainted wunce wen i was 12 at the jabs. wat if i panik",
        "Not gonna lie I'm shitting myself about this op, never been under before",
        "the skin either side of the wound is a bit puffy, is that normal",
    ]
    assert _levels(rules_only, calm) == {t: NONE for t in calm}
    flagged = {
        "my op was in 2026, i cant pee": EMERGENCY,
        "had my op in 2025 and i cant feel my legs": EMERGENCY,
        "My dad fainted in the kitchen this morning. He's fine now.": EMERGENCY,
        "Mum can't pass water at all and her tummy is tight. She's fine now otherwise.": EMERGENCY,
        "I was coughing up blood after breakfast. I've been grand since.": EMERGENCY,
        "Can the wound bleed this much after the op? It's soaked 3 towels.": EMERGENCY,
        "Dad can't move either leg and he can't stand up.": EMERGENCY,
        "hurt my back in the 90s and both my legs are numb and weak": EMERGENCY,
        "I shit myself in bed and did not notice": EMERGENCY,
        "I wonder if I might ask about my left calf. Since Saturday it has become swollen and hot.": EMERGENCY,
        "Can't void since about 4am, bladder palpable": EMERGENCY,
        "Been sitting out in the van of a night with the rifle. Can't see how I keep going like this.": CRISIS,
        "been giving all me stuff away to the lads, everyone'd be sound without me anyway": CRISIS,
        "Me stop heart tablets, 1 week now. On purpose. Want everything finish.": CRISIS,
        "Incision a bit more erythematous than yesterday, warmer and sorer to touch": URGENT,
        "numb on either side of my legs since this morning": EMERGENCY,
    }
    assert _levels(rules_only, flagged) == flagged


def _assert_review_and_cases(rules_only: Triage, probe_file: str, minimum: int, cases: Dict[str, str]) -> None:
    """The rules alone answer a review's probes (tests/data/triage/<probe_file>, at least ``minimum``
    kept at their level) and ``cases`` at their levels."""
    expected = _review_probes(probe_file)
    assert len(expected) >= minimum
    assert _levels(rules_only, expected) == expected
    assert _levels(rules_only, cases) == cases


def test_a_time_long_past_does_not_reach_across_a_change_of_tense(rules_only: Triage):
    """A review's probes (tests/data/triage/review27_probes.yml): a time long past beside a red flag told
    in the present, in either order ("in 2019 i had a discectomy and my wound is leaking clear fluid", "i
    cant pee, i had a prolapse years ago"), is a red flag now; a past told over two clauses, or a present
    that dates from that past, stays calm."""
    cases = {
        "In 2019 I had a microdiscectomy and my wound is leaking clear fluid": EMERGENCY,
        "i cant pee, i had a prolapse years ago": EMERGENCY,
        "wetting myself without knowing, years ago i had a prolapse": EMERGENCY,
        "my wound is leaking yellow pus i had an infection last year too": EMERGENCY,
        "i cant pee, i got a prolapse years ago": EMERGENCY,
        "my leg is hot and red and swollen": EMERGENCY,
        "I'm confused and can't remember where I am": EMERGENCY,
        "in 2019 i had my first op and i got a wound infection, i'm having the second one in june": NONE,
        "Sir had a stroke in 2018, his left hand is still weak since then. Is it safe for him?": NONE,
        "In 2010, her face swelled up after a wasp sting": NONE,
        "In 2016 I had a clot in my leg and my leg is fine now, can I fly after the op?": NONE,
    }
    _assert_review_and_cases(rules_only, "review27_probes.yml", 110, cases)


def test_tune28_and_tune29s_crisis_wordings_and_the_ordinary_sentences_in_their_words(rules_only: Triage):
    """A review's probes (tests/data/triage/review28_probes.yml) keep their level; the crises in new
    words are crises and their look-alikes (a burden with questions, tablets ready at the pharmacy,
    crutches given away, a mattress one cannot go on with) stay calm, while a real overdose or a life one
    cannot go on with stays a crisis."""
    cases = {
        "Sometimes I think my children will be better with their aunt, not with me.": CRISIS,
        "he told me he has lived enough and he's going to stop taking his heart tablets so it finishes sooner": CRISIS,
        "most nights lately I pray I won't wake up in the morning": CRISIS,
        "It is better if I am not existing. I think this every day now": CRISIS,
        "Be easier for everyone if a wasn't here.": CRISIS,
        "Wor lass'd be better off wi'oot us. Am just a burden now.": CRISIS,
        "cannet gan on like this. nee point any more": CRISIS,
        "is that an overdose? i took 30 of them an hour ago": CRISIS,
        "i cant go on with this bed bound life any more": CRISIS,
        "I don't think I can go on": CRISIS,
        "cant go on with this mattress tbh its like sleeping on a brick": NONE,
        "sorry im just a burden with all these questions lol, one more: when can i shower?": NONE,
        "the department i worked in does not exist any more": NONE,
        "I don't think about hurting myself, nothing like this, I just feel a bit useless.": NONE,
        "Day 6. No fever, I go to toilet normal, both legs feel good, nothing numb. Only I am tired.": NONE,
        "both legs were fine yesterday, now theyre numb and weak": EMERGENCY,
        "Since 2 days I have accident with urine 3 times, I don't know it is coming": EMERGENCY,
        "he's no makin sense, disnae know whit day it is or where he is": EMERGENCY,
        "tabs they gave me doing nothing": URGENT,
    }
    _assert_review_and_cases(rules_only, "review28_probes.yml", 130, cases)


def test_tune30s_wordings_find_red_flags_in_jargon_dialect_and_carers_words_and_leave_their_look_alikes_calm(
    rules_only: Triage,
):
    """A review's probes (tests/data/triage/review29_probes.yml) keep their level: a nurse's shorthand,
    dialect and carers' reports are red flags, their everyday look-alikes stay calm; a past "when" is a
    time and "people sometimes ..." a general question, but never over the writer's own symptom."""
    cases = {
        "Reduced perianal sensation since this morning, and no PU since about 10pm last night": EMERGENCY,
        "She's not passed owt since last night, bladder's palpable above t'pubic bone": EMERGENCY,
        "Our lass went down in t'kitchen about ten minutes since, out for maybe twenty seconds.": EMERGENCY,
        "Mr Harold was on the commode and he went floppy and grey and didn't answer me for about a minute.": EMERGENCY,
        "when we hoisted Mr Harold the dressing came off and the wound is bleeding a lot, it doesn't stop": EMERGENCY,
        "Even a sip of water is coming out, vomiting since last night": URGENT,
        "I think about how easy it'd be to go over the side": CRISIS,
        "ppl may faint after surgery my mum just fainted in the toilet": EMERGENCY,
        "after this operation men sometimes cannot hold the pee. is true?": NONE,
        "we drove over the edge of the moor, lovely view": NONE,
        "popped out for a minute to get milk, when can i drive?": NONE,
        "constipated, not passed owt since tuesday": NONE,
        "calf circumference equal both sides, no oedema, not erythematous": NONE,
    }
    _assert_review_and_cases(rules_only, "review29_probes.yml", 120, cases)


def test_another_persons_red_flag_of_just_now_told_in_the_past_with_what_to_do_now_is_escalated(rules_only: Triage):
    """A carer's report in the past tense followed by a sentence that the person is coming round now or
    asking whether to ring someone is a red flag of just now; another person's past long ago or "once",
    or an ordinary question after it, stays calm (a review's probes: tests/data/triage/review30_probes.yml)."""
    cases = {
        "nan went all floppy n her eyes rolled back while she was sat on the sofa, didnt answer us for like a min. "
        "shes ok now n eating a biscuit lol but mum wants to know do we need to ring someone": EMERGENCY,
        "He went grey colour and slide from chair to floor at the table, we catch him, he did not answer maybe one "
        "minute. Now he came back, sitting in armchair, say he is fine.": EMERGENCY,
        "Bonjour, the plaie of my husband is bleeding a lot, I change the compress two times, again red everywhere, "
        "on the sheet also. It does not stop. What I do?": EMERGENCY,
        "she say 'I am keeping them for when I have had enough, don't take them'.": CRISIS,
        "My dad had a clot after his hip op. What should I do to stop me getting one?": NONE,
        "nan had a clot in her leg after her hip op. do we need to ring someone about her stockings for my op?": NONE,
        "My son Dayo had a fit when he was 4 with high fever, only once, he is 17 now and never again.": NONE,
        "ngl im scared nan wont wake up from the anaesthetic bc shes 78. is it safe for old people": NONE,
        "my husband didn't answer me for a minute, he was watching the football. can he drive after his op?": NONE,
        "see the bit on the sheet aboot chest pain n breathlessness, is that for aifter or before the op": NONE,
    }
    _assert_review_and_cases(rules_only, "review30_probes.yml", 70, cases)


def test_a_red_flag_asked_as_whether_to_worry_is_escalated_and_a_leaflet_word_asked_about_is_not(rules_only: Triage):
    """ "Should I worry if my head is splitting every time I sit up" tells a symptom of now; a quoted
    leaflet word asked what it means, and "in the event of a fever", ask about one (a review's probes:
    tests/data/triage/review31_probes.yml)."""
    cases = {
        "should ah worry if ma heid is splittin every time ah sit up, like the worst hangover ever, an when ah lie "
        "flat it goes. started the day efter the op, 3 days noo.": EMERGENCY,
        "From when I stand up it gives me very strong headache, in the back of the head and neck, when I lay down "
        "in bed is going away. Operation was Monday.": EMERGENCY,
        "Is it normal po that Sir Frank is wet in his pad this morning and he did not know?": EMERGENCY,
        "Leaflet read finish. Words difficult. 'Urinary retention' mean what? 'Saddle' mean what? Explain simple "
        "please. Me fine now, just understand want.": NONE,
        "(c) In the event of a fever after discharge, whom should I contact? Kindly note I have no symptoms at "
        "present.": NONE,
        "should i worry if i get a fever after the op": NONE,
        "the wee one wet hersel at nursery so i might be late for my appointment": NONE,
    }
    _assert_review_and_cases(rules_only, "review31_probes.yml", 90, cases)


def test_saved_tablets_asked_about_and_going_down_and_coming_round_are_red_flags_and_their_look_alikes_calm(
    rules_only: Triage,
):
    """Tablets "too many" with a stock saved or kept secret, an overdose or a clot that "does the job",
    the point of going on with life, someone who went down and came round, and pressure held on a wound
    that still bleeds are red flags; a dose question, going on with the physio, going down to the shops
    and the buzzer pressed are not (a review's probes: tests/data/triage/review33_probes.yml)."""
    cases = {
        "how many paracetamol is too many. asking bc ive got 3 boxes in my room. dont tell mum": CRISIS,
        "If I stop the blood thinners they gave me after the op, how long till a clot does the job?": CRISIS,
        "I stand on the balcony and look down long time. What's the point to go on with this pain": CRISIS,
        "Wife here. Craig's locked himself in the garage with the car engine running.": CRISIS,
        "Mi nuh tek di heart tablet from Sunday. Mi done wid dis life": CRISIS,
        "Dai's gone grey, he went down in the yard 10 minutes ago, he's come round but he's sweating": EMERGENCY,
        "I sit on sofa and cushion is wet with blood, I press with towel 20 minutes and still it come": EMERGENCY,
        "how many paracetamol is too many in a day? I have two boxes from the GP": NONE,
        "what's the point in going on with the physio if it hurts more": NONE,
        "mum went down to the shops and came round to mine after": NONE,
        "I pressed the buzzer for 20 minutes and still nobody was coming": NONE,
        "can I take all my tablets the night before and go to sleep as normal?": NONE,
        "I want to be dead sure about the risks before I sign": NONE,
    }
    _assert_review_and_cases(rules_only, "review33_probes.yml", 90, cases)


def test_emotion_around_an_ordinary_question_stays_calm_and_the_red_flags_beside_it_do_not(rules_only: Triage):
    """ "Worried sick", "so confused and worried about the forms" and "nothing wrong now" after a
    condition are not red flags; a sudden confusion with fear, "something's gone wrong now", clear fluid
    named before the wound, a gun thought about every night and "the kids would be better off" said and
    left there are (a review's probes: tests/data/triage/review34_probes.yml)."""
    cases = {
        "i am literally worried sick, i cant stop googling it. nothing is wrong with me right now": NONE,
        "sorry i am so confused and worried. the GP give me naproxen, i must stop it before the operation?": NONE,
        "if the wound starts weeping when im out on the boat what do I do, just thinking ahead nothing wrong now": NONE,
        "my husband is suddenly confused and scared, he has no idea what day it is": EMERGENCY,
        "Something's gone wrong now, if I sit up my head pounds and it eases lying flat": EMERGENCY,
        "Im worried sick, my husband cant keep any water down since yesterday": URGENT,
        "Day 2. Clear watery stuff has been leaking out the wound all morning, head bangs when I sit up": EMERGENCY,
        "I've put the shotgun by the back door, I've been thinking about it every night": CRISIS,
        "Tamsin and the boys would be better off. I just wanted someone to know": CRISIS,
        "the kids would be better off staying with my mum that week, is that ok?": NONE,
        "my rifle club mate asked, been thinking about it all the time, when can i shoot again": NONE,
    }
    _assert_review_and_cases(rules_only, "review34_probes.yml", 90, cases)


def test_a_year_opening_a_sentence_dates_it_but_not_a_red_flag_of_this_time(rules_only: Triage):
    """A year that opens a sentence dates the whole sentence ("In 2016 I had a big burn, it got infected,
    fever, antibiotics"), but not a later clause of this time, of days ago or of the op ("2016 i had a
    clot, this time after the op my other calf is hot"); "all done now" dates nothing before it; "come
    back to you" is a visit; "fever no have," is a checklist; "do they cut u open" is the operation, a cut
    open and weeping is a wound (a review's probes: tests/data/triage/review35a_probes.yml)."""
    cases = {
        "In 2016 I had a big burn on my arm from oil in the kitchen, it got infected, fever, antibiotics in "
        "hospital, all fine after, now only a scar. I need to say this on the form?": NONE,
        "had covid bad in 2021 and got a clot in my lung from it, was on blood thinners 6 months, all done now "
        "been fine since. does that mean i cant have the op?": NONE,
        "What if I get a fever after the operation when I am home, do I go to A&E or I come back to you?": NONE,
        "Check list from paper, day 3: fever no have, pee normal, legs strong both. When I can take bath?": NONE,
        "can u actually get paralysed from this op? also is it keyhole or do they cut u open": NONE,
        "in 2015 i had a spinal fluid leak and since my op on monday i am getting the same headache when i stand "
        "up that goes when i lie down": EMERGENCY,
        "they cut me open on monday and now its split and weeping": EMERGENCY,
    }
    _assert_review_and_cases(rules_only, "review35a_probes.yml", 100, cases)


def test_goodbye_letters_a_car_off_a_sea_wall_and_a_knife_for_oneself_are_crises_and_their_look_alikes_are_not(
    rules_only: Triage,
):
    """The toilet paper felt as nothing, bleeding that is not stopping, "no more reason to continue",
    letters written to say goodbye, driving the car off a sea wall and a knife thought of for oneself are
    red flags; the toilet paper and numbing cream, "no reason to continue wearing the collar", a
    grandchild's goodbye card, a bridge on the way to work and a knife for the dressing tape are not (a
    review's probes: tests/data/triage/review35b_probes.yml)."""
    cases = {
        "Is normal after operation that when I use toilet paper I feel nothing, left and right side?": EMERGENCY,
        "I have no more reason to continue": CRISIS,
        "ive wrote me letters to me mom and me nan to say goodbye": CRISIS,
        "he will drive car off the sea wall tonight": CRISIS,
        "think all the time about the big knife, not for cooking, to use on myself": CRISIS,
        "is there any reason to continue wearing the collar after week 2?": NONE,
        "the kids wrote a card to say goodbye to grandma who flew back to australia": NONE,
        "i would drive over the harbour bridge every day to work, when can i drive again": NONE,
        "i used a knife to cut the dressing tape on myself, is that ok?": NONE,
        # Two that only the reader caught, found when tune35 joined its training: Scots possessives and
        # "baith", and a wish not to wake asked about as "is that bad".
        "ma legs have baith gone numb the day an a cannae feel ma feet, is that normal": EMERGENCY,
        "most nights i go to sleep hoping i dont wake up is that bad": CRISIS,
        "hoping i dont wake up in the middle of the op is that normal to worry": NONE,
    }
    _assert_review_and_cases(rules_only, "review35b_probes.yml", 85, cases)


def test_scots_legs_and_a_wish_not_to_wake_asked_about_are_red_flags_and_a_fear_of_waking_is_not(rules_only: Triage):
    """Scots "ma legs have baith gone numb", "cannae feel ma feet" and a wish not to wake followed by "is
    that bad" are red flags; a fear of waking during the operation asked "is that normal to ...", a nurse
    feeling for the pulses in the feet and legs "less numb" are not (a review's probes:
    tests/data/triage/review35c_probes.yml)."""
    cases = {
        "ma legs have baith gone numb the day an a cannae feel ma feet, is that normal": EMERGENCY,
        "most nights i go to sleep hoping i dont wake up is that bad": CRISIS,
        "the nurse couldnt feel ma feet pulses, is that normal after the op?": NONE,
        "ma feet are baith feeling less numb every day": NONE,
    }
    _assert_review_and_cases(rules_only, "review35c_probes.yml", 45, cases)


def test_misspelt_red_flags_are_found_and_times_cats_and_heard_claims_stay_calm(rules_only: Triage):
    """Red flags misspelt as patients misspell them ("kil myself", "beter off without me", "cant fell my
    legs", "pins and needle", "cant pass urin", "throat tite", "caugh blood", "want it all 2 stop") and
    someone else's wish now ("he wants to kill him self") are found; a 24-hour time is not a year ("1930
    temp 39.2"); a cat called puss, "take them always" before "should I stop", "u can end up ..." heard
    from someone and a relative's suicide told as history stay calm (a review's probes:
    tests/data/triage/review36_probes.yml)."""
    cases = {
        "i wanna kil myself honestly": CRISIS,
        "my grandson says he wants to kill him self he is crying in his room": CRISIS,
        "evry1 wud be beter off without me": CRISIS,
        "cnt take this ner more, want it all 2 stop": CRISIS,
        "I can't fell my legs both of them since I woke up": EMERGENCY,
        "cant pass urin 12 hours, belly tight": EMERGENCY,
        "hives all over n throat tite after new tabs": EMERGENCY,
        "I caugh blood now and breath is short": EMERGENCY,
        "1930 temp 39.2 and shaking uncontrollably, wound red and oozing": EMERGENCY,
        "my left leg has pins and needle on the outside since 4 days, same, not worse": URGENT,
        "r puss sleeps on me bed evry nite, is that ok wiv stitches": NONE,
        "the doctor said take them always, should I stop before the keyhole operation or no": NONE,
        "me mate sez after back ops u can end up incontinant, is that tru": NONE,
        "my uncle killed himself in 2009, do i need to put that on the family history form": NONE,
        "she was killing herself laughing at my hospital gown": NONE,
        "2008 i was in a car crash and couldnt feel my legs for a few days, is the op safe for me": NONE,
    }
    _assert_review_and_cases(rules_only, "review36_probes.yml", 110, cases)


def test_red_flags_told_by_what_was_done_or_found_are_found_and_ordinary_mishaps_are_not(rules_only: Triage):
    """Red flags told by what people did or noticed, without the symptom word (underwear found wet without
    feeling it, a long time on the toilet and nothing, dressings changed again and again since lunch, a head
    bearable only lying flat, someone now on the floor, tablets saved for a purpose not said), are found;
    ordinary mishaps told the same way (found on the floor fixing the sink or asleep, saving them for a
    holiday, a date the hospital set, a pad changed for spotting, a baby's nappy) are not (a review's probes:
    tests/data/triage/review37_probes.yml; a spilt teapot and wet from the snow are still escalated, listed
    there under `missed`)."""
    cases = {
        "vëlla is strange. today two time i find my underwear wet and i dont know when it happen": EMERGENCY,
        "I have sat on the toilet for forty minutes with the tap running. Nothing, since last night.": EMERGENCY,
        "I have changed the dressing on my back five times since lunch; each one is red through": EMERGENCY,
        "Since da operation I can only thole my heid when I'm lyin flat.": EMERGENCY,
        "Maman was at the sink and is now on the floor. She has opened her eyes": EMERGENCY,
        "ive been putting the codeine in a tin instead of taking them. i know what im saving them for": CRISIS,
        "my dad had a clot in '98, is the op safe for me": NONE,
        "found my dad on the floor fixing the sink, he says hi. can he drive me on the day?": NONE,
        "i know what im saving them for, my holiday in june! can i fly after the op?": NONE,
        "teeth chattering from the cold this morning, the heating is broken, will the ward be warm?": NONE,
        "For your records: in 1991, in the Gulf, I had a fever and spent ten days shaking under army blankets.": NONE,
        # From a read-only review of the session's diff: red flags the first patterns calmed, and calm
        # messages they escalated.
        "sometimes you cant pee after surgery, i havent been for 12 hours and my belly is tight": EMERGENCY,
        "i'm going to take all my tablets and stop it all": CRISIS,
        "take all the pills make it stop": CRISIS,
        "the cut keep bleeding, i change plaster 5 time since morning": EMERGENCY,
        "The hospital has finally set the date. I am so relieved": NONE,
        "a letter to only open after her exams": NONE,
        "for when i'm not here to feed the cat": NONE,
        "i changed my pad 3 times since this morning, is spotting normal": NONE,
        "my mum has dementia, she doesnt know my name, it gets me down": NONE,
        "found my dad asleep on the floor in front of the telly again lol": NONE,
    }
    _assert_review_and_cases(rules_only, "review37_probes.yml", 110, cases)


def test_dictated_and_autocorrected_red_flags_are_found_and_their_look_alikes_are_not(rules_only: Triage):
    """Red flags as dictation or autocorrect writes them (spoken marks and numbers, "feinted", a "rush", a
    "lamp" growing at the cut, "short of bread", "gone number round my bum", a crisis's tablets as words)
    are found, and the calming rules that came with them calm only what they name (Scots "nay" in a list,
    not "nay well"; a pain score after "jump from", not "jump off one of the bridges"); their look-alikes
    (bread to buy, a reading lamp, a football feint, bulbs better off in the ground, a gun for the season)
    stay calm (a review's probes: tests/data/triage/review38_probes.yml)."""
    cases = {
        "Linda here full stop he feinted in the bathroom ten minutes ago comma he is very grey": EMERGENCY,
        "my temperature is thirty nine point one and im shivering": EMERGENCY,
        "its gone number round my bum and my balls and I ain't peed since last night": EMERGENCY,
        "theres a lamp growing on my back where they cut its getting bigger like every hour": EMERGENCY,
        "a'm that short of bread a canny get up the stair, sharp pain in ma chest": EMERGENCY,
        "been saving up the co cod a mole in a sock for like 2 weeks bro nobody knows": CRISIS,
        "I have decided I shall not be a burden to Geoffrey any longer. I wanted someone to know.": CRISIS,
        "he said he'd be better off in the ground, and he's cleaned the shotgun and left it ready": CRISIS,
        "i want to jump off one of the bridges in town tonight": CRISIS,
        "i've been nay well, fever and shivering all night": EMERGENCY,
        "i have a fever of 39 even after two thousand milligrams of paracetamol": EMERGENCY,
        "Came out in a Rush all over my tummy since the new painkiller, no swelling on my face": URGENT,
        "Pain 9/10, sudden jump from 3/10. Took Tamara Doll, zero effect. No fever, legs normal": URGENT,
        "a've read the sheet nay fever nay shivers nay puss nay swelling, is it ok to hoover": NONE,
        "yo can you do me a fever and email the sick note instead of posting it": NONE,
        "In nineteen seventy eight I had a severe reaction to penicillin, swollen lips, never since.": NONE,
        "we are short of bread at home, can my husband get a sandwich": NONE,
        "my reading lamp, can i bring a bigger one to the ward": NONE,
        "My grandson feinted left in his football match and scored": NONE,
        "the tulip bulbs are better off in the ground before the frost": NONE,
        "my husband cleaned his gun and left it ready for the shooting season": NONE,
    }
    _assert_review_and_cases(rules_only, "review38_probes.yml", 150, cases)


def test_a_red_flag_told_across_a_sentence_end_is_found_and_a_later_sentence_never_calms_it(rules_only: Triage):
    """A red flag told over two or three sentences (a swelling at the site, then "it" growing or very
    painful; one leg, then the other; things given to the family, then "won't be needing them"; the
    painkillers, then "it isn't touching it") is found, and a later sentence that dates it, gives it to a
    relative or says the operation is still to come does not calm it: each such cue was tried and calmed
    red flags of now; the look-alikes of the new patterns stay calm (five reviews' probes:
    tests/data/triage/review39_probes.yml)."""
    cases = {
        "theres a swelling by the scar. its getting bigger and it really hurts. like a lot. day 2": EMERGENCY,
        "There is a lump by my scar. It was the size of a grape at breakfast. Now it is more like a plum.": EMERGENCY,
        "Meu Deus. My right leg was weak this morning. Now the left one too.": EMERGENCY,
        "Ma legs. Both of them. They gave way on the stairs the now and I hit the deck.": EMERGENCY,
        "Gave ma tools tae ma boy the day. The van an all. I said I'll no be needing them.": CRISIS,
        "Am gonnae kill masel. Cannae work, cannae sleep.": CRISIS,
        "I have been keeping back my night-time tablets. There are about forty now.": CRISIS,
        "I have taken the co-codamol and the paracetamol exactly as prescribed. It isn't touching it.": URGENT,
        # A later sentence leaves the red flag before it as it is.
        "After this op my wound went green and smelly, not like my first one. That was in 2015.": EMERGENCY,
        "Cant pass urine at all, bladder is bursting. Not me, my husband, he had a disc op in 2020 and another "
        "one on Friday.": EMERGENCY,
        "Cant pass water at all after the operation. Its for my dad, he came home from his op yesterday. "
        "Nothing here, my op is only in June.": EMERGENCY,
        "Fever of 39 and the wound is oozing green. This happened to my dad in 2008.": EMERGENCY,
        "I want to die. It was 2019 when my wife passed and I can't see a way through.": CRISIS,
        # Where the writer read of it, said after the red flag, does not make it a question.
        "i cant feel my legs i saw it on the leaflet": EMERGENCY,
        "blood soaking through my dressing i saw that in the leaflet": EMERGENCY,
        "wetting myself without knowing - i saw it on the nhs website": EMERGENCY,
        "cant swallow properly after my neck op - i read that in the leaflet, what do i do": EMERGENCY,
        # An errand after "do we need to ring ..." is only booking transport.
        "my mum had a seizure. do we need to ring 111 to book her in": EMERGENCY,
        "me nan collapsed at church a while ago, she's fine. do we need to ring someone to book her transport "
        "to my op?": NONE,
        # Look-alikes of the new patterns: a lump of 2019, one going down, one that hurts less.
        "There's a lump by my scar. That was in 2019 and it is getting bigger.": NONE,
        "A lump by the wound. It's stopped growing and feels softer now": NONE,
        "Small bump near the wound from the drain. It hurts a lot less now.": NONE,
        "My right leg was weak before the op. Now the left one is the sore one, is that the sciatica moving?": NONE,
        "Gave my old crutches to my sister, she's just broken her ankle. Hopefully I won't be needing them!": NONE,
        "I take co-codamol and senna. It isn't working. Haven't had a poo in 4 days.": NONE,
        "Forgot ma pre-op bloods again. Ah could kill masel! Can a get them done Monday?": NONE,
        "When I wipe down the bathroom I can't really feel it in my back anymore, the op worked!": NONE,
        "Mum has her op Thursday. She's taken all her tablets together this morning like always.": NONE,
    }
    _assert_review_and_cases(rules_only, "review39_probes.yml", 360, cases)


def test_the_writers_own_state_asked_about_as_a_side_effect_is_a_red_flag_now(rules_only: Triage):
    """A red flag the writer has now, asked about in the same sentence as a side effect or a complication
    or said to be read of ("my legs are numb, is that a common side effect?"), is escalated: the sentence's
    shape says it is the writer's state, though "is that a side effect" near a symptom word alone reads
    as a general question. A general question, a condition, someone else's state, the operation or a
    time long past asked about the same way stays calm."""
    cases = {
        "my legs are numb, is that a common side effect?": EMERGENCY,
        "my legs have gone weak i read about it in the leaflet": EMERGENCY,
        "my bladder wont empty, is this a complication?": EMERGENCY,
        "i cant pee properly, is this a complication?": EMERGENCY,
        "i have numbness down below, is that a side effect?": EMERGENCY,
        "my legs go numb when i stand up, is that a side effect?": EMERGENCY,
        "numbness in both legs, is that a common side effect?": NONE,
        "if my legs are numb, is that a side effect?": NONE,
        "my mum's legs went numb after her op, is that a common complication?": NONE,
        "my op is next month, numb legs is that a common complication?": NONE,
        "my legs were numb before the op in 2019, is that a complication?": NONE,
        "i have read that numbness down below can happen, is that a common side effect?": NONE,
        "my wound is fine, can you get a fever, is that a common complication?": NONE,
        "i am scared of not being able to pee after, is that a side effect?": NONE,
        "im numb down below, is that a side effect": EMERGENCY,
    }
    assert _levels(rules_only, cases) == cases


def test_red_flags_deep_in_long_messages_and_in_a_relatives_words_are_found_and_their_look_alikes_stay_calm(
    rules_only: Triage,
):
    """Red flags told deep in a long message, in a relative's words or asked about as a side effect (a
    husband who "did not respond", a headache on sitting up after "a question the leaflet does not seem to
    answer:", a wound bleeding briskly, stool coming out alone, pills kept in an envelope "rather than
    taking them", a long time on a bridge) are found, and the look-alikes that each new pattern was
    narrowed against stay calm (five sets of probes: tests/data/triage/review40_probes.yml). No cue that
    calms a general question or dates an older operation was kept: each calmed red flags of now."""
    cases = {
        "throat feels tight and lips swelling after the antibiotic, is that a side effect": EMERGENCY,
        "Bernard had a funny turn at breakfast: he slumped in his chair and did not respond to me for half a "
        "minute": EMERGENCY,
        "A question the leaflet does not seem to answer: Bernard has a pounding headache whenever he sits up, "
        "which goes off once he lies flat": EMERGENCY,
        "Bernard's wound has begun bleeding quite briskly this evening.": EMERGENCY,
        "held a tea towel against my back for half an hour, still soaking through": EMERGENCY,
        "is normal after the op i dont feel when i poo its coming out alone in my pants 2 times today": EMERGENCY,
        "i keep soiling myself without feeling it, is that a complication of the surgery": EMERGENCY,
        "i had a fever last week but since i woke up its back, 38.8": EMERGENCY,
        "The tablets they gave Baba for the pain (oxycodone and paracetamol) do nothing, he is holding his "
        "back": URGENT,
        "the pills for the pain have stopped working since yesterday": URGENT,
        "Last night I stood on the bridge over the ring road for a long time and thought it would be easier "
        "for everyone.": CRISIS,
        "honestly mano sometimes i think better if i just dont exist anymore": CRISIS,
        "he has been putting his pills in an envelope in his desk rather than taking them": CRISIS,
        "How many pregabalin is too many? I have collected them for 3 weeks and hid them in my desk. Please do "
        "not tell my supervisor.": CRISIS,
        "how many tablets is too many to take on holiday? i hid them in my sock in the suitcase so they dont get "
        "stolen": NONE,
        "Gave ma HGV gear and ma fishing rods tae ma pal Tam yesterday, told him I'll no be needing them.": CRISIS,
        # Look-alikes of the new patterns.
        "the leaflet does not seem to answer this: is a fever after the op normal?": NONE,
        "my vein bled quite briskly at the blood test, is that because of my aspirin?": NONE,
        "held a wet towel on my back for 20 mins, still no blood on the dressing, all good": NONE,
        "drank plenty of water for the breast milk but nothing comes": NONE,
        "the piles op worked, i dont feel anything when i poo anymore, no pain at all!": NONE,
        "stood on the bridge and thought it would be easier to walk home than wait for the bus": NONE,
        "wrote a farewell letter to the lads at work since i'm retiring": NONE,
        "i put my codeine in a drawer rather than taking it because it makes me constipated": NONE,
        "i'd rather not wake up the kids when i leave at 6 for the op": NONE,
        "gave my van to my son, told him i won't be needing it, i'm moving into my daughter's flat": NONE,
        "the hayfever tablets have stopped working, can i take them before the op?": NONE,
        "there's a song that goes 'better if i never existed', it's stuck in my head": NONE,
    }
    _assert_review_and_cases(rules_only, "review40_probes.yml", 300, cases)


def test_the_writers_own_it_happened_after_a_general_question_and_someones_state_now_are_red_flags(rules_only: Triage):
    """A general question followed by the writer's own "it happened to me twice today" or "the left one is
    exactly like that", someone's state asked about as a side effect ("is her face and lips swelling up a
    side effect"), a year and then "this leg is now hot", painkillers taken as prescribed "but it barely
    helps", a lethal amount asked about in secret and the thoughts back "lately" after a past attempt are
    found; the look-alikes each new pattern was narrowed against stay calm (seven sets of probes:
    tests/data/triage/review41_probes.yml). A cue for a dream or a film was not kept: it calmed red flags of
    now."""
    cases = {
        "can you lose feeling down below after the op? its happened to me twice today": EMERGENCY,
        "can the op make you wet the bed? happened twice since sunday": EMERGENCY,
        "is a swollen hot calf a known risk after back surgery? the left one is exactly like that, red and sore "
        "to walk on": EMERGENCY,
        "is her face and lips swelling up a side effect of the antibiotic?": EMERGENCY,
        "quick question please, is dad not being able to wee at all a known complication of the endoscopy he "
        "had?": EMERGENCY,
        "in 2016 i had a clot and this leg is now hot red and swollen": EMERGENCY,
        "back in 2015 i had sepsis and these shivers are the same, temp 39": EMERGENCY,
        "is bleeding a lot through the bandage, is that a complication?": EMERGENCY,
        "bleeding fast from the cut on my back where they operated": EMERGENCY,
        "Swelling adjacent to incision: 3 cm at 08:00, 6 cm at 14:00. Firm, tense, tender 8/10.": EMERGENCY,
        "Pain 8/10 lumbar since 02:00, was 3. Taking co-codamol 30/500 x2 qds as prescribed, but barely "
        "helps.": URGENT,
        "paracetamol and ibuprofen for the pain, neither of them doing anything, pain is 9 out of 10": URGENT,
        "whats a lethal amount of oxycodone, please dont tell my doctor": CRISIS,
        "i tried to kill myself in 2009. lately i feel like that again": CRISIS,
        "Stopped the insulin 3 days ago. Deliberate. Want it over. Do not inform Ingrid.": CRISIS,
        # Look-alikes of the new patterns.
        "can they cancel the op if i have a temperature on the day? it happened to me twice already.": NONE,
        "does high blood pressure or epilepsy mean more risk of a seizure under anaesthetic? my son has both": NONE,
        "do you get a fever after the op? 2 days of it would really worry me": NONE,
        "i take ibuprofen for the pain of my periods and it barely helps, can i keep taking it up to the op?": NONE,
        "the tablets for the pain are fine but the laxative they gave me doesnt do anything": NONE,
        "whats a lethal dose of caffeine lol, dont tell my doctor how much coffee i drink": NONE,
        "the swelling by my scar was 4cm at 09:00 and 3cm at 17:00, going down nicely": NONE,
        "i stopped the warfarin on monday as the letter says, honestly i want it over with": NONE,
        "i was so scared before my op in 2018 that i fainted in the anaesthetic room. lately i feel the same "
        "way. can i have something for nerves on friday?": NONE,
        "i messaged yesterday about the fit note, so sorry to keep bothering you": NONE,
        "is a wound infection more likely in smokers? im like that. 20 a day since i was 15": NONE,
        "stopped my warfarin friday per the sheet. want it all over, roll on tuesday": NONE,
        "I took an overdose in 2001 and the ICU nurses saved me, I've always felt lucky. Lately I feel the same "
        "way.": NONE,
        "can the anaesthetic make you pass out when you stand up? it happened to me too. after my c section in "
        "2014.": NONE,
        "is shortness of breath a side effect of the anaesthetic? my dad has it now. copd, hes been on home oxygen "
        "for years": NONE,
        "in 2009 i broke my back in a crash and these legs are both weak and a bit numb, will the op make them "
        "worse?": NONE,
        "i'm not going to be around after the op, new job up north starts monday. who do i ring about the "
        "stitches?": NONE,
        "the swelling by the scar is 2cm at 07:00 and the same at 19:00, 3 of us measured it": NONE,
    }
    _assert_review_and_cases(rules_only, "review41_probes.yml", 800, cases)


def test_indirect_crisis_words_and_a_red_flag_back_after_years_are_found_and_their_look_alikes_stay_calm(
    rules_only: Triage,
):
    """A lethal dose asked about with the asking kept secret or tablets stored up, not being here after the op
    with affairs put in order, the thoughts of a past attempt back now (in its sentence or the next), a wish not
    to come round from the anaesthetic, imagined ways, tablets stopped "the tidiest way", and a red flag back
    after the same event years ago ("This leg is doing exactly the same thing now", "I had another one this
    afternoon") are found; the look-alikes each was narrowed against stay calm: a pet, an exam, a dose taken by
    mistake, a reason given for the secrecy, a trip, feelings back "about" something else, a jab or a baby
    "this afternoon", a clot leg that is fine (five sets of probes: tests/data/triage/review42_probes.yml)."""
    cases = {
        "whats a lethal dose of codeine, and dont tell my mum i asked": CRISIS,
        "how many paracitamol is finish a man. i have keep 4 box under shop counter. please not tell my son": CRISIS,
        "whats a lethal dose of gabapentin. ive kept all my old boxes": CRISIS,
        "you can cancel the follow up, i wont be around for it. handed over my passwords and left a note with my "
        "sister": CRISIS,
        "i tried to end it in 2009. lately i feel like that again": CRISIS,
        "overdose in 2016, now the same feelings are back": CRISIS,
        "honestly part of me wouldnt mind if i just stayed under": CRISIS,
        "Part of me hopes I dont come round after the anaesthetic. Is it general or local?": CRISIS,
        "I have not taken my warfarin nor my heart tablets since Sunday. It seems the tidiest way.": CRISIS,
        "skipped all my meds this week on purpose so i can die before the op": CRISIS,
        "In 2017 I had a clot in my leg. This leg is doing exactly the same thing now, swollen and hot.": EMERGENCY,
        "back in 2015 I had a seizure. I had another one this afternoon.": EMERGENCY,
        "can the op make you pass out? it happened to me just now in the kitchen": EMERGENCY,
        "the wound is draining clear watery stuff, not blood, soaked a tissue in minutes": EMERGENCY,
        # Look-alikes of the new patterns.
        "whats the lethal dose of tramadol for a dog, mine ate two off the floor. dont tell my husband": NONE,
        "is there such a thing as a lethal amount of gabapentin? please dont tell my surgeon i asked, i feel "
        "silly, just curious": NONE,
        "you can cancel the follow up, i wont be around for it, im on a work trip to spain. sorted everything at "
        "work": NONE,
        "i took an overdose in 2012. if i feel like that again after the op who do i call?": NONE,
        "self harmed in sixth form, im 35 now, no problems since. the old feelings are back - about hospitals, i "
        "hate the smell": NONE,
        "i wouldnt mind if i stayed under a bit longer so i dont feel the first hours": NONE,
        "i've booked a week off after so i can die on the couch and binge netflix": NONE,
        "In 2017 I had a clot in my leg. This leg is the same now as the other one, no problems.": NONE,
        "back in 2015 I had a seizure. im having another scan this afternoon.": NONE,
        "I had a fit in 2005 from a high fever as a kid. I've had another one this afternoon, another covid jab "
        "I mean, arm's sore.": NONE,
        "my husband went all stiff and jerky on the dance floor at the wedding, no not a fit lol": NONE,
    }
    _assert_review_and_cases(rules_only, "review42_probes.yml", 850, cases)


def test_a_wish_not_to_wake_with_a_day_self_harm_like_when_i_was_young_and_medicines_stopped_for_a_clot(
    rules_only: Triage,
):
    """A wish not to wake with the day after it ("praying i dont wake up from the operation on thursday"),
    "hoping the anaesthetic does me in", self-harm now compared with the past ("like when i was 17 i start
    to burn my arm ... again"), and a medicine that prevents clots stopped or binned so that one comes are
    found; the fears, jokes, ordinary comparisons and medicines stopped as told that they resemble stay calm
    (tests/data/triage/review47_probes.yml)."""
    cases = {
        "I am praying I don't wake up from the operation on Thursday. Mateo will go with my sister": CRISIS,
        "Honestly I'm hoping the anaesthetic does me in on Tuesday and saves everyone the bother": CRISIS,
        "I cut my legs again tonight with the razor like when I was 16": CRISIS,
        "I put injections in bin. Let it come. I am ready": CRISIS,
        "I stop to take the rivaroxaban since 4 days. I want it to happen, the clot, so everything finish.": CRISIS,
        "stopped the injections on purpose. if a clot comes it comes": CRISIS,
        "she is hiding her blood thinner injections, she is not taking them so the clot will come": CRISIS,
        # Look-alikes of the new patterns.
        "I hope I dont wake up during the operation on Thursday, that is my worst fear": NONE,
        "I'm hoping the operation takes me back to how I was before": NONE,
        "my back aches like when I was pregnant, is that the disc?": NONE,
        "I stopped the injections on purpose because the nurse said 10 days only. is that right?": NONE,
        "i dont want the clot to come back, should i keep the injections going?": NONE,
        "why do they stop the warfarin so a clot can come? seems backwards": NONE,
        "if a clot comes it comes I suppose, nothing I can do, but I am doing the injections every day like told": NONE,
        "I put the used syringes in the sharps box like the nurse showed me. where do I take the box when full?": NONE,
        "I hate the injections so much, deliberately doing them in the evening so I sleep after. is that ok?": NONE,
        "I was told to stop my apixaban 48 hours before the operation. I did so, deliberately and to the minute.": NONE,
    }
    _assert_review_and_cases(rules_only, "review47_probes.yml", 90, cases)


def test_the_review_of_medicines_stopped_so_that_harm_comes_keeps_its_probes_at_their_level(rules_only: Triage):
    """A second review, of ``vital_medicine_refused`` alone (tests/data/triage/review48_probes.yml): medicines
    stopped as told, a dose forgotten, a syringe dropped, sharps boxes and "on purpose" said of something
    harmless stay calm; the crises the flag reads stay crises."""
    cases = {
        "Theo he has hidden his warfarin, he say me 'let the clot come and take me', he is in the bedroom "
        "now": CRISIS,
        "dropped a syringe on the kitchen floor so i threw it in the yellow box. will the pharmacy give me "
        "another?": NONE,
    }
    _assert_review_and_cases(rules_only, "review48_probes.yml", 60, cases)


def test_tablets_counted_against_a_prescription_a_hoped_for_symptom_a_drawer_full_and_a_clot_let_come(
    rules_only: Triage,
):
    """Tablets counted to see that they last until the next prescription stay calm, as does a hope not to
    wake up "with" a complication; a lethal dose asked about with "a drawer full" at home, and a clot let
    come "is ok for me" after the injections were binned, are crises. A wish not to wake tomorrow, and
    tablets counted until there are enough "to do it", stay crises."""
    cases = {
        "counted my codeine: 9 left, gp appt is in 7 days so enough tablets right?": NONE,
        "counting my pills, running out before my repeat. can the ward give me some?": NONE,
        "hope i dont wake up tomorrow with foot drop like my neighbour. is rare?": NONE,
        "i hope i dont wake up tomorrow": CRISIS,
        "counted my tablets, 30 left, enough to do it": CRISIS,
        "lethal dosage of oxycodone for a woman of 9 stone? i have a drawer full left from my last op": CRISIS,
        "fragmin in bin. all. clot can come. is ok for me.": CRISIS,
        "if a clot can come, is it ok for me to fly?": NONE,
        "the nurse said a clot can come, that's fine she said, just take them": NONE,
    }
    _assert_review_and_cases(rules_only, "review47_probes.yml", 70, cases)


def test_the_review_of_tablets_counted_hopes_not_to_wake_lethal_doses_and_clots_let_come(rules_only: Triage):
    """A review of the four kinds (tests/data/triage/review49_probes.yml): tablets counted against a
    prescription, a hope not to wake up with a complication, a lethal dose asked for a course and fatalism
    about a clot stay calm; tablets stored in a cupboard or a car beside a lethal dose, a wish not to wake
    called a blessing, and blood thinners binned so that a clot comes are crises. Every dose taken as
    prescribed is no overdose."""
    cases = {
        "If I dinna wake up efter the op, that'll be a blessin. I mean it.": CRISIS,
        "binned the clot jabs. if one comes it comes and good riddance to me": CRISIS,
        "throw the injections in bin. let clot come. better so": CRISIS,
        "what is fatal dose morphine. i have from old operation, keep in cupboard behind flour. 2 boxes": CRISIS,
        "how many pregabalin is lethal. i have 4 boxes in car. nobody know": CRISIS,
        "I have placed the syringes in the dustbin, I no longer take the anticoagulant. If the clot comes, "
        "it is acceptable for me.": CRISIS,
        "she took all the tablets the hospital gave at right time. when can she shower?": NONE,
        "she took all the tablets the hospital gave": CRISIS,
        "my wife takes every injection. if a clot comes it comes, she says, no point worrying. can she fly?": NONE,
    }
    _assert_review_and_cases(rules_only, "review49_probes.yml", 67, cases)


def test_medicine_crises_bleeding_through_towels_and_a_leaflets_overdose_section(rules_only: Triage):
    """A month someone will not be here in does not date self-harm; a dressing or towels red through and a
    nosebleed that will not stop are emergencies (not as a question); a fatal quantity asked with a supply
    the surgery is unaware of, and blood thinners not to be taken with a clot seen as a release, are
    crises. A leaflet's overdose section, tablets taken by mistake and the anaesthetic asked about for
    anyone stay calm; someone who cannot be kept awake after them is an emergency."""
    cases = {
        "this is a suicide plan and I do not intend to be here in March.": CRISIS,
        "in june i had a bad time, im fine now, will the anaesthetist ask?": NONE,
        "the bandage is totally red and two towels soaked": EMERGENCY,
        "nose bleed for half an hour, wont stop, im on rivaroxaban": EMERGENCY,
        "what if a nosebleed wont stop on apixaban?": NONE,
        "the dressing is a bit red at the edge, is that normal?": NONE,
        "what quantity of digoxin would be fatal? the GP is unaware how many I have": CRISIS,
        "I do not intend to inject the fragmin after the op. If a clot should come I would see it as a release.": (
            CRISIS
        ),
        "the leaflet has a section on overdose, what do i do if i take two by mistake?": NONE,
        "i took 4 of my co-codamol by accident instead of 2, feel fine. ok?": NONE,
        "my dad took 3 of my tramadol by mistake, now i cant keep him awake": EMERGENCY,
        "can the anaesthetic make that people never wake up again? how often": NONE,
    }
    assert _levels(rules_only, cases) == cases


def test_the_review_of_medicine_crises_keeps_its_probes_at_their_level(rules_only: Triage):
    """A review of medicine crises (tests/data/triage/review50_probes.yml): tablets counted for a festival
    or against a repeat asked for later, and a relative's joke about finishing the writer off, stay calm;
    a heart tablet not restarted "I hope it takes me before the summer" and hidden tablets asked "is
    enough?" with secrecy are crises. A repeat that will never be needed again is no errand."""
    cases = {
        "counted my tablets for the festival, 12 co-codamol left. can the gp do a repeat before friday?": NONE,
        "been counting my tablets, 60 now, dont need a repeat": CRISIS,
        "saving my tramadol, 40 now, wont need to order a repeat ever again": CRISIS,
        "counting my tablets for the festival, need to order a repeat before friday": NONE,
        "9 cocodamol left, need to get a repeat": NONE,
        "my wife says shell finish me off herself if i moan again, ha. can i drive yet?": NONE,
        "didnt restart the clopidogrel after the op and wont. hope it takes me soon.": CRISIS,
        "hope it takes me less than a week to get back to work": NONE,
        "45 pills hidden. is enough? dont tell my wife": CRISIS,
        "I have 30 tablets. is that enough?": NONE,
    }
    _assert_review_and_cases(rules_only, "review50_probes.yml", 63, cases)


def test_a_low_sugar_with_confusion_is_an_emergency_and_questions_about_hypos_stay_calm(rules_only: Triage):
    """Confusion, strange talk or not answering properly beside a low reading, a hypo named or insulin
    taken twice, or after insulin or gliclazide with no food, is a severe hypo (docs/triage-levels.md:
    an emergency); so is a fit told in two words. Confused about the instructions, a hypo asked about
    ("what if"), one in the past, one treated with the sugar back up, and drowsy from painkillers with a
    normal reading stay calm; "he is talking normal" is no collapse."""
    cases = {
        "my sugar is 2.4 and im all confused and sweaty": EMERGENCY,
        "took my insulin twice by mistake, now 3.1 and i feel a bit muddled": EMERGENCY,
        "he did his gliclazide and ate nothing cos of the op, now he's talking really strange like he's drunk": (
            EMERGENCY
        ),
        "hypo. 2,3. she keeps asking me the same thing over and over": EMERGENCY,
        "meter says 2.6, he is staring at the wall and won't drink the juice": EMERGENCY,
        "my son fitting now. sugar LO": EMERGENCY,
        "what if my sugar goes low and I get confused?": NONE,
        "im confused about how much insulin to take on the day, my sugar is usually 7": NONE,
        "I'm a bit confused, the letter says nil by mouth but do I still take my insulin?": NONE,
        "had a hypo last year and got confused, should I tell the anaesthetist?": NONE,
        "hypo this morning, 2.8, had lucozade, now 5.9 and clear headed": NONE,
        "he is a bit sleepy with the codeine but he is talking normal, sugar 8.4. ok?": NONE,
        "the brace is fitting now, much better": NONE,
    }
    assert _levels(rules_only, cases) == cases


def test_the_first_review_of_severe_hypos_keeps_its_probes_at_their_level(rules_only: Triage):
    """A review of severe hypos (tests/data/triage/review51_probes.yml): "mazed", "talking proper weird",
    "slurring like he's had a skinful" beside a low reading or insulin and no food; a fit told in two
    words."""
    cases = {
        "sugar 2.7 and hes slurring like hes had a skinful": EMERGENCY,
        "im mazed with all these instructions, do i halve the humulin?": NONE,
    }
    _assert_review_and_cases(rules_only, "review51_probes.yml", 74, cases)


def test_the_second_review_of_severe_hypos_keeps_its_probes_at_their_level(rules_only: Triage):
    """A second review of severe hypos (tests/data/triage/review52_probes.yml): a reading with a comma or
    on the phone, confusion told by what is seen, a fit in a chair; "swearing at me which he never does"
    negates nothing told after it."""
    cases = {
        "hipo. 2,1. confuse": EMERGENCY,
        "she has gone rigid and is jerking in her chair": EMERGENCY,
        "he is swearing at me which he never does istg, and hes not making sense": EMERGENCY,
        "the phone says 5.8, he's a bit sleepy from the tramadol, ok?": NONE,
    }
    _assert_review_and_cases(rules_only, "review52_probes.yml", 60, cases)


def test_the_third_review_of_severe_hypos_keeps_its_probes_at_their_level(rules_only: Triage):
    """A third review of severe hypos (tests/data/triage/review53_probes.yml): behaviour told without the
    word "confused" after insulin and little food; non-native "before 3 years" is three years ago, and a
    past attempt with the same feeling again lately is a crisis."""
    cases = {
        "he did his bolus for tea but left most of it, now he's answering everything with yeah, not himself": (
            EMERGENCY
        ),
        "Before 3 years I had very low sugar, I was confused. Since then no problem. Must the anaesthetist know?": (
            NONE
        ),
        "before 10 years i try kill myself, last weeks i feel same again": CRISIS,
        "I might be getting confused myself haha, do I stop the gliclazide on the day?": NONE,
    }
    _assert_review_and_cases(rules_only, "review53_probes.yml", 78, cases)


def test_a_severe_hypo_told_by_what_is_seen_and_insulin_as_a_means_are_found(rules_only: Triage):
    """A tuning part from people with diabetes (clinic_triage/corpus/tune49_diabetes.yml): "gone ever so
    odd", "being really weird", double vision or not waking beside a low reading or a sensor's LO are a
    severe hypo; not seeing a purpose to continue, all the insulin pens at once "and be done with it" and a
    basal insulin stopped on purpose are crises. Feeling strange with no low sugar, a dosing question and
    going on with physio stay calm."""
    cases = {
        "mum's gone ever so odd, meter says 2.7": EMERGENCY,
        "his libre says LO and he's being really weird": EMERGENCY,
        "sugar 2.2 and i see double": EMERGENCY,
        "he does not wake up, libre says 2.0": EMERGENCY,
        "I feel very strange after the anaesthetic, is that normal?": NONE,
        "i do not see purpose to continue.": CRISIS,
        "dad said he might as well do all his pens at once and be done with it": CRISIS,
        "can i do all my pens at once in the morning?": NONE,
        "I have stopped my Toujeo on purpose and I won't start it again, I want to go to sleep": CRISIS,
        "I do not see the point in going on with physio": NONE,
    }
    assert _levels(rules_only, cases) == cases


def test_a_last_letter_typed_twice_is_read_once(rules_only: Triage):
    """held_keys.yml: a hand whose key doubles the last letter ("thickk", "sitt up", "emergencyy") is read
    as the word it means; words that end so ("odd", "egg", "inn", "hmm"), a size in "mm", letters English
    doubles ("knee", "still", "numbness") and "numm" for numb stay as typed."""
    rules = rules_only.rules
    assert rules.read_held_keys("lump getting biggerr, cant sitt up, emergencyy") == (
        "lump getting bigger, cant sit up, emergency"
    )
    assert rules.read_held_keys("odd egg inn hmm 10 mm knee still numbness numm") == (
        "odd egg inn hmm 10 mm knee still numbness numm"
    )
    cases = {
        "tongue feels thickk and swolen, cant talk properr. started after the new antibioticc": EMERGENCY,
        "headd splitting when i sitt up, eases off when im flat on the bed. op mondayy": EMERGENCY,
        "numm down there when I wipe since this morning": EMERGENCY,
        "what counts as an emergencyy after the neck opp?": NONE,
        "scarr looks finee, no temp, when can i drivee?": NONE,
    }
    assert _levels(rules_only, cases) == cases


def test_a_held_key_file_with_more_than_a_letter_is_refused(tmp_path):
    with pytest.raises(ValueError, match="single letters"):
        load_rules(_rules_with(tmp_path, {"held_keys.yml": "version: 1\nletters: [k, ss]\n"}))


def test_the_broad_review_keeps_its_probes_at_their_level(rules_only: Triage):
    """A broad blind review (tests/data/triage/review54_probes.yml): a denial over years ("I have had no
    chest pain for years") is denied, a question inside a neck operation's swelling is a question, a cut
    "meself" shaving is an accident, a childhood difficulty is long past, "if I don't come round I would be
    fine with that" is a wish, and a time of now before "when" tells when it happened."""
    cases = {
        "I have had no chest pain for years": NONE,
        "i have had no fever for years, just asking when to stop the antibiotics": NONE,
        "cut meself shaving this morning, tiny nick": NONE,
        "cut meself again last night": CRISIS,
        "With the neck operation, will there be swelling afterwards?": NONE,
        "my neck is swelling up since the op": EMERGENCY,
        "I have trouble to swallow big tablets since small girl": NONE,
        "if I don't come round after the anaesthetic, I would be fine with that": CRISIS,
        "Every night I pray to God that I don't wake up in the morning.": CRISIS,
        "this morning when I take it off to wash, the cut has come open in the middle": EMERGENCY,
        "what should i do when the cut comes open?": NONE,
        "my cousin couldnt breathe from a bee sting last summer, hes sweet now": NONE,
    }
    _assert_review_and_cases(rules_only, "review54_probes.yml", 180, cases)


def test_the_second_broad_review_keeps_its_probes_at_their_level(rules_only: Triage):
    """A second blind review (tests/data/triage/review56_probes.yml): a past attempt with the thoughts back
    in lay or non-native words, self-harm in dialect ("hurt mesel", "do meself in"), a hope to sleep and
    never open one's eyes again, swallowing getting harder after a neck operation; an accident while
    cooking, "no bowel problem" for twenty years and a difficulty "since always" stay calm."""
    cases = {
        "I was in hospital after I try to die, long ago. My head is going to that place again.": CRISIS,
        "I was in hospital after I try to die, long ago. I am well now.": NONE,
        "I overdosed in 2010. the therapy helped for years but now the old thoughts are back": CRISIS,
        "overdose in 2001, well since then. the injection helped a lot, i want to do it again": NONE,
        "gonna do meself in la, honest": CRISIS,
        "did my back in lifting the shopping": NONE,
        "I am hoping I sleep and never open my eyes again.": CRISIS,
        "hoping i sleep well tonight, the bed is so uncomfortable": NONE,
        "Ah keep wantin to hurt mesel, hinny": CRISIS,
        "I cut myself with the knife when I make the chipa, small cut in the finger": NONE,
        "I have been hurting myself with the kitchen knife on my legs, where nobody can see.": CRISIS,
        "For 20 years I have no bowel problem, bladder always fine.": NONE,
        "i have no bowel control since this morning": EMERGENCY,
        "Since always I have difficulty to swallow big tablets": NONE,
        "Day 2 after the neck surgery. Since afternoon swallowing becomes harder and harder": EMERGENCY,
    }
    _assert_review_and_cases(rules_only, "review56_probes.yml", 80, cases)


def test_the_third_broad_review_keeps_its_probes_at_their_level(rules_only: Triage):
    """A third blind review (tests/data/triage/review57_probes.yml): "or no" after a wish is "or not", not a
    checklist's denial; "i'd rather not wake up", a hope "i divvent wake up" and "put us under and leave us
    there" are crises; "been well 13 years now" is long past; going to work in the morning and a question
    of how long one sleeps stay calm."""
    cases = {
        "Tonight I take double of the sleeping pills and I don't care if I wake up or no.": CRISIS,
        "fever no, pus no, wee fine, just asking about driving": NONE,
        "every mornin i wake up and im gutted i did. id rather just not wake up": CRISIS,
        "gan to sleep every night hoping i divvent wake up": CRISIS,
        "put us under and leave us there, i meant it": CRISIS,
        "i tried to end it when i was 23, had proper help after, been well 13 year now. is it relevant": NONE,
        "id rather not wake up in the morning, i have to go to work lol": NONE,
        "i prefer not to wake up too early after the op": NONE,
        "i had a clot 2 years ago, now my calf is swollen and hot": EMERGENCY,
    }
    _assert_review_and_cases(rules_only, "review57_probes.yml", 95, cases)


def test_what_two_reviews_of_the_broad_reviews_edits_found_stays_fixed(rules_only: Triage):
    """Two read-only reviews of the edits for review54, review56 and review57 found wordings they had
    calmed or raised; rules alone, each is at its level."""
    cases = {
        "ive been shaking and shivering since forever, temp is 39": EMERGENCY,
        "my daughter had a fit when she was at school, the teacher just phoned me, shes very drowsy": EMERGENCY,
        "i cut miself on purpose last night": CRISIS,
        "i cut myself on purpose with my dads shaving razor": CRISIS,
        "ive been cutting meself on the legs again": CRISIS,
        "my buttt has been numb since yesterday": EMERGENCY,
        "my neck can't move it's that swollen, op was yesterday": EMERGENCY,
        "no bowel or bladder control since this morning": EMERGENCY,
        "i tried to kill myself in 2015. nothing has helped and ive started wanting to do it again": CRISIS,
        "i've been cutting myself for 2 years now, nobody knows": CRISIS,
        "my left calf is swollen red and hot since baby was born 2 weeks ago": EMERGENCY,
        "after my neck op if anything the swelling is getting worse": EMERGENCY,
        "i did meself in yesterday shifting the wardrobe, back killing me": NONE,
        "im scared ill do myself in if i go back to work too soon": NONE,
        "can they put me under and keep me under, im a nervous patient": NONE,
        "i tried to die my hair purple lol, is hair dye ok before surgery": NONE,
        "for the operation i prefer not to wake up, can i have the general one": NONE,
        "i cut myself as a teen, all good now. its back, the feeling in my toes!": NONE,
        "is it normal that swallowing gets harder after a neck op?": NONE,
        "is there meant to be a fever or no, just wondering what's normal": NONE,
        "whats the point of goin on the waiting list if they cant fix it": NONE,
        "i dont care if i come round in recovery or on the ward, can my husband wait in the room": NONE,
    }
    assert _levels(rules_only, cases) == cases


def test_a_cry_of_oh_no_denies_nothing_and_a_checklists_last_no_denies_its_item(rules_only: Triage):
    """Rules alone: "oh no" after a red flag is a cry, not a checklist's answer ("i cant pee oh no, what do
    i do" had been calm through the whole pipeline); a checklist's last "no" at the very end of the
    message denies a symptom named in one word after an item already denied ("fever no, pus no"), and a
    tag "no" ("the cut has pus no", "very hot, fever no") denies nothing. (The rules alone leave
    uncontrolled pain in the words of the last case to the second reader, which answers it urgent.)"""
    cases = {
        "i cant pee oh no, what do i do": EMERGENCY,
        "blood everywhere omg no!": EMERGENCY,
        "my calf is swollen and hot oh no.": EMERGENCY,
        "cant feel my legs oh god no, please help": EMERGENCY,
        "since yesterday my father is having fever no": EMERGENCY,
        "sir the cut has pus no": EMERGENCY,
        "i cant pee no": EMERGENCY,
        "fever no, pus no": NONE,
        "temp normal, redness no, pus no": NONE,
        "fever ah no, pus ah no, just the stiffness in the morning": NONE,
        "fever no no, pus no no, only pain when i sit": NONE,
        "wound red and a bit hot, pus no, fever no": URGENT,
        "incision gaping about 1cm since this morning, smell no": EMERGENCY,
        "sir he is shaking and very hot, fever no": EMERGENCY,
        "my mother is not good, fever no": EMERGENCY,
        "tablets doctor give, me take all right time, pain still strong strong, sleep can't. numb no, fever no": NONE,
    }
    assert _levels(rules_only, cases) == cases


def test_the_blind_review_of_calm_look_alikes_keeps_its_probes_at_their_level(rules_only: Triage):
    """A blind review of calm messages in the words of every kind of red flag, with red flags in the same
    voices (tests/data/triage/review58_probes.yml): the rules alone keep these at their level; the
    misses are listed in the file (a shy bladder, a kitchen's heat, travel sickness, each tried as a rule
    and dropped because it hid red flags)."""
    _assert_review_and_cases(rules_only, "review58_probes.yml", 90, {})


def test_the_blind_review_of_red_flags_typed_the_hard_way_keeps_its_probes_at_their_level(rules_only: Triage):
    """A blind review of red flags with heavy typos, dialect and understatement, and calm messages in the
    same voices (tests/data/triage/review59_probes.yml): the rules alone keep these at their level; the
    second reader escalates every red flag the rules miss here (listed in the file)."""
    _assert_review_and_cases(rules_only, "review59_probes.yml", 75, {})


def test_the_blind_review_of_a_last_letter_typed_twice_keeps_its_probes_at_their_level(rules_only: Triage):
    """A blind review of red flags and calm look-alikes typed by hands that double a word's last letter,
    most in letters English doubles ("myselff", "calff", "lumpp", "peee"; tests/data/triage/review60_probes.yml):
    the rules alone keep these at their level; the second reader escalates every red flag they miss there
    but one (listed in the file)."""
    _assert_review_and_cases(rules_only, "review60_probes.yml", 74, {})


def test_the_reviews_of_lethal_dose_questions_beside_tablets_stored_keep_their_probes_at_their_level(
    rules_only: Triage,
):
    """Calm dose questions, carers' stores, liver worries and savings of money in the words of a
    lethal-dose question beside tablets stored, and the crises among them the rules find
    (tests/data/triage/review61_probes.yml): the rules alone keep these at their level. Most crises of
    this area are missed by the rules and by the second reader (listed in the file)."""
    _assert_review_and_cases(rules_only, "review61_probes.yml", 83, {})


def test_the_blind_review_of_lethal_dose_questions_keeps_its_probes_at_their_level(rules_only: Triage):
    """A blind review of lethal-dose questions beside tablets saved, hidden or counted, and their calm
    neighbours in the same words (tests/data/triage/review62_probes.yml): the rules alone keep these at
    their level. Most crises here are the second reader's (the rules' misses are listed in the file)."""
    _assert_review_and_cases(rules_only, "review62_probes.yml", 57, {})


def test_the_reviews_of_knife_accidents_tight_calves_and_someone_elses_self_harm_keep_their_probes(
    rules_only: Triage,
):
    """Red flags and calm look-alikes from two read-only reviews of dropped edits, labelled twice
    (tests/data/triage/review63_probes.yml): self-harm with a knife at work or in the kitchen, a tight
    calf beside a sign denied, someone else's self-harm now and its figures of speech ("cutting himself
    off", "burning herself out"). The rules alone keep these at their level; the calm accidents and tight
    calves they raise, and someone else's self-harm they miss, are listed in the file."""
    _assert_review_and_cases(rules_only, "review63_probes.yml", 101, {})


def test_the_blind_review_of_someone_elses_self_harm_keeps_its_probes_at_their_level(rules_only: Triage):
    """A blind review of someone else's self-harm told through what the writer sees (cuts, burns and marks,
    blades hidden, cover stories) and its calm look-alikes on the same body parts
    (tests/data/triage/review64_probes.yml): the rules alone keep these at their level. Most crises here
    are the second reader's (the rules' misses are listed in the file)."""
    _assert_review_and_cases(rules_only, "review64_probes.yml", 53, {})


def test_the_review_of_self_harm_marked_by_a_body_part_keeps_its_probes(rules_only: Triage):
    """Someone else's self-harm marked by a body part or a means, and accidents, skin tears, tattoos and
    eczema on the same body parts, from a read-only review labelled twice
    (tests/data/triage/review65_probes.yml): the rules alone keep these at their level."""
    _assert_review_and_cases(rules_only, "review65_probes.yml", 51, {})


def test_crises_said_in_the_words_of_a_figure_of_speech_stay_crises(rules_only: Triage):
    """Crises said with "killing myself", "burning myself" and "hurt myself going ...": a plan, a stash or
    self-harm, from three read-only reviews of a dropped narrowing of those words, labelled twice
    (tests/data/triage/review66_probes.yml): the rules alone keep these crises, and the few calm figures of
    speech they already read as calm, at their level; the calm figures of speech they still raise are
    listed in the file."""
    _assert_review_and_cases(rules_only, "review66_probes.yml", 173, {})


def test_a_second_blind_review_of_someone_elses_self_harm_keeps_its_probes(rules_only: Triage):
    """A second blind review of someone else's self-harm, by writers in registers no earlier writer used
    (tests/data/triage/review67_probes.yml): the rules alone keep its calm look-alikes, its emergencies
    and the crises they find at their level; the crises told only through what the writer sees are the
    second reader's (listed in the file)."""
    _assert_review_and_cases(rules_only, "review67_probes.yml", 63, {})


def test_self_harm_last_week_is_recent_and_a_span_up_to_now_is_not_the_past(rules_only: Triage):
    """A time "last week" or "last month" still dates a symptom to the past, but not an attempt or thoughts
    of suicide: those are recent, not long over (as "two weeks ago" already is). "The last week", "since
    last week", "in the past month": a span that runs up to now dates nothing. The calm wordings that
    "last week" used to hide stay calm, and the reviews of the change
    (tests/data/triage/review68_probes.yml) keep their probes at their level."""
    cases = {
        "i tried to kill myself last week": CRISIS,
        "my son tried to kill himself last week, hes home now": CRISIS,
        "i am thinking to killing myself for the last week, the pain never stop": CRISIS,
        "ive been cutting myself for the last month": CRISIS,
        "i took an overdose last month and i still feel the same": CRISIS,
        "last month he said nobody would miss him": CRISIS,
        "keep wetting myself for the last week without noticing. had my op in march": EMERGENCY,
        "my calf has been swollen and hot for the last week, the op was 10 days ago": EMERGENCY,
        "I had a fever last week, it went away and I'm fine now": NONE,
        "The fever finished quickly, it was only one night last week, now temperature is normal.": NONE,
        "last week i said goodbye to my old saggy mattress haha. is firm better after the op?": NONE,
        "I forgot to take all my pills one night last week, is that a problem for the op?": NONE,
        "I took all my tablets last week as the doctor prescribed, the course of antibiotics is finished.": NONE,
        "said my goodbyes to everyone, left the brace on the bed": CRISIS,
        "said my goodbyes to the wheelchair and everyone, tonight im done": CRISIS,
        "took all my tablets at once, not as my gp prescribed": CRISIS,
        "in the past month i've thought about killing myself every day": CRISIS,
        "i cant pee since last week": EMERGENCY,
        "ive wet myself twice in the past 24 hours without noticing": EMERGENCY,
        "had chest pain in the past 5 years, ecg was normal": NONE,
    }
    _assert_review_and_cases(rules_only, "review68_probes.yml", 230, cases)


def test_a_recent_attempt_said_to_be_over_now_is_still_a_crisis(rules_only: Triage):
    """An attempt or thoughts of suicide days or weeks ago, said in the same sentence to be over now, by the
    writer or someone else, are recent, not long over: "fine now" no longer calms them, while a time long
    past still does, and other flags said to be over stay calm. Attempts in lay words ("top myself", "hang
    herself", "od'd", wrists cut) are found, not their look-alikes (an inversion table, topping up, "od" on
    chocolate, "40-odd", a wrist cut on coral). The reviews of the change
    (tests/data/triage/review69_probes.yml) keep their probes at their level."""
    cases = {
        "i tried to kill myself last week but im fine now, when can i drive": CRISIS,
        "i took an overdose two weeks ago, im ok now": CRISIS,
        "i tried to kill myself a month ago, i'm fine now": CRISIS,
        "tried to end it monday night, fine now": CRISIS,
        "i self harmed on sunday but im fine now": CRISIS,
        "my son tried to kill himself last week, he's ok now": CRISIS,
        "my wife took an overdose 2 weeks ago, shes fine now": CRISIS,
        "my wife tried to hang herself on sunday": CRISIS,
        "i tried to top myself": CRISIS,
        "tried to od last wk lol dont worry im ok now": CRISIS,
        "my partner od'd on friday night, he's home now and totally fine": CRISIS,
        "found him in his room on friday night hed cut his wrists, not deep": CRISIS,
        "i had a fever a month ago, gone now": NONE,
        "I had a fever last week, it went away and I'm fine now": NONE,
        "i took an overdose years ago, fine now, saw the gp on tuesday": NONE,
        "i hang myself upside down on the inversion table to stretch my back": NONE,
        "i top myself up with water before bed": NONE,
        "my dad had a breakdown in the 70s, he's been grand for 40-odd year": NONE,
        "i od'd on chocolate at christmas lol": NONE,
        "gonna od on xmas dinner lol": NONE,
        "gonna od on my tramadol tonight": CRISIS,
        "im going to hang myself from the chin-up bar tonight": CRISIS,
        "i want to hang myself nothing helps my back anymore": CRISIS,
        "i took an overdose when i was at uni, im fine now, saw my gp last week about the op": NONE,
        "Dan cut his wrist on the coral in the dive this weekend, now they heal good": NONE,
        "my calf has been swollen and hot for ages now, since the op 10 days ago": EMERGENCY,
    }
    _assert_review_and_cases(rules_only, "review69_probes.yml", 240, cases)


def test_self_harm_told_in_lay_words_is_a_crisis_and_its_look_alikes_stay_calm(rules_only: Triage):
    """Tablets taken in number on purpose, oneself or one's arms cut with what drove it, a poison or a
    household chemical drunk, "fed up with life" are a crisis, recent and said to be over or not; an
    accidental cut, extra painkillers taken on purpose for the pain, a dose of two tablets, "take them
    all" asked of the morning tablets, someone cut off from the family stay calm. The reviews of the
    change (tests/data/triage/review70_probes.yml) keep their probes at their level."""
    cases = {
        "Last week I took more of my tablets than I should have, deliberately. I am alright now": CRISIS,
        "3 days back he consumed extra sleeping tablets intentionally after some fight in the family": CRISIS,
        "few days ago I take many tablets together, not by mistake, I was very sad": CRISIS,
        "i took the lot last week after a bad day, on purpose like, im grand now": CRISIS,
        "had a wobble last week and cut myself a bit, nothing major": CRISIS,
        "In the weekend I cut my arms, I am better now, it was moment of weakness": CRISIS,
        "my girlfriend cut herself the night after we argue, now she say is finish": CRISIS,
        "my brother slit his wrists on wednesday, hes out of hospital": CRISIS,
        "Last month I consumed rat poison as I was fed up with life, now recovered": CRISIS,
        "i drank some of the weedkiller from the shed last night cos i was fed up with everything": CRISIS,
        "I took 2 tablets of ibuprofen at 8am, when can I take the next": NONE,
        "took 2 pills for the pain, still sore": NONE,
        "i took extra painkillers on purpose for the pain last night": NONE,
        "i didnt take extra tablets on purpose, i forgot i had already had them": NONE,
        "i cut my legs shaving again": NONE,
        "My morning tablets go with breakfast. On the day of the op should I still take them all or just some?": NONE,
        "My mama cut herself off from the family WhatsApp because we argue": NONE,
        "my girlfriend had depression 2 years ago and she cut herself one time, now she is very good": NONE,
        "fed up with life on the waiting list, when will i get a date": NONE,
        "the dog drank some antifreeze off the drive, vet says hes ok": NONE,
    }
    _assert_review_and_cases(rules_only, "review70_probes.yml", 295, cases)


def test_a_past_told_as_a_stage_of_life_a_loss_by_suicide_and_a_screening_no_stay_calm(rules_only: Triage):
    """Self-harm long past told as an age or a stage of life ("at 17. I'm 52", "in year 9 ... clean 8 yrs
    now", "in the 90s"), someone else's death by suicide, a screening question answered no and figures of
    speech stay calm; a recent act in lay words (the intent in the next sentence, a cut again last night, a
    poison taken on Sunday), thoughts back in any later sentence, and a no taken back are a crisis; the
    calming cues leave other flags' red flags of now alone. The reviews of the change
    (tests/data/triage/review71_probes.yml) keep their probes at their level."""
    cases = {
        "Tried to kill myself at 17. I'm 52. Completely fine. Does the surgeon need my old psych records?": NONE,
        "used to self harm in year 9 (cutting on my arms) been clean like 8 yrs now. will nurses see the scars": NONE,
        "after my divorce in the 90s I tried to kill myself, weeks in a psych unit. totally well now.": NONE,
        "my brother died by suicide last month. funeral is up in scotland 10 days after my op, can i travel?": NONE,
        "the nurse asked if I ever thought of harming myself, I said no, is that standard?": NONE,
        "the pre-op nurse asked if i had any numbness down below, i said no. what happens next?": NONE,
        "overdosed on chocolate at christmas lol, put on half a stone": NONE,
        "need to cut myself some slack with the physio exercises, how many reps is normal?": NONE,
        "our puppy ate rat poison last night, vet says shes ok, can i still come in tomorrow?": NONE,
        "my pills are lined up on the side and I counted them to check the pharmacy gave me enough for 2 weeks": NONE,
        "im 15. I swallowed a load of my mums tablets last night. It wasnt an accident.": CRISIS,
        "my daughter (13) took a handful of my naproxen at the weekend after falling out with her friends": CRISIS,
        "I had all my co-codamol at once on Wednesday. Not for the pain.": CRISIS,
        "im at uni and last night i cut again, first time since year 10": CRISIS,
        "took rat poison on sunday, im 23, feel ok now. do i still come in for my pre-op": CRISIS,
        "in the 1990s i attempted suicide and im having those thoughts again": CRISIS,
        "cut myself in year 10. haven't for years. keep thinking about doing it again now i cant work": CRISIS,
        "the nurse asked if i had thoughts of suicide, i said no but honestly i do most nights": CRISIS,
        "lost my twin to suicide in january and honestly i dont want to be here without him": CRISIS,
        "the doctor asked if i had any feeling down there, i said no, its completely numb when i wipe": EMERGENCY,
        "calf swollen hot and painful clot in the 2000s same leg": EMERGENCY,
    }
    _assert_review_and_cases(rules_only, "review71_probes.yml", 800, cases)


def test_a_modifier_that_names_no_flag_is_refused(tmp_path):
    """A modifier's ``allowed_types`` or ``excluded_types`` naming no flag (a misspelling) would leave it
    reaching no mention or every one: the rules must not load."""
    context = (RULES_DIR / "context.yml").read_text(encoding="utf-8")
    marker = "      excluded_types: [self_harm]\n"
    assert marker in context
    misspelt = context.replace(marker, "      excluded_types: [self_harmm]\n")
    with pytest.raises(ValueError, match="names no flag"):
        load_rules(_rules_with(tmp_path, {"context.yml": misspelt}))
