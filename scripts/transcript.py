"""Conversations from a text file through the real servers, printed as a transcript for review.

    .venv/bin/python scripts/transcript.py conversations.txt

One message per line; a blank line starts a new conversation (a new sender). Starts the action server
and the Rasa server with models/ on free loopback ports (tests/support/servers.py), sends each message
over the REST channel as a patient would, and prints every reply (text, and any custom payload such as
the triage level). For a clinician's or a developer's walk through the assistant: what a patient
actually reads, nothing judged. Nothing is stored outside a temporary directory.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import List

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.servers import running_servers  # noqa: E402


def conversations(text: str) -> List[List[str]]:
    """The conversations of ``text``: blocks separated by blank lines, one message per line."""
    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))]
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in blocks if block]


def main(argv: List[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, running_servers(Path(tmp)) as servers:
        for conversation in conversations(Path(argv[0]).read_text(encoding="utf-8")):
            sender = f"transcript-{uuid.uuid4()}"
            print("=" * 72)
            for message in conversation:
                reply = requests.post(servers.webhook, json={"sender": sender, "message": message}, timeout=60)
                reply.raise_for_status()
                print(f">> {message}")
                for part in reply.json():
                    shown = part.get("text") or json.dumps({k: v for k, v in part.items() if k != "recipient_id"})
                    print("   " + shown.replace("\n", "\n   "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
