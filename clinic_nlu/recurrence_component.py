"""Rasa NLU component: a question whether the problem can come back is marked, its intent kept.

"Will it come back?", "is the surgery permanent or do i need another one later": the clinic's sheet
says nothing about the problem coming back after the operation it describes (its "high recurrence
rate" is about the older methods). The classifier reads such messages as safety, pain relief, the
comparison or not understood, and those answers seem to answer. Training examples could not teach
the boundary without blurring safety and pain relief (BENCHMARKS.md, session 13), so the reviewable
patterns of ``recurrence.yml`` (:mod:`clinic_nlu.recurrence`) find it instead. This step adds the
entity ``recurrence_question`` (the wording found; its place in the typed text, or the whole typed
text when only the corrected one holds it) and leaves the intent and its ranking as the classifier
read them; data/rules.yml sends the intents such a message is read as, with the entity, to the
not-covered answer (actions/not_covered.py).

Not added to a message about the writer's own case (read as personal, marked by OwnCaseDeferral, or
found by the file's ``own_case`` patterns: it keeps its existing handling). In a message with several
topics the MultiTopicCollector has made the part that asks it a topic of its own (``recurrence_question``,
clinic_nlu/multi_topic.py; the intent ``ask_not_covered``); this step then adds the entity at that
part's words, so staff and the benches see it, and adds none to any other message with several
topics. Placed after OwnCaseDeferral and before RestoreOriginalText; the triage runs after it and
escalates any red flag, whose rules win. ``enabled: false`` in config.yml switches it off (and the
collector's ``recurrence: false`` the topic of its own).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.instructions_component import FULL_TEXT
from clinic_nlu.recurrence import RecurrenceRules, load_rules
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_nlu.switchable import SwitchableComponent
from clinic_vocabulary import OWN_CASE_KEY, PERSONAL_INTENT, RECURRENCE_ENTITY, RECURRENCE_TOPIC, TOPICS_KEY

EXTRACTOR = "RecurrenceQuestion"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RecurrenceQuestion(SwitchableComponent):
    """Marks a general question whether the problem comes back after the operation."""

    def __init__(self, config: Dict[Text, Any], rules: Optional[RecurrenceRules] = None) -> None:
        self._rules = (rules or load_rules()) if self.enabled_in(config) else None

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the ``recurrence_question`` entity to each message that asks it in general."""
        if self._rules is None:
            return messages
        for message in messages:
            name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if name == PERSONAL_INTENT or message.get(OWN_CASE_KEY):
                continue
            typed = message.get(FULL_TEXT) or message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
            topics = message.get(TOPICS_KEY) or []
            if len(topics) >= 2:
                span = self._part_span(topics, typed)
            else:
                span = self._rules.find(typed)
            if span is None:
                if len(topics) >= 2:
                    continue
                if self._rules.find(message.get(TEXT) or "") is None:
                    continue
                span = (0, len(typed))  # only the corrected text holds it: the whole typed text
            start, end = span
            entity = {"entity": RECURRENCE_ENTITY, "start": start, "end": end, "value": typed[start:end]}
            message.set(
                ENTITIES, [*(message.get(ENTITIES) or []), {**entity, "extractor": EXTRACTOR}], add_to_output=True
            )
        return messages

    def _part_span(self, topics: List[Dict[str, Any]], typed: str) -> Optional[Tuple[int, int]]:
        """In a message with several topics, where in ``typed`` the recurrence part's wording is (the
        whole part where only its corrected words hold it); None without such a part or beside a
        personal one."""
        if self._rules is None or any(t.get("name") == PERSONAL_INTENT for t in topics):
            return None
        part = next((t for t in topics if t.get("name") == RECURRENCE_TOPIC), None)
        for question in (part or {}).get("questions") or []:
            at = typed.find(question)
            if at < 0:
                continue
            found = self._rules.find(question)
            return (at + found[0], at + found[1]) if found else (at, at + len(question))
        return None
