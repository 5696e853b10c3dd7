"""A/B of whole servers: two checkouts of this repo, measured in alternation on the same machine.

    git worktree add /tmp/rev-before <commit>           # e.g. the start of a change
    (cd /tmp/rev-before && /path/to/repo/.venv/bin/rasa train --fixed-model-name spine-clinic --out models)
    .venv/bin/python bench/compare_revisions.py --a /tmp/rev-before --b . [--rounds 3]

Why alternation: these machines are shared and their speed drifts by tens of percent within an
hour (bench/encoder_bench.py gave 6.2 then 7.9 ms for the same work); running A, B, B, A, A, B ...
exposes both to the same drift. Each round starts an action server and a Rasa server from the
checkout (this repo's .venv, SQLite tracker store in a temporary directory, the load credentials
bench/credentials.load.yml), warms up, then runs bench/load_test.py's client: 20 concurrent
conversations x 60 turns (``--conversations``), and one conversation x 100 turns. Reported per checkout: the median over
rounds of turns/s, p50/p95 latency, single-conversation p50, CPU ms per turn of the Rasa and
action servers, and the Rasa server's RSS after the run. Optional ``--sanic-workers`` and
``--endpoints-extra`` (YAML appended to the endpoints file, e.g. a lock store) apply to ``--b`` only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_test import run_load  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: List[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def children(pid: int) -> List[int]:
    """``pid`` and its descendants (Sanic workers are child processes)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.split("\n")
    parent = {int(a): int(b) for a, b in (line.split() for line in out if line.strip())}
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [c for c, p in parent.items() if p in frontier]
        found += frontier
    return found


def rss_mib(pids: List[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@contextmanager
def running_servers(checkout: Path, workdir: Path, workers: int = 1, endpoints_extra: str = "",
                    tool: str = "compare_revisions") -> Iterator[Tuple[str, subprocess.Popen, subprocess.Popen]]:
    """An action server and a Rasa server of ``checkout`` (this repo's .venv, a fresh SQLite tracker
    store in ``workdir``, bench/credentials.load.yml), once healthy: yields (url, rasa, actions)."""
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    for stale in workdir.glob("tracker.db*"):
        stale.unlink()
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n  enable_selective_domain: true\n'
        f"tracker_store:\n  type: clinic_store.tracker_store.CachingSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n' + endpoints_extra
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SANIC_HOST": "127.0.0.1",
           "SANIC_WORKERS": str(workers)}
    log = open(workdir / "servers.log", "ab")
    actions = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
                               cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT)
    rasa = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "--model", "models", "--endpoints", str(endpoints),
                             "--credentials", str(ROOT / "bench" / "credentials.load.yml"), "--interface", "127.0.0.1",
                             "--port", str(rasa_port)], cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT)
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
                raise SystemExit(f"{tool}: the server from {checkout} did not start (see {workdir}/servers.log)")
            time.sleep(1)
        yield url, rasa, actions
    finally:
        for proc in (rasa, actions):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def measure(checkout: Path, workdir: Path, workers: int = 1, endpoints_extra: str = "",
            conversations: int = 20) -> Dict[str, float]:
    with running_servers(checkout, workdir, workers, endpoints_extra) as (url, rasa, actions):
        asyncio.run(run_load(url, 4, 10, 60))  # warm up
        rasa_pids, action_pids = children(rasa.pid), children(actions.pid)
        before = cpu_seconds(rasa_pids), cpu_seconds(action_pids)
        load = asyncio.run(run_load(url, conversations, 60, 60)).summary()
        after = cpu_seconds(rasa_pids), cpu_seconds(action_pids)
        rss = rss_mib(rasa_pids)
        single = asyncio.run(run_load(url, 1, 100, 60)).summary()
    if load["turns_failed"] or single["turns_failed"]:
        raise SystemExit(f"compare_revisions: failed turns: {load['errors']} {single['errors']}")
    turns = load["turns_ok"]
    return {
        "busy_per_100_turns": 100.0 * load["busy_answers"] / max(1, turns),
        "turns_per_s": load["turns_per_s"], "p50_ms": load["p50_ms"], "p95_ms": load["p95_ms"], "p99_ms": load["p99_ms"],
        "single_p50_ms": single["p50_ms"], "rasa_cpu_ms_per_turn": (after[0] - before[0]) * 1000 / turns,
        "actions_cpu_ms_per_turn": (after[1] - before[1]) * 1000 / turns, "rasa_rss_mib": rss,
    }


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, type=Path, help="checkout A (with a trained models/)")
    parser.add_argument("--b", required=True, type=Path, help="checkout B (with a trained models/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sanic-workers", type=int, default=1, help="Sanic workers for B")
    parser.add_argument("--endpoints-extra", default="", help="YAML appended to B's endpoints (e.g. a lock store)")
    parser.add_argument("--conversations", type=int, default=20,
                        help="concurrent conversations of the load (503 busy answers are waited out and counted)")
    parser.add_argument("--json", help="also write all rounds to this file")
    args = parser.parse_args(argv)
    results: Dict[str, List[Dict[str, float]]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ["A", "B"] if r % 2 == 0 else ["B", "A"]
            for label in order:
                checkout = (args.a if label == "A" else args.b).resolve()
                workdir = Path(tmp) / label
                workdir.mkdir(exist_ok=True)
                extra = args.endpoints_extra.replace("{workdir}", str(workdir)) if label == "B" else ""
                row = measure(checkout, workdir, args.sanic_workers if label == "B" else 1, extra, args.conversations)
                results[label].append(row)
                print(f"round {r + 1} {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in row.items()), flush=True)
    print(f"\nmedians over {args.rounds} rounds (A = {args.a}, B = {args.b}, B Sanic workers = {args.sanic_workers})")
    keys = list(results["A"][0])
    print("| checkout | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for label in ("A", "B"):
        print(f"| {label} | " + " | ".join(f"{statistics.median(r[k] for r in results[label]):.1f}" for k in keys) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
