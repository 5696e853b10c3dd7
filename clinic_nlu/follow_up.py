"""A bare follow-up: a message that only points back at the answer before ("and for that one?").

After an answer, patients ask on with a reference and nothing else: "and for that one?", "what about
that one", "same for that?", "for that too?". With no topic word in them, the classifier reads them
as whatever their few words resemble (a goodbye, "not understood", the patient's own case). Such a
message is a request for more on the last topic: :func:`is_bare_follow_up` says whether a message is
one, so that the NLU step (:mod:`clinic_nlu.follow_up_component`) reads it as ``ask_more``; the
action then gives the last topic's details, or says that is all the sheet says. No Rasa imports.

A bare follow-up is made only of the words in ``FILLER_WORDS`` and has a reference (``REFERENCE``):
"that one", "this one", "the other one", "for that / this / it", "what / how about that / this /
it", "same". A question of its own ("so what is it", "is it safe") is never one: it has a word
outside the list, or no reference.
"""

from __future__ import annotations

import re

# The only words a bare follow-up is made of.
FILLER_WORDS = frozenset(
    "and or but so ok okay what about how for with that this it one ones the other same too also then "
    "is it's its was as well again there".split()
)
REFERENCE = re.compile(
    r"\b(?:that|this|other)\s+ones?\b|\bfor\s+(?:that|this|it)\b|\b(?:what|how)\s+about\s+(?:that|this|it)\b"
    r"|\bsame\b"
)
_WORD = re.compile(r"[a-z']+")
MAX_WORDS = 8


def is_bare_follow_up(text: str) -> bool:
    """Whether ``text`` only points back at the answer before ("and for that one?"), asking nothing new:
    two to eight filler words with a reference (a lone "same" is a reply, not a follow-up)."""
    lowered = text.lower().replace("\u2019", "'")
    words = _WORD.findall(lowered)
    if len(words) < 2 or len(words) > MAX_WORDS or any(w not in FILLER_WORDS for w in words):
        return False
    if re.search(r"[0-9]", lowered):
        return False
    return bool(REFERENCE.search(" ".join(words)))
