"""A/B of whole servers: two checkouts of this repo, measured in alternation on the same machine.

    git worktree add /tmp/rev-before <commit>           # e.g. the start of a change
    (cd /tmp/rev-before && /path/to/repo/.venv/bin/rasa train --fixed-model-name spine-clinic --out models)
    .venv/bin/python bench/compare_revisions.py --a /tmp/rev-before --b . [--rounds 3]

Why alternation: these machines are shared and their speed drifts within an hour (BENCHMARKS.md);
running A, B, B, A, A, B ... exposes both to the same drift. Each round starts an action server and a
Rasa server from the checkout with tests/support/servers.py (this repo's .venv, SQLite tracker store
in a temporary directory, the load credentials bench/credentials.load.yml; through the checkout's
runtime layer when it has one), warms up, then runs bench/load_test.py's client: 20 concurrent
conversations x 60 turns (``--conversations``, ``--turns``), and one conversation x 100 turns
(``--single-turns``). Reported per checkout: the median over rounds of turns/s, p50/p95 latency,
single-conversation p50, CPU ms per turn of the Rasa and action servers, and the Rasa server's RSS
after the run. Optional ``--sanic-workers`` and ``--endpoints-extra`` (YAML appended to the endpoints
file, e.g. a lock store) apply to ``--b`` only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_test import run_load  # noqa: E402
from tests.support.servers import rss_mib, running_servers  # noqa: E402

LOAD_CREDENTIALS = ROOT / "bench" / "credentials.load.yml"


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


def measure(
    checkout: Path,
    workdir: Path,
    workers: int = 1,
    endpoints_extra: str = "",
    conversations: int = 20,
    turns: int = 60,
    single_turns: int = 100,
) -> Dict[str, float]:
    """One round on ``checkout``: an action server and a Rasa server (this repo's .venv, a fresh SQLite
    tracker store in ``workdir``, bench/credentials.load.yml), warm-up, the load, one conversation."""
    for stale in workdir.glob("tracker.db*"):
        stale.unlink()
    with running_servers(
        workdir,
        extra_env={"SANIC_WORKERS": str(workers)},
        endpoints_extra=endpoints_extra,
        credentials=LOAD_CREDENTIALS,
        checkout=checkout,
    ) as servers:
        url = servers.rasa_url
        asyncio.run(run_load(url, 4, 10, 60))  # warm up
        rasa_pids, action_pids = children(servers.rasa.pid), children(servers.actions.pid)
        before = cpu_seconds(rasa_pids), cpu_seconds(action_pids)
        load = asyncio.run(run_load(url, conversations, turns, 60)).summary()
        after = cpu_seconds(rasa_pids), cpu_seconds(action_pids)
        rss = rss_mib(rasa_pids)
        single = asyncio.run(run_load(url, 1, single_turns, 60)).summary()
    if load["turns_failed"] or single["turns_failed"]:
        raise SystemExit(f"compare_revisions: failed turns: {load['errors']} {single['errors']}")
    ok_turns = load["turns_ok"]
    return {
        "busy_per_100_turns": 100.0 * load["busy_answers"] / max(1, ok_turns),
        "turns_per_s": load["turns_per_s"],
        "p50_ms": load["p50_ms"],
        "p95_ms": load["p95_ms"],
        "p99_ms": load["p99_ms"],
        "single_p50_ms": single["p50_ms"],
        "rasa_cpu_ms_per_turn": (after[0] - before[0]) * 1000 / ok_turns,
        "actions_cpu_ms_per_turn": (after[1] - before[1]) * 1000 / ok_turns,
        "rasa_rss_mib": rss,
    }


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, type=Path, help="checkout A (with a trained models/)")
    parser.add_argument("--b", required=True, type=Path, help="checkout B (with a trained models/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sanic-workers", type=int, default=1, help="Sanic workers for B")
    parser.add_argument("--endpoints-extra", default="", help="YAML appended to B's endpoints (e.g. a lock store)")
    parser.add_argument(
        "--conversations",
        type=int,
        default=20,
        help="concurrent conversations of the load (503 busy answers are waited out and counted)",
    )
    parser.add_argument("--turns", type=int, default=60, help="turns per conversation of the load")
    parser.add_argument("--single-turns", type=int, default=100, help="turns of the single conversation")
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
                row = measure(
                    checkout,
                    workdir,
                    args.sanic_workers if label == "B" else 1,
                    extra,
                    args.conversations,
                    args.turns,
                    args.single_turns,
                )
                results[label].append(row)
                print(f"round {r + 1} {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in row.items()), flush=True)
    print(f"\nmedians over {args.rounds} rounds (A = {args.a}, B = {args.b}, B Sanic workers = {args.sanic_workers})")
    keys = list(results["A"][0])
    print("| checkout | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for label in ("A", "B"):
        medians = [statistics.median(r[k] for r in results[label]) for k in keys]
        print(f"| {label} | " + " | ".join(f"{m:.1f}" for m in medians) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
