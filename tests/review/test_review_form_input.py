"""review.store: answers typed into the callback form are form input, not questions: no classifier
flags (out of scope, fallback, low confidence) in the index or the transcript; triage flags stay."""

from __future__ import annotations

import pytest

import time

from review import store
from review.settings import load_settings
from tests.review.conversations import write_conversations

pytestmark = pytest.mark.integration


def _events(form_text: str, form_intent: str, conf: float, triage_level: str = "none"):
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered

    t = time.time() - 60

    def user(text, intent, c, level="none"):
        return UserUttered(
            text,
            intent={"name": intent, "confidence": c},
            timestamp=t,
            input_channel="rest",
            parse_data={
                "text": text,
                "intent": {"name": intent, "confidence": c},
                "entities": [],
                "intent_ranking": [{"name": intent, "confidence": c}],
                "triage": {"level": level, "findings": []},
            },
        )

    return [
        ActionExecuted("action_listen", timestamp=t),
        user("who is the surgeon", "ask_not_covered", 0.9),
        ActionExecuted("action_answer_not_covered", timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
        user("yes", "affirm", 0.99),
        ActionExecuted("callback_form", timestamp=t),
        ActiveLoop("callback_form", timestamp=t),
        SlotSet("requested_slot", "callback_name", timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
        user(form_text, form_intent, conf, triage_level),
        ActionExecuted("callback_form", timestamp=t),
        SlotSet("callback_name", form_text, timestamp=t),
        SlotSet("requested_slot", "callback_phone", timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
        user("what is the capital of france", "out_of_scope", 0.2),
    ]


def _index(tmp_path, convs):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    write_conversations(url, convs)
    settings = load_settings({"DATABASE_URL": url})
    engine = store.make_engine(settings)
    store.create_schema(engine)
    store.index_new_events(engine, settings, wait=30.0)
    return engine, settings


def test_form_input_raises_no_classifier_flag_but_a_question_after_the_form_still_does(tmp_path):
    engine, settings = _index(tmp_path, {"form": _events("Jo Smith", "out_of_scope", 0.2)})
    threshold = settings.low_confidence_threshold
    summary = store.get_summary(engine, "form", threshold)
    # the last message, outside the form, is out of scope at 0.2: that is still flagged
    assert "out_of_scope" in summary["flags"] and "low_confidence" in summary["flags"]
    turns = store.build_transcript(store.conversation_events(engine, "form"), threshold, False, {})
    name_turn = next(t for t in turns if t.text == "Jo Smith")
    assert name_turn.form_input and name_turn.form_answer
    assert "out_of_scope" not in name_turn.flags and not name_turn.low_confidence
    last = next(t for t in turns if t.text == "what is the capital of france")
    assert not last.form_input and "out_of_scope" in last.flags and last.low_confidence


def test_form_input_alone_leaves_the_conversation_unflagged(tmp_path):
    convs = {"only-form": _events("Jo Smith", "out_of_scope", 0.2)[:-1]}
    engine, settings = _index(tmp_path, convs)
    summary = store.get_summary(engine, "only-form", settings.low_confidence_threshold)
    assert {"out_of_scope", "fallback", "low_confidence"}.isdisjoint(summary["flags"])
    assert summary["min_confidence"] is not None and summary["min_confidence"] >= 0.9


def test_a_red_flag_typed_into_the_form_is_still_flagged(tmp_path):
    convs = {"form-red": _events("i cant feel my legs", "report_emergency", 1.0, "emergency")[:-1]}
    engine, settings = _index(tmp_path, convs)
    assert "emergency" in store.get_summary(engine, "form-red", settings.low_confidence_threshold)["flags"]
