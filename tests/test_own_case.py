"""clinic_nlu/own_case.py: a question about the writer's own symptom, found by the reviewable patterns."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinic_nlu.own_case import RULES_FILE, load_rules
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize(
    "text",
    [
        "my back hurts when i sit, is that normal",
        "My scar is itchy – is that OK?",
        "i still have some pain after the op is that normal",
        "its been 2 weeks and bending still hurts, should i worry",
        "the cut is a little bit sore, normal??",
        "why does my back ache more when i walk after the op",
        "i get twinges when i turn over in bed, is that ok",
        "my stitches feel itchy and tight, ok or not?",
        "dear sir, i experience soreness at the incision site ten days post surgery. is this to be expected?",
        "my sciatica is still there after the operation, why?",
        "I\u2019m still sore at 8 weeks, is that bad",
    ],
)
def test_an_own_symptom_with_a_normality_question_is_found(rules, text):
    assert rules.match(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        # general questions about symptoms: no symptom of the writer's own
        "is it normal to have some pain after the operation",
        "how long will my back be sore after the operation",
        "will the scar itch when it heals",
        "does everyone feel tired after the anaesthetic",
        "should i worry about the anaesthetic",
        "is it ok to shower after the op",
        # an own symptom but no question whether it is normal: the topic question stands
        "i have back pain, what is endoscopic discectomy",
        "my back pain has lasted two years, who is this operation for",
        "my leg hurts, how much does the operation cost",
        # someone else's
        "my friend had this op, how long was her recovery",
    ],
)
def test_a_general_question_or_one_without_the_normality_question_is_not(rules, text):
    assert rules.match(text) is None


@pytest.mark.parametrize(
    "text", ["is that normal?", "Normal??", "should i be worried", "is something wrong?", "ok or not?"]
)
def test_nothing_but_the_question_is_a_bare_normality_question(rules, text):
    assert rules.bare(text) is not None


@pytest.mark.parametrize("text", ["ok", "okay", "no", "is it safe?", "what is normal recovery", "is that all"])
def test_answers_and_other_questions_are_not(rules, text):
    assert rules.bare(text) is None


@pytest.mark.parametrize("text", ["my back hurts when i sit", "i still have some pain after the op", "my scar itches"])
def test_a_symptom_told_without_a_question_is_found(rules, text):
    assert rules.told(text) is not None


@pytest.mark.parametrize(
    "text",
    ["my back hurts, how much is it", "my shoulder hurts what is it", "i had the op 2 weeks ago", "my back hurts?"],
)
def test_a_symptom_with_a_question_or_no_symptom_is_not_told(rules, text):
    assert rules.told(text) is None


@pytest.mark.parametrize(
    "text, back",
    [
        ("the sciatica came back since the op, what do i do?", "the sciatica came back"),
        ("it came back after the op, is that normal?", "it came back"),
        ("my pain is back 3 weeks after the endoscopy", "my pain is back"),
        ("the numbness has now come back in my foot", "the numbness has now come back"),
        ("It\u2019s back, what now", "it's back"),
        ("my leg pain has returned", "my leg pain has returned"),
        ("the disc slipped again after the op, what now?", "the disc slipped again"),
        ("my disc has herniated again", "my disc has herniated again"),
        ("the hernia has recurred", "the hernia has recurred"),
        ("the condition grew back", "the condition grew back"),
    ],
)
def test_a_report_that_the_problem_came_back_is_found_asked_or_not(rules, text, back):
    found = rules.returned(text)
    assert found is not None and found[0] == back
    assert (found[1] is not None) == ("normal" in text)


@pytest.mark.parametrize(
    "text",
    [
        # a general question whether it comes back: the recurrence answer's (clinic_nlu/recurrence.yml)
        "will the sciatica come back?",
        "can the hernia come back after the operation",
        "what if it's coming back",
        "has it ever come back for other patients",
        "what happens if the pain is back after a year",
        "what if it came back",
        "has the disc ever slipped again for other patients",
        "what if it slipped again",
        "what if the disc slipped again",
        "can the disc slip again",
        # "back" the body part, and coming back to the clinic
        "is back pain common after the op",
        "it's back surgery, right?",
        "when do i come back for a check up",
        "does the pain come back when the anaesthetic wears off",
    ],
)
def test_a_general_question_or_another_back_is_not_a_report(rules, text):
    assert rules.returned(text) is None


def test_no_training_message_without_a_topic_is_a_told_symptom():
    """A told symptom replaces only out of scope, not understood and not covered: none of those
    training messages is one (the triage's intents, which are, are never replaced by it)."""
    rules = load_rules()
    taken = []
    for block in yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]:
        if block.get("intent") in ("out_of_scope", "ask_not_covered"):
            taken += [e.strip()[2:] for e in block["examples"].splitlines() if rules.told(e.strip()[2:])]
    assert taken == []


def test_no_training_question_of_another_intent_is_taken():
    """The patterns take no question that data/nlu.yml labels as anything but the own case: a topic
    question of the training data is never turned into a deferral."""
    rules = load_rules()
    taken = []
    for block in yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]:
        if "intent" not in block or block["intent"] == "ask_personal_advice":
            continue
        for line in block["examples"].splitlines():
            example = line.strip()[2:].strip()
            if example and (rules.match(example) or rules.bare(example) or rules.returned(example)):
                taken.append((block["intent"], example))
    assert taken == []


def test_the_rules_file_sits_next_to_the_module_and_a_bad_pattern_names_itself(tmp_path: Path):
    assert RULES_FILE.parent == ROOT / "clinic_nlu"
    bad = tmp_path / "own_case.yml"
    bad.write_text("version: 1\nsymptom: ['my (back']\nquestion: ['normal']\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"symptom pattern 'my \(back'"):
        load_rules(bad)
    bad.write_text("version: 1\nsymptom: ['x']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no question patterns"):
        load_rules(bad)
