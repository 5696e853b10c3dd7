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
- a part the sheet does not answer (``ask_not_covered``) is not dropped: at its place in the order
  asked, ``utter_multi_topic_not_covered`` quotes the patient's question and says the sheet does not
  cover it (with the one related sheet fact where the facts file names one, as for a single
  not-covered question), and the reply ends with the callback offer ``utter_offer_callback``;
- a part asking in general whether the problem can come back (``recurrence_question``,
  clinic_nlu/multi_topic.py) gets, at its place, ``utter_recurrence_not_covered`` (the sheet does not
  say; no figure, no fact), and the reply ends with the callback offer, as for a not-covered part;
  beside a personal question it is held back like a topic not allowed after one (never the general
  recurrence answer to a person who told about their own case);
- after a personal question, only the topics the facts file allows after one
  (``general_after_personal``), framed by ``utter_personal_general_intro`` right before them, as
  actions/triage.py does for a single personal question; a question on any other topic is not
  dropped either: at its place, ``utter_multi_topic_held_back`` quotes it and says why the team
  should answer it (recovery or pain-relief facts beside "my back still hurts, is that ok?" would
  read as an answer about the person) and that asked on its own it gets the sheet's general points.

Every sentence is a domain response or comes from ``facts/facts.yml``; the only other words are the
patient's own, quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from actions.facts import Fact, FactBook
from clinic_vocabulary import (
    NOT_COVERED_INTENT,
    OWN_SYMPTOM_RESPONSE,
    PERSONAL_INTENT,
    RECURRENCE_RESPONSE,
    RECURRENCE_TOPIC,
    RISK_INTENT,
)

# How many of a topic's primary facts a several-topic reply gives: enough to answer, short enough
# to read the whole reply on a phone. The rest comes on "tell me more" or a question on that topic.
FACTS_PER_TOPIC = 2
# A quoted question longer than this is cut at a word (a rambling part stays readable in the reply).
MAX_QUOTE_CHARS = 100
NOT_COVERED_RESPONSE = "utter_multi_topic_not_covered"
RELATED_RESPONSE = "utter_not_covered_related"
CALLBACK_OFFER = "utter_offer_callback"
HELD_BACK_RESPONSE = "utter_multi_topic_held_back"


@dataclass(frozen=True)
class ReplyMessage:
    """One message of the reply: a domain ``response`` (with its ``values``), or ``text`` stating the
    facts ``fact_ids`` on ``topics``."""

    text: str = ""
    topics: List[str] = field(default_factory=list)
    fact_ids: List[str] = field(default_factory=list)
    response: Optional[str] = None
    values: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicsReply:
    """What to send: responses before the answers, the answers in the order asked, responses after.

    ``topics`` are the fact topics answered; ``fact_ids`` every fact stated (a related fact of a
    not-covered question included); ``not_covered`` whether a question the sheet does not answer
    was among them (then ``after`` ends with the callback offer)."""

    before: List[str]
    messages: List[ReplyMessage] = field(default_factory=list)
    fact_ids: List[str] = field(default_factory=list)
    topics: List[str] = field(default_factory=list)
    after: List[str] = field(default_factory=list)
    personal: bool = False
    not_covered: bool = False

    @property
    def text(self) -> str:
        """The text of the messages that state the topics' facts (the domain responses left out)."""
        return "\n\n".join(m.text for m in self.messages if m.text and NOT_COVERED_INTENT not in m.topics)


def topics_asked(parse_data: Mapping[str, Any], book: FactBook) -> List[str]:
    """The topics of the parse data that the reply can handle, in order, each once."""
    names = [t.get("name") for t in parse_data.get("topics") or [] if isinstance(t, Mapping)]
    handled = (PERSONAL_INTENT, NOT_COVERED_INTENT, RECURRENCE_TOPIC)
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and (n in handled or book.has_topic(n))]


def questions_asked(parse_data: Mapping[str, Any]) -> Dict[str, List[str]]:
    """Per topic of the parse data, the patient's words of the parts that asked it."""
    out: Dict[str, List[str]] = {}
    for t in parse_data.get("topics") or []:
        if isinstance(t, Mapping) and isinstance(t.get("name"), str):
            words = [q.strip() for q in t.get("questions") or [] if isinstance(q, str) and q.strip()]
            out.setdefault(t["name"], []).extend(words)
    return out


def quoted(question: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``question`` on one line, cut at a word before ``limit`` characters (an ellipsis marks the cut)."""
    text = " ".join(question.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _facts(book: FactBook, topic: str, personal: bool, given: Iterable[str], limit: int) -> List[Fact]:
    """The topic's first primary facts not given yet; the ones given already when it has no other
    (the scar's only primary fact is also a safety fact: it is said again rather than the scar
    question going unanswered)."""
    seen = set(given)
    facts = [f for f in book.facts_for(topic, primary=True) if not personal or book.may_follow_personal_question(f)]
    return ([f for f in facts if f.id not in seen] or facts)[:limit]


def _not_covered_messages(book: FactBook, questions: Sequence[str], given: Iterable[str]) -> List[ReplyMessage]:
    """A question the sheet does not answer: quoted, said not covered; then the one related fact
    (attributed, as actions/not_covered.py gives it) where the facts file names one not given yet."""
    messages: List[ReplyMessage] = []
    seen = set(given)
    for question in questions or [""]:
        messages.append(ReplyMessage(response=NOT_COVERED_RESPONSE, values={"question": quoted(question)}))
        related = book.related_fact(question) if question else None
        if related is not None and related.id not in seen:
            answer = book.fact_answer(related)
            messages.append(ReplyMessage(response=RELATED_RESPONSE))
            messages.append(ReplyMessage(answer.text, [NOT_COVERED_INTENT], answer.fact_ids))
            seen.add(related.id)
    return messages


def plan_reply(
    book: FactBook,
    topics: List[str],
    facts_per_topic: int = FACTS_PER_TOPIC,
    questions: Optional[Mapping[str, Sequence[str]]] = None,
    own_symptom: bool = False,
) -> TopicsReply:
    """The reply to a message asking about ``topics`` (in the order asked); ``questions`` gives the
    patient's words per topic (quoted for a question the sheet does not answer). ``own_symptom``: the
    personal part asks about a symptom of the patient's own, so the deferral is followed by the calm
    safety-net line."""
    personal = PERSONAL_INTENT in topics
    before: List[str] = []
    if personal:
        before.append("utter_personal_defer")
        if own_symptom:
            before.append(OWN_SYMPTOM_RESPONSE)
    if RISK_INTENT in topics:
        before.append("utter_risk_defer")
    messages: List[ReplyMessage] = []
    blocks: List[str] = []  # the facts of consecutive topics, sent as one message
    block_topics: List[str] = []
    block_ids: List[str] = []
    fact_ids: List[str] = []
    answered: List[str] = []

    def flush() -> None:
        if blocks:
            messages.append(ReplyMessage("\n\n".join(blocks), list(block_topics), list(block_ids)))
            blocks.clear()
            block_topics.clear()
            block_ids.clear()

    not_covered = False
    for topic in topics:
        if topic == NOT_COVERED_INTENT:
            flush()
            extra = _not_covered_messages(book, (questions or {}).get(topic) or [], fact_ids)
            messages.extend(extra)
            fact_ids += [i for m in extra for i in m.fact_ids]
            not_covered = True
            continue
        if topic == RECURRENCE_TOPIC:
            flush()
            if personal:  # the person's question, not the general answer: left to the team
                held = (questions or {}).get(topic) or []
                messages.extend(ReplyMessage(response=HELD_BACK_RESPONSE, values={"question": quoted(q)}) for q in held)
                continue
            messages.append(ReplyMessage(response=RECURRENCE_RESPONSE))
            not_covered = True
            continue
        if topic == PERSONAL_INTENT or not book.has_topic(topic):
            continue
        if personal and not book.topics[topic].general_after_personal:
            flush()
            asked = (questions or {}).get(topic) or [book.topics[topic].title]
            messages.extend(ReplyMessage(response=HELD_BACK_RESPONSE, values={"question": quoted(q)}) for q in asked)
            continue
        facts = _facts(book, topic, personal, fact_ids, facts_per_topic)
        if not facts:
            continue
        blocks.append("\n".join([book.topics[topic].lead, *(f"• {f.answer}" for f in facts)]))
        block_topics.append(topic)
        block_ids.extend(f.id for f in facts)
        fact_ids += [f.id for f in facts]
        answered.append(topic)
    flush()
    if answered and personal:
        # right before the first of the sheet's facts, after any question left to the team
        first = next(i for i, m in enumerate(messages) if m.text and NOT_COVERED_INTENT not in m.topics)
        messages.insert(first, ReplyMessage(response="utter_personal_general_intro"))
    elif answered:
        before.append("utter_multi_topic_intro")
    after = ["utter_multi_topic_personal_contact" if personal else "utter_multi_topic_more"]
    if not_covered:
        after.append(CALLBACK_OFFER)
    return TopicsReply(before, messages, fact_ids, answered, after, personal, not_covered)
