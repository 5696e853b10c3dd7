"""One short reply to a message that asks about several topics at once.

No Rasa imports. The NLU pipeline (clinic_nlu/multi_topic.py) puts the topics a message asks about,
in the order asked, under ``topics`` in the parse data; :func:`plan_reply` decides what to send:

- deferrals first: a question about the patient's own case gets ``utter_personal_defer`` before
  anything else, and a risk question gets ``utter_risk_defer`` before any of the sheet's points;
- then, per topic in the order asked, the topic's lead line from the facts file and its first
  ``FACTS_PER_TOPIC`` primary facts (a fact already given under an earlier topic is not repeated
  unless the topic has no other),
  all in one message, so the reply stays short; "tell me more" and a question on one topic give
  the rest;
- after a personal question, only the topics the facts file allows after one
  (``general_after_personal``), framed by ``utter_personal_general_intro``, as
  actions/triage.py does for a single personal question.

Every sentence is a domain response or comes from ``facts/facts.yml``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping

from actions.facts import Fact, FactBook
from clinic_vocabulary import PERSONAL_INTENT

RISK_INTENT = "ask_safety"
# How many of a topic's primary facts a several-topic reply gives: enough to answer, short enough
# to read the whole reply on a phone. The rest comes on "tell me more" or a question on that topic.
FACTS_PER_TOPIC = 2


@dataclass(frozen=True)
class TopicsReply:
    """What to send: responses before the answers, the answers' text, responses after."""

    before: List[str]
    text: str
    fact_ids: List[str] = field(default_factory=list)
    topics: List[str] = field(default_factory=list)
    after: List[str] = field(default_factory=list)
    personal: bool = False


def topics_asked(parse_data: Mapping[str, Any], book: FactBook) -> List[str]:
    """The topics of the parse data that the reply can handle, in order, each once."""
    names = [t.get("name") for t in parse_data.get("topics") or [] if isinstance(t, Mapping)]
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and (n == PERSONAL_INTENT or book.has_topic(n))]


def _facts(book: FactBook, topic: str, personal: bool, given: Iterable[str], limit: int) -> List[Fact]:
    """The topic's first primary facts not given yet; the ones given already when it has no other
    (the scar's only primary fact is also a safety fact: it is said again rather than the scar
    question going unanswered)."""
    seen = set(given)
    facts = [f for f in book.facts_for(topic, primary=True) if not personal or book.may_follow_personal_question(f)]
    return ([f for f in facts if f.id not in seen] or facts)[:limit]


def plan_reply(book: FactBook, topics: List[str], facts_per_topic: int = FACTS_PER_TOPIC) -> TopicsReply:
    """The reply to a message asking about ``topics`` (in the order asked)."""
    personal = PERSONAL_INTENT in topics
    before: List[str] = []
    if personal:
        before.append("utter_personal_defer")
    if RISK_INTENT in topics:
        before.append("utter_risk_defer")
    blocks: List[str] = []
    fact_ids: List[str] = []
    answered: List[str] = []
    for topic in topics:
        if topic == PERSONAL_INTENT or not book.has_topic(topic):
            continue
        if personal and not book.topics[topic].general_after_personal:
            continue
        facts = _facts(book, topic, personal, fact_ids, facts_per_topic)
        if not facts:
            continue
        blocks.append("\n".join([book.topics[topic].lead, *(f"• {f.answer}" for f in facts)]))
        fact_ids += [f.id for f in facts]
        answered.append(topic)
    if blocks:
        before.append("utter_personal_general_intro" if personal else "utter_multi_topic_intro")
    after = ["utter_multi_topic_personal_contact" if personal else "utter_multi_topic_more"]
    return TopicsReply(before, "\n\n".join(blocks), fact_ids, answered, after, personal)
