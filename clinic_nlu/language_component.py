"""Rasa NLU component: a message clearly not in English gets the honest "I read English only" reply.

The classifier and the triage rules know English only. A message in another language got a wrong
topic's answer or "not understood", and a red flag written in it was not escalated ("je ne sens plus
mes jambes et je n'arrive plus à uriner"). Full multilingual triage is out of scope; instead,
:class:`clinic_nlu.language.LanguageCheck` (word lists, no model; measured in BENCHMARKS.md) reads the
typed text without any instruction-like parts, and a message it finds clearly not English gets the
intent ``not_english``: its rule sends ``utter_not_english`` (domain.yml: the assistant reads English
only; if it is urgent or an emergency, call the local emergency number now). The classifier's reading
is kept under ``not_english`` for staff. A greeting, thanks or goodbye the classifier read gets this
reply too: a greeting word in front of a red flag ("buenos dias tengo fiebre", "bonjour je saigne
beaucoup") was read as a greeting, and the greeting's reply has no emergency advice; the honest reply
suits a greeting in another language as well ("hola buenos dias", "hola"). Short messages ("dolor
espalda", "ból pleców") are judged with the reviewed list of other languages' common words
(``foreign_words.txt``).

Placed after BareFollowUp and before RestoreOriginalText; the triage runs after it and still
escalates a red flag it reads (an English one in a mixed message). ``enabled: false`` switches it off.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.language import LanguageCheck, language_check
from clinic_nlu.spelling_corrector import ORIGINAL_TEXT
from clinic_nlu.switchable import SwitchableComponent, replace_intent
from clinic_vocabulary import NOT_ENGLISH_INTENT

NOT_ENGLISH_KEY = "not_english"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NotEnglish(SwitchableComponent):
    """Sets ``not_english`` on a message clearly written in another language."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # english_words: the English word list's size; common_words: the most frequent English words,
        # never read as another language's; min_words and english_share: a message of at least
        # min_words words, with another language's stop words and fewer than english_share of its
        # words read as English, is not English (clinic_nlu/language.py; BENCHMARKS.md).
        return {"enabled": True, "english_words": 50000, "common_words": 1000, "min_words": 3, "english_share": 0.5}

    def __init__(self, config: Dict[Text, Any], check: Optional[LanguageCheck] = None) -> None:
        settings = {**self.get_default_config(), **config}
        enabled = self.enabled_in(settings)
        self._check = (
            check
            or language_check(
                int(settings["english_words"]),
                int(settings["common_words"]),
                int(settings["min_words"]),
                float(settings["english_share"]),
            )
            if enabled
            else None
        )

    def process(self, messages: List[Message]) -> List[Message]:
        """Set ``not_english`` on each message written in another language (read on the typed text)."""
        if self._check is None:
            return messages
        for message in messages:
            text = message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
            if not text or text.startswith("/") or not self._check.not_english(text):
                continue
            reading = self._check.read(text)
            replace_intent(message, NOT_ENGLISH_INTENT, NOT_ENGLISH_KEY, {"language": reading.language})
        return messages
