"""Rasa NLU component: the clinical triage level of every message decides escalation.

Placed last in the pipeline. :func:`clinic_triage.assess` reads the message's words alone (not
the classifier's output) and gives one level: emergency, crisis, urgent or none.

- On emergency, crisis or urgent the intent becomes ``report_emergency``, ``report_crisis`` or
  ``report_urgent`` with confidence 1.0, whatever the classifier predicted; rules answer each
  with a domain response, so escalation never depends on the action server.
- On none, a classifier guess of one of those intents is, by default (``classifier_escalation:
  demote``), replaced by the classifier's best other intent: the triage rules, not word
  statistics, decide when a patient is told to call an ambulance (BENCHMARKS.md compares both).
  When that intent's share of the confidence left (the escalation intents taken out) is below
  ``min_demoted_confidence`` (the FallbackClassifier's threshold), the message is not understood
  (``nlu_fallback``) instead.
- When a spelling corrector ran (``clinic_nlu.spelling_corrector``), the typed text is in ``text``,
  the corrected one in ``text_corrected`` and, when its context step changed the word step's
  result, the word step's text in ``text_word_step``: every distinct one is triaged and the most
  severe level wins, so a typo cannot hide a red flag and no correction can remove one.
  ``triage.read`` says which text gave the level (``typed``, ``corrected`` or ``word_step``).
- When instruction-like text was set aside for the classifier (``clinic_nlu.instructions_component``),
  the typed text without it (``text_without_instructions``) is read too (``without_instructions``);
  ``text`` still holds the full typed text, so a red flag anywhere in the message escalates.
- The typed text with its disguises undone (:func:`clinic_nlu.unmask.unmasked`: "c4nt f33l my l3gs",
  "c a n ' t  p e e", look-alike letters) is read too (``triage.read``: ``unmasked``), when it differs,
  so hiding the words of a red flag does not hide the red flag.
- The classifier's own prediction stays under ``classifier_intent`` and the triage under
  ``triage`` (level, counted flags, every finding with its context), so staff see why.
  ``red_flags`` keeps the counted findings in the older ``{flag, matched}`` form, each with the
  flag's ``description`` from the rules (the staff app shows it as the reason for the flag).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text, Tuple

from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlu.unmask import unmasked
from clinic_triage import NONE, Triage
from clinic_triage.engine import LEVELS, Assessment
from clinic_vocabulary import TRIAGE_INTENTS

DEMOTE, KEEP = "demote", "keep"
# Set by clinic_nlu.spelling_corrector (named here to keep this module free of it), with the name
# ``triage.read`` gives each: read in this order, a later text decides only when it is more severe.
# clinic_nlu.instructions_component sets the typed text without instruction-like parts aside for the
# classifier; the triage reads the full typed text and this one too ("without_instructions").
READINGS = (
    ("text_corrected", "corrected"),
    ("text_word_step", "word_step"),
    ("text_without_instructions", "without_instructions"),
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TriageOverride(GraphComponent):
    """Sets the triage level of each message and the escalation intent that goes with it."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # min_demoted_confidence: the FallbackClassifier's threshold (config.yml; a test keeps the two
        # equal), which ran before this component and so never saw the demoted intent's confidence.
        return {"classifier_escalation": DEMOTE, "min_demoted_confidence": 0.3}

    def __init__(self, config: Dict[Text, Any], triage: Triage) -> None:
        config = {**self.get_default_config(), **config}
        if config["classifier_escalation"] not in (DEMOTE, KEEP):
            raise ValueError(f"classifier_escalation must be {DEMOTE!r} or {KEEP!r}")
        self._demote = config["classifier_escalation"] == DEMOTE
        self._min_demoted = float(config["min_demoted_confidence"])
        if not 0.0 <= self._min_demoted <= 1.0:
            raise ValueError("min_demoted_confidence must be between 0 and 1")
        self._triage = triage

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TriageOverride":
        from clinic_triage.engine import default_triage

        return cls(config, default_triage())

    def _assess(self, message: Message) -> Tuple[Assessment, str]:
        """The most severe assessment of the message's distinct readings (typed, then corrected,
        then the word step's, then the unmasked one; the first wins a tie) and which reading gave it."""
        typed = message.get(TEXT)
        assessment, read = self._triage.assess(typed), "typed"
        seen = {typed}
        readings = [(message.get(key), name) for key, name in READINGS] + [(unmasked(typed), "unmasked")]
        for text, name in readings:
            if not text or text in seen:
                continue
            seen.add(text)
            other = self._triage.assess(text)
            if LEVELS.index(other.level) < LEVELS.index(assessment.level):  # LEVELS: most severe first
                assessment, read = other, name
        return assessment, read

    def process(self, messages: List[Message]) -> List[Message]:
        """Triage each message and set its intent from the level."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            assessment, read = self._assess(message)
            message.set("triage", {**assessment.as_dict(), "read": read}, add_to_output=True)
            message.set(
                "red_flags",
                [
                    {"flag": f.flag, "matched": f.matched, "description": self._triage.description_of(f.flag)}
                    for f in assessment.findings
                    if f.counted
                ],
                add_to_output=True,
            )
            predicted = message.get(INTENT) or {}
            ranking = message.get(INTENT_RANKING_KEY) or []
            if assessment.level != NONE:
                message.set("classifier_intent", predicted, add_to_output=True)
                intent = TRIAGE_INTENTS[assessment.level]
                override = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
                rest = [r for r in ranking if r.get(INTENT_NAME_KEY) != intent]
                message.set(INTENT, override, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [override, *rest], add_to_output=True)
            elif self._demote and predicted.get(INTENT_NAME_KEY) in TRIAGE_INTENTS.values():
                message.set("classifier_intent", predicted, add_to_output=True)
                rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in TRIAGE_INTENTS.values()]
                if rest and _share_of_the_rest(rest) < self._min_demoted:
                    # As unsure as the FallbackClassifier's threshold, among the intents left: not
                    # understood (the rephrase reply, with the safety line), never a topic the words
                    # barely resemble.
                    fallback = {
                        INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                        PREDICTED_CONFIDENCE_KEY: self._min_demoted,
                    }
                    rest = [fallback, *(r for r in rest if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME)]
                if rest:
                    message.set(INTENT, dict(rest[0]), add_to_output=True)
                    message.set(INTENT_RANKING_KEY, rest, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _share_of_the_rest(rest: List[Dict[str, Any]]) -> float:
    """The first intent's confidence among the intents left once the escalation intents are taken
    out of the ranking ("no fever, no numbness. when can i drive?": the recovery topic keeps most of
    what the emergency guess leaves; a message the classifier reads as nothing else does not)."""
    confidences = [float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in rest]
    total = sum(confidences)
    return confidences[0] / total if total > 0 else 0.0
