"""Subjects the clinic's sheet says nothing about, found in a question; free of Rasa.

The reviewable patterns of ``sheet_silent.yml`` (next to this module) find a subject the sheet is
silent on (a brace, physiotherapy, success rates and other figures, fasting before the operation,
children, pregnant women or people with another illness asked about in general), a subject that names
the day of the operation (``anchored``: what to wear or bring "on the day"), and a question what a
medical word means that the sheet never uses (the term ends at ``term_end``: "whats an osteophyte lol
saw it online"). The sheet's words are those of the facts of ``facts/facts.yml`` (the sheet's
sentences, each with its verbatim source; not the gap notes), so a word the sheet uses, "stenosis" or
"MED", is never reported as one it is silent on.
:mod:`clinic_nlu.topic_margin_component` uses :meth:`SilentRules.find` for a message read as a topic,
and :meth:`SilentRules.find_any_reading` for one read as out of scope, to give the honest "not
covered" answer instead of a topic's facts or the out-of-scope reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, FrozenSet, Iterable, Optional, Tuple

import yaml

from clinic_nlu.pattern_file import PatternFile
from clinic_nlu.spelling import MEDICAL_TERMS, medical_terms as read_medical_terms

HERE = Path(__file__).resolve().parent
RULES_FILE = HERE / "sheet_silent.yml"
FACTS_FILE = HERE.parent / "facts" / "facts.yml"

WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class SilentRules:
    """The compiled patterns of ``sheet_silent.yml`` and the words they are judged against."""

    subject: Tuple["re.Pattern[str]", ...]
    anchored: Tuple["re.Pattern[str]", ...]
    definition: Tuple["re.Pattern[str]", ...]
    term_end: Tuple["re.Pattern[str]", ...]
    not_a_term: Tuple["re.Pattern[str]", ...]
    max_term_words: int
    filler: FrozenSet[str]
    medical_words: FrozenSet[str]
    sheet_words: FrozenSet[str]

    def find(self, text: str) -> Optional[str]:
        """The wording of the first silent subject or undefined medical term in ``text``, or None."""
        clean = _clean(text)
        return self._first(self.subject, clean) or self._first(self.anchored, clean) or self._undefined_term(clean)

    def find_any_reading(self, text: str) -> Optional[str]:
        """What decides even for a message read as out of scope: a subject that names the day of the
        operation (``anchored``), or the term of a "what is X?" question whose words include a medical
        word the sheet never uses (X at most ``max_term_words`` words to the end of its sentence)."""
        clean = _clean(text)
        return self._first(self.anchored, clean) or self._undefined_term(clean)

    @staticmethod
    def _first(patterns: Tuple["re.Pattern[str]", ...], clean: str) -> Optional[str]:
        for pattern in patterns:
            found = pattern.search(clean)
            if found:
                return found.group(0).strip()
        return None

    def _undefined_term(self, clean: str) -> Optional[str]:
        for pattern in self.definition:
            for found in pattern.finditer(clean):
                term = found.group("term")
                for end in self.term_end:
                    term = end.sub("", term)
                term = term.strip(" '\"")
                if any(p.search(term) for p in self.not_a_term):
                    continue
                words = [w for w in WORD.findall(term) if w not in self.filler]
                if not words or len(words) > self.max_term_words:
                    continue
                if any(w in self.medical_words and w not in self.sheet_words for w in words):
                    return term
        return None


def in_typed_or_corrected(find: Callable[[str], Optional[str]], typed: str, corrected: str) -> Optional[str]:
    """What ``find`` finds in the words the patient typed, else in the spelling-corrected ones."""
    return find(typed) or (find(corrected) if corrected and corrected != typed else None)


def _clean(text: str) -> str:
    """Lower case with typographic quotes made plain and runs of white space as one space."""
    text = (text or "").lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text)


def _strings(node: Any) -> Iterable[str]:
    """Every string in a YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def load_rules(path: Path = RULES_FILE, medical_terms: Path = MEDICAL_TERMS, facts: Path = FACTS_FILE) -> SilentRules:
    """Read and compile ``path``; the medical words are ``medical_terms`` plus the file's ``terms``,
    the sheet's words those of the facts of ``facts`` plus the file's ``sheet_also``. A pattern that
    does not compile names itself in the error."""
    patterns = PatternFile(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    max_words = int(data.get("max_term_words") or 0)
    if max_words < 1:
        raise ValueError(f"{path.name}: max_term_words must be 1 or more")
    terms = frozenset(str(t).strip().lower() for t in data.get("terms") or [])
    fact_tree = yaml.safe_load(facts.read_text(encoding="utf-8"))
    sheet = frozenset(w for s in _strings(fact_tree.get("facts")) for w in WORD.findall(s.lower()))
    return SilentRules(
        subject=patterns.compiled("subject"),
        anchored=patterns.compiled("anchored"),
        definition=patterns.compiled("definition"),
        term_end=patterns.compiled("term_end"),
        not_a_term=patterns.compiled("not_a_term"),
        max_term_words=max_words,
        filler=frozenset(str(w).lower() for w in data.get("filler") or []),
        medical_words=read_medical_terms(medical_terms) | terms,
        sheet_words=sheet | frozenset(str(w).strip().lower() for w in data.get("sheet_also") or []),
    )
