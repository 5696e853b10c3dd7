"""The plain reading of a message written to hide its words, for the triage (no Rasa imports).

A red flag must escalate however it is typed. Triage already reads the typed text (normalised:
NFKC, no zero-width characters) and the spelling corrector's readings; this module adds one more:
the text with the usual disguises undone, so "c4nt f33l my l3gs", "c a n ' t  p e e",
"cant-feel-my-legs", "icantfeelmylegs", Cyrillic or Greek look-alike letters ("рее"), accents on
every letter and "i want 2 die" are read as the words they stand for.

:func:`unmasked` returns the text unchanged when none of the disguises is found, so an ordinary
message costs no second triage. The reading is only ever *added* (the most severe reading wins,
:mod:`clinic_nlu.triage_component`): it can raise a level, never lower one.

What is undone, in this order:

1. accents and other combining marks, format characters (zero-width, bidi, soft hyphen, tags,
   variation selectors) and filler characters that show as blanks;
2. words joined by two or more ``-``, ``_`` or ``.`` ("cant-feel-my-legs") are split;
3. three or more single characters in a row ("c a n ' t", "p e e") are joined and split into words;
4. in a word that has a letter, digits and symbols used as letters ("4", "3", "0", "@", "$") become
   those letters; a lone "2" between two words is "to";
5. Cyrillic and Greek letters that look like Latin ones become Latin, in a word made only of such
   letters and Latin ones;
6. a long run of letters that is no known word ("icantfeelmylegs") is split into known words when
   it can be split completely.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import Dict, FrozenSet, List, Optional, Tuple

from symspellpy import Verbosity

from clinic_nlu.spelling import chat_words, english, english_frequencies, medical_terms
from clinic_triage.engine import latin_lookalikes

VOCABULARY_SIZE = 50000  # the speller's English list size (config.yml english_words default)
MAX_WORD = 20  # longest word tried when splitting a run of letters
MIN_SPLIT = 6  # a shorter unknown run of letters is left alone (most are typos)
MAX_SPLIT = 80  # a longer run is no sentence typed without spaces: left alone (its typo lookup is slow)

# Blank-looking letters (category Lo, so not removed as format characters) and the Braille blank.
_FILLERS = dict.fromkeys([0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800], " ")
_DROPPED_CATEGORIES = {"Mn", "Me", "Cf"}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "€": "e"})
_JOINED = re.compile(r"[^\W_]+(?:[-_.][^\W_]+){2,}")
_SINGLES = re.compile(r"(?<!\S)(?:[^\W_]|')(?:\s+(?:[^\W_]|')){2,}(?!\S)")
_WORD = re.compile(r"\S+")
# A word: letters, digits and the symbols used as letters, with apostrophes inside ("c4n't").
_PIECE = re.compile(r"[^\W_@$€]*[^\W_]+(?:['@$€]+[^\W_]+)*|[^\W_]+")
_DIGIT = re.compile(r"[\d@$€]")
# Two-letter words a disguised spelling may stand for ("t0", "m3"); longer ones: any known word.
_SHORT_WORDS = frozenset({"to", "me", "my", "no", "so", "do", "go", "be", "is", "it", "in", "on", "of", "am"})
_BEFORE_TO = frozenset(
    {"want", "wanna", "going", "need", "have", "got", "try", "trying", "plan", "planning", "ready", "about"}
)


@lru_cache(maxsize=1)
def _vocabulary() -> Tuple[Dict[str, float], float]:
    """Cost (minus log probability) of each known word, and the cost of the rarest one."""
    counts = {w: c for w, c in english_frequencies(VOCABULARY_SIZE) if len(w) > 1 or w in ("i", "a")}
    rarest = min(counts.values())
    for word in chat_words():
        counts.setdefault(word, rarest)
    total = sum(counts.values())
    costs = {w: math.log(total / c) for w, c in counts.items()}
    return costs, max(costs.values())


@lru_cache(maxsize=1)
def _medical() -> FrozenSet[str]:
    return medical_terms()


def _a_typo(word: str) -> bool:
    """A medical term, or one edit from a known English word ("recovary" is no "rec ovary")."""
    if word in _medical():
        return True
    return bool(english(VOCABULARY_SIZE).dictionary.lookup(word, Verbosity.TOP, max_edit_distance=1))


def split_words(run: str) -> Optional[List[str]]:
    """``run`` (lower-case letters) as the most likely sequence of known words, or None if it cannot
    be split into known words completely."""
    costs, _ = _vocabulary()
    best: List[Tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * len(run)
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - MAX_WORD), end):
            cost = costs.get(run[start:end])
            if cost is not None and best[start][0] + cost < best[end][0]:
                best[end] = (best[start][0] + cost, start)
    if math.isinf(best[-1][0]):
        return None
    words, end = [], len(run)
    while end:
        start = best[end][1]
        words.append(run[start:end])
        end = start
    return words[::-1]


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text).translate(_FILLERS)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    return unicodedata.normalize("NFKC", kept)


def _join_singles(match: "re.Match[str]") -> str:
    """Single characters in a row as the words they spell, or as typed if they spell none
    ("4 x 3 cm" and "r u a bot" stay)."""
    letters = "".join(match.group(0).split())
    plain = letters.replace("'", "").lower().translate(_LEET)
    words = split_words(plain) if plain.isalpha() and sum(ch.isalpha() for ch in letters) >= 3 else None
    if not words or any(len(w) == 1 and w not in ("i", "a") for w in words):
        return match.group(0)
    return " ".join(words)


def _known(word: str) -> bool:
    return word in _vocabulary()[0]


def _plain_piece(match: "re.Match[str]") -> str:
    """One word (letters and digits, apostrophes inside) in its plain spelling."""
    piece = latin_lookalikes(match.group(0))
    bare = piece.replace("'", "")
    if _DIGIT.search(bare) and re.search(r"[a-z]", bare):
        leet = bare.translate(_LEET)
        if leet.isalpha() and _known(leet) and (len(leet) > 2 or leet in _SHORT_WORDS):
            return leet
    if (
        bare.isalpha()
        and bare.isascii()
        and MIN_SPLIT <= len(bare) <= MAX_SPLIT
        and not _known(bare)
        and not _a_typo(bare)
    ):
        words = split_words(bare)
        # Three words at least ("cannot" stays), one-letter words only as a leading "i" ("afebrile"
        # is no "a febrile", "pyrexia" no "pyrex i a").
        if words and len(words) >= 3 and all(len(w) > 1 or (w == "i" and not k) for k, w in enumerate(words)):
            return " ".join(words)
    return piece


def _twos(words: List[str]) -> List[str]:
    """A lone "2" after a word that takes "to" is "to" ("i want 2 die", "going 2 end it")."""
    return ["to" if w == "2" and i and words[i - 1] in _BEFORE_TO else w for i, w in enumerate(words)]


def unmasked(text: str) -> str:
    """``text`` with the disguises of the module docstring undone (lower case), or ``text`` itself
    when it has none of them."""
    plain = _strip_marks(text)
    plain = _JOINED.sub(lambda m: re.sub(r"[-_.]", " ", m.group(0)), plain)
    plain = _SINGLES.sub(_join_singles, plain)
    words = _twos([_PIECE.sub(_plain_piece, w) for w in _WORD.findall(plain.lower())])
    result = " ".join(words)
    return text if result == " ".join(_WORD.findall(text.lower())) else result
