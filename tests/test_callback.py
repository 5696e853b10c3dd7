"""actions.callback: the consented callback form, its validation, submission and cancellation."""

from __future__ import annotations

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.callback import (
    ActionCancelCallback,
    ActionReplyToCallbackOffer,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from tests.conftest import response_names

pytestmark = pytest.mark.unit

DETAILS = {"callback_name": "Anna Meier", "callback_phone": "+41 44 123 45 67", "callback_time": "weekday mornings"}


@pytest.mark.parametrize(
    "slot, good, bad",
    [
        ("callback_name", "Anna Meier", "i want a doctor"),
        ("callback_phone", "+41 44 123 45 67", "call me"),
        ("callback_time", "after 5pm", "see www.example.com"),
    ],
)
def test_each_detail_is_validated_and_a_bad_one_asked_again(slot, good, bad, dispatcher, tracker_for):
    validator = getattr(ValidateCallbackForm(), f"validate_{slot}")
    assert validator(good, dispatcher, tracker_for("greet"), {}) == {slot: good}
    assert dispatcher.messages == []
    assert validator(bad, dispatcher, tracker_for("greet"), {}) == {slot: None}
    assert response_names(dispatcher) == [f"utter_invalid_{slot}"]


@pytest.mark.asyncio
async def test_a_complete_request_is_stored_with_consent_and_the_details_cleared(dispatcher, tracker_for):
    events = await ActionSubmitCallback().run(dispatcher, tracker_for("greet", slots=DETAILS), {})
    assert response_names(dispatcher) == ["utter_callback_submitted"]
    assert dispatcher.messages[0]["callback_phone"] == DETAILS["callback_phone"]
    request = next(e["value"] for e in events if e["name"] == "callback_request")
    assert request["name"] == "Anna Meier" and request["phone"] == "+41 44 123 45 67"
    assert request["preferred_time"] == "weekday mornings" and request["consent"] is True
    assert request["requested_at"].endswith("+00:00")
    assert SlotSet("handoff_requested", True) in events
    for slot in DETAILS:
        assert SlotSet(slot, None) in events


@pytest.mark.asyncio
async def test_an_incomplete_form_stores_nothing(dispatcher, tracker_for):
    events = await ActionSubmitCallback().run(
        dispatcher, tracker_for("greet", slots={**DETAILS, "callback_phone": None}), {}
    )
    assert response_names(dispatcher) == ["utter_callback_cancelled"]
    assert not any(e["name"] == "callback_request" for e in events)


@pytest.mark.asyncio
async def test_cancelling_forgets_what_was_given(dispatcher, tracker_for):
    events = await ActionCancelCallback().run(dispatcher, tracker_for("deny", slots=DETAILS), {})
    assert response_names(dispatcher) == ["utter_callback_cancelled"]
    assert {e["name"]: e["value"] for e in events} == {**{s: None for s in DETAILS}, "requested_slot": None}


@pytest.mark.parametrize("slot", ["callback_name", "callback_phone", "callback_time"])
def test_stop_ends_the_form_without_a_re_ask(slot, dispatcher, tracker_for):
    """ "stop" is judged from the words: the form ends (requested_slot None) and nothing is kept."""
    validator = getattr(ValidateCallbackForm(), f"validate_{slot}")
    assert validator("cancel", dispatcher, tracker_for("out_of_scope"), {}) == {slot: None, "requested_slot": None}
    assert dispatcher.messages == []


def test_a_time_the_classifier_may_read_as_no_is_still_a_time(dispatcher, tracker_for):
    validator = ValidateCallbackForm().validate_callback_time
    assert validator("no preference", dispatcher, tracker_for("deny"), {}) == {"callback_time": "no preference"}


@pytest.mark.parametrize("text", ["07700900123", "sorry 07700 900123", "no its +44 7700 900123", "oops, 07700900123"])
def test_a_phone_number_typed_when_the_time_is_asked_corrects_the_number(text, dispatcher, tracker_for):
    """A patient who sees a slip in the number they just gave types it again: it replaces the number
    (and is said back), and the time is asked again; it is never stored as the time to call."""
    validator = ValidateCallbackForm().validate_callback_time
    slots = validator(text, dispatcher, tracker_for("out_of_scope"), {})
    assert slots["callback_time"] is None
    assert slots["callback_phone"].replace(" ", "").endswith("7700900123")
    assert response_names(dispatcher) == ["utter_callback_phone_changed"]
    assert dispatcher.messages[0]["callback_phone"] == slots["callback_phone"]


@pytest.mark.parametrize("text", ["after 5", "monday 10am", "9 to 5", "evening after 18:30"])
def test_a_time_with_numbers_is_still_a_time(text, dispatcher, tracker_for):
    assert ValidateCallbackForm().validate_callback_time(text, dispatcher, tracker_for("greet"), {}) == {
        "callback_time": text
    }


@pytest.mark.parametrize("text", ["yes", "Yes please", "ok", "sure", "thanks", "thank you", "yeah"])
def test_a_yes_or_thanks_when_the_name_is_asked_is_no_name_and_the_name_is_asked_again(text, dispatcher, tracker_for):
    """After "call me back" the form asks the name at once; a patient who answers "yes" or "thanks"
    to it is asked again, plainly (no "that does not look like a name"), and nothing is stored."""
    validator = ValidateCallbackForm().validate_callback_name
    assert validator(text, dispatcher, tracker_for("affirm"), {}) == {"callback_name": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "slot, question",
    [
        ("callback_name", "what is recovery time"),
        ("callback_phone", "how much does it cost?"),
        ("callback_time", "is it safe?"),
    ],
)
def test_a_question_typed_into_the_form_is_told_how_to_ask_it(slot, question, dispatcher, tracker_for):
    """A question is not "not a name": the patient is told they can ask it after the form, or type
    "stop" to ask now; the detail is asked again."""
    validator = getattr(ValidateCallbackForm(), f"validate_{slot}")
    assert validator(question, dispatcher, tracker_for("ask_recovery_time"), {}) == {slot: None}
    assert response_names(dispatcher) == ["utter_callback_question_first"]


@pytest.mark.parametrize("text", ["actually how long is recovery", "and how much does it cost", "wait, is it safe"])
def test_a_question_without_a_question_mark_is_not_stored_as_the_time(text, dispatcher, tracker_for):
    validator = ValidateCallbackForm().validate_callback_time
    assert validator(text, dispatcher, tracker_for("ask_recovery_time"), {}) == {"callback_time": None}
    assert response_names(dispatcher) == ["utter_callback_question_first"]


@pytest.mark.parametrize("text", ["how about monday morning", "can you call at 5", "what about friday", "is 10am ok"])
def test_a_time_worded_as_a_question_is_still_a_time(text, dispatcher, tracker_for):
    validator = ValidateCallbackForm().validate_callback_time
    assert validator(text, dispatcher, tracker_for("greet"), {}) == {"callback_time": text}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text, intent, slot",
    [("07700 900123", "request_human", "callback_phone"), ("Maria Lopez", "out_of_scope", "callback_name")],
)
async def test_a_detail_typed_after_the_callback_offer_starts_the_form_with_it(
    text, intent, slot, dispatcher, tracker_for
):
    events = await ActionReplyToCallbackOffer().run(dispatcher, tracker_for(intent, text=text), {})
    assert events == [SlotSet(slot, text), FollowupAction("callback_form")]
    assert dispatcher.messages == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text, intent",
    [
        ("what is the weather", "out_of_scope"),
        ("hmm ok", "nlu_fallback"),
        ("i want to speak to a real person", "request_human"),
    ],
)
async def test_any_other_reply_after_the_callback_offer_is_left_to_the_rules(text, intent, dispatcher, tracker_for):
    assert await ActionReplyToCallbackOffer().run(dispatcher, tracker_for(intent, text=text), {}) == []
    assert dispatcher.messages == []
