"""The fact book: the clinic's information sheet as reviewable, traceable facts.

No Rasa imports.  Loads ``facts/facts.yml`` (see its header for the review rules) and
composes answers from it; every sentence an answer contains comes from that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

WITHHELD_FILE = "withheld-claims.txt"


@dataclass(frozen=True)
class Fact:
    """One statement the assistant may make, with the sheet sentence it comes from."""

    id: str
    intents: Tuple[str, ...]
    answer: str
    source: str
    primary: bool


@dataclass(frozen=True)
class Topic:
    """How a question intent is introduced and what the sheet does not cover for it."""

    intent: str
    title: str
    lead: str
    gap: Optional[str]
    general_after_personal: bool = False
    # Subjects of a follow-up that belong to this topic ("what about work" after the recovery answer):
    # the answer is then this topic's again (actions/answering.py).
    follow_up_words: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Withheld:
    """A claim of the sheet that the assistant must never repeat."""

    id: str
    source: str
    reason: str


@dataclass(frozen=True)
class RelatedFact:
    """For a question the sheet does not answer: words that tie it to the one sheet fact truly related."""

    fact: str
    words: Tuple[str, ...]

    def matches(self, text: str) -> bool:
        """Whether ``text`` has one of the words (whole words, case-insensitive)."""
        lowered = text.lower()
        return any(re.search(r"(?<!\w)%s(?!\w)" % re.escape(w.lower()), lowered) for w in self.words)


@dataclass(frozen=True)
class Answer:
    """A composed answer: the text to send and the ids of the facts it states."""

    text: str
    fact_ids: List[str] = field(default_factory=list)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class FactBook:
    """All facts, indexed by intent."""

    def __init__(
        self,
        topics: Dict[str, Topic],
        facts: List[Fact],
        withheld: List[Withheld],
        sheet: str,
        related: Optional[List[RelatedFact]] = None,
    ) -> None:
        self.topics = topics
        self.facts = facts
        self.withheld = withheld
        self.sheet = sheet
        self.related = related or []

    @classmethod
    def load(cls, path: Path) -> "FactBook":
        """Read a facts file and the source sheet it names (relative to the file)."""
        path = Path(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        sheet = (path.parent / data["source_file"]).read_text(encoding="utf-8")
        topics = {
            intent: Topic(
                intent,
                spec["title"],
                _one_line(spec["lead"]),
                _one_line(spec["gap"]) if spec.get("gap") else None,
                spec.get("general_after_personal") is True,
                tuple(w.lower() for w in spec.get("follow_up_words") or ()),
            )
            for intent, spec in data["topics"].items()
        }
        facts = [
            Fact(f["id"], tuple(f["intents"]), _one_line(f["answer"]), f["source"], bool(f.get("primary", False)))
            for f in data["facts"]
        ]
        withheld = [
            Withheld(*(part.strip() for part in line.split("|", 2)))
            for line in (path.parent / WITHHELD_FILE).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        related_entries = (data.get("not_covered") or {}).get("related", [])
        related = [RelatedFact(r["fact"], tuple(r["words"])) for r in related_entries]
        return cls(topics, facts, withheld, sheet, related)

    def facts_for(self, intent: str, primary: Optional[bool] = None) -> List[Fact]:
        """Facts answering ``intent``; only primary (or only detail) ones when asked."""
        return [f for f in self.facts if intent in f.intents and (primary is None or f.primary == primary)]

    def has_topic(self, intent: str) -> bool:
        return intent in self.topics

    def follows_up(self, intent: str, subject: str) -> bool:
        """Whether a follow-up's ``subject`` ("work", "sports") belongs to the topic ``intent``: one of its
        words is one of the topic's ``follow_up_words`` (a plural "s" aside)."""
        topic = self.topics.get(intent)
        if topic is None:
            return False
        words = {w for w in topic.follow_up_words}
        return any(w in words or w.rstrip("s") in words for w in subject.lower().split())

    def has_details(self, intent: str) -> bool:
        return bool(self.facts_for(intent, primary=False))

    def answer(self, intent: str, details: bool = False, with_gap: bool = True) -> Answer:
        """Compose the answer to a topic: lead line, one bullet per fact, then the gap note.

        ``details=False`` gives the primary facts (first answer); ``details=True`` the rest.
        """
        topic = self.topics[intent]
        facts = self.facts_for(intent, primary=not details)
        lines = [topic.lead, *(f"• {f.answer}" for f in facts)]
        if with_gap and topic.gap and not details:
            lines.append(topic.gap)
        return Answer(text="\n".join(lines), fact_ids=[f.id for f in facts])

    def fact(self, fact_id: str) -> Fact:
        """The fact with id ``fact_id`` (KeyError if there is none)."""
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(fact_id)

    def fact_answer(self, fact: Fact) -> Answer:
        """One fact as an answer: a single bullet (the fact's wording already names the sheet)."""
        return Answer(text=f"• {fact.answer}", fact_ids=[fact.id])

    def related_fact(self, text: str) -> Optional[Fact]:
        """For a question the sheet does not answer: the one sheet fact truly related to ``text``
        (the first ``not_covered.related`` entry whose words it uses), or None, the usual case."""
        for entry in self.related:
            if entry.matches(text):
                return self.fact(entry.fact)
        return None

    def may_follow_personal_question(self, fact: Fact) -> bool:
        """Whether ``fact`` may be sent after a personal question: only if every intent it answers is
        a topic flagged ``general_after_personal`` in the facts file. A fact that also answers an
        unflagged topic (what it can treat, pain relief, recovery, safety, ...) or that is tagged
        for ``ask_personal_advice`` could read as an answer about the person's own case."""
        return all(intent in self.topics and self.topics[intent].general_after_personal for intent in fact.intents)

    def general_answer(self, intent: str) -> Optional[Answer]:
        """The answer to send after a personal question on ``intent`` (framed by the domain response
        utter_personal_general_intro), or None when ``intent`` is not flagged ``general_after_personal``
        or none of its primary facts may follow a personal question."""
        topic = self.topics.get(intent)
        if topic is None or not topic.general_after_personal:
            return None
        facts = [f for f in self.facts_for(intent, primary=True) if self.may_follow_personal_question(f)]
        if not facts:
            return None
        lines = [topic.lead, *(f"• {f.answer}" for f in facts)]
        if topic.gap:
            lines.append(topic.gap)
        return Answer(text="\n".join(lines), fact_ids=[f.id for f in facts])


@lru_cache(maxsize=4)
def load_fact_book(path: Path) -> FactBook:
    """The fact book at ``path``, read once per process."""
    return FactBook.load(path)
