"""Deferral to a clinician for questions about the patient's own case.

A fact sheet must not decide candidacy, read scans or advise on medication, pregnancy or other
conditions.  The patient gets a kind deferral (a domain response) plus, where the classifier
saw a general topic behind the personal question, the general facts on that topic.
Red-flag emergencies are not handled here: they are escalated by the NLU pipeline and a rule
with a domain response, so they never depend on the action server.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import fact_book, send_topic_answer
from actions.facts import FactBook
from actions.settings import load_settings

PERSONAL_INTENT = "ask_personal_advice"


def general_topic(ranking: List[Dict[Text, Any]], book: FactBook, min_confidence: float) -> Optional[Text]:
    """The most likely general topic behind a personal question, if the classifier saw one."""
    for entry in ranking:
        name = entry.get("name")
        if name and book.has_topic(name) and float(entry.get("confidence") or 0.0) >= min_confidence:
            return name
    return None


class ActionDeferPersonal(Action):
    """Defer a personal question to a clinician and add the general facts that apply."""

    def name(self) -> Text:
        return "action_defer_personal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_personal_defer")
        book = fact_book()
        ranking = tracker.latest_message.get("intent_ranking") or []
        topic = general_topic(ranking, book, load_settings().personal_context_min_confidence)
        events: List[EventType] = [SlotSet("personal_question", True)]
        if topic:
            dispatcher.utter_message(response="utter_personal_general_intro")
            fact_ids = send_topic_answer(dispatcher, book, topic)
            events += [SlotSet("last_topic", topic), SlotSet("fact_ids", fact_ids)]
        dispatcher.utter_message(response="utter_offer_contact")
        return events
