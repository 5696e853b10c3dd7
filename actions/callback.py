"""Callback requests: with the patient's consent, collect a name, phone number and a good time.

The form (``callback_form`` in domain.yml) only starts after the patient said yes to
``utter_offer_callback``, or asked to be called in their own words ("call me back":
``actions.handoff.asks_to_be_called``; ``utter_callback_start`` then says what is stored), or
typed a detail instead of "yes" to the offer ("07700 900123", "Maria Lopez"): the form then starts
with that detail taken (``ActionReplyToCallbackOffer``).
While it asks for a detail, the patient's message IS that detail: it is
checked by :mod:`actions.contact_details` (a clear re-ask when it does not look like one), never
read as a question. "stop", "cancel" or "no thanks" (decided from the words, not the classifier)
ends the form, and then nothing is kept in the slots. Only the triage wins over the form: a red
flag typed into it is escalated (domain.yml excludes the triage intents from the slot mappings, and
rules in data/rules.yml escalate and stop the form). On completion the request is stored as
one slot, ``callback_request``, which the staff review app lists at the top of its open items.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact_details import (
    clean_name,
    clean_phone,
    clean_time,
    corrected_phone,
    detail_given_unasked,
    is_acknowledgement,
    is_question,
    is_question_not_time,
    is_stop,
)

DETAIL_SLOTS = ("callback_name", "callback_phone", "callback_time")
CALLBACK_FORM = "callback_form"


class ValidateCallbackForm(FormValidationAction):
    """Checks each detail; an invalid one is asked for again with a hint."""

    def name(self) -> Text:
        return "validate_callback_form"

    @staticmethod
    def _check(value: Any, cleaned: Optional[str], slot: str, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        if is_stop(value):
            # Ends the form with the details missing: action_submit_callback then confirms that
            # nothing was sent and forgets what was given.
            return {slot: None, "requested_slot": None}
        if cleaned is None:
            question = is_question(value)
            dispatcher.utter_message(response="utter_callback_question_first" if question else f"utter_invalid_{slot}")
        return {slot: cleaned}

    def validate_callback_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A name: 1-5 words of letters. A "yes" or "thanks" (the form may start right after "call me
        back") is not one: the name is asked again, without saying it was wrong."""
        if is_acknowledgement(slot_value):
            return {"callback_name": None}
        return self._check(slot_value, clean_name(slot_value), "callback_name", dispatcher)

    def validate_callback_phone(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A phone number: 6-15 digits, phone punctuation only."""
        return self._check(slot_value, clean_phone(slot_value), "callback_phone", dispatcher)

    def validate_callback_time(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A preferred time in the patient's words. A phone number typed here corrects the number just
        given ("sorry, 07700 900123"): it replaces it, is said back, and the time is asked again."""
        phone = None if is_stop(slot_value) else corrected_phone(slot_value)
        if phone is not None:
            dispatcher.utter_message(response="utter_callback_phone_changed", callback_phone=phone)
            return {"callback_phone": phone, "callback_time": None}
        if not is_stop(slot_value) and is_question_not_time(slot_value):  # never stored as the time
            dispatcher.utter_message(response="utter_callback_question_first")
            return {"callback_time": None}
        return self._check(slot_value, clean_time(slot_value), "callback_time", dispatcher)


class ActionSubmitCallback(Action):
    """Store the completed request for staff and confirm it to the patient."""

    def name(self) -> Text:
        return "action_submit_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        details = {slot: tracker.get_slot(slot) for slot in DETAIL_SLOTS}
        if not all(details.values()):  # the form did not finish: store nothing
            dispatcher.utter_message(response="utter_callback_cancelled")
            return [SlotSet(slot, None) for slot in DETAIL_SLOTS]
        request = {
            "name": details["callback_name"],
            "phone": details["callback_phone"],
            "preferred_time": details["callback_time"],
            "consent": True,
            "requested_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        dispatcher.utter_message(response="utter_callback_submitted", **details)
        return [SlotSet("callback_request", request), SlotSet("handoff_requested", True)] + [
            SlotSet(slot, None) for slot in DETAIL_SLOTS
        ]


class ActionCancelCallback(Action):
    """The patient stopped the callback form: forget what was filled in so far."""

    def name(self) -> Text:
        return "action_cancel_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_callback_cancelled")
        return [SlotSet(slot, None) for slot in DETAIL_SLOTS] + [SlotSet("requested_slot", None)]


class ActionReplyToCallbackOffer(Action):
    """After "Would you like the clinic to call you back?", a reply the classifier reads as out of scope,
    not understood or a request for a person, which may be a detail typed instead of "yes" ("Maria
    Lopez", "07700 900123"): that is the patient's yes, so the callback form starts with the detail
    taken. Any other such reply: nothing here, and the rules (data/rules.yml) give its intent's usual
    answer next."""

    def name(self) -> Text:
        return "action_reply_to_callback_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        detail = detail_given_unasked(tracker.latest_message.get("text"))
        if detail is not None:
            slot, value = detail
            return [SlotSet(slot, value), FollowupAction(CALLBACK_FORM)]
        return []
