"""Rasa server memory as conversations accumulate: does the resident set level off?

    .venv/bin/python bench/soak_memory.py [--rounds 5] [--turns 20] [--endpoints-extra YAML]

Starts an action server and a Rasa server (this checkout, SQLite tracker store in a temporary
directory, bench/credentials.load.yml), then runs ``--rounds`` rounds of bench/load_test.py's client,
each 200 new concurrent conversations x ``--turns`` turns, and prints the Rasa server's RSS and the
throughput after each round. ``--endpoints-extra`` is appended under ``tracker_store`` (e.g.
``"  cache_events: 1000000000\\n"`` for the store without its event budget).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare_revisions import children, free_port, rss_mib  # noqa: E402
from bench.load_test import run_load  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--endpoints-extra", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    action_port, rasa_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n  enable_selective_domain: true\n'
        f'tracker_store:\n  type: clinic_store.tracker_store.CachingSQLTrackerStore\n  dialect: "sqlite"\n'
        f'  db: "{work / "tracker.db"}"\n' + args.endpoints_extra
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SANIC_HOST": "127.0.0.1"}
    log = open(work / "servers.log", "ab")
    actions = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    rasa = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "--model", "models", "--endpoints", str(endpoints),
                             "--credentials", str(ROOT / "bench" / "credentials.load.yml"), "--interface", "127.0.0.1",
                             "--port", str(rasa_port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{rasa_port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(f"{url}/webhooks/patient/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or rasa.poll() is not None:
                sys.exit(f"soak_memory: the server did not start (see {work}/servers.log)")
            time.sleep(1)
        print(f"Command: `{' '.join(sys.argv)}`\n\n| conversations so far | Rasa RSS | turns/s in the round | failed turns |\n|---|---|---|---|")
        print(f"| 0 | {rss_mib(children(rasa.pid)):.0f} MiB | – | – |", flush=True)
        for r in range(args.rounds):
            summary = asyncio.run(run_load(url, 200, args.turns, 300)).summary()
            print(f"| {(r + 1) * 200} × {args.turns} turns | {rss_mib(children(rasa.pid)):.0f} MiB | "
                  f"{summary['turns_per_s']} | {summary['turns_failed']} |", flush=True)
    finally:
        for proc in (rasa, actions):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


if __name__ == "__main__":
    main()
