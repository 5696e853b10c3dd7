"""What follows a crisis or an urgent message: the configured numbers, never invented ones.

The triage message itself (utter_crisis, utter_urgent) is a domain response sent by a rule before
these actions run, so it reaches the patient even when the action server is down. These actions
only add the numbers the clinic configured (``CRISIS_LINE``, ``CLINIC_PHONE``); unset, they add
nothing.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import load_settings


class ActionCrisisLine(Action):
    """After the crisis message: the crisis line, if the clinic configured one."""

    def name(self) -> Text:
        return "action_crisis_line"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = load_settings()
        if settings.crisis_line:
            dispatcher.utter_message(response="utter_crisis_line", crisis_line=settings.crisis_line)
        return []


class ActionUrgentContact(Action):
    """After the urgent message: the clinic's phone number, if configured."""

    def name(self) -> Text:
        return "action_urgent_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = load_settings()
        if settings.clinic_phone:
            dispatcher.utter_message(
                response="utter_urgent_contact", clinic_name=settings.clinic_name, clinic_phone=settings.clinic_phone
            )
        return []
