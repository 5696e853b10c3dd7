"""Actions that answer topic questions from the fact book.

Every sentence comes from ``facts/facts.yml`` or a domain response; this module only decides
which ones to send.  Slot events record the topic and the fact ids used, so the staff review
tool can show exactly which facts a reply stated.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.facts import FactBook, load_fact_book
from actions.multi_topic import plan_reply, questions_asked, topics_asked
from actions.settings import load_settings
from clinic_vocabulary import FOLLOW_UP_KEY, OWN_CASE_KEY, PATIENT_WORDS_KEY, RISK_INTENT


def fact_book() -> FactBook:
    """The fact book named by the settings (read once per process)."""
    return load_fact_book(load_settings().facts_file)


def latest_intent(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def send_topic_answer(
    dispatcher: CollectingDispatcher, book: FactBook, intent: Text, details: bool = False
) -> List[Text]:
    """Send the facts of ``intent``; return the fact ids.

    For a risk question the deferral to the surgeon comes FIRST, before any of the sheet's points,
    so the patient reads "ask your surgeon" before anything that could sound reassuring.
    """
    answer = book.answer(intent, details=details)
    if intent == RISK_INTENT:
        dispatcher.utter_message(response="utter_risk_defer")
    dispatcher.utter_message(text=answer.text, topic=intent, fact_ids=answer.fact_ids)
    return answer.fact_ids


def send_topics_answer(
    dispatcher: CollectingDispatcher,
    book: FactBook,
    topics: List[Text],
    questions: Optional[Mapping[Text, List[Text]]] = None,
    own_symptom: bool = False,
) -> List[EventType]:
    """Answer a message that asks about several ``topics`` in one short reply (actions/multi_topic.py);
    ``questions`` gives the patient's words per topic, quoted where the sheet does not answer one;
    ``own_symptom``: its personal part asks about a symptom of the patient's own."""
    reply = plan_reply(book, topics, questions=questions, own_symptom=own_symptom)
    for response in reply.before:
        dispatcher.utter_message(response=response)
    for answer in reply.messages:  # in the order asked: the topics' facts, or a domain response
        if answer.response:
            # The values are the patient's own words: marked, so that they are shown as plain text.
            quoted = {PATIENT_WORDS_KEY: list(answer.values.values())} if answer.values else None
            dispatcher.utter_message(response=answer.response, json_message=quoted, **answer.values)
        else:
            dispatcher.utter_message(
                text=answer.text, topic=answer.topics[0], topics=answer.topics, fact_ids=answer.fact_ids
            )
    for response in reply.after:
        dispatcher.utter_message(response=response)
    events: List[EventType] = [SlotSet("fact_ids", reply.fact_ids)]
    if reply.topics:
        events.append(SlotSet("last_topic", reply.topics[-1]))  # "tell me more" continues it
    elif reply.not_covered:
        events.append(SlotSet("last_topic", None))  # as after a single not-covered question
    if reply.personal:
        events.append(SlotSet("personal_question", True))
    return events


class ActionAnswerTopic(Action):
    """Answer the topic question the patient just asked, from the clinic's facts only; a message
    asking about several topics gets each of them, in the order asked, in one short reply."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        book = fact_book()
        asked = topics_asked(tracker.latest_message, book)
        if len(asked) >= 2:
            events = send_topics_answer(
                dispatcher,
                book,
                asked,
                questions_asked(tracker.latest_message),
                own_symptom=bool(tracker.latest_message.get(OWN_CASE_KEY)),
            )
            return events + [SlotSet("more_given", None)]
        intent = latest_intent(tracker)
        if not book.has_topic(intent):
            dispatcher.utter_message(response="utter_ask_which_topic")
            return []
        if tracker.get_slot("last_topic") == intent:
            # The same topic as the answer before ("how long is recovery?" twice, "how long for that?"):
            # a short lead says so, then the answer again in full.
            dispatcher.utter_message(response="utter_answer_again")
        fact_ids = send_topic_answer(dispatcher, book, intent)
        if book.has_details(intent):
            dispatcher.utter_message(response="utter_offer_more")
        # A new answer on a topic: "tell me more" may give its details (again).
        return [SlotSet("last_topic", intent), SlotSet("fact_ids", fact_ids), SlotSet("more_given", None)]


class ActionTellMore(Action):
    """Give the remaining facts on the topic of the previous answer ("tell me more"), once: asked
    again, "that is all the sheet says". An "ok" after an answer that offered nothing more is an
    acknowledgement ("anything else?"). A follow-up with a subject ("what about work") gets the
    previous answer again when the subject belongs to its topic (``follow_up_words``), the answer of
    the topic it belongs to otherwise, else the reply for a message not understood (with its line on
    feeling very unwell: the subject may be a symptom)."""

    def name(self) -> Text:
        return "action_tell_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        book = fact_book()
        topic = tracker.get_slot("last_topic")
        subject = (tracker.latest_message.get(FOLLOW_UP_KEY) or {}).get("about")
        if subject:
            return self._answer_subject(dispatcher, book, topic, subject)
        if not topic or not book.has_topic(topic):
            dispatcher.utter_message(response="utter_ask_which_topic")
            return []
        if not book.has_details(topic) and latest_intent(tracker) == "affirm":
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("fact_ids", [])]
        if not book.has_details(topic) or tracker.get_slot("more_given") == topic:
            dispatcher.utter_message(response="utter_no_more_details")
            return [SlotSet("fact_ids", [])]
        fact_ids = send_topic_answer(dispatcher, book, topic, details=True)
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("fact_ids", fact_ids), SlotSet("more_given", topic)]

    @staticmethod
    def _answer_subject(
        dispatcher: CollectingDispatcher, book: FactBook, topic: Optional[Text], subject: Text
    ) -> List[EventType]:
        """ "what about work" after the recovery answer: that answer again ("as I said", gap note
        included) when the subject belongs to the last topic; the topic it belongs to otherwise ("and
        insurance?" after the recovery answer: the cost answer); when it belongs to none, the reply for a
        message not understood ("pick a topic", and call the emergency number if very unwell)."""
        if topic and book.has_topic(topic) and book.follows_up(topic, subject):
            dispatcher.utter_message(response="utter_answer_again")
            return [SlotSet("fact_ids", send_topic_answer(dispatcher, book, topic))]
        other = next((t for t in book.topics if book.follows_up(t, subject)), None)
        if other is None:
            # Not understood, as the classifier read it: the subject may be a symptom ("and the
            # bleeding?", "what about peeing"), so this reply keeps the line on feeling very unwell.
            dispatcher.utter_message(response="utter_ask_rephrase")
            return [SlotSet("fact_ids", [])]
        fact_ids = send_topic_answer(dispatcher, book, other)
        return [SlotSet("last_topic", other), SlotSet("fact_ids", fact_ids), SlotSet("more_given", None)]
