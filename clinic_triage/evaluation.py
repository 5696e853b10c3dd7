"""Measuring the triage on a labelled corpus: in process, or end to end over the patient channel.

No Rasa imports. Used by ``bench/triage_eval.py`` (the tables in BENCHMARKS.md) and by the held-out
gate ``tests/test_triage_heldout.py``.
"""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterable, List, Mapping, Sequence

from clinic_triage.engine import CRISIS, EMERGENCY, LEVELS, NONE, URGENT

TOP = frozenset({EMERGENCY, CRISIS})


def reply_level(messages: Iterable[Mapping[str, Any]]) -> str:
    """The highest triage level among a turn's bot messages as the widget gets them.

    A server from before graded triage sends no ``level``: its ``emergency: true`` counts as emergency.
    """
    messages = list(messages)
    levels = [str(m["level"]) for m in messages if m.get("level")]
    if not levels and not any("level" in m for m in messages):
        levels = [EMERGENCY for m in messages if m.get("emergency")]
    return min(levels, key=LEVELS.index) if levels else NONE


def http_levels(base_url: str, texts: Sequence[str], workers: int = 4, timeout: float = 120) -> List[str]:
    """Send each text as the first message of a new conversation through the patient channel and
    return the level of each reply (HTTP errors raise: a gate must not count them as calm)."""
    import requests

    def one(text: str) -> str:
        with requests.Session() as http:
            session = http.post(f"{base_url}/webhooks/patient/session", json={}, timeout=timeout)
            session.raise_for_status()
            answer = http.post(
                f"{base_url}/webhooks/patient/message",
                json={"session_id": session.json()["session_id"], "message": text},
                timeout=timeout,
            )
            answer.raise_for_status()
            return reply_level(answer.json()["messages"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, texts))


def report(labels: Sequence[str], predicted: Sequence[str]) -> Dict[str, Any]:
    """Per-level figures, the emergency + crisis sensitivity, calm specificity and the confusions."""
    pairs = list(zip(labels, predicted))
    confusion = collections.Counter(pairs)

    def share(keep, hit) -> Dict[str, Any]:
        chosen = [(label, p) for label, p in pairs if keep(label)]
        hits = sum(1 for label, p in chosen if hit(label, p))
        return {"n": len(chosen), "hits": hits, "rate": hits / len(chosen) if chosen else None}

    per_level = {
        level: {
            "same_level": share(lambda lab, lv=level: lab == lv, lambda lab, p: p == lab),
            "escalated": share(lambda lab, lv=level: lab == lv, lambda lab, p: p != NONE),
        }
        for level in (EMERGENCY, CRISIS, URGENT)
    }
    return {
        "emergency_crisis_sensitivity": share(lambda lab: lab in TOP, lambda lab, p: p in TOP),
        "calm_kept_calm": share(lambda lab: lab == NONE, lambda lab, p: p == NONE),
        "per_level": per_level,
        "urgent_as_emergency": confusion[(URGENT, EMERGENCY)] + confusion[(URGENT, CRISIS)],
        "emergency_as_urgent": confusion[(EMERGENCY, URGENT)] + confusion[(CRISIS, URGENT)],
        "confusion": {f"{label}->{p}": n for (label, p), n in sorted(confusion.items())},
    }


def format_report(name: str, figures: Mapping[str, Any]) -> str:
    """A Markdown table row block for BENCHMARKS.md."""

    def pct(entry: Mapping[str, Any]) -> str:
        return "n/a" if entry["rate"] is None else f"{100 * entry['rate']:.1f} % ({entry['hits']}/{entry['n']})"

    rows = [
        f"### {name}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| emergency + crisis escalated to emergency or crisis | {pct(figures['emergency_crisis_sensitivity'])} |",
        f"| calm messages kept calm | {pct(figures['calm_kept_calm'])} |",
    ]
    for level, entry in figures["per_level"].items():
        rows.append(
            f"| {level}: same level / escalated at all | {pct(entry['same_level'])} / " f"{pct(entry['escalated'])} |"
        )
    confusions = [f"{k}: {v}" for k, v in figures["confusion"].items() if k.split("->")[0] != k.split("->")[1]]
    rows += [
        f"| urgent answered as emergency or crisis | {figures['urgent_as_emergency']} |",
        f"| emergency or crisis answered only as urgent | {figures['emergency_as_urgent']} |",
        f"| confusions (label->answer) | {', '.join(confusions)} |",
    ]
    return "\n".join(rows)
