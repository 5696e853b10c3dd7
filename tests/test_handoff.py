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
    assert events == [SlotSet("handoff_requested", True)]


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
