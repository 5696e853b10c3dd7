"""Validation of the details a patient gives for a callback (pure functions, no Rasa imports).

Deliberately permissive about formats (patients write numbers and names in many ways) and strict
about what is obviously not a name or number (a question, a sentence, a link), so that a patient
who changes the subject is asked again rather than having their question stored as a name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import FrozenSet, Optional, Tuple

MAX_NAME_CHARS = 80
MAX_TIME_CHARS = 120
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 6, 15

NOT_NAME_WORDS_FILE = Path(__file__).resolve().parent / "not_name_words.txt"


def _complaint_words(path: Path = NOT_NAME_WORDS_FILE) -> FrozenSet[str]:
    """The words of a complaint (symptoms, body parts) that are never part of a name: one a line, #
    comments (``not_name_words.txt``, reviewed with the other data files)."""
    lines = (line.split("#", 1)[0].strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line)


_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
_NAME = re.compile(r"^[^\W\d_]+(?:[\s'’.\-][^\W\d_]*)*$", re.UNICODE)
# Words that make a "name" a sentence or a question ("how much is it", "i want a doctor").
_NOT_NAME_WORDS = (
    frozenset(
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
            # A sentence, not a name ("i'm scared", "it's urgent", "don't call"): "I'm Anna" is read above.
            "i'm",
            "it's",
            "its",
            "don't",
            "dont",
            "not",
            # How someone is, or when: what follows "I'm", "it's" or "call me" when it is not a name.
            "urgent",
            "scared",
            "worried",
            "afraid",
            "sorry",
            "fine",
            "ok",
            "okay",
            "sure",
            "ready",
            "sick",
            "dying",
            "numb",
            "bleeding",
            "back",
            "later",
            "here",
        }
    )
    | _complaint_words()
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
        "nah",
        "nah thanks",
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
# How patients introduce the detail asked for ("my name is John Smith", "it's 07700 900123"). A lead-in
# that also starts an ordinary sentence ("i'm scared", "it's urgent", "call me back") is left out too:
# what follows must then pass as a name, and the words above refuse "scared", "urgent" or "back".
_NAME_LEAD_INS = ("my name is", "my name's", "the name is", "his name is", "her name is", "name is", "name", "names")
_SENTENCE_LEAD_INS = ("i'm", "i am", "it's", "it is", "this is", "call me", "you can call me", "ask for")
_PHONE_LEAD_INS = (
    "my number is",
    "my number's",
    "my phone number is",
    "my mobile number is",
    "my mobile is",
    "my phone is",
    "my number",
    "phone number",
    "mobile number",
    "number is",
    "phone",
    "mobile",
    "tel",
    "number",
    "it's",
    "it is",
    "call me on",
    "ring me on",
    "you can call me",
    "you can ring me",
    "you can reach me",
)
_COURTESIES = ("please", "pls", "thanks", "thank you", "thx")


def _one_of(phrases: Tuple[str, ...]) -> str:
    """A regular expression for any of ``phrases``, longest first, spaces as any white space."""
    return "|".join(re.escape(p).replace("\\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))


_NAME_LEAD_IN = re.compile(rf"^(?:{_one_of(_NAME_LEAD_INS)})\s*[:\-]?\s+", re.IGNORECASE)
_SENTENCE_LEAD_IN = re.compile(rf"^(?:{_one_of(_SENTENCE_LEAD_INS)})\s+(?=[^\W\d_])", re.IGNORECASE)
_PHONE_LEAD_IN = re.compile(rf"^(?:{_one_of(_PHONE_LEAD_INS)})(?:\s+(?:on|at))?\s*[:\-]?\s*(?=[+(\d])", re.IGNORECASE)
_COURTESY = re.compile(rf"[,\s]+(?:{_one_of(_COURTESIES)})\.?$", re.IGNORECASE)


def _squash(text: Optional[str]) -> str:
    return re.sub(r"\s+", " ", (text or "")).strip()


def _without_name_lead_in(text: str) -> str:
    """The name without "my name is", "I'm", a trailing "please" and the like."""
    text = _COURTESY.sub("", text.replace("\u2019", "'"))
    for lead_in in (_NAME_LEAD_IN, _SENTENCE_LEAD_IN):
        rest = lead_in.sub("", text, count=1)
        if rest != text:
            return rest
    return text


def clean_name(text: Optional[str]) -> Optional[str]:
    """The name as given (whitespace tidied), or None if it does not look like a name.

    A name is 1-5 words of letters (with hyphens, apostrophes, dots), at most 80 characters,
    and none of the words that make it a question or a sentence; "my name is", "I'm Anna" and a
    trailing "please" are not part of it.
    """
    name = _without_name_lead_in(_squash(text)).strip(".")
    if not name or len(name) > MAX_NAME_CHARS or len(name.split()) > 5:
        return None
    if not _NAME.match(name) or any(w.lower().strip(".") in _NOT_NAME_WORDS for w in name.split()):
        return None
    return name


def clean_phone(text: Optional[str]) -> Optional[str]:
    """The number as given (whitespace tidied; "my number is", "it's" in front left out), or None unless it
    has 6-15 digits and only phone characters."""
    phone = _PHONE_LEAD_IN.sub("", _COURTESY.sub("", _squash(text).replace("\u2019", "'")), count=1)
    if not phone or not _PHONE_CHARS.match(phone):
        return None
    digits = sum(c.isdigit() for c in phone)
    return phone if MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS else None


# How a patient corrects the number just given ("sorry, 07700 900123", "no its +44 ...").
_CORRECTION_LEAD_IN = re.compile(
    r"^(?:(?:sorry|oops|no|nope|wait|actually|correction|i\s+mean|i\s+meant|wrong\s+number|its|it's|it\s+is)[\s,.:!\-]+)+",
    re.IGNORECASE,
)


# Times typed as numbers where the time is asked: "0900-1200", "9.30 - 11.30", "1000 1200 1400".
_CLOCK = re.compile(r"(\d{1,2})[:.]?(\d{2})")
_GROUP_SEPARATOR = re.compile(r"\s*(?:-|–|to|till|until|and|,|/)\s*|\s+")


def _times_as_numbers(text: str) -> bool:
    """Whether ``text`` is two or more clock times and nothing else ("0900-1200", "9.30 - 11.30")."""
    groups = [g for g in _GROUP_SEPARATOR.split(text.strip("() ")) if g]
    clocks = [_CLOCK.fullmatch(g.strip("()")) for g in groups]
    return len(groups) >= 2 and all(c and int(c.group(1)) < 24 and int(c.group(2)) < 60 for c in clocks)


# A number that looks like a phone number on its own (no "sorry" in front): long enough, and starting
# as phone numbers are written (a trunk 0, an international + or 00, a bracketed area code).
_PHONE_START = re.compile(r"^(?:\+|0|\()")
MIN_BARE_CORRECTION_DIGITS = 9


def corrected_phone(text: Optional[str]) -> Optional[str]:
    """The phone number in ``text`` when it is just a number, after "sorry", "no, it's" and the like
    (a correction of the number given before), or without such words when it looks like a phone
    number (at least nine digits, written as phone numbers start); never times written as numbers
    ("0900-1200"). Else None."""
    squashed = _squash(text).replace("\u2019", "'")
    rest = _CORRECTION_LEAD_IN.sub("", squashed, count=1)
    phone = clean_phone(rest)
    if phone is None or _times_as_numbers(phone):
        return None
    if rest == squashed and (
        sum(c.isdigit() for c in phone) < MIN_BARE_CORRECTION_DIGITS or not _PHONE_START.match(phone)
    ):
        return None
    return phone


def clean_time(text: Optional[str]) -> Optional[str]:
    """A preferred time in the patient's words, or None if empty, too long, a question or a link."""
    when = _squash(text)
    if len(when) < 2 or len(when) > MAX_TIME_CHARS or "?" in when or _NOT_A_TIME.search(when):
        return None
    return when


# A yes or a thanks where a detail is asked ("What name should the clinic ask for?" -> "yes please").
_ACKNOWLEDGEMENTS = frozenset(
    {
        "yes",
        "yes please",
        "yeah",
        "yep",
        "yup",
        "ok",
        "okay",
        "ok please",
        "sure",
        "please",
        "please do",
        "go ahead",
        "thanks",
        "thank you",
        "thx",
        "ok thanks",
        "ok thank you",
        "yes thanks",
        "yes thank you",
    }
)


def _words(text: Optional[str]) -> str:
    return _squash(re.sub(r"[^\w\s]", "", _squash(text).lower().replace("\u2019", "'").replace("'", "")))


def is_acknowledgement(text: Optional[str]) -> bool:
    """Whether ``text`` is only a yes or a thanks ("yes please", "ok", "thank you"), not a detail."""
    return _words(text) in _ACKNOWLEDGEMENTS


_QUESTION_WORDS = frozenset(
    {"what", "whats", "how", "why", "when", "where", "which", "who", "is", "are", "can", "could", "will", "would"}
    | {"does", "do", "should", "shall"}
)


# Said before a question ("actually how long is recovery", "wait, is it safe").
_QUESTION_LEAD_INS = frozenset({"actually", "and", "but", "so", "also", "ok", "okay", "oh", "wait", "sorry", "um"})
# "how about monday", "what about friday": a suggestion, not a question.
_SUGGESTION = re.compile(r"^(?:how|what)\s+about\b")
# A day or a time of day: a message with one is a time, even worded as a question ("is 10am ok").
_TIMEISH = re.compile(
    r"\d|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?\b"
    r"|\b(?:morning|afternoon|evening|night|noon|midday|today|tomorrow|weekday|weekend|anytime|any\s+time)s?\b"
    # "when you can", "when it's convenient", "should be free after lunch", "after the school run", "asap"
    r"|\b(?:when(?:ever)?\s+(?:you|it'?s|its|is)\b|convenient|free|lunch|(?:after|before)\s+(?:work|school)"
    r"|school\s+run|asap)\b",
    re.IGNORECASE,
)


def is_question(text: Optional[str]) -> bool:
    """Whether ``text`` reads as a question ("how much does it cost", "actually, is it safe?")."""
    words = _words(text).split()
    while words and words[0] in _QUESTION_LEAD_INS:
        words = words[1:]
    if _SUGGESTION.match(" ".join(words)):
        return "?" in (text or "")
    return "?" in (text or "") or bool(words) and words[0] in _QUESTION_WORDS


def is_question_not_time(text: Optional[str]) -> bool:
    """A question that names no day or time of day (so not "can you call at 5", "is monday ok?")."""
    return is_question(text) and not _TIMEISH.search(text or "")


# Said before or after the stop words ("nah forget it", "ok stop", "just cancel it please").
_STOP_LEAD_INS = ("nah", "no", "oh", "ok", "okay", "um", "just", "actually", "sorry", "please", "no thanks")
_STOP_TAILS = ("please", "thanks", "thank you", "then")
_STOP_AROUND = re.compile(
    rf"^(?:(?:{_one_of(_STOP_LEAD_INS)})\s+)*(?P<core>.+?)(?:\s+(?:{_one_of(_STOP_TAILS)}))*$", re.IGNORECASE
)


def is_stop(text: Optional[str]) -> bool:
    """Whether ``text`` asks to leave the callback form ("stop", "cancel", "no thanks", ...), also
    with a lead-in or a courtesy around it ("nah forget it", "ok stop", "cancel it please")."""
    words = _words(text)
    if words in _STOP_PHRASES:
        return True
    around = _STOP_AROUND.match(words)
    return around is not None and around.group("core") in _STOP_PHRASES


# Short replies written like a name that are greetings or goodbyes ("Hi", "Bye"), never taken for one.
_GREETING_WORDS = frozenset({"hi", "hello", "hey", "hiya", "hallo", "bye", "goodbye", "ciao", "cheers"})
# Words of the ordinary short replies to a question ("no idea", "sounds good", "maybe tomorrow",
# "whatever works"): a reply typed in lower case with one of them is never read as a name.
_REPLY_WORDS = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "no",
        "nope",
        "nah",
        "not",
        "maybe",
        "perhaps",
        "sure",
        "idea",
        "good",
        "great",
        "fine",
        "nice",
        "cool",
        "right",
        "alright",
        "sounds",
        "thanks",
        "thank",
        "thx",
        "ok",
        "okay",
        "hmm",
        "hm",
        "um",
        "uh",
        "erm",
        "well",
        "oh",
        "ah",
        "lol",
        "whatever",
        "anything",
        "nothing",
        "something",
        "all",
        "none",
        "just",
        "only",
        "also",
        "too",
        "very",
        "really",
        "now",
        "then",
        "soon",
        "today",
        "tomorrow",
        "tonight",
        "later",
        "again",
        "and",
        "or",
        "but",
        "so",
        "if",
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "about",
        "works",
        "work",
    }
)


def detail_given_unasked(text: Optional[str]) -> Optional[Tuple[str, str]]:
    """The callback detail a patient typed in reply to the offer of a callback, before any was asked
    ("Would you like the clinic to call you back?" answered with "07700 900123" or "Maria Lopez"):
    ``("callback_phone", number)`` or ``("callback_name", name)``, else None.

    Typing a detail is the patient's yes. A number counts when it is a phone number (never times
    written as numbers, "0900-1200"). A name counts only when it cannot be an ordinary short reply:
    after "my name is", "I'm", "this is" and the like; or written as a name, each of its one to
    three words with a capital letter ("Maria Lopez"); or, as patients type on a phone, two or three
    words in lower case ("john smith") none of which is a word of an ordinary short reply
    (``_REPLY_WORDS``: not "no idea", "sounds good", "hmm ok"). A single lower-case word ("maybe",
    "john") stays ambiguous and is not taken.
    """
    squashed = _squash(text)
    phone = clean_phone(squashed)
    if phone is not None:
        return None if _times_as_numbers(phone) else ("callback_phone", phone)
    name = clean_name(squashed)
    if name is None or len(name.split()) > 3 or is_acknowledgement(squashed) or is_stop(squashed):
        return None
    if any(word.lower() in _GREETING_WORDS for word in name.split()):
        return None
    plain = squashed.replace("\u2019", "'")
    introduced = any(lead_in.match(plain) for lead_in in (_NAME_LEAD_IN, _SENTENCE_LEAD_IN))
    written_as_name = all(word[0].isupper() for word in name.split())
    typed_as_name = len(name.split()) >= 2 and not any(
        word.lower().strip(".'") in _REPLY_WORDS | _QUESTION_WORDS for word in name.split()
    )
    return ("callback_name", name) if introduced or written_as_name or typed_as_name else None
