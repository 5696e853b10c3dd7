"""Handoff: configured contact details only, never invented ones."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.handoff import ActionHandoff
from tests.conftest import response_names

pytestmark = pytest.mark.unit


@pytest.mark.asyncio
async def test_without_configured_contact_no_number_is_given(monkeypatch, dispatcher, tracker_for):
    for var in ("CLINIC_PHONE", "CLINIC_EMAIL", "CLINIC_HOURS", "CLINIC_NAME"):
        monkeypatch.delenv(var, raising=False)
    events = await ActionHandoff().run(dispatcher, tracker_for("request_human"), {})
    assert response_names(dispatcher) == ["utter_handoff_no_contact", "utter_offer_callback"]
    assert dispatcher.messages[0]["clinic_name"] == "the clinic"
    assert events == [SlotSet("handoff_requested", True), SlotSet("callback_asked", False)]


@pytest.mark.asyncio
async def test_configured_contact_details_are_passed_to_the_responses(monkeypatch, dispatcher, tracker_for):
    monkeypatch.setenv("CLINIC_NAME", "Example Spine Clinic")
    monkeypatch.setenv("CLINIC_PHONE", "+00 000 000 000")
    monkeypatch.setenv("CLINIC_EMAIL", "")
    monkeypatch.setenv("CLINIC_HOURS", "Mon-Fri 9-17")
    await ActionHandoff().run(dispatcher, tracker_for("request_human"), {})
    assert response_names(dispatcher) == [
        "utter_handoff_intro",
        "utter_contact_phone",
        "utter_contact_hours",
        "utter_offer_callback",
    ]
    assert dispatcher.messages[1]["clinic_phone"] == "+00 000 000 000"
    assert dispatcher.messages[2]["clinic_hours"] == "Mon-Fri 9-17"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text",
    [
        "i want a call back",
        "please call me",
        "can someone phone me",
        "call me back pls",
        "can you ring me tomorrow",
        "can someone call me back please",
        "hi, call me back please",
        "i'd like someone to call me",
        "i would like to be called back",
        "callback please",
        "i want callback",
    ],
)
async def test_asking_to_be_called_starts_the_callback_without_asking_again(monkeypatch, dispatcher, tracker_for, text):
    """The patient already said they want a call: the form starts (its first question says "stop"
    works), instead of "Would you like the clinic to call you back?", which patients answered with
    their name and lost the form."""
    monkeypatch.delenv("CLINIC_PHONE", raising=False)
    events = await ActionHandoff().run(dispatcher, tracker_for("request_human", text=text), {})
    assert response_names(dispatcher) == ["utter_handoff_no_contact", "utter_callback_start"]
    assert SlotSet("callback_asked", True) in events


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text",
    [
        "can i speak to someone",
        "i need to talk to doctor",
        "can i call you",
        "please don't call me, email me",
        "i dont want a phone call, can i email",
        "i prefer email not a phone call",
        "can you not call me",
        "i would rather you didn't call me",
        "don't want anyone to phone me",
        "how does the callback work?",
        "is there a callback service?",
        "the clinic called me yesterday, i want to speak to someone",
        "my surgeon phoned me last week, can i talk to him",
    ],
)
async def test_asking_for_a_person_still_asks_before_a_callback(monkeypatch, dispatcher, tracker_for, text):
    monkeypatch.delenv("CLINIC_PHONE", raising=False)
    events = await ActionHandoff().run(dispatcher, tracker_for("request_human", text=text), {})
    assert response_names(dispatcher)[-1] == "utter_offer_callback"
    assert SlotSet("callback_asked", False) in events
