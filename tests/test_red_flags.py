"""Red flags are escalated whatever the classifier says; negated/general mentions are not."""
from __future__ import annotations

import pytest
import yaml

from clinic_nlu.red_flags import detect, normalise
from tests.conftest import ROOT

CASES = yaml.safe_load((ROOT / "tests" / "data" / "red_flags.yml").read_text(encoding="utf-8"))
HELD_OUT = yaml.safe_load((ROOT / "tests" / "nlu_test.yml").read_text(encoding="utf-8"))


def _held_out(intent_filter) -> list:
    out = []
    for block in HELD_OUT["nlu"]:
        if intent_filter(block["intent"]):
            out += [l[2:].strip() for l in block["examples"].splitlines() if l.strip().startswith("- ")]
    return out


def test_there_are_enough_cases():
    assert len(CASES["emergencies"]) >= 40 and len(CASES["not_emergencies"]) >= 40


@pytest.mark.parametrize("text", CASES["emergencies"])
def test_every_red_flag_phrasing_escalates(text):
    assert detect(text), text


def test_no_false_positive_on_the_non_emergency_held_out_messages():
    """The held-out patient questions of every other intent: target 0 false positives."""
    messages = _held_out(lambda intent: intent != "report_emergency")
    false_positives = [(m, [f.flag for f in detect(m)]) for m in messages if detect(m)]
    assert false_positives == []


def test_false_positive_rate_on_tricky_non_emergencies_is_low():
    """Negated, hypothetical and resolved mentions (hard cases). Measured and bounded, not zero:
    missing an emergency is worse than a needless emergency message (SAFETY.md H1)."""
    flagged = [t for t in CASES["not_emergencies"] if detect(t)]
    rate = len(flagged) / len(CASES["not_emergencies"])
    print(f"red-flag false positives on tricky non-emergencies: {len(flagged)}/{len(CASES['not_emergencies'])}")
    assert rate <= 0.10, flagged


@pytest.mark.parametrize(
    "text, flag",
    [
        ("I have no fever", None),
        ("i had a fever last year, it's gone", None),
        ("can this surgery cause incontinence?", None),
        ("i cant control my bladder since this morning", "bladder"),
        ("no fever but my wound is leaking", "wound_problem"),
        ("I can\u2019t feel my legs", "leg_weakness"),
        ("i dont want to live anymore", "self_harm"),
        ("my chest feels tight and i can't breathe", "chest_pain_breathing"),
        ("numb\u200b in my groin", "saddle_numbness"),
    ],
)
def test_negation_and_clause_handling(text, flag):
    flags = [f.flag for f in detect(text)]
    assert (flag in flags) if flag else flags == []


def test_normalise_handles_case_apostrophes_and_invisible_characters():
    assert normalise("  I CAN\u2019T\u200b  pee\x00 ") == "i can't pee"


def test_the_component_overrides_the_classifier(monkeypatch):
    from rasa.shared.nlu.training_data.message import Message

    from clinic_nlu.red_flag_component import RedFlagOverride

    component = RedFlagOverride(RedFlagOverride.get_default_config())
    urgent = Message(data={"text": "my wound is oozing pus and i have chills",
                           "intent": {"name": "ask_scarring", "confidence": 0.93},
                           "intent_ranking": [{"name": "ask_scarring", "confidence": 0.93}]})
    calm = Message(data={"text": "how big is the wound", "intent": {"name": "ask_scarring", "confidence": 0.9}})
    component.process([urgent, calm])
    assert urgent.get("intent") == {"name": "report_emergency", "confidence": 1.0}
    assert urgent.get("intent_ranking")[0]["name"] == "report_emergency"
    assert urgent.get("classifier_intent")["name"] == "ask_scarring"
    assert {f["flag"] for f in urgent.get("red_flags")} >= {"wound_problem", "fever_after_surgery"}
    assert calm.get("intent")["name"] == "ask_scarring" and calm.get("red_flags") == []
