"""The held-out "not covered" and glossary sets and how a reply to them is judged (no Rasa imports).

Shared by ``tests/test_not_covered.py`` (the gate) and ``bench/not_covered_eval.py`` (the figures
for BENCHMARKS.md), so both count the same thing. The sets are in ``tests/data/`` and are never
trained on.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
NOT_COVERED_FILE = DATA / "not_covered.yml"
GLOSSARY_FILE = DATA / "glossary.yml"
CALLBACK_FILE = DATA / "callback_answers.yml"


def load_yaml(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def response_text(name: str) -> str:
    """The (first) text of domain response ``name``: the judge looks for the real wording."""
    domain = load_yaml(ROOT / "domain.yml")
    return str(domain["responses"][name][0]["text"])


def normalise(text: str) -> str:
    """Lower case, letters and digits only: how "the same sentence" is compared with training data."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def training_texts() -> Set[str]:
    """Every example of data/nlu.yml, normalised."""
    texts: Set[str] = set()
    for block in load_yaml(ROOT / "data" / "nlu.yml")["nlu"]:
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                texts.add(normalise(line[2:]))
    return texts


def stated_facts(db: Path, sender: str) -> List[Dict[str, Any]]:
    """(topic, fact ids) of every bot message of ``sender`` that stated facts, from the tracker store."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id", (sender,)
        ).fetchall()
    out = []
    for (data,) in rows:
        meta = json.loads(data).get("metadata") or {}
        if meta.get("fact_ids"):
            out.append({"topic": meta.get("topic"), "fact_ids": list(meta["fact_ids"])})
    return out


@dataclass
class Verdict:
    """How one reply to an out-of-sheet question did."""

    honest: bool  # says the sheet does not cover it AND offers the callback (with its buttons)
    wrong_facts: List[str]  # fact ids stated that are not the one allowed related fact
    related_missing: bool  # a related fact was expected and not given

    @property
    def ok(self) -> bool:
        return self.honest and not self.wrong_facts and not self.related_missing


def judge(replies: List[Dict[str, Any]], facts: List[Dict[str, Any]], related: Optional[str]) -> Verdict:
    """Judge the REST replies and the stored facts of one out-of-sheet question."""
    offer = response_text("utter_offer_callback")
    # the general answer, or the one for "can it come back?" (the recurrence_question entity), which
    # says as plainly that the sheet does not cover it
    not_covered = (response_text("utter_not_covered"), response_text("utter_recurrence_not_covered"))
    texts = [m.get("text") or "" for m in replies]
    offered = any(offer in (m.get("text") or "") and m.get("buttons") for m in replies)
    honest = any(n in t for n in not_covered for t in texts) and offered
    ids = [i for f in facts for i in f["fact_ids"]]
    return Verdict(
        honest=honest,
        wrong_facts=[i for i in ids if i != related],
        related_missing=related is not None and related not in ids,
    )
