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

A follow-up with a subject ("what about work", "and sports?", "driving too?") asks about one thing
more on the answer before. :func:`follow_up_subject` gives that subject: one or two words after
"and" / "also" / "what about" / "how about" (or before "too" / "as well"), none of them a question
word, a word of the patient's own case ("my", "me"), a goodbye or a day or time (the callback form's answers).
Whether the subject belongs to the last topic is the answer's business (``follow_up_words`` in
facts/facts.yml, actions/answering.py).
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


# A follow-up with a subject: "what about work", "and sports?", "how about flying", "driving too?".
_LEAD = re.compile(r"^(?:(?:and|but|so|ok|okay|then)\s+)*(?:(?:what|how)\s+about|and|also)\s+(?P<subject>.+)$")
_TAIL = re.compile(r"^(?:(?:and|but|so|ok|okay|also)\s+)*(?P<subject>.+?)\s+(?:too|as\s+well)$")
_ARTICLES = frozenset({"the", "a", "an", "for", "with", "about"})
# Never a subject: what makes the message a question of its own, the patient's own case, a pointer
# back (a bare follow-up, above), a day or time (an answer to the callback form), or a goodbye ("and
# bye", "bye too": the classifier's goodbye reading is kept).
_NOT_SUBJECT = frozenset(
    "what how why when where which who whom is are was can could will would should does do did shall may "
    "bye goodbye goodnight cheers ciao "
    "i i'm im me my mine myself we us our you your it its it's that this these those there them they he she "
    "one ones other same again too well then also not no yes ok okay please thanks more else after before "
    "today tomorrow tonight morning afternoon evening night noon weekend weekday later now soon "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
MAX_SUBJECT_WORDS = 2


def follow_up_subject(text: str) -> str | None:
    """The subject of a follow-up with one ("what about work" -> "work", "and the sports?" -> "sports",
    "driving too?" -> "driving"), or None: one or two words, none in ``_NOT_SUBJECT``, no digits."""
    lowered = text.lower().replace("\u2019", "'")
    if re.search(r"[0-9]", lowered):
        return None
    words = _WORD.findall(lowered)
    if not words or len(words) > 2 + MAX_SUBJECT_WORDS + 1:
        return None
    joined = " ".join(words)
    match = _LEAD.match(joined) or _TAIL.match(joined)
    if match is None:
        return None
    subject = [w for w in match.group("subject").split() if w not in _ARTICLES]
    if not subject or len(subject) > MAX_SUBJECT_WORDS or any(w in _NOT_SUBJECT for w in subject):
        return None
    return " ".join(subject)
