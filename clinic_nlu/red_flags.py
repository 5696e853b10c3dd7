"""Deterministic, negation-aware red-flag detection for patient messages.

No Rasa imports: the Rasa component in :mod:`clinic_nlu.red_flag_component` wraps this, and the
tests call it directly.  The patterns live in ``red_flags.yml`` next to this module so a clinician
can review them.  Detection favours recall: a match is dropped only when its own clause clearly
denies the symptom ("no fever"), asks about it in general ("can it cause incontinence?"), or
places it in the resolved past ("had a fever last year").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Sequence

import yaml

PATTERNS_FILE = Path(__file__).with_name("red_flags.yml")

# Clause boundaries: punctuation, line breaks and contrastive/additive conjunctions.
_CLAUSE_SPLIT = re.compile(r"[.!?;,:\n]|\b(?:but|and|though|although|however|plus|also|yet)\b")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00]")


@dataclass(frozen=True)
class RedFlag:
    """One red flag found in a message: which flag, and the words that matched."""

    flag: str
    matched: str

    def as_dict(self) -> Dict[str, str]:
        return {"flag": self.flag, "matched": self.matched}


@dataclass(frozen=True)
class _Rules:
    flags: Dict[str, List[Pattern[str]]]
    descriptions: Dict[str, str]
    negation: List[Pattern[str]]
    negation_window: int
    hypothetical: List[Pattern[str]]
    clause: List[Pattern[str]]


def normalise(text: str) -> str:
    """Lower-case, unify apostrophes, drop zero-width/control characters, fold whitespace."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text.translate(_APOSTROPHES)).lower()
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4)
def load_rules(path: Path = PATTERNS_FILE) -> _Rules:
    """Read and compile the red-flag patterns (cached: the file is read once per process)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    compile_all = lambda items: [re.compile(p) for p in items]  # noqa: E731
    return _Rules(
        flags={name: compile_all(spec["patterns"]) for name, spec in data["flags"].items()},
        descriptions={name: spec["description"] for name, spec in data["flags"].items()},
        negation=compile_all(data["negation_cues"]["patterns"]),
        negation_window=int(data["negation_cues"]["window_words"]),
        hypothetical=compile_all(data["hypothetical_cues"]["patterns"]),
        clause=compile_all(data["clause_cues"]["patterns"]),
    )


def _clause_start(text: str, position: int) -> int:
    """Index where the clause containing ``position`` begins."""
    start = 0
    for boundary in _CLAUSE_SPLIT.finditer(text, 0, position):
        start = boundary.end()
    return start


def _clause_end(text: str, position: int) -> int:
    boundary = _CLAUSE_SPLIT.search(text, position)
    return boundary.start() if boundary else len(text)


def _is_discounted(text: str, start: int, end: int, rules: _Rules) -> bool:
    """True when the clause around text[start:end] denies, hypothesises or resolves the symptom."""
    clause_start = _clause_start(text, start)
    before = text[clause_start:start]
    window = " ".join(before.split()[-rules.negation_window:])
    if any(p.search(window) for p in rules.negation):
        return True
    if any(p.search(before) for p in rules.hypothetical):
        return True
    clause = text[clause_start:_clause_end(text, end)]
    return any(p.search(clause) for p in rules.clause)


def detect(text: str, rules: Optional[_Rules] = None) -> List[RedFlag]:
    """All red flags asserted in ``text`` (one entry per flag, first undiscounted match)."""
    rules = rules or load_rules()
    clean = normalise(text)
    found: List[RedFlag] = []
    for flag, patterns in rules.flags.items():
        for pattern in patterns:
            hit = next(
                (m for m in pattern.finditer(clean) if not _is_discounted(clean, m.start(), m.end(), rules)),
                None,
            )
            if hit is not None:
                found.append(RedFlag(flag=flag, matched=hit.group(0)))
                break
    return found


def flag_names(flags: Sequence[RedFlag]) -> List[str]:
    return [f.flag for f in flags]
