"""Names shared by the channels, NLU components, actions and the staff app: one place to change.

No imports from the project or Rasa. The names must match ``domain.yml`` (a test checks them).
"""

from __future__ import annotations

from typing import Dict

# Triage level -> the intent the triage component sets and the response its rule sends.
TRIAGE_INTENTS: Dict[str, str] = {
    "emergency": "report_emergency",
    "crisis": "report_crisis",
    "urgent": "report_urgent",
}
TRIAGE_RESPONSES: Dict[str, str] = {
    "emergency": "utter_emergency",
    "crisis": "utter_crisis",
    "urgent": "utter_urgent",
}
EMERGENCY_INTENT = TRIAGE_INTENTS["emergency"]
EMERGENCY_RESPONSE = TRIAGE_RESPONSES["emergency"]
PERSONAL_INTENT = "ask_personal_advice"
# A question about the patient's own symptom ("my scar itches, is that normal?"): the NLU step that
# reads it as personal (clinic_nlu/own_case_component.py) records why under this key of the message,
# and the deferral then adds a calm safety-net line (this response).
OWN_CASE_KEY = "own_case"
OWN_SYMPTOM_RESPONSE = "utter_own_symptom_safety_net"
# A follow-up read as "more on the last topic" (clinic_nlu/follow_up_component.py) records the
# classifier's reading under this key of the message, and with a subject ("what about work") that
# subject under "about" (actions/answering.py answers it).
FOLLOW_UP_KEY = "follow_up"
# The questions of a message that asks about several topics (clinic_nlu/multi_topic.py), one entry
# per topic with its name, confidence and the parts that asked it (actions/multi_topic.py reads them).
TOPICS_KEY = "topics"

# Question topics a message may ask several of at once (the fact book's topics, facts/facts.yml,
# plus a question about the patient's own case, which is never answered with facts but deferred to a
# clinician first): clinic_nlu/multi_topic.py and actions/multi_topic.py.
FACT_TOPIC_INTENTS = (
    "ask_what_is_endoscopy",
    "ask_recovery_time",
    "ask_cost",
    "ask_safety",
    "ask_scarring",
    "ask_anesthesia",
    "ask_indications",
    "ask_comparison",
    "ask_other_treatments",
    "ask_pain_relief",
)
MULTI_TOPIC_INTENTS = (*FACT_TOPIC_INTENTS, PERSONAL_INTENT)
# The risk question: its answer hands it to the surgeon first (SAFETY.md); no rule turns it into another.
RISK_INTENT = "ask_safety"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# In-domain questions the clinic's sheet does not answer: the honest answer and the callback offer.
NOT_COVERED_INTENT = "ask_not_covered"
NOT_COVERED_ACTION = "action_answer_not_covered"
NOT_COVERED_RESPONSE = "utter_not_covered"
# A general question whether the problem can come back after this operation ("will it come back?"):
# clinic_nlu/recurrence_component.py marks it with this entity (the intent is left as read), the
# dialogue rules send it to the not-covered action, which then says this response (what the sheet
# says and does not say) instead of the general one.
RECURRENCE_ENTITY = "recurrence_question"
RECURRENCE_RESPONSE = "utter_recurrence_not_covered"
# The intents such a question is read as that data/rules.yml sends, with the entity, to that answer
# (a test checks the two agree).
RECURRENCE_READINGS = (
    "ask_safety",
    "ask_pain_relief",
    "ask_comparison",
    "ask_other_treatments",
    "ask_recovery_time",
    "ask_what_is_endoscopy",
    "ask_not_covered",
    "nlu_fallback",
)
# In a message that asks about several topics, the part that asks it is a topic of its own under this
# name (clinic_nlu/multi_topic.py); the reply says RECURRENCE_RESPONSE at its place (actions/multi_topic.py).
RECURRENCE_TOPIC = RECURRENCE_ENTITY
# The consented callback form: while it asks for a detail, the patient's message is that detail.
CALLBACK_FORM = "callback_form"
# The question topics answered from the sheet's facts (the `topics` of facts/facts.yml).
QUESTION_TOPICS = FACT_TOPIC_INTENTS
# A message clearly written in another language (clinic_nlu/language_component.py): the honest reply
# that the assistant reads English only, with the emergency advice.
NOT_ENGLISH_INTENT = "not_english"
NOT_ENGLISH_RESPONSE = "utter_not_english"
# Under this key of a bot message's ``custom`` data, the patient's own words a reply quotes ("You
# asked: ..."): the patient channel sends them as plain-text segments, which the widget never turns
# into links (clinic_channel/patient.py::patient_message).
PATIENT_WORDS_KEY = "patient_words"
