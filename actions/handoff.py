"""Putting the patient in touch with a person at the clinic.

Contact details come from :mod:`actions.settings` (the clinic's configuration); when none are
configured the assistant says so instead of inventing a number.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import load_settings


class ActionHandoff(Action):
    """Tell the patient how to reach the clinic's staff, flag the conversation, offer a callback."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = load_settings()
        if not settings.has_contact:
            dispatcher.utter_message(response="utter_handoff_no_contact", clinic_name=settings.clinic_name)
        else:
            dispatcher.utter_message(response="utter_handoff_intro", clinic_name=settings.clinic_name)
            if settings.clinic_phone:
                dispatcher.utter_message(response="utter_contact_phone", clinic_phone=settings.clinic_phone)
            if settings.clinic_email:
                dispatcher.utter_message(response="utter_contact_email", clinic_email=settings.clinic_email)
            if settings.clinic_hours:
                dispatcher.utter_message(response="utter_contact_hours", clinic_hours=settings.clinic_hours)
        dispatcher.utter_message(response="utter_offer_callback")
        return [SlotSet("handoff_requested", True)]
