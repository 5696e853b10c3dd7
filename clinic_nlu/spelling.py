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

The training examples are written as patients write, slips included ("wnat", "surgen", "cn"). With
``slip_min_count`` set (0, the default, switches this off), :func:`training_slips` leaves such a word
out of the domain vocabulary, so that it is corrected like any other slip instead of being known,
a candidate and perhaps protected: a word of four or more letters of the training texts only (not of ``domain.yml`` or
``facts/facts.yml``, not an English word of the list, not a medical or chat word) that occurs fewer
than ``slip_min_count`` times there and is one edit from a known word the clinic's texts use at least
``slip_ratio`` times as often, and from no protected word. The component corrects the training texts
with the same speller, so the classifier learns from the corrected form it will also see at run time.

Then, optionally, a **context step** (:class:`WordContext`, a noisy channel over word bigrams of the
same domain texts) for the slips a word-by-word corrector cannot see: a slip that is itself a real
word ("how ling is recovery", "what does it cots", "an our after") and a non-word whose closest
candidates the word step ranked by frequency alone. For each word of three or more letters, the
domain words one edit away from what was typed compete with the word step's choice; one replaces
it only when the bigram model scores it, between the neighbouring words, at least a ratio times
higher: ``domain_word_ratio`` for a typed word of the domain vocabulary (most likely meant as
typed), ``english_word_ratio`` for a typed English word the clinic's texts never use ("hae",
"thee"), ``non_word_ratio`` for an unknown word (the word step's choice competes); ``0`` switches
that kind off. With ``real_words_after_a_slip`` the two real-word kinds are only looked at in a
message where the word step found an unknown word: a message typed with slips is far likelier to
hold a real-word slip than a carefully typed one, and so a clean message is left as it is.
``context_min_letters: 2`` lets the step also read typed words of two letters ("cn", "yu", "ad",
often a three-letter word with a letter dropped), but only in a message with an unknown word.
Protected words are never changed and never put in (a medical or drug word is not the context's
to guess), nor are chat words, nor (:meth:`DomainSpeller.left_to_triage`) the words of the
``context_guard`` list (:func:`guard_words`, read from ``clinic_triage/rules/`` and
``negation_words.txt``; config.yml: the negations and the symptom, body and self-harm words of the
triage rules): "cant feel my bum" must not read "cant feel my mum" to the classifier and the staff,
nor "nt weak" read "not weak". Triage's safety does not rest on that list: the triage component
also reads the word step's text (:meth:`DomainSpeller.readings`) and keeps the most severe level, so
the context step can never make a message's triage level less severe. The noisy channel is crude on
purpose (one ratio per kind of typed word, no per-letter error model): the ratios and the guard
list are chosen by cross-validation (BENCHMARKS.md).
"""

from __future__ import annotations

import re
from collections import Counter
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import yaml
from symspellpy import SymSpell, Verbosity
from symspellpy.editdistance import DistanceAlgorithm, EditDistance

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MEDICAL_TERMS = HERE / "medical_terms.txt"
CHAT_WORDS = HERE / "chat_words.txt"
NEGATION_WORDS = HERE / "negation_words.txt"
VOCABULARY_SOURCES = (ROOT / "domain.yml", ROOT / "facts" / "facts.yml")
TRIAGE_RULES = (ROOT / "clinic_triage" / "rules" / "targets.yml", ROOT / "clinic_triage" / "rules" / "context.yml")
# The context step's three ratios, as the SpellingCorrector's settings (config.yml) name them.
RATIO_SETTINGS = ("domain_word_ratio", "english_word_ratio", "non_word_ratio")

# Which words the context step leaves alone (``context_guard``; see :func:`guard_words`).
CONTEXT_GUARDS = ("triage_words", "symptom_words", "negations", "none")
# symptom_words: the words of targets.yml that are not among this many most frequent English words.
COMMON_ENGLISH = 300

MIN_LETTERS = 3
LONG_WORD = 7  # from this length on, domain words are also looked for two edits away
# Shorter words of the training texts are never taken for slips (:func:`training_slips`): there
# they are mostly abbreviations and chat ("cm", "tv", "ur", "ivf", "pre", "eid").
SLIP_MIN_LETTERS = 4

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


def domain_vocabulary(texts: Iterable[str], sources: Iterable[Path] = VOCABULARY_SOURCES) -> Counter[str]:
    """Word counts of ``texts`` (the training examples) and of every string in the YAML ``sources``."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words_of(text))
    for path in sources:
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            counts.update(words_of(text))
    return counts


def one_edit(word: str) -> Set[str]:
    """Every string one edit from ``word``: a letter dropped, added, replaced, or two neighbours swapped."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    edits.discard(word)
    return edits


def training_slips(
    training: Mapping[str, int],
    clean: Mapping[str, int],
    english_words: FrozenSet[str],
    medical: FrozenSet[str],
    chat: FrozenSet[str],
    min_count: int,
    ratio: float,
) -> FrozenSet[str]:
    """The words of the training texts that are slips, not domain words (``slip_min_count``).

    ``training``: word counts of the training texts alone; ``clean``: those of the clean sources
    (``domain.yml``, ``facts/facts.yml``); ``english_words``: the English list the speller knows.
    A slip: a word of ``SLIP_MIN_LETTERS`` or more letters that no clean source, English list, medical or chat list
    has, seen fewer than ``min_count`` times in the training texts, one edit from a known word (an
    English, chat or clean-source word, or a training word seen ``min_count`` times or more) that the
    clinic's texts (training and clean sources) use at least ``ratio`` times as often, and one edit
    from no protected word (the medical list, a clean-source word of ``LONG_WORD`` letters or more
    that is not English): between medical words the corrector never guesses, so such a word is left
    as a domain word. A rare word with no much more frequent neighbour ("bunion", "merhaba") is a
    word, not a slip. ``min_count`` 0: none."""
    if min_count <= 0:
        return frozenset()
    protected = medical | {w for w in clean if w not in english_words and len(w) >= LONG_WORD}
    counts: Counter[str] = Counter(training)
    counts.update(clean)

    def known(word: str) -> bool:
        return word in english_words or word in chat or word in clean or training.get(word, 0) >= min_count

    slips = set()
    for word, count in training.items():
        if len(word) < SLIP_MIN_LETTERS or count >= min_count or known(word) or word in medical:
            continue
        near = one_edit(word)
        if near & protected:
            continue
        if any(counts[n] >= ratio * counts[word] and known(n) for n in near if n in counts):
            slips.add(word)
    return frozenset(slips)


BOUNDARY = "<s>"  # the start and the end of a text, in the bigram counts


def _all_texts(texts: Iterable[str], sources: Iterable[Path]) -> Iterable[str]:
    """The training texts, then every string of the YAML ``sources``."""
    yield from texts
    for path in sources:
        yield from _strings(yaml.safe_load(path.read_text(encoding="utf-8")))


def domain_bigrams(texts: Iterable[str], sources: Iterable[Path] = VOCABULARY_SOURCES) -> Counter[str]:
    """Word-pair counts ("how long") of the same texts as :func:`domain_vocabulary`, with the start
    and the end of each text as the word ``<s>``."""
    counts: Counter[str] = Counter()
    for text in _all_texts(texts, sources):
        words = [BOUNDARY, *words_of(text), BOUNDARY]
        counts.update(f"{a} {b}" for a, b in zip(words, words[1:]))
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


def negation_words(path: Path = NEGATION_WORDS) -> FrozenSet[str]:
    """Words that deny or negate ("no", "not", "nor", "isnt"): the context step never changes or puts one in."""
    return word_list(path)


def _pattern_strings(node: object) -> Iterable[str]:
    """The regular expressions of a triage rules document: every string under ``patterns`` or ``fragments``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("patterns", "fragments"):
                yield from _strings(value)
            else:
                yield from _pattern_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pattern_strings(item)


_ANY_ENDING = re.compile(r"\\w[*+]")  # "numb\w*": any word that starts with "numb"
_ESCAPE = re.compile(r"\\[A-Za-z]")  # \b, \s, \d: not letters of a word
_RUN = re.compile(r"([a-z]+)([#?])?")


def triage_words(paths: Iterable[Path] = TRIAGE_RULES) -> Tuple[FrozenSet[str], Tuple[str, ...]]:
    """The words the triage rules name, read from their regular expressions without running them:
    every alphabetic run of a pattern ("bum", "feel", "cant"), also without its last letter when that
    letter is optional ("legs?" names "leg" too); and the stems a pattern extends (``numb\\w*``: every
    word that starts with "numb"). Generous on purpose: a word wrongly counted here only means the
    context step leaves it alone."""
    words: Set[str] = set()
    stems: Set[str] = set()
    for path in paths:
        for pattern in _pattern_strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            text = _ESCAPE.sub(" ", _ANY_ENDING.sub("#", pattern.lower()))
            for run, suffix in _RUN.findall(text):
                words.add(run)
                if suffix == "?" and len(run) > 1:
                    words.add(run[:-1])
                elif suffix and len(run) >= MIN_LETTERS:  # shorter: a regex detail ("s\\w*"), not a stem
                    stems.add(run)
    return frozenset(words), tuple(sorted(stems))


def guard_words(guard: str = "triage_words") -> Tuple[FrozenSet[str], Tuple[str, ...]]:
    """The words (and word stems) the context step never changes nor puts in, per ``context_guard``:
    ``triage_words``: every word the triage rules name (targets.yml and context.yml) and the negations;
    ``symptom_words``: the negations and the words of targets.yml that are not among the
    ``COMMON_ENGLISH`` most frequent English words (the symptom, body and self-harm words, not
    connective words such as "how", "can", "back"); ``negations``: the negations only; ``none``:
    nothing. The triage's safety does not rest on this (triage reads the word step's text too); it
    keeps the corrected text, which the classifier and the staff read, from swapping such a word."""
    if guard not in CONTEXT_GUARDS:
        raise ValueError(f"context_guard must be one of {CONTEXT_GUARDS}, not {guard!r}")
    if guard == "none":
        return frozenset(), ()
    if guard == "negations":
        return negation_words(), ()
    if guard == "triage_words":
        words, stems = triage_words()
        return words | negation_words(), stems
    common = {word for word, _ in english_frequencies(COMMON_ENGLISH)}
    words, stems = triage_words(TRIAGE_RULES[:1])
    kept_stems = tuple(stem for stem in stems if stem not in common)
    return frozenset(w for w in words if w not in common) | negation_words(), kept_stems


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


@dataclass(frozen=True)
class English:
    """The English word list as a speller needs it, built once per process and list size
    (:func:`english`): shared by every :class:`DomainSpeller`, never changed by one."""

    dictionary: SymSpell
    words: FrozenSet[str]
    background: Mapping[str, float]  # relative frequencies, for :class:`WordContext`


@lru_cache(maxsize=4)
def english(limit: int) -> English:
    """The ``limit`` most frequent English words, as a one-edit SymSpell dictionary (building it takes
    seconds, so each process builds it once per size)."""
    frequencies = english_frequencies(limit)
    dictionary = SymSpell(max_dictionary_edit_distance=1, prefix_length=7, distance_comparer=_fast_distance())
    for word, count in frequencies:
        dictionary.create_dictionary_entry(word, count)
    total = sum(count for _, count in frequencies)
    background = MappingProxyType({word: count / total for word, count in frequencies})
    return English(dictionary, frozenset(word for word, _ in frequencies), background)


@dataclass
class WordContext:
    """How well a word fits between two others: an interpolated word-bigram model of the domain texts.

    ``score(prev, word, next)`` is log P(word | prev) + log P(next | word), each bigram probability
    interpolated with a unigram one (``smoothing`` pseudo-counts), so an unseen pair is unlikely
    rather than impossible. The unigram probability is half the domain's, half everyday English's
    (``background``, relative frequencies): the clinic's texts are few, and a common English word
    they happen not to use ("bike", "heal") must not look as unlikely as a rare one ("hae", "odes").
    """

    bigrams: Dict[str, int]
    smoothing: float = 2.0
    background: Mapping[str, float] = field(default_factory=dict)
    _pairs: Dict[Tuple[str, str], int] = field(init=False, repr=False)
    _left: Counter[str] = field(init=False, repr=False)
    _unigram: Counter[str] = field(init=False, repr=False)
    _total: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pairs, self._left, self._unigram = {}, Counter(), Counter()
        for pair, count in self.bigrams.items():
            a, b = pair.split(" ")
            self._pairs[(a, b)] = count
            self._left[a] += count
            self._unigram[b] += count
        self._total = max(1, sum(self._unigram.values()))

    def _p(self, a: str, b: str) -> float:
        domain = (self._unigram[b] + 0.5) / (self._total + 0.5 * (len(self._unigram) + 1))
        unigram = 0.5 * domain + 0.5 * self.background.get(b, 0.0) if self.background else domain
        return (self._pairs.get((a, b), 0) + self.smoothing * unigram) / (self._left[a] + self.smoothing)

    def score(self, prev: str, word: str, next_: str) -> float:
        """log P(word | prev) + log P(next | word)."""
        return math.log(self._p(prev, word)) + math.log(self._p(word, next_))


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
    context: Optional[WordContext] = None
    domain_word_ratio: float = 0.0
    english_word_ratio: float = 0.0
    non_word_ratio: float = 0.0
    real_words_after_a_slip: bool = False
    context_min_letters: int = MIN_LETTERS
    context_guard: str = "triage_words"
    slips: FrozenSet[str] = frozenset()  # training-text words left out of ``domain`` (:func:`training_slips`)
    _domain: SymSpell = field(init=False, repr=False)
    _english: SymSpell = field(init=False, repr=False)
    _known: FrozenSet[str] = field(init=False, repr=False)
    _chat: FrozenSet[str] = field(init=False, repr=False)
    _kept_words: FrozenSet[str] = field(init=False, repr=False)
    _kept_stems: Tuple[str, ...] = field(init=False, repr=False)
    protected: FrozenSet[str] = field(init=False)

    def __post_init__(self) -> None:
        shared = english(self.english_words)
        english_set = shared.words
        self._english = shared.dictionary
        self._domain = SymSpell(max_dictionary_edit_distance=2, prefix_length=7, distance_comparer=_fast_distance())
        for word, count in self.domain.items():
            self._domain.create_dictionary_entry(word, count)
        for word in self.medical:
            self._domain.create_dictionary_entry(word, max(1, self.domain.get(word, 0)))
        # Protected: the reviewed medical list, and clinic words that are not everyday English
        # (discectomy, foraminoscopy, ...).
        long_domain_words = {w for w in self.domain if w not in english_set and len(w) >= LONG_WORD}
        self.protected = frozenset(self.medical | long_domain_words)
        self._chat = chat_words()
        if self.context is not None and not self.context.background:
            self.context.background = shared.background
        self._known = english_set | set(self.domain) | set(self.medical) | self._chat
        self._kept_words, self._kept_stems = guard_words(self.context_guard)

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

    @property
    def context_on(self) -> bool:
        """Whether the context step changes anything at all."""
        return bool(self.domain_word_ratio or self.english_word_ratio or self.non_word_ratio)

    def ratio_for(self, typed: str) -> float:
        """How much better a candidate must fit its context to replace this typed word."""
        if typed in self.domain or typed in self.medical:
            return self.domain_word_ratio
        return self.english_word_ratio if typed in self._known else self.non_word_ratio

    def left_to_triage(self, word: str) -> bool:
        """Whether the context step must leave this word alone, typed or as a candidate: a word of
        the ``context_guard`` list (:func:`guard_words`). Changing "bum" to "mum" or "nt" to "not"
        would show the classifier and the staff another complaint; the word step alone may touch
        these words."""
        return word in self._kept_words or (bool(self._kept_stems) and word.startswith(self._kept_stems))

    def in_context(self, typed: Sequence[str], chosen: Sequence[str]) -> List[str]:
        """The context step over one text's words: ``typed`` as written (lower case), ``chosen`` the
        word step's result; returns the words after the step (see the module docstring)."""
        words = list(chosen)
        context = self.context
        if context is None or not self.context_on:
            return words
        slipped = any(len(w) >= MIN_LETTERS and w.isalpha() and w not in self._known for w in typed)
        for i, (was, now) in enumerate(zip(typed, chosen)):
            ratio = self.ratio_for(was)
            if not slipped and (len(was) < MIN_LETTERS or (self.real_words_after_a_slip and was in self._known)):
                continue
            if not ratio or len(was) < self.context_min_letters or not was.isalpha():
                continue
            if was in self.protected or now in self.protected or was in self._chat:
                continue
            if self.left_to_triage(was) or self.left_to_triage(now):
                continue
            candidates = {
                s.term
                for s in self._domain.lookup(was, Verbosity.ALL, 1)
                if s.term not in self.protected and s.term != now and len(s.term) > 1
            }
            if not candidates:
                continue
            prev = words[i - 1] if i > 0 else BOUNDARY
            next_ = words[i + 1] if i + 1 < len(words) else BOUNDARY
            best = max(sorted(candidates), key=lambda c: context.score(prev, c, next_))
            # The best fit is a triage word or a negation: left as the word step chose it (the next
            # best fit is a worse guess: "hw long" must not become "hi long" because "how" is kept).
            if self.left_to_triage(best):
                continue
            if context.score(prev, best, next_) - context.score(prev, now, next_) >= math.log(ratio):
                words[i] = best
        return words

    def correct(self, text: str) -> Tuple[str, List[Correction]]:
        """The text with misspelt words corrected (lower case where changed) and the changes made."""
        _, corrected, changes = self.readings(text)
        return corrected, changes

    def readings(self, text: str) -> Tuple[str, str, List[Correction]]:
        """The word step's text, the text after the context step too, and the changes of the latter.

        Triage reads both (and the typed text): the context step may only make a reading more
        severe, never hide what the word step's text shows."""
        matches = list(re.finditer(r"[A-Za-z]+", text))
        typed = [m.group(0).lower() for m in matches]
        word_step = [self.correct_word(word) for word in typed]
        chosen = self.in_context(typed, word_step)
        word_text, _ = _rebuild(text, matches, typed, word_step)
        corrected, changes = _rebuild(text, matches, typed, chosen)
        return word_text, corrected, changes


def _rebuild(
    text: str, matches: Sequence[re.Match[str]], typed: Sequence[str], chosen: Sequence[str]
) -> Tuple[str, List[Correction]]:
    """``text`` with each typed word replaced by its chosen form (the rest kept), and the changes."""
    changes: List[Correction] = []
    pieces: List[str] = []
    end = 0
    for match, was, now in zip(matches, typed, chosen):
        pieces.append(text[end : match.start()])
        if now == was:
            pieces.append(match.group(0))
        else:
            changes.append(Correction(match.group(0), now))
            pieces.append(now)
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces), changes


def build_speller(
    training_texts: Iterable[str],
    english_words: int = 50000,
    sources: Iterable[Path] = VOCABULARY_SOURCES,
    ratios: Tuple[float, float, float] = (0.0, 0.0, 0.0),
    real_words_after_a_slip: bool = False,
    context_min_letters: int = MIN_LETTERS,
    context_guard: str = "triage_words",
    slip_min_count: int = 0,
    slip_ratio: float = 10.0,
) -> DomainSpeller:
    """A speller over the training texts' words, ``sources`` and the medical list; with the context
    step (bigrams of the same texts) when any of ``ratios`` (domain word, English word, non-word) is set.
    With ``slip_min_count`` > 0 the training texts' slips (:func:`training_slips`) are left out of
    the vocabulary (the stored one too, so a loaded model needs no setting for it)."""
    texts, sources = list(training_texts), list(sources)
    context = WordContext(dict(domain_bigrams(texts, sources))) if any(ratios) else None
    training, clean = domain_vocabulary(texts, ()), domain_vocabulary((), sources)
    vocabulary = training + clean  # = domain_vocabulary(texts, sources), each source read once
    medical = medical_terms()
    slips = training_slips(
        training,
        clean,
        english(english_words).words,
        medical,
        chat_words(),
        slip_min_count,
        slip_ratio,
    )
    return DomainSpeller(
        {word: count for word, count in vocabulary.items() if word not in slips},
        medical,
        english_words,
        context,
        *ratios,
        real_words_after_a_slip,
        context_min_letters,
        context_guard,
        slips,
    )


def load_speller(
    domain: Dict[str, int],
    english_words: int = 50000,
    medical: Optional[FrozenSet[str]] = None,
    bigrams: Optional[Dict[str, int]] = None,
    ratios: Tuple[float, float, float] = (0.0, 0.0, 0.0),
    real_words_after_a_slip: bool = False,
    context_min_letters: int = MIN_LETTERS,
    context_guard: str = "triage_words",
) -> DomainSpeller:
    """A speller from a stored domain vocabulary and bigram counts (the medical list is read from its file)."""
    return DomainSpeller(
        dict(domain),
        medical if medical is not None else medical_terms(),
        english_words,
        WordContext(dict(bigrams)) if bigrams else None,
        *ratios,
        real_words_after_a_slip,
        context_min_letters,
        context_guard,
    )


def speller_settings(settings: Mapping[str, Any]) -> Dict[str, Any]:
    """:func:`build_speller`'s keyword arguments from the ``SpellingCorrector``'s settings (config.yml;
    a missing or empty setting takes its default): one reading for the component, the benches and the tests."""
    domain, english_word, non_word = (float(settings.get(key) or 0.0) for key in RATIO_SETTINGS)
    return {
        "english_words": int(settings.get("english_words") or 50000),
        "ratios": (domain, english_word, non_word),
        "real_words_after_a_slip": bool(settings.get("real_words_after_a_slip")),
        "context_min_letters": int(settings.get("context_min_letters") or MIN_LETTERS),
        "context_guard": str(settings.get("context_guard") or "triage_words"),
        "slip_min_count": int(settings.get("slip_min_count") or 0),
        "slip_ratio": float(settings.get("slip_ratio") or 10.0),
    }
