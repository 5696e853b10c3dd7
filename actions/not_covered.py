"""The honest answer to an in-domain question that the clinic's sheet does not answer.

Intent ``ask_not_covered`` (docs/intents.md): the patient is told that the sheet does not cover it
and that the clinic's team can, then offered a callback (the consented callback form). Only when
the facts file names the one sheet fact truly related to the question (``not_covered.related``) is
that fact added, attributed; otherwise no fact is given, so no other topic's facts fill the gap.
A message that also asks about topics the sheet does answer ("how long is recovery and who is the
surgeon?": the NLU pipeline lists its ``topics``, the not-covered one among them) gets every topic
in the order asked, the not-covered one said as such, and the callback offer at the end
(actions/multi_topic.py). A general question whether the problem can come back after the
operation (the ``recurrence_question`` entity, clinic_nlu/recurrence_component.py; data/rules.yml
sends it here whatever topic it was read as) gets its own response, saying what the sheet does and
does not say, then the callback offer, no fact; asked beside other topics ("how long is recovery and
can the hernia come back?": the topic ``recurrence_question``), that response at its place among
them. Every sentence is a domain response or a fact.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import fact_book, send_topics_answer
from actions.multi_topic import questions_asked, topics_asked
from clinic_vocabulary import (
    NOT_COVERED_INTENT,
    NOT_COVERED_RESPONSE,
    OWN_CASE_KEY,
    RECURRENCE_ENTITY,
    RECURRENCE_RESPONSE,
    RECURRENCE_TOPIC,
)


class ActionAnswerNotCovered(Action):
    """Say the sheet does not cover the question, add the one related fact if any, offer a callback."""

    def name(self) -> Text:
        return "action_answer_not_covered"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        book = fact_book()
        asked = topics_asked(tracker.latest_message, book)
        if len(asked) >= 2 and (NOT_COVERED_INTENT in asked or RECURRENCE_TOPIC in asked):
            return send_topics_answer(
                dispatcher,
                book,
                asked,
                questions_asked(tracker.latest_message),
                own_symptom=bool(tracker.latest_message.get(OWN_CASE_KEY)),
            )
        entities = tracker.latest_message.get("entities") or []
        if any(e.get("entity") == RECURRENCE_ENTITY for e in entities):
            # whether the problem comes back: what the sheet does and does not say, no fact
            dispatcher.utter_message(response=RECURRENCE_RESPONSE)
            dispatcher.utter_message(response="utter_offer_callback")
            return [SlotSet("last_topic", None), SlotSet("fact_ids", [])]
        dispatcher.utter_message(response=NOT_COVERED_RESPONSE)
        related = book.related_fact(tracker.latest_message.get("text") or "")
        fact_ids: List[Text] = []
        if related is not None:
            answer = book.fact_answer(related)
            dispatcher.utter_message(response="utter_not_covered_related")
            dispatcher.utter_message(text=answer.text, topic=NOT_COVERED_INTENT, fact_ids=answer.fact_ids)
            fact_ids = answer.fact_ids
        dispatcher.utter_message(response="utter_offer_callback")
        # last_topic is cleared: "tell me more" after this must not continue an earlier topic.
        return [SlotSet("last_topic", None), SlotSet("fact_ids", fact_ids)]
