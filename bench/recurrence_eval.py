"""Recurrence questions on the development set: what each gets, before and after, in process.

    .venv/bin/python bench/recurrence_eval.py --model /work/main/models --model models [--show]

For each trained model (a models/ directory or a .tar.gz) and each message of
``bench/recurrence_dev.yml``, a new conversation: the message goes through the model's NLU pipeline
(triage included) and the dialogue policies predict the next action (Rasa's Agent, no action server,
nothing run). What the patient gets is read from that: an escalation (``report_*`` intents), the
recurrence answer (``action_answer_not_covered`` with the ``recurrence_question`` entity, whose
response the action picks: tests/test_not_covered_action.py), else the action and the intent. Prints,
per group and model, the count that meets the group's rule of the file's header: recurrence caught,
near misses not caught and unchanged, own case unchanged, red flags escalated at the same level. The
development set was written before the patterns and they may be tuned on it: development figures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT / "bench" / "recurrence_dev.yml"
GROUPS = ("recurrence", "near_miss", "own_case", "red_flag")
RECURRENCE = "recurrence answer"


def _model_file(path: Path) -> Path:
    return path if path.is_file() else max(path.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


async def _answers(model: Path, texts: List[str]) -> List[Tuple[str, str]]:
    """(what the patient gets, the intent read) for each text, each in a new conversation."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    from clinic_vocabulary import RECURRENCE_ENTITY, TRIAGE_INTENTS

    agent = Agent.load(_model_file(model))
    out = []
    for text in texts:
        sender = f"recurrence-{uuid.uuid4()}"
        tracker = await agent.log_message(UserMessage(text, sender_id=sender))
        parse = tracker.latest_message.parse_data if tracker.latest_message else {}
        intent = (parse.get("intent") or {}).get("name") or ""
        prediction = await agent.predict_next_for_sender_id(sender) or {}
        scores = prediction.get("scores") or []
        action = max(scores, key=lambda s: s["score"])["action"] if scores else ""
        entity = any(e.get("entity") == RECURRENCE_ENTITY for e in parse.get("entities") or [])
        if intent in TRIAGE_INTENTS.values():
            got = intent
        elif action == "action_answer_not_covered" and entity:
            got = RECURRENCE
        else:
            got = f"{action} ({intent})"
        out.append((got, intent))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, action="append", required=True, help="first: before; last: after")
    parser.add_argument("--show", action="store_true", help="print every message's answer")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.disable(logging.WARNING)
    dev: Dict[str, List[str]] = yaml.safe_load(DEV.read_text(encoding="utf-8"))
    texts = [t for g in GROUPS for t in dev[g]]
    runs = [dict(zip(texts, asyncio.run(_answers(m, texts)))) for m in args.model]
    before = runs[0]
    for model, run in zip(args.model, runs):
        print(f"== {model}")
        for group in GROUPS:
            ok = 0
            for text in dev[group]:
                got = run[text][0]
                if group == "recurrence":
                    good = got == RECURRENCE
                elif group == "red_flag":
                    good = got.startswith("report_") and got == before[text][0]
                else:
                    good = got != RECURRENCE and got == before[text][0]
                ok += good
                if args.show:
                    print(f"   {'ok ' if good else 'BAD'} [{group}] {text!r}: {got}")
            print(f"{group:>11}: {ok}/{len(dev[group])}")


if __name__ == "__main__":
    main()
