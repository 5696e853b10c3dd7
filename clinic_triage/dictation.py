"""Text a phone's dictation wrote, read as typed text; free of Rasa.

Patients who dictate get the punctuation they say written out as words ("he fainted ten minutes ago
comma he is grey full stop") and numbers as words ("thirty nine point one", "in nineteen seventy
eight"). The red-flag and context rules are written for typed text: a sentence ends at a mark, a
temperature is a figure, a year long past is digits. Before the rules read a message,
:meth:`Dictation.read` writes:

- each spoken mark of ``rules/dictation.yml`` as the mark, unless a word of that file's
  ``not_after`` comes just before it ("in a comma" is a coma, "came to a full stop" is no mark);
- a year said as words as its digits: "nineteen seventy eight" 1978, "nineteen oh five" 1905,
  "two thousand and five" 2005, "twenty sixteen" 2016 (not an amount: "two thousand milligrams");
- a reading said with its decimal point or its degrees as a figure: "thirty nine point one" 39.1,
  "a hundred and two degrees" 102 degrees.

Any other number word stays a word ("two dressings", "three times" are what the rules read). Staff
see the words the rules matched, so a mark or a figure read from words shows as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import yaml

DICTATION_FILE = Path(__file__).resolve().parent / "rules" / "dictation.yml"

# English number words (the language, not a clinical rule).
_ONES: Dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_DIGITS: Dict[str, int] = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "nil": 0, **_ONES}
_TEENS: Dict[str, int] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS: Dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip


def _alternatives(words: Dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_SEP = r"[\s-]+"
_ONE = _alternatives(_ONES)
_TEEN = _alternatives(_TEENS)
_TEN = _alternatives(_TENS)
_DIGIT = _alternatives(_DIGITS)
# Two figures said as words: "seventy eight", "seventy-eight", "sixteen", "forty".
_TWO = rf"(?:(?:{_TEN})(?:{_SEP}(?:{_ONE}))?|{_TEEN})"
# Words after a number that make it an amount, not a year ("two thousand milligrams"); nor is a year
# followed by another number word ("two thousand five hundred").
_UNITS = (
    r"hundred|thousand|milligrams?|mg|mls?|millilit\w*|micrograms?|mcg|units?|steps|pounds|quid|euros?|"
    r"dollars?|calories|metres|meters|kilomet\w*|km|miles|feet|people|patients|times|words|percent|per ?cent"
)
_YEAR = re.compile(
    rf"\b(?:nineteen{_SEP}(?P<c20>hundred|(?:oh|o){_SEP}(?:{_ONE})|{_TWO})"
    rf"|two{_SEP}thousand(?:{_SEP}(?:and{_SEP})?(?P<c21>{_TWO}|{_ONE}))?"
    rf"|twenty{_SEP}(?P<tw>(?:{_TEN})(?:{_SEP}(?:{_ONE}))?|{_TEEN}))\b(?!{_SEP}(?:{_UNITS}|{_DIGIT}|{_TEEN}|{_TEN}|and|point)\b)"
)
# A reading: up to a hundred and ninety nine, with a decimal point or followed by "degrees".
_WHOLE = rf"(?:(?:a|one){_SEP}hundred(?:{_SEP}and)?{_SEP})?(?:{_TWO}|{_ONE})|(?:a|one){_SEP}hundred"
_READING = re.compile(
    rf"\b(?P<whole>{_WHOLE})(?:{_SEP}point{_SEP}(?P<tenths>(?:{_DIGIT})(?:{_SEP}(?:{_DIGIT}))?)\b|(?=\s+degrees?\b))"
)


def _value(words: str) -> int:
    """The value of a number said in words up to 199 ("a hundred and two", "seventy eight")."""
    total = 0
    for word in re.split(_SEP, words.strip()):
        if word == "hundred":
            total = max(total, 1) * 100
        elif word in _TENS:
            total += _TENS[word]
        elif word in _TEENS:
            total += _TEENS[word]
        elif word in _ONES:
            total += _ONES[word]
        # "a", "one" before "hundred", "and": no value of their own
    return total


def _year(match: "re.Match[str]") -> str:
    if match.group("c20") is not None:
        rest = match.group("c20")
        if rest == "hundred":
            return "1900"
        return str(1900 + (_DIGITS[re.split(_SEP, rest)[-1]] if re.match(r"oh|o\b", rest) else _value(rest)))
    if match.group("tw") is not None:
        return str(2000 + _value(match.group("tw")))
    rest = match.group("c21")
    return str(2000 + (_value(rest) if rest else 0))


def _reading(match: "re.Match[str]") -> str:
    value = _value(match.group("whole"))
    tenths = match.group("tenths")
    if tenths is None:
        return str(value)
    return f"{value}." + "".join(str(_DIGITS[d]) for d in re.split(_SEP, tenths))


@dataclass(frozen=True)
class Dictation:
    """The spoken marks of ``dictation.yml`` and the words that make them nouns."""

    marks: Tuple[Tuple["re.Pattern[str]", str], ...]
    not_after: "re.Pattern[str]"
    numbers: bool = True

    def read(self, text: str) -> str:
        """``text`` (normalised: lower case) with spoken marks as marks and spoken years and readings
        as figures."""
        for pattern, mark in self.marks:
            text = pattern.sub(self._marker(text, mark), text)
        if self.numbers:
            text = _YEAR.sub(_year, text)
            text = _READING.sub(_reading, text)
        return re.sub(r"[ \t]+", " ", text).strip()

    def _marker(self, text: str, mark: str) -> Callable[["re.Match[str]"], str]:
        """The replacement of a spoken mark found in ``text``: the mark, or the words where a word of
        ``not_after`` comes just before them."""

        def replace(match: "re.Match[str]") -> str:
            if self.not_after.search(text[: match.start()]):
                return match.group(0)
            return f"{mark} "

        return replace


def _spoken(words: str) -> "re.Pattern[str]":
    """The pattern of a spoken mark: its words with any white space between them, the white space
    before it and the marks or white space after it."""
    between = r"\s+".join(re.escape(w) for w in words.split())
    return re.compile(r"\s*\b" + between + r"\b[\s.,]*")


def load_dictation(path: Path = DICTATION_FILE) -> Optional[Dictation]:
    """Read ``dictation.yml``; None when the file is absent (no dictation reading)."""
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    marks = tuple((_spoken(str(entry["spoken"])), str(entry["mark"])) for entry in data.get("marks") or [])
    words = [str(w) for w in data.get("not_after") or []]
    not_after = re.compile(rf"\b(?:{'|'.join(re.escape(w) for w in words) or '(?!)'})\s*$")
    numbers = data.get("numbers", True)
    if not isinstance(numbers, bool):
        raise ValueError(f"{path.name}: numbers must be true or false")
    return Dictation(marks=marks, not_after=not_after, numbers=numbers)
