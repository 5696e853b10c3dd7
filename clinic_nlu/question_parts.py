"""Several questions in one message: split the text into parts and pick the topics asked, in order.

No Rasa imports. Patients often ask two or three things at once ("how long is recovery and what
does it cost?"). :func:`split_parts` cuts a message at sentence ends (spaCy's rule-based
sentencizer on a blank English pipeline, no model download) and, inside a sentence, before a word
that joins two questions ("and", "also", "plus", "&", ...) or a comma followed by a question word.
Each part is then classified like a whole message (by the caller), and :func:`ordered_topics` keeps
the topics whose part the classifier is sure of, in the order the parts came.

A false split costs little by design: "pain in my back and leg" splits into "pain in my back" and
"leg", but "leg" is no confident topic of its own, so only one topic remains and the message is
answered as one question. The confidence threshold is calibrated by cross-validation on the training
data (bench/multi_topic_eval.py), never on the held-out sets.

:func:`ranked_topics` is the other approach that was measured (multi-label scoring of the whole
message's intent ranking); it is kept as the reference for that comparison (BENCHMARKS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Collection, Dict, List, Mapping, Optional, Sequence, Tuple

# Words that start a second question inside a sentence. "or" is not one: "laser or injections?" is
# one question; neither is "with" or a comma alone ("scar, stitches?").
_JOINERS = r"and also|and|also|plus|as well as|furthermore|in addition|additionally|besides|another thing|n"
# A comma starts a new question only before a question word or auxiliary ("cost, how long is it?").
_QUESTION_WORDS = (
    r"how|what|whats|what's|wat|when|where|which|who|why|is|are|do|does|did|can|could|will|would|"
    r"should|shall|may|must|am"
)
_SPLIT = re.compile(
    rf"\s*,?\s+\b(?:{_JOINERS})\b\s+|\s*[&+]\s*|\s*,\s+(?=(?:{_QUESTION_WORDS})\b)",
    re.IGNORECASE,
)
# A part that only says which thing the question before it meant ("will it come back? the herniation
# i mean", "i mean the scar", "i meant after the op") is a clarification, not a question of its own
# (one that asks something again, "i mean, how long is recovery", is still split off).
_CLARIFICATION = re.compile(
    r"^(?:i mean|i meant|i am talking about|i'?m talking about|meaning)\b|\b(?:i mean|i meant)[\s.!?]*$",
    re.IGNORECASE,
)
# A part that only asks how long, until when or how often about the question before it ("do i need
# physio after and for how long", "do i wear a brace, and how often") has no subject of its own: it
# is that question's, not a second topic.
_FOLLOW_ON = re.compile(
    r"^(?:(?:for|till|until|up to|up until)\s+"
    r"(?:how long|how many (?:days|weeks|months|hours)|how much longer|when|what time)"
    r"|how long for|how often)(?:\s+(?:though|then|roughly|about|exactly))?[\s?!.]*$",
    re.IGNORECASE,
)
_ASKS = re.compile(rf"\b(?:{_QUESTION_WORDS})\b", re.IGNORECASE)
_LEADING_JOINER = re.compile(rf"^(?:{_JOINERS})\b[\s,]*", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _sentencizer() -> Any:
    """A blank English spaCy pipeline with the rule-based sentencizer (built once)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def sentences(text: str) -> List[str]:
    """The sentences of ``text`` (spaCy's punctuation rules: ``.``, ``?``, ``!`` and friends)."""
    return [s.text.strip() for s in _sentencizer()(text).sents if s.text.strip()]


def split_parts(text: str, max_parts: int = 4) -> List[str]:
    """The candidate questions of ``text``, in order; ``[text]`` when there is nothing to split.

    A joining word that starts a sentence ("Also, what ...") is left out. Parts without a letter are
    dropped; a part that only clarifies the one before it ("... the herniation i mean") or only asks how
    long or how often about it ("... and for how long") joins it. At
    most ``max_parts`` parts: the rest of the message is kept together in the last one, so the cost of
    a long message stays bounded.
    """
    parts: List[str] = []
    for sentence in sentences(text):
        parts.extend(_LEADING_JOINER.sub("", p.strip(" ,;:-")) for p in _SPLIT.split(sentence))
    kept: List[str] = []
    for part in (p for p in parts if _LETTER.search(p)):
        if kept and (
            _CLARIFICATION.search(part) and not _ASKS.search(_CLARIFICATION.sub("", part)) or _FOLLOW_ON.search(part)
        ):
            kept[-1] = f"{kept[-1]} {part}"
        else:
            kept.append(part)
    parts = kept
    if len(parts) > max_parts:
        parts = parts[: max_parts - 1] + [" ".join(parts[max_parts - 1 :])]
    return parts or [text]


# The words the spelling corrector reads and replaces one for one (clinic_nlu/spelling.py::readings):
# everything between them is kept as typed, so a corrected text lines up with the typed one.
_SPELLER_WORD = re.compile(r"[A-Za-z]+")


def typed_parts(parts: Sequence[str], corrected: str, typed: str) -> List[str]:
    """Each part of the ``corrected`` text (as :func:`split_parts` cut it) in the words the patient typed.

    The classifier reads the spelling-corrected text, but a reply that quotes a part ("You asked:
    ...") must quote the patient's own words. The corrector changes words one for one and keeps
    everything between them, so the n-th word of ``corrected`` is the n-th word of ``typed``: each
    part's words are found, in order, among the corrected text's words (the joining words the split
    dropped are skipped), and the same stretch of ``typed`` is returned, with the punctuation the
    part starts or ends with. A part that cannot be lined up (texts that do not line up word for
    word, which the corrector never produces) is returned as it is.
    """
    if corrected == typed:
        return list(parts)
    words = list(_SPELLER_WORD.finditer(corrected))
    typed_words = list(_SPELLER_WORD.finditer(typed))
    if len(words) != len(typed_words):
        return list(parts)
    out: List[str] = []
    cursor = 0
    for part in parts:
        found = list(_SPELLER_WORD.finditer(part))
        matched: List[int] = []
        i = cursor
        for word in found:
            while i < len(words) and words[i].group(0) != word.group(0):
                i += 1
            if i == len(words):
                break
            matched.append(i)
            i += 1
        if not found or len(matched) != len(found):
            out.append(part)
            continue
        cursor = i
        first, last = matched[0], matched[-1]
        head, tail = part[: found[0].start()], part[found[-1].end() :]
        # Between words the texts are the same, so the typed stretch is shifted by the words' offsets.
        begin = typed_words[first].start()
        if corrected[words[first].start() - len(head) : words[first].start()] == head:
            begin -= len(head)
        end = typed_words[last].end()
        if corrected[words[last].end() : words[last].end() + len(tail)] == tail:
            end += len(tail)
        out.append(typed[begin:end])
    return out


@dataclass(frozen=True)
class TopicHit:
    """A topic asked in a message, with the classifier's confidence for the part that asks it and
    the parts' own words (the reply quotes them where the sheet does not answer the question);
    ``read_as``: the classifier's topic for a part whose topic was decided otherwise (a question
    whether the problem comes back, found by clinic_nlu/recurrence.yml)."""

    name: str
    confidence: float
    questions: Tuple[str, ...] = ()
    read_as: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"name": self.name, "confidence": self.confidence}
        if self.questions:
            out["questions"] = list(self.questions)
        if self.read_as:
            out["read_as"] = self.read_as
        return out


def ordered_topics(
    part_intents: Sequence[Tuple[str, float]],
    topics: Collection[str],
    threshold: float,
    thresholds: Optional[Mapping[str, float]] = None,
    texts: Optional[Sequence[str]] = None,
) -> List[TopicHit]:
    """The distinct topics of the parts, in the order asked.

    ``part_intents`` holds each part's top intent and its confidence. A part counts when its intent
    is one of ``topics`` and its confidence reaches ``threshold`` (or the intent's own entry in
    ``thresholds``); a topic asked twice is kept once, at its first place (with its best confidence
    and, when ``texts`` gives the parts' words, every part that asked it).
    """
    own = thresholds or {}
    hits: Dict[str, float] = {}
    words: Dict[str, List[str]] = {}
    for i, (name, confidence) in enumerate(part_intents):
        if name in topics and confidence >= own.get(name, threshold):
            hits[name] = max(confidence, hits.get(name, 0.0))
            if texts is not None:
                words.setdefault(name, []).append(texts[i])
    return [TopicHit(name, hits[name], tuple(words.get(name, ()))) for name in hits]


def ranked_topics(
    ranking: Sequence[Dict[str, Any]], topics: Collection[str], threshold: float, max_topics: int = 3
) -> List[TopicHit]:
    """Multi-label reading of one intent ranking: every topic whose probability reaches ``threshold``.

    The order is the ranking's (most likely first), not the order asked: the ranking cannot tell.
    """
    hits = [
        TopicHit(str(entry["name"]), float(entry.get("confidence") or 0.0))
        for entry in ranking
        if entry.get("name") in topics and float(entry.get("confidence") or 0.0) >= threshold
    ]
    return hits[:max_topics]


def is_multi_topic(hits: Optional[Sequence[TopicHit]]) -> bool:
    """Whether the message asks about two or more topics."""
    return bool(hits) and len(hits) >= 2  # type: ignore[arg-type]
