"""The Rasa triage component: the level decides the intent, whatever the classifier predicted."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.triage_component import DEMOTE, KEEP, TriageOverride
from clinic_triage.engine import CLASSIFIER_FLAG as CLASSIFIER_FLAG_NAME
from clinic_triage.engine import default_triage

pytestmark = pytest.mark.unit


def _message(text: str, intent: str, confidence: float = 0.9, ranking=None) -> Message:
    ranking = ranking or [{"name": intent, "confidence": confidence}, {"name": "ask_safety", "confidence": 0.05}]
    return Message(data={"text": text, "intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking})


def _component(mode: str = DEMOTE) -> TriageOverride:
    return TriageOverride({"classifier_escalation": mode}, default_triage())


@pytest.mark.parametrize(
    "text, intent",
    [
        ("my wound is oozing pus and i have chills", "report_emergency"),
        ("everyone would be better off without me", "report_crisis"),
        ("the scar is redder and more sore than yesterday but no fever", "report_urgent"),
    ],
)
def test_an_escalated_message_gets_its_triage_intent(text, intent):
    message = _message(text, "ask_scarring", 0.93)
    _component().process([message])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == intent
    assert message.get("classifier_intent")["name"] == "ask_scarring"
    assert message.get("triage")["level"] != "none" and message.get("triage")["findings"]


def test_each_counted_red_flag_carries_the_rules_description_for_staff():
    """The staff app shows why a message was escalated: the description the rules give each flag."""
    triage = default_triage()
    message = _message("my wound is oozing pus and i have chills", "ask_scarring", 0.93)
    _component().process([message])
    found = message.get("red_flags")
    assert found and all(f["description"] == triage.description_of(f["flag"]) for f in found)
    assert all(f["description"] and f["description"] != f["flag"] for f in found)


def test_the_learned_readers_findings_are_described_from_its_settings_file():
    from clinic_triage.semantic import load_settings

    described = default_triage().description_of(CLASSIFIER_FLAG_NAME)
    assert described and described == load_settings().description


def test_no_description_holds_the_separator_the_staff_app_joins_them_with():
    triage = default_triage()
    flags = [*triage.rules.flags, CLASSIFIER_FLAG_NAME]
    assert all(";" not in triage.description_of(flag) for flag in flags)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("1 c4nt f33l my l3gs", "report_emergency"),
        ("c a n ' t  p e e", "report_emergency"),
        ("i want 2 die", "report_crisis"),
    ],
)
def test_a_red_flag_in_disguise_escalates_and_says_which_reading_found_it(text, intent):
    message = _message(text, "out_of_scope", 0.6)
    _component().process([message])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}
    assert message.get("triage")["read"] == "unmasked"


def test_a_calm_message_keeps_the_classifier_intent_and_records_the_discounted_finding():
    message = _message("no fever after the op, when can i drive?", "ask_recovery_time")
    _component().process([message])
    assert message.get("intent")["name"] == "ask_recovery_time"
    triage = message.get("triage")
    assert triage["level"] == "none" and triage["findings"][0]["counted"] is False
    assert message.get("red_flags") == []


def test_a_classifier_guess_of_emergency_on_a_calm_message_is_demoted_by_default():
    ranking = [
        {"name": "report_emergency", "confidence": 0.6},
        {"name": "ask_safety", "confidence": 0.3},
        {"name": "report_crisis", "confidence": 0.1},
    ]
    demoted = _message("what are the risks of the operation", "report_emergency", 0.6, ranking)
    kept = _message("what are the risks of the operation", "report_emergency", 0.6, list(ranking))
    _component(DEMOTE).process([demoted])
    _component(KEEP).process([kept])
    assert demoted.get("intent") == {"name": "ask_safety", "confidence": 0.3}
    assert [r["name"] for r in demoted.get("intent_ranking")] == ["ask_safety"]
    assert demoted.get("classifier_intent")["name"] == "report_emergency"
    assert kept.get("intent")["name"] == "report_emergency"


def test_a_demoted_guess_whose_next_intent_is_unsure_is_not_understood():
    """The FallbackClassifier ran before the demotion: a next intent below its threshold would be a
    topic the words barely resemble ("i no can walk good" as the safety facts at 0.01)."""
    ranking = [
        {"name": "report_emergency", "confidence": 0.9},
        {"name": "ask_safety", "confidence": 0.02},
        {"name": "greet", "confidence": 0.02},
        {"name": "ask_cost", "confidence": 0.02},
        {"name": "goodbye", "confidence": 0.02},
        {"name": "report_crisis", "confidence": 0.02},
    ]
    message = _message("some words no rule reads", "report_emergency", 0.9, ranking)
    _component(DEMOTE).process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.3}
    assert [r["name"] for r in message.get("intent_ranking")] == [
        "nlu_fallback",
        "ask_safety",
        "greet",
        "ask_cost",
        "goodbye",
    ]
    assert message.get("classifier_intent")["name"] == "report_emergency"


def test_a_demoted_guess_keeps_the_next_intent_when_it_holds_most_of_what_is_left():
    """ "no fever, no numbness. when can i drive?": the emergency guess takes most of the
    probability, but of what it leaves the recovery topic holds most: it is the answer."""
    ranking = [
        {"name": "report_emergency", "confidence": 0.85},
        {"name": "ask_recovery_time", "confidence": 0.1},
        {"name": "ask_safety", "confidence": 0.05},
    ]
    message = _message("no fever, no numbness. when can i drive again?", "report_emergency", 0.85, ranking)
    _component(DEMOTE).process([message])
    assert message.get("intent") == {"name": "ask_recovery_time", "confidence": 0.1}


def test_the_demotion_floor_is_the_fallback_threshold_of_config_yml():
    import yaml

    from tests.conftest import ROOT

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    fallback = next(c for c in pipeline if c["name"] == "FallbackClassifier")
    triage = next(c for c in pipeline if c["name"].endswith("TriageOverride"))
    floor = triage.get("min_demoted_confidence", TriageOverride.get_default_config()["min_demoted_confidence"])
    assert floor == fallback["threshold"]


def test_a_bad_mode_is_refused():
    with pytest.raises(ValueError):
        TriageOverride({"classifier_escalation": "maybe"}, default_triage())


def test_the_vocabulary_matches_the_domain(domain):
    from clinic_vocabulary import TRIAGE_INTENTS, TRIAGE_RESPONSES

    assert set(TRIAGE_INTENTS.values()) <= set(domain["intents"])
    assert set(TRIAGE_RESPONSES.values()) <= set(domain["responses"])
    for level, response in TRIAGE_RESPONSES.items():
        assert domain["responses"][response][0]["custom"]["triage"] == level
