"""Deferral to a clinician for questions about the patient's own case.

A fact sheet must not decide candidacy, read scans or advise on medication, pregnancy or other
conditions.  The patient gets a kind deferral (a domain response).  General facts are added only
when the classifier is fairly sure of a general topic behind the personal question
(``personal_context_min_confidence``) AND that topic is on the allow-list in the facts file
(``general_after_personal: true``: topics that cannot read as an answer about the person, such as
what the operation is or its cost); they come after an intro that says they are general information
and say nothing about the person's case.  What the operation can treat, pain relief, recovery and
safety are never added: after "can you treat my calcified disc?" they would read as a yes.  When
the most likely topic is safety, the risk deferral (utter_risk_defer, a response) follows the
personal one instead.
Red-flag emergencies are not handled here: they are escalated by the NLU pipeline and a rule
with a domain response, so they never depend on the action server; a personal question after one
("should i worry?" after the emergency advice, right after it or turns later) gets that advice again
by a rule (data/rules.yml, on the escalation slots of domain.yml), never this deferral.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import RISK_INTENT, fact_book
from actions.facts import FactBook
from actions.settings import load_settings
from clinic_vocabulary import OWN_CASE_KEY, OWN_SYMPTOM_RESPONSE

PERSONAL_INTENT = "ask_personal_advice"


def likely_topic(ranking: List[Dict[Text, Any]], book: FactBook, min_confidence: float) -> Optional[Text]:
    """The most likely topic behind a personal question, if the classifier gives it ``min_confidence``."""
    topics = [e for e in ranking if e.get("name") and book.has_topic(e["name"])]
    if not topics:
        return None
    best = max(topics, key=lambda e: float(e.get("confidence") or 0.0))
    return best["name"] if float(best.get("confidence") or 0.0) >= min_confidence else None


def general_topic(ranking: List[Dict[Text, Any]], book: FactBook, min_confidence: float) -> Optional[Text]:
    """The general topic to add after a personal question, if any.

    Only the most likely topic counts: when it is not confident enough, or not on the allow-list
    (e.g. "what it can treat" behind "can you treat my disc?"), nothing general is added.
    """
    topic = likely_topic(ranking, book, min_confidence)
    return topic if topic and book.general_answer(topic) is not None else None


class ActionDeferPersonal(Action):
    """Defer a personal question to a clinician; add general facts only from allow-listed topics."""

    def name(self) -> Text:
        return "action_defer_personal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_personal_defer")
        book = fact_book()
        ranking = tracker.latest_message.get("intent_ranking") or []
        min_confidence = load_settings().personal_context_min_confidence
        if tracker.latest_message.get(OWN_CASE_KEY):
            # "My scar itches, is that normal?": a symptom of their own, so the calm safety-net line.
            dispatcher.utter_message(response=OWN_SYMPTOM_RESPONSE)
        elif likely_topic(ranking, book, min_confidence) == RISK_INTENT:
            # "Is it risky for me?": the risk deferral (a response, no facts) right after the personal one.
            dispatcher.utter_message(response="utter_risk_defer")
        topic = general_topic(ranking, book, min_confidence)
        events: List[EventType] = [SlotSet("personal_question", True)]
        answer = book.general_answer(topic) if topic else None
        if answer is not None:
            dispatcher.utter_message(response="utter_personal_general_intro")
            dispatcher.utter_message(text=answer.text, topic=topic, fact_ids=answer.fact_ids)
            events += [SlotSet("last_topic", topic), SlotSet("fact_ids", answer.fact_ids)]
        dispatcher.utter_message(response="utter_offer_contact")
        return events
