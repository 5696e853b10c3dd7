"""A general question whether the problem can come back after this operation, free of Rasa.

The clinic's sheet says nothing about the problem coming back, or another operation being needed
later, after the operation it describes; its "high recurrence rate" is about the older methods.
The reviewable patterns in ``recurrence.yml`` (next to this module) find such a question; the NLU
component :mod:`clinic_nlu.recurrence_component` then marks the message with an entity and the
dialogue rules give the honest answer. A message about the writer's own case is never found: the
file's ``own_case`` patterns ("my disc", "i had the op"), and the reports that the problem has come
back, kept in one place, ``own_case.yml``: ``came_back`` (which also makes such a message personal)
and ``came_back_wide`` (any subject; only withholds the recurrence answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from clinic_nlu.pattern_file import PatternFile

RULES_FILE = Path(__file__).resolve().parent / "recurrence.yml"
# The one place for reports that the problem has come back ("it came back after the op").
CAME_BACK_FILE = Path(__file__).resolve().parent / "own_case.yml"


@dataclass(frozen=True)
class RecurrenceRules:
    """The compiled patterns of ``recurrence.yml``."""

    question: Tuple["re.Pattern[str]", ...]
    own_case: Tuple["re.Pattern[str]", ...]
    came_back: Tuple["re.Pattern[str]", ...] = ()

    def own(self, text: str) -> bool:
        """Whether the writer speaks of their own case in ``text`` (``own_case``), or reports that
        the problem has come back (``came_back``, own_case.yml's ``came_back`` and ``came_back_wide``)."""
        clean = re.sub(r"\s+", " ", _clean(text))  # positions do not matter here
        return any(p.search(clean) for p in (*self.own_case, *self.came_back))

    def find(self, text: str) -> Optional[Tuple[int, int]]:
        """The (start, end) in ``text`` of the first recurrence wording found, or None; None too
        when the writer speaks of their own case (:meth:`own`)."""
        if self.own(text):
            return None
        clean = _clean(text)
        found = [m for p in self.question if (m := p.search(clean))]
        if not found:
            return None
        first = min(found, key=lambda m: m.start())
        return first.start(), first.end()


def _clean(text: str) -> str:
    """Lower case with typographic apostrophes made plain; the same length, so positions hold."""
    return (text or "").lower().replace("\u2019", "'")


def load_rules(path: Path = RULES_FILE, came_back_path: Path = CAME_BACK_FILE) -> RecurrenceRules:
    """Read and compile ``path``, and the ``came_back`` and ``came_back_wide`` lists of
    ``came_back_path``; a pattern that does not compile names itself in the error."""
    compiled = PatternFile(path).compiled
    came_back = PatternFile(came_back_path).compiled
    return RecurrenceRules(
        question=compiled("question"),
        own_case=compiled("own_case"),
        came_back=(*came_back("came_back"), *came_back("came_back_wide")),
    )
