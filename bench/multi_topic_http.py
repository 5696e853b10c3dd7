"""Several questions in one message, end to end: the rates a patient meets, over real HTTP.

    .venv/bin/python bench/multi_topic_http.py

Starts the action server and the Rasa server with models/ (tests/support/servers.py), sends every held-out
message of tests/data/multi_topic.yml and every single question of tests/nlu_test.yml as the first
turn of a new conversation (REST channel), and reports: the share of two-topic messages whose reply
has the lead line of both topics, the share with them in the order asked, the same for the
three-topic ones, and the share of single questions answered as several topics (the reply carries
utter_multi_topic_intro). tests/test_multi_topic_http.py asserts the thresholds; this prints the
figures for BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import List

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.facts import FactBook  # noqa: E402
from actions.settings import DEFAULT_FACTS_FILE  # noqa: E402
from tests.support.servers import running_servers  # noqa: E402


def main() -> int:
    from rasa.shared.nlu.training_data.loading import load_data

    book = FactBook.load(DEFAULT_FACTS_FILE)
    heldout = yaml.safe_load((ROOT / "tests" / "data" / "multi_topic.yml").read_text())["messages"]
    singles = [e.get("text") for e in load_data(str(ROOT / "tests" / "nlu_test.yml")).training_examples]
    intro = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_multi_topic_intro"][0]["text"]
    with tempfile.TemporaryDirectory() as tmp, running_servers(Path(tmp)) as servers:

        def reply(text: str) -> str:
            r = requests.post(servers.webhook, json={"sender": f"b-{uuid.uuid4()}", "message": text}, timeout=30)
            r.raise_for_status()
            return "\n".join(m.get("text", "") for m in r.json())

        def leads(text: str) -> List[str]:
            return [n for _, n in sorted((text.index(t.lead), n) for n, t in book.topics.items() if t.lead in text)]

        for size in (2, 3):
            msgs = [m for m in heldout if len(m["topics"]) == size]
            found = [leads(reply(m["text"])) for m in msgs]
            answered = sum(set(m["topics"]) <= set(f) for m, f in zip(msgs, found))
            ordered = sum([t for t in f if t in m["topics"]] == m["topics"] for m, f in zip(msgs, found))
            print(
                f"{size}-topic messages: {len(msgs)}; all topics answered {answered} ({answered / len(msgs):.1%}); "
                f"in the order asked {ordered} ({ordered / len(msgs):.1%})"
            )
        split = [t for t in singles if intro in reply(t)]
        print(
            f"single questions: {len(singles)}; answered as several topics {len(split)} "
            f"({len(split) / len(singles):.1%})"
        )
        for text in split:
            print("  split:", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
