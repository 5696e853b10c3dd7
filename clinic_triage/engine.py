"""Graded clinical triage of one patient message: emergency, crisis, urgent or none.

No Rasa imports: the Rasa component (:mod:`clinic_nlu.triage_component`), the patient channel
(red-flag messages never wait in the busy queue) and the tests call :func:`assess` directly.

How a message is read (the standard is docs/triage-levels.md; every rule is in ``rules/``):

1. The text is normalised (lower case, one kind of apostrophe, no invisible characters), a last letter
   typed more than once is read once where ``rules/held_keys.yml`` says so ("biggerr" as "bigger"), and
   a word typed without its vowels is read as the word ``rules/no_vowels.yml`` knows ("fvr" as "fever").
2. spaCy splits it into tokens and sentences; medspaCy's ``TargetMatcher`` finds every red-flag
   mention with the patterns of ``rules/targets.yml`` (overlapping mentions of different flags
   are all kept, so a long urgent match cannot hide a short emergency one).
3. medspaCy's ``ConText`` links each mention to the modifiers of ``rules/context.yml`` in its
   sentence: negated, hypothetical (a general question, a worry, a plan), historical (long past),
   resolved (said to be over), another person, past, current (a time now), still (still there).
   A few whole sentences also give a cue to the sentence before them (``previous_sentence``:
   "... after? because i cant" claims the symptom asked about). A mention may span a sentence end
   when its pattern says so ("a swelling by the scar. it's getting bigger"); the cues of every
   sentence it spans apply.
   Overlapping mentions of one flag share the cues that date them (``overlapping_mentions_share``).
4. Ordinary wordings that read like a red flag (``rules/ordinary.yml``: "i want the pain to stop")
   are reported as findings of level none, never counted, and left out of what the second reader
   reads.
5. The ``decision`` table of ``context.yml`` discounts a mention (e.g. negated; historical
   or resolved unless current or still; another person's past). The highest level among the
   mentions that count is the rules' level.
6. A learned second reader (:mod:`clinic_triage.semantic`, settings in ``rules/semantic.yml``)
   reads the whole message for wording no pattern describes; ``combine`` there says how its
   verdict joins the rules' (by default either one escalates). When the rules found red-flag
   mentions and discounted every one, the reader is held to its stricter ``discounted_threshold``:
   the rules were told why the message is calm; when they found none at all, to
   ``unflagged_threshold``; ``min_level_probability`` says how sure it must be of a level to name it.
   With ``embedding_weight`` above 0 it also reads a sentence embedding of the same text
   (:mod:`clinic_triage.embedding`; the encoder is loaded only then).

Every mention is reported with its context, counted or not, and a classifier escalation as the
finding ``classifier`` with its probability, so staff can see why a message was, or was not,
escalated.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

import yaml

from clinic_triage.dictation import Dictation, load_dictation

if TYPE_CHECKING:
    from clinic_triage.semantic import Embed, SemanticSettings, SemanticTriage

RULES_DIR = Path(__file__).with_name("rules")

EMERGENCY, CRISIS, URGENT, NONE = "emergency", "crisis", "urgent", "none"
# Highest first. A crisis message also tells the patient to call the emergency number.
LEVELS: Tuple[str, ...] = (CRISIS, EMERGENCY, URGENT, NONE)
ESCALATED: FrozenSet[str] = frozenset({CRISIS, EMERGENCY, URGENT})
CLASSIFIER_FLAG = "classifier"
# What the classifier reads in place of a mention the rules discounted (one token, no real word).
DISCOUNTED_MARK = "xdiscountedx"
# The context of a finding of ``rules/ordinary.yml``: ordinary wording that reads like a red flag.
ORDINARY = "ORDINARY"

# Modifiers of direction BOUNDARY only end other modifiers' scopes ("but", a new clause); medspaCy
# runs them as PSEUDO rules that other rules name in ``terminated_by``.
BOUNDARY = "BOUNDARY"
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b-\x1f]")
# Cyrillic and Greek letters that look like Latin ones, to the Latin letter they show as (lower case).
LOOKALIKES = str.maketrans(
    {
        **dict(zip("аеіјорсухѕԁһӏԛԝёїɡı", "aeijopcyxsdhlqweigi")),
        **dict(zip("АВЕІЈКМНОРСТХУЅ", "abeijkmhopctxys")),
        **dict(zip("αβεικνορτυχ", "abeiknoptux")),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx")),
    }
)
_NON_ASCII_WORD = re.compile(r"\w*[^\x00-\x7f]\w*")


_NO_VOWEL_WORD = re.compile(r"\b[b-df-hj-np-tv-z]{3,}\b")
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
# Millimetres in one unit of a measured size (a flag's ``grows_by_at_least``, targets.yml).
_MILLIMETRES = {"mm": 1.0, "milli": 1.0, "cm": 10.0, "centi": 10.0, "in": 25.4, "inch": 25.4}
SIZE_GROUPS = frozenset({"before", "before_unit", "after", "after_unit"})


def consonants(word: str) -> str:
    """``word`` without its vowels (a, e, i, o, u) and with each doubled letter once: "dripping" and
    "drppng" are both "drpng"."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou']", "", word))


def latin_lookalikes(text: str) -> str:
    """Each word made only of Latin letters and Cyrillic or Greek look-alikes of them ("рее" with
    Cyrillic letters) in Latin letters; words of those scripts ("привет") as they are."""
    if text.isascii():
        return text

    def latin(match: "re.Match[str]") -> str:
        word = match.group(0)
        mapped = word.translate(LOOKALIKES)
        return mapped if mapped.isascii() else word

    return _NON_ASCII_WORD.sub(latin, text)


def normalise(text: str) -> str:
    """Lower-case, unify apostrophes, drop invisible characters, Latin look-alike letters as Latin,
    line breaks end a sentence."""
    text = unicodedata.normalize("NFKC", text or "").translate(_APOSTROPHES)
    text = latin_lookalikes(_INVISIBLE.sub("", text.replace("\r", "\n"))).lower()
    text = re.sub(r"\s*\n+\s*", ". ", text.strip())
    return re.sub(r"[ \t]+", " ", text)


@dataclass(frozen=True)
class Finding:
    """One red-flag mention, the context ConText found for it, and whether it counts."""

    flag: str
    level: str
    matched: str
    context: Tuple[str, ...]
    counted: bool

    def as_dict(self) -> Dict[str, Any]:
        return {
            "flag": self.flag,
            "level": self.level,
            "matched": self.matched,
            "context": list(self.context),
            "counted": self.counted,
        }


def all_discounted(findings: Sequence[Finding]) -> bool:
    """The rules found red-flag mentions and discounted every one (negated, over, someone else's ...)."""
    return bool(findings) and not any(f.counted for f in findings)


def discounted_crisis(findings: Sequence[Finding]) -> bool:
    """The rules discounted a mention of a crisis flag (a past attempt, a fear of not waking)."""
    return any(f.level == CRISIS and not f.counted for f in findings)


@dataclass(frozen=True)
class Assessment:
    """The triage level of one message and the findings that decided it."""

    level: str
    findings: Tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def escalated(self) -> bool:
        return self.level in ESCALATED

    @property
    def rules_discounted_all(self) -> bool:
        """The rules found red-flag mentions and discounted every one (negated, over, someone else's ...)."""
        return all_discounted([f for f in self.findings if f.flag != CLASSIFIER_FLAG and f.level != NONE])

    @property
    def rules_discounted_crisis(self) -> bool:
        """The rules discounted a mention of a crisis flag (the reader's crisis verdict stays strict)."""
        return discounted_crisis([f for f in self.findings if f.flag != CLASSIFIER_FLAG])

    @property
    def rules_found_nothing(self) -> bool:
        """The rules found no red-flag mention at all, counted or discounted (ordinary wordings are none)."""
        return not any(f.flag != CLASSIFIER_FLAG and f.level != NONE for f in self.findings)

    @property
    def flags(self) -> List[str]:
        """The flags that count, highest level first, each once."""
        counted = sorted((f for f in self.findings if f.counted), key=lambda f: LEVELS.index(f.level))
        return list(dict.fromkeys(f.flag for f in counted))

    def as_dict(self) -> Dict[str, Any]:
        return {"level": self.level, "flags": self.flags, "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class _Discount:
    when: FrozenSet[str]
    unless: FrozenSet[str]


@dataclass(frozen=True)
class _Carried:
    """A cue that a whole sentence gives to the mentions of the sentence before it (``previous_sentence``
    in context.yml) or to its own (``own_sentence``): ``category`` is added to those that already have
    one of ``applies_to`` (with ``only_if_alone``, for the sentence before, only when that sentence has a
    single mention; with ``allowed_types``, only to the mentions of those flags; with
    ``any_sentence_before``, to the mentions of every sentence before it, not only the one right before).
    A mention that runs on into the cue sentence is never given its cue."""

    category: str
    applies_to: FrozenSet[str]
    patterns: Tuple["re.Pattern[str]", ...]
    only_if_alone: bool = False
    allowed_types: FrozenSet[str] = frozenset()
    any_sentence_before: bool = False

    def reaches(self, flag: str) -> bool:
        """Whether the cue may be given to a mention of ``flag`` (every flag when no ``allowed_types``)."""
        return not self.allowed_types or flag in self.allowed_types


_FLAG_KEYS = frozenset(
    {"level", "description", "patterns", "ignores", "requires", "in_message", "not_in_message", "grows_by_at_least"}
)
_CARRIED_KEYS = frozenset(
    {"category", "applies_to", "patterns", "only_if_alone", "allowed_types", "any_sentence_before"}
)


def _carried(entry: Mapping[str, Any], fragments: Mapping[str, str], section: str) -> _Carried:
    """One ``previous_sentence`` or ``own_sentence`` entry, refused when a key is unknown or missing
    (``applies_to`` must be a list of categories): a whole sentence's cue calms or escalates red flags,
    so a misspelt condition must stop the rules from loading rather than change what the cue reaches."""
    unknown = set(entry) - _CARRIED_KEYS
    missing = {"category", "patterns"} - set(entry)
    if missing:
        raise ValueError(f"{section}: an entry needs {sorted(missing)}")
    if unknown:
        raise ValueError(f"{section}: unknown keys {sorted(unknown)} in the {entry.get('category')} entry")
    if not isinstance(entry.get("applies_to"), list) or not entry["applies_to"]:
        raise ValueError(f"{section}: the {entry['category']} entry needs applies_to (a list of categories)")
    return _Carried(
        category=entry["category"],
        applies_to=frozenset(entry["applies_to"]),
        patterns=tuple(re.compile(_expand(p, fragments)) for p in entry["patterns"]),
        only_if_alone=bool(entry.get("only_if_alone", False)),
        allowed_types=frozenset(entry.get("allowed_types") or ()),
        any_sentence_before=bool(entry.get("any_sentence_before", False)),
    )


@dataclass(frozen=True)
class RuleSet:
    """The parsed rule files: flags (level, description, patterns), modifiers, decision table, and the
    cues a sentence gives to the sentence before it."""

    flags: Mapping[str, Mapping[str, Any]]
    modifiers: Mapping[str, Sequence[Mapping[str, Any]]]
    discounts: Tuple[_Discount, ...]
    files: Tuple[Path, ...] = ()
    carried: Tuple[_Carried, ...] = ()
    # Cues a whole sentence gives to its own mentions (``own_sentence``): the sentence's shape, not a word
    # near the mention ("my legs are numb, is that a side effect?" is the writer's own state asked about).
    own_sentence: Tuple[_Carried, ...] = ()
    # The categories that overlapping mentions of one flag share (``overlapping_mentions_share``).
    shared_by_overlaps: FrozenSet[str] = frozenset()
    # Ordinary wordings that read like a red flag (``ordinary.yml``): name -> (description, patterns).
    ordinary: Mapping[str, Tuple[str, Tuple["re.Pattern[str]", ...]]] = field(default_factory=dict)
    # Words typed without their vowels (``no_vowels.yml``): consonants -> the word ("fvr" -> "fever").
    no_vowels: Mapping[str, str] = field(default_factory=dict)
    # Spoken marks, years and readings a phone's dictation wrote as words (``dictation.yml``).
    dictation: Optional[Dictation] = None
    # A word's last letter typed more than once (``held_keys.yml``): the pattern that finds such a
    # word, and the words that really end so.
    held_key: Optional["re.Pattern[str]"] = None
    held_key_words: FrozenSet[str] = frozenset()

    def read_dictation(self, text: str) -> str:
        """``text`` with the marks, years and readings that ``dictation.yml`` knows said as words
        written as typed ("comma he is grey full stop" -> ", he is grey."); as it is without the file."""
        return self.dictation.read(text) if self.dictation is not None else text

    def read_held_keys(self, text: str) -> str:
        """``text`` with each word's last letter typed more than once read once, for the letters
        ``held_keys.yml`` lists ("biggerr" -> "bigger"); its words that really end so keep it twice
        ("odd", "buttt" -> "butt")."""
        if self.held_key is None:
            return text

        def once(match: "re.Match[str]") -> str:
            word, stem, letter = match.group(0), match.group(1), match.group(2)
            if word in self.held_key_words:
                return word
            # "buttt" is "butt": a word that ends in the letter twice keeps it twice.
            return stem + letter * 2 if stem + letter * 2 in self.held_key_words else stem + letter

        return self.held_key.sub(once, text)

    def read_no_vowels(self, text: str) -> str:
        """``text`` with each word of three or more letters and no vowel that ``no_vowels.yml`` knows
        read as its word ("cnt pee" -> "cant pee"); every other word as it is."""
        if not self.no_vowels:
            return text
        return _NO_VOWEL_WORD.sub(lambda m: self.no_vowels.get(consonants(m.group(0)), m.group(0)), text)

    def level_of(self, flag: str) -> str:
        return str(self.flags[flag]["level"])

    def description_of(self, flag: str) -> str:
        if flag in self.ordinary:
            return self.ordinary[flag][0]
        return str(self.flags[flag]["description"])


def _expand(pattern: str, fragments: Mapping[str, str]) -> str:
    """Insert ``{name}`` fragments, including fragments used inside fragments."""
    for _ in range(5):
        expanded = _FRAGMENT.sub(lambda m: fragments.get(m.group(1), m.group(0)), pattern)
        if expanded == pattern:
            return expanded
        pattern = expanded
    raise ValueError(f"fragments nested too deep (a cycle?): {pattern[:80]}")


def _message_patterns(spec: Mapping[str, Any], key: str, fragments: Mapping[str, str]) -> Tuple["re.Pattern[str]", ...]:
    """A flag's ``in_message`` or ``not_in_message`` patterns, fragments inserted and compiled."""
    return tuple(re.compile(_expand(p, fragments)) for p in spec.get(key, []))


def load_rules(rules_dir: Path = RULES_DIR) -> RuleSet:
    """Read ``targets.yml``, ``context.yml``, ``ordinary.yml``, ``no_vowels.yml``, ``dictation.yml`` and
    ``held_keys.yml``, expand the fragments, check every regex, and refuse two no-vowel words with the
    same consonants."""
    targets = yaml.safe_load((rules_dir / "targets.yml").read_text(encoding="utf-8"))
    context = yaml.safe_load((rules_dir / "context.yml").read_text(encoding="utf-8"))
    flags: Dict[str, Dict[str, Any]] = {}
    for name, spec in targets["flags"].items():
        if spec["level"] not in ESCALATED:
            raise ValueError(f"flag {name}: unknown level {spec['level']!r}")
        if set(spec) - _FLAG_KEYS:
            # A misspelt condition ("not_in_mesage") would be silently ignored and widen the flag.
            raise ValueError(f"flag {name}: unknown keys {sorted(set(spec) - _FLAG_KEYS)}")
        patterns = [_expand(p, targets.get("fragments", {})) for p in spec["patterns"]]
        for p in patterns:
            compiled = re.compile(p)
            if "grows_by_at_least" in spec and not SIZE_GROUPS <= set(compiled.groupindex):
                raise ValueError(f"flag {name}: grows_by_at_least needs the groups {sorted(SIZE_GROUPS)} in {p[:60]}")
        flags[name] = {
            **spec,
            "patterns": patterns,
            "ignores": frozenset(spec.get("ignores", [])),
            "requires": frozenset(spec.get("requires", [])),
            # Words that must be somewhere in the message, in any sentence, for a mention to be found.
            "in_message": _message_patterns(spec, "in_message", targets.get("fragments", {})),
            # Words that, anywhere in the message, mean its mentions are not this flag (a pet, a quiz).
            "not_in_message": _message_patterns(spec, "not_in_message", targets.get("fragments", {})),
        }
    modifiers: Dict[str, List[Dict[str, Any]]] = {}
    for category, entries in context["modifiers"].items():
        for entry in entries:
            patterns = [_expand(p, context.get("fragments", {})) for p in entry["patterns"]]
            for p in patterns:
                re.compile(p)
            named = set(entry.get("allowed_types") or ()) | set(entry.get("excluded_types") or ())
            if named - set(flags):
                # A misspelt flag would leave the entry reaching no mention, or every mention.
                raise ValueError(
                    f"context.yml: allowed_types or excluded_types of a {category} modifier names no flag: "
                    f"{sorted(named - set(flags))}"
                )
            modifiers.setdefault(category, []).append({**entry, "patterns": patterns})
    discounts = tuple(
        _Discount(frozenset(row["when"]), frozenset(row.get("unless", []))) for row in context["decision"]["discount"]
    )
    carried, own_sentence = (
        tuple(_carried(entry, context.get("fragments", {}), section) for entry in context.get(section, []))
        for section in ("previous_sentence", "own_sentence")
    )
    for cue in (*carried, *own_sentence):
        if cue.allowed_types - set(flags):
            # A misspelt flag would leave the cue silently reaching nothing.
            raise ValueError(
                f"context.yml: allowed_types of the {cue.category} entry names no flag: "
                f"{sorted(cue.allowed_types - set(flags))}"
            )
    ordinary_file = rules_dir / "ordinary.yml"
    ordinary: Dict[str, Tuple[str, Tuple["re.Pattern[str]", ...]]] = {}
    if ordinary_file.exists():
        wordings = yaml.safe_load(ordinary_file.read_text(encoding="utf-8")).get("wordings") or {}
        for name, spec in wordings.items():
            if name in flags:
                raise ValueError(f"ordinary.yml: {name!r} is also a red flag in targets.yml")
            ordinary[name] = (str(spec["description"]), tuple(re.compile(p) for p in spec["patterns"]))
    no_vowels: Dict[str, str] = {}
    no_vowels_file = rules_dir / "no_vowels.yml"
    if no_vowels_file.exists():
        for word in yaml.safe_load(no_vowels_file.read_text(encoding="utf-8")).get("words") or []:
            key = consonants(str(word))
            if key in no_vowels and no_vowels[key] != word:
                raise ValueError(f"no_vowels.yml: {no_vowels[key]!r} and {word!r} have the same consonants {key!r}")
            no_vowels[key] = str(word)
    dictation_file = rules_dir / "dictation.yml"
    dictation = load_dictation(dictation_file)
    held_keys_file = rules_dir / "held_keys.yml"
    held_key: Optional["re.Pattern[str]"] = None
    held_key_words: FrozenSet[str] = frozenset()
    if held_keys_file.exists():
        held = yaml.safe_load(held_keys_file.read_text(encoding="utf-8")) or {}
        letters = [str(letter) for letter in held.get("letters") or []]
        if any(len(letter) != 1 or not letter.isalpha() for letter in letters):
            raise ValueError(f"held_keys.yml: letters must be single letters: {letters}")
        if letters:
            held_key = re.compile(rf"\b([a-z]+?)([{''.join(letters)}])\2+\b")
            held_key_words = frozenset(str(word) for word in held.get("keep") or [])
    return RuleSet(
        flags=flags,
        modifiers=modifiers,
        discounts=discounts,
        carried=carried,
        own_sentence=own_sentence,
        shared_by_overlaps=frozenset(context.get("overlapping_mentions_share", [])),
        ordinary=ordinary,
        no_vowels=no_vowels,
        dictation=dictation,
        held_key=held_key,
        held_key_words=held_key_words,
        files=(
            rules_dir / "targets.yml",
            rules_dir / "context.yml",
            *([ordinary_file] if ordinary else []),
            *([no_vowels_file] if no_vowels else []),
            *([dictation_file] if dictation is not None else []),
            *([held_keys_file] if held_key is not None else []),
        ),
    )


class Triage:
    """A spaCy + medspaCy pipeline built from one rule set, with the optional learned second reader;
    :meth:`assess` is thread-safe."""

    def __init__(
        self,
        rules: Optional[RuleSet] = None,
        semantic_settings: "Optional[SemanticSettings]" = None,
        prefilter: bool = True,
        embed: "Optional[Embed]" = None,
        embedder: Optional[str] = None,
    ) -> None:
        """``embed`` (texts -> normalised sentence embeddings) and its name ``embedder`` are used only
        when the settings' ``embedding_weight`` is above 0; by default all-MiniLM-L6-v2
        (:func:`clinic_triage.embedding.minilm`). Either way, embeddings are cached per text. A fitted
        reader is cached on disk only when the encoder has a name (an unnamed one could differ)."""
        from clinic_triage import medspacy_setup

        medspacy_setup.install()
        import spacy
        from medspacy.context import ConTextRule
        from medspacy.target_matcher import TargetRule

        self.rules = rules or load_rules()
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        matcher: Any = nlp.add_pipe("medspacy_target_matcher", config={"result_type": "group", "prune": False})
        matcher.add(
            [
                TargetRule(literal=f"{flag}#{i}", category=flag, pattern=pattern)
                for flag, spec in self.rules.flags.items()
                for i, pattern in enumerate(spec["patterns"])
            ]
        )
        context: Any = nlp.add_pipe(
            "medspacy_context",
            config={
                "rules": None,
                "span_attrs": None,
                "input_span_type": "group",
            },
        )
        # Boundaries that end every modifier's scope; an ``opt_in`` one ends only those that name it.
        boundaries = {
            c
            for c, entries in self.rules.modifiers.items()
            if any(e["direction"] == BOUNDARY and not e.get("opt_in") for e in entries)
        }
        context_rules = []
        for category, entries in self.rules.modifiers.items():
            for entry in entries:
                boundary = entry["direction"] == BOUNDARY
                terminated_by = set(entry.get("terminated_by", boundaries))
                for i, pattern in enumerate(entry["patterns"]):
                    context_rules.append(
                        ConTextRule(
                            literal=f"{category}#{i}:{pattern[:40]}",
                            category=category,
                            pattern=pattern,
                            direction="PSEUDO" if boundary else entry["direction"],
                            max_scope=entry.get("max_scope"),
                            max_targets=entry.get("max_targets"),
                            terminated_by=set() if boundary else terminated_by,
                            # only these flags' mentions, when the entry names them; never those
                            allowed_types=set(entry["allowed_types"]) if entry.get("allowed_types") else None,
                            excluded_types=set(entry["excluded_types"]) if entry.get("excluded_types") else None,
                        )
                    )
        context.add(context_rules)
        self._nlp = nlp
        # Every target pattern in one regex: a message none of them matches has no red-flag mention,
        # so the spaCy pass (which runs the same patterns over the same text) would find nothing.
        # Most messages are such ordinary questions: this skips most of their triage time.
        self._any_target = (
            re.compile(
                "|".join(
                    f"(?:{_NAMED_GROUP.sub('(?:', p)})" for spec in self.rules.flags.values() for p in spec["patterns"]
                )
            )
            if prefilter
            else None
        )
        self.semantic: "Optional[SemanticTriage]" = None
        self.combine = "off"
        self.semantic_description = semantic_settings.description if semantic_settings is not None else ""
        if semantic_settings is not None and semantic_settings.combine != "off":
            from clinic_triage import embedding, semantic

            cached: "Optional[Embed]" = None
            if semantic_settings.embedding_weight > 0:
                if embed is None:
                    embed, embedder = embedding.minilm(), embedder or embedding.identity()
                cached = embedding.CachedEmbed(embed)
            # Trained on the text as the rules see it (discounted mentions masked), like it is used;
            # the embedding, when read, is of that same text.
            key: Optional[str] = semantic.fingerprint(semantic_settings, self.rules.files, embedder or "")
            if cached is not None and not embedder:
                key = None
            self.semantic = semantic.train(semantic_settings, self.classifier_text, cache_key=key, embed=cached)
            self.combine = semantic_settings.combine

    def _counts(self, flag: str, context: FrozenSet[str]) -> bool:
        spec = self.rules.flags[flag]
        if spec["requires"] and not spec["requires"] & context:
            return False  # e.g. a condition's name with nobody saying they have it
        applicable = context - spec["ignores"]
        return not any(d.when <= applicable and not (d.unless & context) for d in self.rules.discounts)

    def _read(self, text: str) -> Tuple[List[Finding], str]:
        """The rules' findings in ``text``, and the text the classifier reads: the normalised text
        with each mention the rules discounted (and no counted one overlaps) replaced by
        ``DISCOUNTED_MARK``, so that "no pus" does not read like "pus", and each ordinary wording
        (``ordinary.yml``) left out, so that it weighs neither way."""
        clean = self.rules.read_no_vowels(self.rules.read_held_keys(self.rules.read_dictation(normalise(text))))
        if not clean:
            return [], ""
        findings: List[Finding] = []
        counted_chars: List[Tuple[int, int]] = []
        discounted_chars: List[Tuple[int, int]] = []
        if self._any_target is None or self._any_target.search(clean):
            doc = self._nlp(clean)
            spans = list(doc.spans.get("medspacy_spans", []))
            contexts = self._carry([frozenset(m.category for m in span._.modifiers) for span in spans], spans, doc)
            contexts = _shared_by_overlaps(contexts, spans, self.rules.shared_by_overlaps)
            for span, context in zip(spans, contexts):
                flag = span.label_
                spec = self.rules.flags[flag]
                wanted = spec["in_message"]
                if wanted and not any(p.search(clean) for p in wanted):
                    continue  # e.g. a position that eases a pain, with no headache named anywhere
                if any(p.search(clean) for p in spec["not_in_message"]):
                    continue  # e.g. a lethal dose asked about for a dog that ate the tablets
                growth = spec.get("grows_by_at_least")
                if growth is not None and not _grows(spec["patterns"], clean[span.start_char :], float(growth)):
                    continue  # a swelling measured twice that stayed the same size or went down
                counted = self._counts(flag, context)
                findings.append(Finding(flag, self.rules.level_of(flag), span.text, tuple(sorted(context)), counted))
                (counted_chars if counted else discounted_chars).append((span.start_char, span.end_char))
        # Ordinary wordings are never counted: reported, and left out of what the second reader reads.
        ordinary_chars: List[Tuple[int, int]] = []
        for name, (_, patterns) in self.rules.ordinary.items():
            for pattern in patterns:
                for match in pattern.finditer(clean):
                    findings.append(Finding(name, NONE, match.group(0), (ORDINARY,), False))
                    ordinary_chars.append(match.span())
        if not findings:
            return [], clean
        replaced = sorted([(*c, DISCOUNTED_MARK) for c in discounted_chars] + [(*c, "") for c in ordinary_chars])
        masked, end = [], 0
        for start, stop, mark in replaced:
            if start < end or any(s < stop and start < e for s, e in counted_chars):
                continue
            masked += [clean[end:start], mark]
            end = stop
        return findings, re.sub(r"  +", " ", "".join(masked) + clean[end:]).strip()

    def _carry(self, contexts: List[FrozenSet[str]], spans: Sequence[Any], doc: Any) -> List[FrozenSet[str]]:
        """``contexts`` with the cues of ``previous_sentence`` and ``own_sentence`` (context.yml) added:
        ConText reads words near a mention, but "can you get numb down below after this? mine has been
        numb since last night" claims the asked-about symptom in the next sentence, and "my legs are numb,
        is that a side effect?" asks about the writer's own state, which only the whole sentence shows."""
        if not (self.rules.carried or self.rules.own_sentence) or not spans:
            return contexts
        sentences = list(doc.sents)
        starts = [sent.start for sent in sentences]
        index = [max(i for i, start in enumerate(starts) if start <= span.start) for span in spans]
        contexts = list(contexts)
        for number, sentence in enumerate(sentences[1:], start=1):
            text = sentence.text.strip()
            for cue in self.rules.carried:
                if not any(p.search(text) for p in cue.patterns):
                    continue
                before = [
                    i for i, at in enumerate(index) if at == number - 1 or (cue.any_sentence_before and at < number)
                ]
                if cue.only_if_alone and len({(spans[i].start, spans[i].end) for i in before}) > 1:
                    continue
                # Not a mention that runs on into this sentence: the cue would be its own second half.
                before = [
                    i
                    for i in before
                    if contexts[i] & cue.applies_to and spans[i].end <= sentence.start and cue.reaches(spans[i].label_)
                ]
                for i in before:
                    contexts[i] = contexts[i] | {cue.category}
        for cue in self.rules.own_sentence:
            for i, at in enumerate(index):
                if not cue.reaches(spans[i].label_):
                    continue
                if contexts[i] & cue.applies_to and any(p.search(sentences[at].text.strip()) for p in cue.patterns):
                    contexts[i] = contexts[i] | {cue.category}
        return contexts

    def description_of(self, flag: str) -> str:
        """What a finding's flag means, in the words staff see: the flag's description in the rules, or
        the learned reader's (``rules/semantic.yml``) for its findings."""
        if flag == CLASSIFIER_FLAG:
            return self.semantic_description
        return self.rules.description_of(flag)

    def classifier_text(self, text: str) -> str:
        """``text`` as the second reader reads it: normalised, discounted mentions masked."""
        return self._read(text)[1]

    def assess(self, text: str) -> Assessment:
        """The triage level of ``text`` with every red-flag mention found in it."""
        found, classifier_text = self._read(text)
        if not classifier_text and not found:
            return Assessment(NONE)
        findings: Dict[Tuple[str, str], Finding] = {}
        for finding in found:
            key = (finding.flag, finding.matched)
            # One entry per flag and wording; a counted reading wins over a discounted one.
            if key not in findings or (finding.counted and not findings[key].counted):
                findings[key] = finding
        if self.semantic is not None and (self.combine == "either" or not findings):
            # Ordinary wordings are no red-flag mentions: they leave the reader's threshold as it is.
            mentions = [f for f in found if f.level != NONE]
            level, probability = self.semantic.verdict(
                classifier_text,
                rules_discounted_all=all_discounted(mentions),
                rules_found_nothing=not mentions,
                rules_discounted_crisis=discounted_crisis(mentions),
            )
            if level is not None:
                findings[(CLASSIFIER_FLAG, "")] = Finding(CLASSIFIER_FLAG, level, "", (f"P={probability:.2f}",), True)
        ordered = sorted(findings.values(), key=lambda f: (LEVELS.index(f.level), not f.counted, f.flag))
        level = next((f.level for f in ordered if f.counted), NONE)
        return Assessment(level, tuple(ordered))


def _millimetres(number: str, unit: str) -> float:
    """``number`` (a decimal point or comma) in ``unit`` as millimetres."""
    return float(number.replace(",", ".")) * next(v for k, v in _MILLIMETRES.items() if unit.startswith(k))


def _grows(patterns: Sequence[str], text: str, ratio: float) -> bool:
    """Whether a size told twice at the start of ``text`` (a mention and what follows it, which a
    pattern's look-ahead may read; the groups of :data:`SIZE_GROUPS` in one of ``patterns``; the later
    size's unit, when left out, is the earlier one's) grew to at least ``ratio`` times the earlier:
    "3 cm this morning, 6 cm now" grew; "6cm last week, now 3cm" did not."""
    for pattern in patterns:
        match = re.match(pattern, text)
        if match is None:
            continue
        before = _millimetres(match["before"], match["before_unit"])
        after = _millimetres(match["after"], match["after_unit"] or match["before_unit"])
        if before > 0 and after >= ratio * before:
            return True
    return False


def _shared_by_overlaps(
    contexts: Sequence[FrozenSet[str]], spans: Sequence[Any], categories: FrozenSet[str]
) -> List[FrozenSet[str]]:
    """``contexts`` where overlapping mentions of one flag share the cues of ``categories`` (when it
    happened: ``overlapping_mentions_share`` in context.yml) that reached any of them. A cue's scope
    may reach one wording of an event and not the other ("had a temp of 38 the day after surgery, it
    went away": "had a temp" and "temp of 38"); a negation's reach stays the wording's own."""
    shared = list(contexts)
    if not categories:
        return shared
    for i, one in enumerate(spans):
        for j, other in enumerate(spans):
            if i != j and one.label_ == other.label_ and one.start < other.end and other.start < one.end:
                shared[i] = shared[i] | (contexts[j] & categories)
    return shared


@lru_cache(maxsize=1)
def default_triage() -> Triage:
    """The triage pipeline on the shipped rules and corpus (built once per process)."""
    from clinic_triage import semantic

    return Triage(load_rules(), semantic.load_settings())


def assess(text: str) -> Assessment:
    """Triage ``text`` with the shipped rules."""
    return default_triage().assess(text)
