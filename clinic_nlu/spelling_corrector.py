"""Rasa NLU components: the featurizers read a spelling-corrected text, triage reads every reading.

``SpellingCorrector`` goes first in the pipeline (after the step that sets instruction-like text
aside, :mod:`clinic_nlu.instructions_component`). It corrects the message with
:class:`clinic_nlu.spelling.DomainSpeller` and, when anything changed, puts the corrected text in
``text`` (what the tokenizer, featurizers and classifier read) and keeps what the patient typed
under ``text_original``.

``RestoreOriginalText`` goes just before the triage component (which must stay last). It puts
the typed text back in ``text`` and shows the corrected one under ``text_corrected``; when the
context step changed the word step's result, the word step's text is kept too, under
``text_word_step``. So the tracker and the staff app keep exactly what the patient wrote, and the
triage component reads every distinct one of these texts (the most severe level wins): a correction
can never remove a red flag that the typed text or the word step's text shows, and a typo cannot
hide one that a corrected text shows. ``tests/test_spelling_corrector.py`` keeps this order in
``config.yml``.

The domain vocabulary (words of the training examples, ``domain.yml`` and ``facts/facts.yml``;
with ``slip_min_count`` set, without the training examples' own slips, which the training texts
are then corrected like any other: :func:`clinic_nlu.spelling.training_slips`) is
stored in the model as JSON (no pickle); the English word list and the medical list are read when
the model is loaded. With the context step switched on (any of the three ratios in ``config.yml``;
see :mod:`clinic_nlu.spelling`), the word-pair counts of the same texts are stored next to it.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.instructions_component import FULL_TEXT, WITHOUT_INSTRUCTIONS
from clinic_nlu.spelling import MIN_LETTERS, DomainSpeller, build_speller, load_speller, speller_settings
from clinic_nlu.typo_augmenter import AUGMENTED

logger = logging.getLogger(__name__)

ORIGINAL_TEXT = "text_original"
CORRECTED_TEXT = "text_corrected"
WORD_STEP_TEXT = "text_word_step"
_FILE = "domain_vocabulary.json"
_BIGRAMS = "domain_bigrams.json"


@lru_cache(maxsize=2)
def _cached_speller(
    domain: Tuple[Tuple[str, int], ...],
    english_words: int,
    bigrams: Tuple[Tuple[str, int], ...] = (),
    ratios: Tuple[float, float, float] = (0.0, 0.0, 0.0),
    after_a_slip: bool = False,
    min_letters: int = MIN_LETTERS,
    guard: str = "triage_words",
) -> DomainSpeller:
    """One speller per vocabulary and process (building the English dictionary takes seconds)."""
    return load_speller(
        dict(domain),
        english_words,
        bigrams=dict(bigrams) or None,
        ratios=ratios,
        real_words_after_a_slip=after_a_slip,
        context_min_letters=min_letters,
        context_guard=guard,
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SpellingCorrector(GraphComponent):
    """Replaces the text the featurizers read by its spelling-corrected form; keeps the typed one."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # english_words: how many of the most frequent English words the corrector knows.
        # The context step's ratios (clinic_nlu/spelling.py; 0 switches a part off): how much better a
        # domain word one edit away must fit between the neighbouring words to replace a typed word
        # of the domain vocabulary, a typed English word the domain never uses, an unknown word;
        # real_words_after_a_slip: typed real words only in a message that has an unknown word;
        # context_min_letters: 2 also reads two-letter words (only in a message with an unknown word);
        # context_guard: which words the context step leaves alone (clinic_nlu/spelling.py::guard_words:
        # triage_words, symptom_words, negations, none).
        # slip_min_count: 0 (off) takes every word of the training texts as a clinic word; N > 0 leaves
        # out a training-text word of four or more letters seen fewer than N times there, one edit from
        # a known word the clinic's texts use slip_ratio times as often and from no protected word (a
        # slip such as "wnat", "surgen": corrected like any slip, training texts included;
        # clinic_nlu/spelling.py::training_slips).
        return {
            "english_words": 50000,
            "domain_word_ratio": 0.0,
            "english_word_ratio": 0.0,
            "non_word_ratio": 0.0,
            "real_words_after_a_slip": False,
            "context_min_letters": MIN_LETTERS,
            "context_guard": "triage_words",
            "slip_min_count": 0,
            "slip_ratio": 10.0,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        speller: Optional[DomainSpeller] = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._speller = speller

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpellingCorrector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Build the domain vocabulary from the (clean, not augmented) training examples."""
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT) and not m.get(AUGMENTED)]
        self._speller = build_speller(texts, **speller_settings(self._config))
        with self._storage.write_to(self._resource) as directory:
            (directory / _FILE).write_text(json.dumps(self._speller.domain, sort_keys=True), encoding="utf-8")
            if self._speller.context is not None:
                bigrams = json.dumps(self._speller.context.bigrams, sort_keys=True)
                (directory / _BIGRAMS).write_text(bigrams, encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SpellingCorrector":
        try:
            with model_storage.read_from(resource) as directory:
                domain = json.loads((directory / _FILE).read_text(encoding="utf-8"))
                pairs = directory / _BIGRAMS
                bigrams = json.loads(pairs.read_text(encoding="utf-8")) if pairs.exists() else {}
        except ValueError:
            logger.warning("SpellingCorrector: no trained vocabulary in the model; correcting nothing")
            return cls(config, model_storage, resource)
        settings = speller_settings(config)
        speller = _cached_speller(
            tuple(sorted(domain.items())),
            settings["english_words"],
            tuple(sorted(bigrams.items())),
            settings["ratios"],
            settings["real_words_after_a_slip"],
            settings["context_min_letters"],
            settings["context_guard"],
        )
        return cls(config, model_storage, resource, speller)

    def process(self, messages: List[Message]) -> List[Message]:
        """Correct each message's text; the typed text stays under ``text_original`` and the word
        step's text, when the context step changed it, under ``text_word_step``."""
        if self._speller is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text or message.get(ORIGINAL_TEXT) is not None:
                continue
            word_step, corrected, _ = self._speller.readings(text)
            if corrected != text or word_step != text:
                message.set(ORIGINAL_TEXT, text)
                message.set(TEXT, corrected)
            if word_step not in (text, corrected):
                message.set(WORD_STEP_TEXT, word_step, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training texts are corrected too, so that training and serving see the same kind of text."""
        self.process(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class RestoreOriginalText(GraphComponent):
    """Puts the typed text back in ``text`` (for triage and storage); the corrected ones are kept aside."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RestoreOriginalText":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Undo :class:`SpellingCorrector`'s swap on every message it changed, and the swap of
        :class:`clinic_nlu.instructions_component.SetAsideInstructions` (the full typed text back in
        ``text``, the typed text without the instructions under ``text_without_instructions``)."""
        for message in messages:
            original = message.get(ORIGINAL_TEXT)
            if original is not None:
                message.set(CORRECTED_TEXT, message.get(TEXT), add_to_output=True)
                message.set(TEXT, original)
                message.data.pop(ORIGINAL_TEXT, None)
            full = message.get(FULL_TEXT)
            if full is not None:
                message.set(WITHOUT_INSTRUCTIONS, message.get(TEXT), add_to_output=True)
                message.set(TEXT, full)
                message.data.pop(FULL_TEXT, None)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
