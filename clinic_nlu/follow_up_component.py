"""Rasa NLU component: a bare follow-up ("and for that one?") asks for more on the last topic.

With no topic word in it, the classifier reads such a message as whatever its few words resemble:
"and for that one?" came out as a goodbye ("Goodbye, and take care" in the middle of the
conversation), "what about that one" as not understood, "what about for that" as the patient's own
case. :func:`clinic_nlu.follow_up.is_bare_follow_up` decides from the words alone; the intent then
becomes ``ask_more`` (action_tell_more: the last topic's details, or "that is all the sheet says", or
"which topic?" when there was none), and the classifier's reading is kept under ``follow_up`` for staff.

A follow-up with a subject ("what about work", "and sports?") is read the same way, but only when the
classifier found no question in it of its own (``NO_QUESTION_READINGS``: "what about work" came out as
the patient's own case, "and sports" as out of scope); its subject is kept under ``follow_up``
(``about``) for the answer, which repeats the last topic when the subject belongs to it, gives the
topic it belongs to otherwise, and else the reply for a message not understood (with its line on
feeling very unwell: "and the bleeding?" may be a symptom). "and the scar?", read as the scar topic, keeps that reading.

Placed after OwnCaseDeferral and before RestoreOriginalText (it reads the corrected text, then the
typed one). The triage runs after it and still escalates any red flag. ``enabled: false`` switches it off.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.follow_up import follow_up_subject, is_bare_follow_up
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_nlu.switchable import SwitchableComponent, replace_intent
from clinic_vocabulary import FOLLOW_UP_KEY

MORE_INTENT = "ask_more"
# The classifier's readings of a follow-up with a subject that carry no question of their own.
NO_QUESTION_READINGS = frozenset({"out_of_scope", "nlu_fallback", "ask_personal_advice", "goodbye"})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class BareFollowUp(SwitchableComponent):
    """Reads a message that only points back at the answer before as a request for more."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._enabled = self.enabled_in(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Set ``ask_more`` on each bare follow-up (read on the corrected or the typed text)."""
        if not self._enabled:
            return messages
        for message in messages:
            predicted: Optional[Dict[str, Any]] = message.get(INTENT)
            texts = [message.get(TEXT) or "", message.get(ORIGINAL_TEXT) or ""]
            if not predicted or predicted.get(INTENT_NAME_KEY) == MORE_INTENT:
                continue
            follow_up: Dict[str, Any] = {}
            if not any(is_bare_follow_up(text) for text in texts):
                if predicted.get(INTENT_NAME_KEY) not in NO_QUESTION_READINGS:
                    continue
                subject = next((s for s in map(follow_up_subject, texts) if s), None)
                if subject is None:
                    continue
                follow_up["about"] = subject
            replace_intent(message, MORE_INTENT, FOLLOW_UP_KEY, follow_up)
        return messages
