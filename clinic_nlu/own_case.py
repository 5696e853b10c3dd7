"""A question about the patient's own symptom ("my scar itches, is that normal?"), free of Rasa.

docs/intents.md puts the patient's own case under the personal deferral: a clinician judges it, not
the sheet. Such messages share their words with the topics, so the classifier tends to answer them
with a topic's facts. The reviewable patterns in ``own_case.yml`` (next to this module) find the
writer describing a symptom of their own and asking whether it is normal or a worry; both must be
found. A message that is nothing but that question ("is that normal?", typed after telling the
symptom) is found on its own (:meth:`OwnCaseRules.bare`), and so is a symptom told without asking
anything (:meth:`OwnCaseRules.told`; the component applies it only where the classifier found no
topic), and so is a report that the problem has come back, asked or not
(:meth:`OwnCaseRules.returned`). Used by :mod:`clinic_nlu.own_case_component`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from clinic_nlu.pattern_file import PatternFile

RULES_FILE = Path(__file__).resolve().parent / "own_case.yml"


@dataclass(frozen=True)
class OwnCaseRules:
    """The compiled patterns of ``own_case.yml``."""

    symptom: Tuple["re.Pattern[str]", ...]
    question: Tuple["re.Pattern[str]", ...]
    bare_question: Tuple["re.Pattern[str]", ...]
    asks_something: Tuple["re.Pattern[str]", ...]
    came_back: Tuple["re.Pattern[str]", ...]

    def match(self, text: str) -> Optional[Tuple[str, str]]:
        """The (symptom, question) wording found in ``text``, or None unless both are there."""
        clean = _clean(text)
        symptom = next((m.group(0) for p in self.symptom if (m := p.search(clean))), None)
        if symptom is None:
            return None
        question = next((m.group(0) for p in self.question if (m := p.search(clean))), None)
        return (symptom, question) if question is not None else None

    def returned(self, text: str) -> Optional[Tuple[str, Optional[str]]]:
        """(the report that the problem has come back, the normality question or None) when ``text``
        reports it ("it came back after the op", "my pain is back"), asked or not; else None."""
        clean = _clean(text)
        back = next((m.group(0) for p in self.came_back if (m := p.search(clean))), None)
        if back is None:
            return None
        return back, next((m.group(0) for p in self.question if (m := p.search(clean))), None)

    def told(self, text: str) -> Optional[str]:
        """The symptom wording when ``text`` tells a symptom of the writer's own and asks nothing
        ("my back hurts when i sit"), else None."""
        clean = _clean(text)
        if any(p.search(clean) for p in self.asks_something):
            return None
        return next((m.group(0) for p in self.symptom if (m := p.search(clean))), None)

    def bare(self, text: str) -> Optional[str]:
        """The message itself when it is nothing but a normality question ("is that normal?"), else None."""
        clean = _clean(text).strip(" .,!?;:")
        return clean if any(p.fullmatch(clean) for p in self.bare_question) else None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").lower().replace("\u2019", "'"))


def load_rules(path: Path = RULES_FILE) -> OwnCaseRules:
    """Read and compile ``path``; a pattern that does not compile names itself in the error."""
    compiled = PatternFile(path).compiled
    return OwnCaseRules(
        symptom=compiled("symptom"),
        question=compiled("question"),
        bare_question=compiled("bare_question"),
        asks_something=compiled("asks_something"),
        came_back=compiled("came_back"),
    )
