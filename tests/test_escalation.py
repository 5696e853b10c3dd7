"""After a crisis or urgent message: the configured crisis line or clinic phone, never an invented one."""

from __future__ import annotations

import pytest

from actions.escalation import ActionCrisisLine, ActionUrgentContact
from tests.conftest import response_names

pytestmark = pytest.mark.unit


@pytest.mark.asyncio
async def test_the_crisis_line_is_given_only_when_configured(monkeypatch, dispatcher, tracker_for):
    monkeypatch.delenv("CRISIS_LINE", raising=False)
    assert await ActionCrisisLine().run(dispatcher, tracker_for("report_crisis"), {}) == []
    assert dispatcher.messages == []
    monkeypatch.setenv("CRISIS_LINE", "116 123 (example)")
    await ActionCrisisLine().run(dispatcher, tracker_for("report_crisis"), {})
    assert response_names(dispatcher) == ["utter_crisis_line"]
    assert dispatcher.messages[0]["crisis_line"] == "116 123 (example)"


@pytest.mark.asyncio
async def test_the_clinic_phone_follows_an_urgent_message_only_when_configured(monkeypatch, dispatcher, tracker_for):
    monkeypatch.delenv("CLINIC_PHONE", raising=False)
    await ActionUrgentContact().run(dispatcher, tracker_for("report_urgent"), {})
    assert dispatcher.messages == []
    monkeypatch.setenv("CLINIC_PHONE", "+00 000 000 000")
    monkeypatch.setenv("CLINIC_NAME", "Example Spine Clinic")
    await ActionUrgentContact().run(dispatcher, tracker_for("report_urgent"), {})
    assert response_names(dispatcher) == ["utter_urgent_contact"]
    assert dispatcher.messages[0]["clinic_phone"] == "+00 000 000 000"


def test_the_crisis_message_works_without_a_number(domain):
    """utter_crisis is complete on its own: it names no number and needs no slot."""
    text = domain["responses"]["utter_crisis"][0]["text"]
    assert "{" not in text and "emergency number" in text and "crisis line" in text
