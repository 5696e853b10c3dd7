"""Is a message clearly not English? A cheap word-list test, free of Rasa.

The assistant reads English only: its classifier and its triage rules know English words. A message
in another language ("je ne sens plus mes jambes et je n'arrive plus à uriner") got a wrong topic's
answer or "not understood", and a red flag in it was not escalated. Full multilingual triage is out
of scope; such a message instead gets an honest reply (domain.yml): the assistant reads English only,
and if it is urgent or an emergency, call the local emergency number now.

:func:`LanguageCheck.not_english` decides from the words alone, with no model (measured in
BENCHMARKS.md: no message of the training data or the triage corpus, misspelt and non-native English
included, is flagged). A message is flagged when one of these holds:

- **another script**: at least ``min_letters`` letters and at least half of them outside the Latin
  alphabet (Cyrillic, Greek, Arabic, Chinese, ...);
- **another language**: at least ``min_words`` words, at least one of them a stop word of one of the
  other languages spaCy ships word lists for (French, Spanish, German, Italian, Polish, Portuguese,
  Dutch: pure word lists, no model) that is neither an English stop word nor among the
  ``common_words`` most frequent English words, and fewer than ``english_share`` of the words read
  as English. A word reads as English when it is an English stop word, one of the clinic's words
  (``domain.yml``, ``facts/facts.yml``, the medical and chat word lists of the spelling corrector, and
  ``english_dialect_words.txt``: Caribbean English, Scots), one of the most frequent English words,
  or in the English word list (symspellpy's, ``english_words`` words) and no other language's stop word.

The rule and its settings were chosen on the training data, the triage corpus and the development
set ``tests/data/not_english_dev.yml`` (BENCHMARKS.md; the first two rules tried flagged patois and
short chat). Accents are ignored when words are compared ("cuanto" is "cuánto").

Short messages ("hola", "dolor espalda", "ból pleców", "merci beaucoup") have too few words for the
stop-word test. For them there is a reviewed list of common words of the languages the clinic's
patients write (``foreign_words.txt``: greetings, thanks, pain, back, leg, help, when, work, cost, and
red-flag words: blood, bleeding, chest, breath, emergency, fever; no word that is English, English chat
or medical use, nor a name). A listed word never reads as English and counts as another language's
word, so:

- **a short message** (fewer than ``min_words`` words) is not English when at least one of its words
  is listed, none reads as English and none of the others is one slip (a letter dropped, added,
  replaced, two swapped) from a word of the English word list or one of the clinic's words ("hola",
  "kiedy praca"; not "hola doctor", "dolor back", "hola tehre", nor a name such as "Maria Lopez" or a
  drug name, whose words are not listed);
- a longer one is not English by the rule above (listed words never read as English: "dor nas
  costas"), or when it has a listed word and fewer than ``english_share`` of its words read as English
  or are one slip from an English word ("gracias por todo"; not "gracias, thnak yuo").

A listed word one slip from a frequent English word ("dor": "for", "do"; "dores": "does") never reads
as English but is no evidence of another language either: phone typos make such words in English
messages (measured with the seeded typos of ``clinic_nlu/typo_noise.py``, BENCHMARKS.md).
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Mapping, Tuple

from clinic_nlu.spelling import one_edit

DIALECT_WORDS = Path(__file__).resolve().parent / "english_dialect_words.txt"
FOREIGN_WORDS = Path(__file__).resolve().parent / "foreign_words.txt"
# The other languages whose stop words are counted (spaCy's lists: words only, no model download).
FOREIGN_LANGUAGES = ("fr", "es", "de", "it", "pl", "pt", "nl")
_TOKEN = re.compile(r"[^\W\d_]+")
# A word of three or more letters with no vowel ("cnt", "sttng", "pls", "thx"): English typed without
# its vowels or an abbreviation, evidence of no language; not counted.
_NO_VOWEL = re.compile(r"[b-df-hj-np-tv-z]{3,}")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def fold(word: str) -> str:
    """``word`` in lower case without accents ("Récupération" -> "recuperation"; "ł" stays)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_in(text: str) -> List[str]:
    """The words of ``text`` (runs of letters, apostrophes split them: "n'arrive" -> "n", "arrive"), folded."""
    return [fold(w) for w in _TOKEN.findall(text)]


@lru_cache(maxsize=None)
def stop_words(language: str) -> FrozenSet[str]:
    """spaCy's stop words of ``language``, folded (the module is a plain word list)."""
    module = importlib.import_module(f"spacy.lang.{language}.stop_words")
    return frozenset(fold(w) for w in module.STOP_WORDS if _TOKEN.fullmatch(fold(w)))


def foreign_words(path: Path = FOREIGN_WORDS) -> Dict[str, str]:
    """The reviewed list of other languages' common words: each word (folded) and its language code(s).

    One word a line, then its language codes; ``#`` starts a comment. A line without a code, or a word
    of more than letters, is an error (the list is reviewed by hand: a slip must not pass silently)."""
    words: Dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        word = fold(fields[0])
        if len(fields) < 2 or not _TOKEN.fullmatch(word):
            raise ValueError(f"{path.name}:{number}: expected a word and its language code(s): {line!r}")
        words[word] = " ".join(fields[1:])
    return words


@dataclass(frozen=True)
class Reading:
    """What the test counted in a message: its words, the words that read as English, the other
    language whose stop words it has most and how many, its letters and those outside the Latin
    alphabet, and its words on the list of other languages' common words (those one slip from a
    frequent English word left out)."""

    words: int
    english: int
    language: str
    foreign: int
    letters: int
    other_script: int
    listed: int = 0
    # In a message with listed words: its words neither listed nor another language's stop word that
    # are one slip from an English word ("tehre").
    slips: int = 0


@dataclass(frozen=True)
class LanguageCheck:
    """The word lists and thresholds of the test (:func:`language_check` builds it once)."""

    known: FrozenSet[str]  # the English word list
    clinic: FrozenSet[str]  # the clinic's own, medical and chat words
    common: FrozenSet[str]  # the most frequent English words ("want", "die", "do": English first)
    english_stop: FrozenSet[str]
    foreign_stop: Tuple[Tuple[str, FrozenSet[str]], ...]
    listed: Mapping[str, str] = field(default_factory=dict)  # other languages' common words (foreign_words.txt)
    # Listed words one slip from one of the most frequent English words ("dor": "for", "do"): never
    # English, but no evidence of another language either (a typo makes them in English messages).
    near_common: FrozenSet[str] = frozenset()
    min_words: int = 3
    english_share: float = 0.5
    min_letters: int = 4

    def _reads_english(self, word: str) -> bool:
        if word in self.listed:
            return False
        if word in self.english_stop or word in self.clinic or word in self.common:
            return True
        return word in self.known and not any(word in stops for _, stops in self.foreign_stop)

    def read(self, text: str) -> Reading:
        """The counts :meth:`not_english` decides from (words without a vowel are left out)."""
        words = [w for w in words_in(text) if not _NO_VOWEL.fullmatch(w)]
        letters = [c for c in text if c.isalpha()]
        other_script = sum(1 for c in letters if not _LATIN.match(c))
        english = sum(1 for w in words if self._reads_english(w))
        language, foreign = "", 0
        for name, stops in self.foreign_stop:
            count = sum(
                1 for w in words if len(w) > 1 and w in stops and w not in self.english_stop and w not in self.common
            )
            if count > foreign:
                language, foreign = name, count
        listed = [self.listed[w] for w in words if w in self.listed and w not in self.near_common]
        if listed and not language:
            language = listed[0].split()[0]
        slips = 0
        if listed:
            slips = sum(
                1
                for w in words
                if w not in self.listed
                and not self._reads_english(w)
                and not any(w in stops for _, stops in self.foreign_stop)
                and self._slip(w)
            )
        return Reading(len(words), english, language, foreign, len(letters), other_script, len(listed), slips)

    def _slip(self, word: str) -> bool:
        """Whether ``word`` is one slip (a letter dropped, added, replaced or swapped) from an English word
        of the word list or one of the clinic's words ("dcotor", "tehre")."""
        return any(e in self.known or e in self.clinic for e in one_edit(word))

    def not_english(self, text: str) -> bool:
        """Whether ``text`` is clearly written in another language (see the module's docstring)."""
        r = self.read(text)
        if r.letters >= self.min_letters and r.other_script * 2 >= r.letters:
            return True
        if r.words >= self.min_words and r.foreign >= 1 and r.english < self.english_share * r.words:
            return True
        if r.listed == 0:
            return False
        if r.words < self.min_words:
            return r.english + r.slips == 0
        return r.english + r.slips < self.english_share * r.words


def language_check(
    english_words: int = 50000, common_words: int = 1000, min_words: int = 3, english_share: float = 0.5
) -> LanguageCheck:
    """The test with the English word list, the clinic's words and the other languages' stop words."""
    return _cached(english_words, common_words, min_words, english_share)


@lru_cache(maxsize=4)
def _cached(english_words: int, common_words: int, min_words: int, english_share: float) -> LanguageCheck:
    from clinic_nlu.spelling import chat_words, domain_vocabulary, english_frequencies, medical_terms, word_list

    frequencies = english_frequencies(max(english_words, common_words))
    clinic = set(domain_vocabulary(())) | set(medical_terms()) | set(chat_words()) | set(word_list(DIALECT_WORDS))
    common = frozenset(fold(w) for w, _ in frequencies[:common_words])
    listed = foreign_words()
    return LanguageCheck(
        known=frozenset(fold(w) for w, _ in frequencies[:english_words]),
        clinic=frozenset(fold(w) for w in clinic),
        common=common,
        english_stop=stop_words("en"),
        foreign_stop=tuple((name, stop_words(name)) for name in FOREIGN_LANGUAGES),
        listed=listed,
        near_common=frozenset(w for w in listed if one_edit(w) & common),
        min_words=min_words,
        english_share=english_share,
    )


def flagged(check: LanguageCheck, texts: Iterable[str]) -> List[str]:
    """The texts the test reads as not English (for the measurements and the tests)."""
    return [t for t in texts if check.not_english(t)]
