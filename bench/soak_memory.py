"""Rasa server memory as conversations accumulate: does the resident set level off?

    .venv/bin/python bench/soak_memory.py [--rounds 5] [--turns 20] [--endpoints-extra YAML]

Starts an action server and a Rasa server (tests/support/servers.py: this checkout, SQLite tracker
store in a temporary directory, bench/credentials.load.yml), then runs ``--rounds`` rounds of
bench/load_test.py's client, each 200 new concurrent conversations x ``--turns`` turns, and prints
the Rasa server's RSS and the throughput after each round. ``--endpoints-extra`` is appended under
``tracker_store`` (e.g. ``"  cache_events: 1000000000\\n"`` for the store without its event budget).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare_revisions import LOAD_CREDENTIALS, children  # noqa: E402
from bench.load_test import run_load  # noqa: E402
from tests.support.servers import rss_mib, running_servers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--endpoints-extra", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    with running_servers(work, endpoints_extra=args.endpoints_extra, credentials=LOAD_CREDENTIALS) as servers:
        url, rasa = servers.rasa_url, servers.rasa
        print(f"Command: `{' '.join(sys.argv)}`\n")
        print("| conversations so far | Rasa RSS | turns/s in the round | failed turns |\n|---|---|---|---|")
        print(f"| 0 | {rss_mib(children(rasa.pid)):.0f} MiB | – | – |", flush=True)
        for r in range(args.rounds):
            summary = asyncio.run(run_load(url, 200, args.turns, 300)).summary()
            print(
                f"| {(r + 1) * 200} × {args.turns} turns | {rss_mib(children(rasa.pid)):.0f} MiB | "
                f"{summary['turns_per_s']} | {summary['turns_failed']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
