"""When a topic's facts may be given: the decision, free of Rasa (used by topic_margin_component).

The classifier always names some intent, and a question the sheet does not answer can come out as
a topic at middling confidence ("should I stop smoking before?" as recovery). A topic's facts are
given only when the message is really about that topic; otherwise the honest "not covered" answer:

- a question topic below ``min_topic_confidence`` whose runner-up is the not-covered intent, and
- an unsure message (the fallback) whose most likely intent is the not-covered intent

become the not-covered intent. Anything else is left as it is (the triage still decides escalation
afterwards, whatever this says).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

FALLBACK_INTENT = "nlu_fallback"


def not_covered_instead(
    intent: Optional[str],
    confidence: float,
    ranking: List[Dict[str, Any]],
    topics: Iterable[str],
    not_covered: str,
    min_topic_confidence: float,
) -> bool:
    """Whether the message should get the not-covered answer instead of ``intent``.

    ``ranking`` is the classifier's ranking (best first, ``{"name", "confidence"}`` entries,
    without the fallback).
    """
    names = [r.get("name") for r in ranking if r.get("name") != FALLBACK_INTENT]
    if intent == FALLBACK_INTENT:
        return bool(names) and names[0] == not_covered
    if intent in set(topics) and confidence < min_topic_confidence:
        others = [n for n in names if n != intent]
        return bool(others) and others[0] == not_covered
    return False
