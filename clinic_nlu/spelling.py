"""A spelling corrector for patients' questions that knows the clinic's words. No Rasa imports.

Two SymSpell dictionaries (``symspellpy``):
- the **domain vocabulary**: every word of the training examples, ``domain.yml`` and
  ``facts/facts.yml`` (built by :func:`domain_vocabulary`), plus the medical and drug words of
  ``medical_terms.txt``; searched up to two edits away for long words, one for short ones;
- the **English** word list that ships with symspellpy (the most frequent ``english_words``
  words), searched one edit away (a swap, drop, doubled letter or wrong key is one edit).

Rules, in order, for each word of three or more letters:
1. a word either dictionary or ``chat_words.txt`` (contractions typed without the apostrophe,
   chat abbreviations) knows is never changed (so a correctly spelt medical or drug word is
   never "corrected", whatever is close to it);
2. otherwise the candidates at the smallest distance are taken; if two or more of them are
   protected words (medical or drug words: ``medical_terms.txt`` and domain words of seven or more
   letters that are not in the English list), the word is left as typed: it is not the corrector's place to guess which
   medicine a patient meant;
3. otherwise a domain candidate wins over an English one (the most frequent in the domain), then
   the most frequent English word.
Words with digits, short words and everything between words (spaces, punctuation) are kept as
they are, so the corrected text lines up with the original word for word.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import yaml
from symspellpy import SymSpell, Verbosity
from symspellpy.editdistance import DistanceAlgorithm, EditDistance

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MEDICAL_TERMS = HERE / "medical_terms.txt"
CHAT_WORDS = HERE / "chat_words.txt"
VOCABULARY_SOURCES = (ROOT / "domain.yml", ROOT / "facts" / "facts.yml")

MIN_LETTERS = 3
LONG_WORD = 7  # from this length on, domain words are also looked for two edits away

_LETTERS = re.compile(r"[a-z]+")


def words_of(text: str) -> List[str]:
    """The lower-case alphabetic words of a text."""
    return _LETTERS.findall(text.lower())


def _strings(node: object) -> Iterable[str]:
    """Every string in a parsed YAML document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def domain_vocabulary(texts: Iterable[str], sources: Iterable[Path] = VOCABULARY_SOURCES) -> Counter:
    """Word counts of ``texts`` (the training examples) and of every string in the YAML ``sources``."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(words_of(text))
    for path in sources:
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            counts.update(words_of(text))
    return counts


def word_list(path: Path) -> FrozenSet[str]:
    """A reviewed word list: one word a line, ``#`` comments."""
    lines = (line.split("#", 1)[0].strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line)


def medical_terms(path: Path = MEDICAL_TERMS) -> FrozenSet[str]:
    """The medical and drug words the corrector protects."""
    return word_list(path)


def chat_words(path: Path = CHAT_WORDS) -> FrozenSet[str]:
    """Chat words that are not slips (contractions without the apostrophe, abbreviations)."""
    return word_list(path)


def english_frequencies(limit: int) -> List[Tuple[str, int]]:
    """The ``limit`` most frequent English words and their counts (symspellpy's word list)."""
    import importlib.resources

    path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    result: List[Tuple[str, int]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if len(result) >= limit:
                break
            word, count = line.split()
            result.append((word, int(count)))
    return result


def _fast_distance() -> EditDistance:
    """Damerau-Levenshtein (optimal string alignment) distance computed by editdistpy's C++ code."""
    return EditDistance(DistanceAlgorithm.DAMERAU_OSA_FAST)


@dataclass
class Correction:
    """One changed word: what was typed and what the featurizers see instead."""

    typed: str
    corrected: str


@dataclass
class DomainSpeller:
    """Corrects misspelt words towards the clinic's vocabulary, never between two medical words."""

    domain: Dict[str, int]
    medical: FrozenSet[str]
    english_words: int = 50000
    _domain: SymSpell = field(init=False, repr=False)
    _english: SymSpell = field(init=False, repr=False)
    _known: Set[str] = field(init=False, repr=False)
    protected: FrozenSet[str] = field(init=False)

    def __post_init__(self) -> None:
        english = english_frequencies(self.english_words)
        english_set = {word for word, _ in english}
        self._english = SymSpell(max_dictionary_edit_distance=1, prefix_length=7, distance_comparer=_fast_distance())
        for word, count in english:
            self._english.create_dictionary_entry(word, count)
        self._domain = SymSpell(max_dictionary_edit_distance=2, prefix_length=7, distance_comparer=_fast_distance())
        for word, count in self.domain.items():
            self._domain.create_dictionary_entry(word, count)
        for word in self.medical:
            self._domain.create_dictionary_entry(word, max(1, self.domain.get(word, 0)))
        # Protected: the reviewed medical list, and clinic words that are not everyday English
        # (discectomy, foraminoscopy, ...).
        long_domain_words = {w for w in self.domain if w not in english_set and len(w) >= LONG_WORD}
        self.protected = frozenset(self.medical | long_domain_words)
        self._known = english_set | set(self.domain) | set(self.medical) | chat_words()

    def correct_word(self, word: str) -> str:
        """The corrected form of one lower-case word (the word itself when no rule applies)."""
        if len(word) < MIN_LETTERS or not word.isalpha() or word in self._known:
            return word
        # Closest first: domain words one edit away, then English words one edit away, then (long
        # words only) domain words two edits away. At one distance a domain word beats an English
        # one, and the medical words are domain words, so the first non-empty step decides.
        steps = [(self._domain, 1), (self._english, 1)] + ([(self._domain, 2)] if len(word) >= LONG_WORD else [])
        for dictionary, distance in steps:
            closest = dictionary.lookup(word, Verbosity.CLOSEST, distance)
            if closest:
                if len({s.term for s in closest if s.term in self.protected}) >= 2:
                    return word
                return min(closest, key=lambda s: (s.distance, -s.count, s.term)).term
        return word

    def correct(self, text: str) -> Tuple[str, List[Correction]]:
        """The text with misspelt words corrected (lower case where changed) and the changes made."""
        changes: List[Correction] = []

        def fix(match: "re.Match[str]") -> str:
            typed = match.group(0)
            corrected = self.correct_word(typed.lower())
            if corrected == typed.lower():
                return typed
            changes.append(Correction(typed, corrected))
            return corrected

        return re.sub(r"[A-Za-z]+", fix, text), changes


def build_speller(
    training_texts: Iterable[str], english_words: int = 50000, sources: Iterable[Path] = VOCABULARY_SOURCES
) -> DomainSpeller:
    """A speller over the training texts' words, ``sources`` and the medical list."""
    return DomainSpeller(dict(domain_vocabulary(training_texts, sources)), medical_terms(), english_words)


def load_speller(
    domain: Dict[str, int], english_words: int = 50000, medical: Optional[FrozenSet[str]] = None
) -> DomainSpeller:
    """A speller from a stored domain vocabulary (the medical list is read from its file)."""
    return DomainSpeller(dict(domain), medical if medical is not None else medical_terms(), english_words)
