"""Scale-out benchmark: the same patient-channel load through nginx against 1 and 2 Rasa replicas.

    .venv/bin/python bench/cluster_bench.py                 # make bench-cluster
    .venv/bin/python bench/cluster_bench.py --replicas 1 2 --conversations 20 --turns 200 --duration 45 --rasa-threads 1

For each replica count it starts a cluster with tests/support/cluster.py (scripts/run_cluster.sh: nginx, that
many Rasa replicas and action servers, a fresh PostgreSQL database, a Redis lock store; channel limits
from bench/credentials.load.yml), warms it up (2 turns per replica), runs bench/load_test.py against
nginx, stops everything and drops the database, then prints a markdown table (and the command line).
Needs PostgreSQL and Redis (scripts/services.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_test import TABLE_HEADER, format_row, run_load  # noqa: E402
from tests.support.cluster import running_cluster, services_unreachable  # noqa: E402


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants, from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += process_cpu(int(child))
    except (OSError, IndexError, ValueError):
        pass
    return total


def machine_cpu() -> Dict[str, float]:
    """Busy and total CPU seconds of the whole machine so far (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return {"busy": (sum(values) - idle) / TICK, "total": sum(values) / TICK}


def cpu_snapshot(workdir: Path) -> Dict[str, float]:
    """CPU seconds so far per component of the cluster in ``workdir``, this process, and the machine."""
    groups: Dict[str, float] = {"rasa": 0.0, "actions": 0.0, "nginx": 0.0}
    for pid_file in (workdir / "pids").glob("*.pid"):
        group = pid_file.stem.split("-")[0]
        if group in groups:
            groups[group] += process_cpu(int(pid_file.read_text().strip()))
    groups["load_client"] = time.process_time()
    machine = machine_cpu()
    groups["machine_busy"], groups["machine_total"] = machine["busy"], machine["total"]
    return groups


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="Rasa replica counts to compare")
    parser.add_argument(
        "--actions", type=int, default=0, help="action servers per cluster (0: as many as Rasa replicas)"
    )
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument(
        "--duration",
        type=float,
        default=45.0,
        help="max seconds of load per cluster (<= 60 advised on a shared machine)",
    )
    parser.add_argument(
        "--rasa-threads",
        type=int,
        default=1,
        help="math threads per Rasa replica (RASA_THREADS of run_cluster.sh; 0: library default)",
    )
    parser.add_argument("--json", help="write all summaries to this file")
    args = parser.parse_args(argv)
    if any(n < 1 or n > 4 for n in args.replicas):
        parser.error("replicas: 1..4 on this machine")
    reason = services_unreachable()
    if reason:
        print(f"cluster_bench: {reason}", file=sys.stderr)
        return 2
    command = ".venv/bin/python bench/cluster_bench.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    rows: List[str] = []
    cpu_rows: List[str] = []
    summaries: Dict[str, dict] = {}
    for n in args.replicas:
        n_actions = args.actions or n
        with tempfile.TemporaryDirectory(prefix=f"cluster-bench-{n}-") as tmp:
            print(f"cluster_bench: starting {n} Rasa replica(s) + {n_actions} action server(s) ...", file=sys.stderr)
            started = time.monotonic()
            with running_cluster(
                Path(tmp),
                n_rasa=n,
                n_actions=n_actions,
                review=False,
                extra_env={"RASA_THREADS": str(args.rasa_threads)},
            ) as cluster:
                print(f"cluster_bench: ready in {time.monotonic() - started:.0f} s; warm-up", file=sys.stderr)
                asyncio.run(run_load(cluster.public_url, 2 * n, 2, duration=30))
                before = loadavg()
                cpu_before = cpu_snapshot(cluster.workdir)
                result = asyncio.run(run_load(cluster.public_url, args.conversations, args.turns, args.duration))
                cpu_after = cpu_snapshot(cluster.workdir)
                cpu = {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_before}
                measured = sum(cpu[k] for k in ("rasa", "actions", "nginx", "load_client"))
                cpu["other"] = round(cpu["machine_busy"] - measured, 2)
                summary = result.summary()
                summary.update(
                    {
                        "rasa_replicas": n,
                        "action_servers": n_actions,
                        "loadavg_before": before,
                        "loadavg_after": loadavg(),
                        "cpu_seconds": cpu,
                    }
                )
                plural = "s" if args.rasa_threads > 1 else ""
                threads = f"{args.rasa_threads} math thread{plural}" if args.rasa_threads else "default math threads"
                label = (
                    f"{n} Rasa replica{'s' if n > 1 else ''} ({threads}) + "
                    f"{n_actions} action server{'s' if n_actions > 1 else ''}"
                )
                rows.append(format_row(label, summary))
                busy = 100 * cpu["machine_busy"] / cpu["machine_total"] if cpu["machine_total"] else 0
                parts = ("rasa", "actions", "nginx", "load_client", "other")
                per_turn = {k: 1000 * cpu[k] / max(result.turns_ok, 1) for k in parts}
                cells = " | ".join(f"{per_turn[k]:.1f}" for k in per_turn)
                cpu_rows.append(f"| {label} | {busy:.0f} % | {cells} |")
                summaries[str(n)] = summary
                print(
                    f"cluster_bench: {label}: {summary['turns_per_s']} turns/s, p50 {summary['p50_ms']} ms",
                    file=sys.stderr,
                )
    print(
        f"\nCommand: `{command.strip()}` ({args.conversations} concurrent conversations x {args.turns} turns, "
        f"through nginx; os.cpu_count()={os.cpu_count()})\n"
    )
    print(TABLE_HEADER)
    print("\n".join(rows))
    print(
        "\nCPU during the load (machine: all cores together; per turn: CPU milliseconds per completed turn;"
        " other = PostgreSQL, Redis and everything else on the machine):\n"
    )
    print(
        "| setup | machine busy | Rasa ms/turn | actions ms/turn | nginx ms/turn | load client ms/turn "
        "| other ms/turn |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(cpu_rows))
    if args.json:
        Path(args.json).write_text(json.dumps(summaries, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
