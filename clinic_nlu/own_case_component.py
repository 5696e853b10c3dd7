"""Rasa NLU component: a question about the patient's own symptom gets the personal deferral.

"My scar itches, is that normal?" is the patient's own case (docs/intents.md): a clinician judges
it, not the sheet. The classifier reads such messages as the topic whose words they share (the
scar, pain relief, recovery) and would answer with that topic's facts, which to someone still in
pain can read as "it should be gone by now". When the reviewable patterns of ``own_case.yml`` find
an own symptom and a question whether it is normal (:mod:`clinic_nlu.own_case`), and the classifier
read the message as a topic, "not covered", out of scope, not understood or (a guess the triage
overrules) an escalation, the intent becomes ``ask_personal_advice``; the classifier's reading and
the wording found are kept under ``own_case`` so staff see why (also when the classifier itself read
the message as personal: the reply then adds the safety-net line). A message that is nothing but the
question ("is that normal?", "should i worry?"), typed after telling the symptom, is read as personal
whatever the classifier read (it took such messages for "no" or "are you a bot?"); a symptom told
without asking anything ("my back hurts when i sit") is too, where the classifier found no topic in
it (out of scope, not understood, not covered: it got "I can only answer general questions").
A report that the problem or a symptom has come back ("it came back after the op", "my pain is back")
counts as an own symptom question, asked or not: a topic's facts or the general recurrence answer
would not fit it.
In a message with several topics ("my scar itches. should i worry?" splits into a scar part and a
safety part), the parts holding the symptom or the question become one personal part, first; the
other topics are still answered (a part the collector took for a general question whether the problem
comes back goes back to the topic the classifier read: the person's, not the general answer).

Placed after TopicMargin and before RestoreOriginalText: it reads the corrected text (a slip does not
hide the symptom) and then the typed one (a correction does not hide it either). The triage runs
after it and still escalates any red flag whatever this step set.
``enabled: false`` in config.yml switches it off.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.multi_topic import TOPICS_KEY
from clinic_nlu.own_case import OwnCaseRules, load_rules
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_nlu.switchable import SwitchableComponent, set_intent
from clinic_nlu.topic_margin import FALLBACK_INTENT
from clinic_vocabulary import (
    FACT_TOPIC_INTENTS,
    NOT_COVERED_INTENT,
    OUT_OF_SCOPE_INTENT,
    OWN_CASE_KEY,
    PERSONAL_INTENT,
    TRIAGE_INTENTS,
)

# The readings an own-symptom question replaces; any other intent (a greeting, a callback request)
# is left alone. The classifier's own guess of an escalation is among them: the triage, which runs
# after this step, decides escalation from the words alone and overrides this step when it escalates.
# The readings a symptom told without a question replaces: those that found no topic in it.
NO_TOPIC = frozenset({NOT_COVERED_INTENT, FALLBACK_INTENT, OUT_OF_SCOPE_INTENT})
# (the symptom's wording, the question's wording): either may be missing, never both
Found = Tuple[Optional[str], Optional[str]]
REPLACEABLE = frozenset(
    {*FACT_TOPIC_INTENTS, NOT_COVERED_INTENT, FALLBACK_INTENT, OUT_OF_SCOPE_INTENT, *TRIAGE_INTENTS.values()}
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OwnCaseDeferral(SwitchableComponent):
    """Reads a question about the writer's own symptom as the personal question it is."""

    def __init__(self, config: Dict[Text, Any], rules: Optional[OwnCaseRules] = None) -> None:
        self._rules = (rules or load_rules()) if self.enabled_in(config) else None

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the personal intent on each message that asks about the writer's own symptom."""
        if self._rules is None:
            return messages
        for message in messages:
            predicted = message.get(INTENT) or {}
            name = predicted.get(INTENT_NAME_KEY)
            topics = message.get(TOPICS_KEY) or []
            texts = [message.get(TEXT) or "", message.get(ORIGINAL_TEXT) or ""]
            found: Optional[Found] = next((f for f in map(self._rules.match, texts) if f), None)
            if found is None:
                # "it came back after the op", "my pain is back": the own case, asked or not
                found = next((f for f in map(self._rules.returned, texts) if f), None)
            if found is None and len(topics) < 2:
                # nothing but the question, typed after telling the symptom: whatever the classifier read
                bare = next((b for b in map(self._rules.bare, texts) if b), None)
                found = (None, bare) if bare else None
                if found is None and name in NO_TOPIC:
                    # a symptom told, nothing asked, no topic found ("my back hurts when i sit")
                    told = next((t for t in map(self._rules.told, texts) if t), None)
                    found = (told, None) if told else None
            elif found is not None and len(topics) < 2 and name not in REPLACEABLE | {PERSONAL_INTENT}:
                found = None
            if found is None:
                continue
            if len(topics) >= 2 and not self._defer_parts(message, topics, found):
                continue
            symptom, question = found
            # Recorded also when the classifier already read it as personal: the reply adds the safety net.
            why = {"replaced": dict(predicted), "symptom": symptom, "question": question}
            message.set(OWN_CASE_KEY, why, add_to_output=True)
            if len(message.get(TOPICS_KEY) or []) < 2 and name != PERSONAL_INTENT:
                set_intent(message, {INTENT_NAME_KEY: PERSONAL_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0})
        return messages

    @staticmethod
    def _defer_parts(message: Message, topics: List[Dict[str, Any]], found: Found) -> bool:
        """In a message with several topics, the parts that hold the own symptom or its question
        become one personal part, put first (the reply defers before anything else, as
        actions/multi_topic.py does for a personal part). Returns False when no part holds either.

        What is left decides the message's intent as the MultiTopicCollector would: a not-covered
        part leads, else the first fact topic; with neither left, the message is one personal
        question (no ``topics``)."""
        own = [t for t in topics if any(w and w in q.lower() for q in t.get("questions") or [] for w in found)]
        if not own:
            return False
        # A part asking whether the problem comes back is the person's question now: it goes back
        # to the topic the classifier read (the reply then holds it back or answers it in general, as
        # any topic after a personal question), never the general recurrence answer.
        rest = _as_read([t for t in topics if t not in own and t.get("name") != PERSONAL_INTENT])
        personal = {
            "name": PERSONAL_INTENT,
            "confidence": 1.0,
            "questions": [
                q for t in topics if t in own or t.get("name") == PERSONAL_INTENT for q in t.get("questions") or []
            ],
        }
        lead = next((t for t in rest if t.get("name") == NOT_COVERED_INTENT), None) or next(
            (t for t in rest if t.get("name") in FACT_TOPIC_INTENTS), None
        )
        if lead is None:
            message.data.pop(TOPICS_KEY, None)
            return True
        message.set(TOPICS_KEY, [personal, *rest], add_to_output=True)
        set_intent(message, {INTENT_NAME_KEY: lead["name"], PREDICTED_CONFIDENCE_KEY: lead["confidence"]})
        return True


def _as_read(topics: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``topics`` with each one decided otherwise (``read_as``: a recurrence part) back under the
    classifier's topic; a topic then listed twice is kept once, at its first place, with both
    parts' words."""
    out: Dict[str, Dict[str, Any]] = {}
    for topic in topics:
        name = str(topic.get("read_as") or topic.get("name"))
        entry = {k: v for k, v in topic.items() if k != "read_as"}
        entry["name"] = name
        if name in out:
            kept = out[name]
            kept["confidence"] = max(kept.get("confidence") or 0.0, entry.get("confidence") or 0.0)
            kept["questions"] = [*(kept.get("questions") or []), *(entry.get("questions") or [])]
        else:
            out[name] = entry
    return list(out.values())
