"""Putting the patient in touch with a person at the clinic.

Contact details come from :mod:`actions.settings` (the clinic's configuration); when none are
configured the assistant says so instead of inventing a number.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import load_settings

# "call me back", "please phone me", "can you ring me", "i want a callback": the patient asks to be
# called, which is their consent to the callback form. Only a request counts: "don't call me", "i'd
# rather you didn't call", "i prefer email not a phone call", "can i call you", "how does the callback
# work?", "the clinic called me yesterday" are not (they get the question "Would you like ...?").
_CALL_ME = re.compile(
    "|".join(
        (
            # an imperative: "call me back", "please phone me", "ok ring us"
            r"(?:^|[.,!;:]\s*)(?:(?:please|pls|plz|just|ok|okay|yes|so|then)\s+)*(?:call|phone|ring)\s+(?:me|us)\b",
            # "can you / someone / the clinic call me"
            r"\b(?:can|could|would|will)\s+(?:you|someone|somebody|anyone|they|the\s+(?:clinic|team|nurse|doctor|surgeon)"
            r"|a\s+(?:nurse|doctor))\s+(?:please\s+)?(?:call|phone|ring)\s+(?:me|us)\b",
            # "i want a call back", "i'd like to get a phone call"
            r"\b(?:i|we)(?:'d|\s+would)?\s+(?:like|want|need)\s+(?:(?:a|to\s+(?:get|have|request)\s+a)\s+"
            r"(?:call[\s-]?back|phone\s+call|call)|call[\s-]?back)\b",
            # "i want someone to call me", "i'd like to be called back"
            r"\b(?:i|we)(?:'d|\s+would)?\s+(?:like|want|need)\s+(?:someone|somebody|you|the\s+clinic)\s+to\s+"
            r"(?:call|phone|ring)\s+(?:me|us)\b",
            r"\b(?:i|we)(?:'d|\s+would)?\s+(?:like|want)\s+to\s+be\s+(?:called|phoned|rung)\b",
            r"\b(?:call[\s-]?back|phone\s+call)\s+(?:please|pls|plz)\b|\b(?:request|book|arrange)\s+a\s+call[\s-]?back\b",
        )
    ),
    re.IGNORECASE,
)
_DONT = re.compile(
    r"\b(?:don'?t|dont|do\s+not|didn'?t|didnt|not|never|no|rather\s+not)\b[^.?!]{0,25}?\b(?:call|phone|ring)"
    r"|\bprefer\s+(?:an?\s+)?(?:e-?mail|text|not|writing)\b",
    re.IGNORECASE,
)


def asks_to_be_called(text: Text) -> bool:
    """Whether the patient's message asks the clinic to call them."""
    return bool(_CALL_ME.search(text)) and not _DONT.search(text)


class ActionHandoff(Action):
    """Tell the patient how to reach the clinic's staff, flag the conversation, offer a callback (or,
    when the patient asked to be called, say the callback form starts)."""

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
        callback = asks_to_be_called(tracker.latest_message.get("text") or "")
        # Asked to be called: the callback form follows at once (data/rules.yml); else it is offered.
        dispatcher.utter_message(response="utter_callback_start" if callback else "utter_offer_callback")
        return [SlotSet("handoff_requested", True), SlotSet("callback_asked", callback)]
