"""What reading several questions in one message costs per message: the NLU parse with and without it.

    .venv/bin/python bench/multi_topic_cost.py [--repeats 5]

Loads models/ in process (Rasa's processor with the server's graph runner, clinic_nlu/graph_runner.py)
and parses every message of three sets: the single held-out questions (tests/nlu_test.yml), the
held-out several-topic messages (tests/data/multi_topic.yml) and load_test.py's everyday turns.
Each message is parsed ``--repeats`` times with the splitter on and off, in alternation (on, off,
off, on, ...), so both modes meet the same drift of this shared machine; "off" is the same model
with nothing to split (QuestionSplitter adds no parts, the collector has nothing to do), i.e. the
pipeline before this feature plus two list checks. Reported per set: median parse time per message in each
mode, the difference, and how many messages were split at all. The whole turn over HTTP also has
the policies, the action call and the tracker store (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def message_sets() -> Dict[str, List[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    from bench.load_test import TEXTS

    singles = [m.get("text") for m in load_data(str(ROOT / "tests" / "nlu_test.yml")).training_examples]
    multi = [m["text"] for m in yaml.safe_load((ROOT / "tests" / "data" / "multi_topic.yml").read_text())["messages"]]
    return {
        "everyday turns (load_test.py)": list(TEXTS),
        "single questions (nlu_test.yml)": singles,
        "several-topic messages (multi_topic.yml)": multi,
    }


async def measure(texts: Sequence[str], repeats: int) -> Dict[str, float]:
    from rasa.core.agent import Agent

    from clinic_nlu import graph_runner, multi_topic
    from clinic_nlu.question_parts import split_parts

    graph_runner.install()
    agent = getattr(measure, "agent", None) or Agent.load(str(ROOT / "models"))
    measure.agent = agent  # type: ignore[attr-defined]
    processor = agent.processor

    def nothing_to_split(text: str, max_parts: int = 4) -> List[str]:  # the pipeline without the feature
        return [text]

    times: Dict[bool, List[float]] = {True: [], False: []}
    for text in texts:  # warm-up
        await processor.parse_message(_message(text))
    for r in range(repeats):
        for text in texts:
            order = (True, False) if (r % 2 == 0) else (False, True)
            for on in order:
                multi_topic.split_parts = split_parts if on else nothing_to_split  # type: ignore[assignment]
                start = time.perf_counter()
                await processor.parse_message(_message(text))
                times[on].append((time.perf_counter() - start) * 1000)
    multi_topic.split_parts = split_parts  # type: ignore[assignment]
    on, off = statistics.median(times[True]), statistics.median(times[False])
    split = sum(len(split_parts(t)) >= 2 for t in texts)
    return {"on": on, "off": off, "split": split, "n": len(texts)}


def _message(text: str):
    from rasa.core.channels.channel import UserMessage

    return UserMessage(text=text, sender_id="bench")


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(list(argv) or None)
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no per-parse debug lines inside the timed calls
    print("set | messages | split | parse p50 without (ms) | with (ms) | difference")
    for name, texts in message_sets().items():
        r = asyncio.run(measure(texts, args.repeats))
        diff = r["on"] - r["off"]
        print(
            f"{name} | {r['n']} | {r['split']} | {r['off']:.2f} | {r['on']:.2f} | {diff:+.2f} ms "
            f"({diff / r['off']:+.0%})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
