"""Validation of the details a patient gives for a callback (pure functions, no Rasa imports).

Deliberately permissive about formats (patients write numbers and names in many ways) and strict
about what is obviously not a name or number (a question, a sentence, a link), so that a patient
who changes the subject is asked again rather than having their question stored as a name.
"""

from __future__ import annotations

import re
from typing import Optional

MAX_NAME_CHARS = 80
MAX_TIME_CHARS = 120
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 6, 15

_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
_NAME = re.compile(r"^[^\W\d_]+(?:[\s'’.\-][^\W\d_]*)*$", re.UNICODE)
# Words that make a "name" a sentence or a question ("how much is it", "i want a doctor").
_NOT_NAME_WORDS = frozenset(
    {
        "what",
        "how",
        "why",
        "where",
        "which",
        "who",
        "does",
        "do",
        "is",
        "are",
        "can",
        "could",
        "would",
        "should",
        "the",
        "my",
        "me",
        "i",
        "you",
        "it",
        "this",
        "that",
        "cost",
        "much",
        "long",
        "pain",
        "surgery",
        "operation",
        "please",
        "want",
        "need",
        "help",
    }
)
# What a patient types to leave the form. Decided from the words, not the intent classifier, so that
# a detail such as "no preference" or "not before 10" is never taken for "stop".
_STOP_PHRASES = frozenset(
    {
        "stop",
        "cancel",
        "quit",
        "exit",
        "no",
        "nope",
        "no thanks",
        "no thank you",
        "never mind",
        "nevermind",
        "forget it",
        "forget about it",
        "i changed my mind",
        "changed my mind",
        "dont call me",
        "no call",
        "no callback",
        "not now",
        "stop please",
        "please stop",
        "cancel please",
        "please cancel",
        "cancel that",
        "stop this",
        "cancel it",
    }
)
_NOT_A_TIME = re.compile(r"https?://|www\.|[<>{}]", re.IGNORECASE)


def _squash(text: Optional[str]) -> str:
    return re.sub(r"\s+", " ", (text or "")).strip()


def clean_name(text: Optional[str]) -> Optional[str]:
    """The name as given (whitespace tidied), or None if it does not look like a name.

    A name is 1-5 words of letters (with hyphens, apostrophes, dots), at most 80 characters,
    and none of the words that make it a question or a sentence.
    """
    name = _squash(text).strip(".")
    if not name or len(name) > MAX_NAME_CHARS or len(name.split()) > 5:
        return None
    if not _NAME.match(name) or any(w.lower().strip(".") in _NOT_NAME_WORDS for w in name.split()):
        return None
    return name


def clean_phone(text: Optional[str]) -> Optional[str]:
    """The number as given (whitespace tidied), or None unless it has 6-15 digits and only phone characters."""
    phone = _squash(text)
    if not phone or not _PHONE_CHARS.match(phone):
        return None
    digits = sum(c.isdigit() for c in phone)
    return phone if MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS else None


def clean_time(text: Optional[str]) -> Optional[str]:
    """A preferred time in the patient's words, or None if empty, too long, a question or a link."""
    when = _squash(text)
    if len(when) < 2 or len(when) > MAX_TIME_CHARS or "?" in when or _NOT_A_TIME.search(when):
        return None
    return when


def is_stop(text: Optional[str]) -> bool:
    """Whether ``text`` asks to leave the callback form ("stop", "cancel", "no thanks", ...)."""
    words = re.sub(r"[^\w\s]", "", _squash(text).lower().replace("\u2019", "'").replace("'", ""))
    return _squash(words) in _STOP_PHRASES
