"""Load test of the patient channel: N concurrent conversations, each a session then T turns back to back.

    .venv/bin/python bench/load_test.py --url http://127.0.0.1:5005 --conversations 8 --turns 20 --duration 60

Each conversation asks ``POST /webhooks/patient/session`` for an id, then sends its turns one after the
other (the next as soon as the reply arrives), cycling through realistic patient questions, each with
its own ``message_id``. Reports completed turns per second, latency p50/p95/p99 of the successful
turns, and the failed turns by HTTP status (or exception). A 503 ``busy`` answer (the channel's
``max_turns_in_flight`` cap) is handled as the widget does: wait the ``retry_after`` it gives, send the
same message again; those answers are counted (``busy_answers``) and the turn's latency runs from
its first sending. Bounded: at most 200 conversations x 200
turns and 300 s; stops sending at ``--duration`` even if turns remain. Loopback targets only (it is a
benchmark of this machine, not a tool to load someone else's server).

The channel's rate limits (credentials.yml: 20 messages/min per conversation, 120/min per address)
would refuse most of this load: run the server with bench/credentials.load.yml (bench/cluster_bench.py
and tests/support/cluster.py do).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import socket
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence
from urllib.parse import urlparse

import aiohttp

MAX_CONVERSATIONS = 200
MAX_TURNS = 200
MAX_DURATION = 300.0
BUSY_RETRIES = 10  # "busy" answers waited out per turn before it counts as failed
TEXTS = [
    "hello",
    "how long is recovery?",
    "how big is the scar?",
    "tell me more",
    "what does it cost",
    "is it painful?",
    "what kind of anesthesia is used",
    "who is this surgery for",
    "how is it different from open surgery",
    "thanks",
]


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100) of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))  # ceil(q/100 * n)
    return ordered[rank - 1]


def check_loopback(url: str) -> None:
    """Refuse any target whose host does not resolve to loopback addresses only."""
    host = urlparse(url).hostname
    if not host:
        raise SystemExit(f"load_test: not a URL: {url}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise SystemExit(f"load_test: cannot resolve {host}: {error}")
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"load_test: {host} is not a loopback address ({sorted(addresses)}); refusing")


@dataclass
class LoadResult:
    url: str
    conversations: int
    turns_per_conversation: int
    elapsed_s: float = 0.0
    turns_ok: int = 0
    turns_failed: int = 0
    sessions_failed: int = 0
    errors: Dict[str, int] = field(default_factory=dict)  # status or exception name -> count
    latencies_ms: List[float] = field(default_factory=list, repr=False)
    stopped_by_duration: bool = False
    busy_answers: int = 0  # 503 "busy" answers, each waited out (Retry-After) and sent again

    @property
    def turns_per_s(self) -> float:
        return self.turns_ok / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> Dict[str, object]:
        out = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        out.update(
            {
                "turns_per_s": round(self.turns_per_s, 2),
                "p50_ms": _round(percentile(self.latencies_ms, 50)),
                "p95_ms": _round(percentile(self.latencies_ms, 95)),
                "p99_ms": _round(percentile(self.latencies_ms, 99)),
                "mean_ms": _round(sum(self.latencies_ms) / len(self.latencies_ms)) if self.latencies_ms else None,
            }
        )
        return out


def _busy_wait(status: object, payload: bytes) -> Optional[float]:
    """Seconds to wait if the answer is the channel's 503 ``busy``, else None."""
    if status != 503:
        return None
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("error") != "busy":
        return None
    return float(body.get("retry_after") or 3)


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


async def run_load(
    url: str,
    conversations: int,
    turns: int,
    duration: float = 60.0,
    timeout: float = 30.0,
    texts: Sequence[str] = TEXTS,
) -> LoadResult:
    """Run the load against ``url`` (the server's base URL, e.g. nginx's); see the module doc."""
    check_loopback(url)
    if not 1 <= conversations <= MAX_CONVERSATIONS or not 1 <= turns <= MAX_TURNS:
        raise ValueError(f"conversations must be 1..{MAX_CONVERSATIONS} and turns 1..{MAX_TURNS}")
    duration = min(float(duration), MAX_DURATION)
    base = url.rstrip("/") + "/webhooks/patient"
    result = LoadResult(url=url, conversations=conversations, turns_per_conversation=turns)
    errors: Counter = Counter()
    started = time.perf_counter()
    deadline = started + duration

    async def post(http: aiohttp.ClientSession, path: str, body: Dict[str, object]):
        try:
            async with http.post(f"{base}/{path}", json=body) as answer:
                payload = await answer.read()
                return answer.status, payload
        except asyncio.TimeoutError:
            return "timeout", b""
        except aiohttp.ClientError as error:
            return type(error).__name__, b""

    async def conversation(http: aiohttp.ClientSession, n: int) -> None:
        status, payload = await post(http, "session", {})
        if status != 200:
            result.sessions_failed += 1
            errors[f"session {status}"] += 1
            return
        sid = json.loads(payload)["session_id"]
        for t in range(turns):
            if time.perf_counter() >= deadline:
                result.stopped_by_duration = True
                return
            body = {"session_id": sid, "message": texts[(n + t) % len(texts)], "message_id": uuid.uuid4().hex}
            sent = time.perf_counter()
            status, payload = await post(http, "message", body)
            for _ in range(BUSY_RETRIES):
                # As the widget does: a "busy" answer is waited out and the same message sent again.
                busy = _busy_wait(status, payload)
                if busy is None:
                    break
                result.busy_answers += 1
                await asyncio.sleep(busy)
                status, payload = await post(http, "message", {**body, "retry": True})
            if status == 200:
                result.turns_ok += 1
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            else:
                result.turns_failed += 1
                errors[str(status)] += 1

    connector = aiohttp.TCPConnector(limit=conversations + 1)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as http:
        await asyncio.gather(*(conversation(http, n) for n in range(conversations)))
    result.elapsed_s = time.perf_counter() - started
    result.errors = dict(errors)
    return result


def process_cpu(patterns: Sequence[str]) -> Dict[str, float]:
    """CPU seconds (user + system) used so far by the processes whose command line contains each
    pattern (summed per pattern; Linux /proc), plus this load generator itself under "load client"."""
    import os
    import resource

    tick = os.sysconf("SC_CLK_TCK")
    totals: Dict[str, float] = {p: 0.0 for p in patterns}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        for pattern in patterns:
            if pattern in cmdline and int(pid) != os.getpid():
                totals[pattern] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                break
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals["load client"] = usage.ru_utime + usage.ru_stime
    return totals


def format_row(label: str, summary: Dict[str, object]) -> str:
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(summary["errors"].items())) or "0"  # type: ignore[union-attr]
    return (
        f"| {label} | {summary['turns_ok']} | {summary['elapsed_s']:.1f} | {summary['turns_per_s']:.2f} | "
        f"{summary['p50_ms']} | {summary['p95_ms']} | {summary['p99_ms']} | {errors} |"
    )


TABLE_HEADER = (
    "| setup | turns ok | seconds | turns/s | p50 ms | p95 ms | p99 ms | errors |\n" "|---|---|---|---|---|---|---|---|"
)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="base URL of the server or of nginx (loopback)")
    parser.add_argument(
        "--conversations", type=int, default=8, help=f"concurrent conversations (1..{MAX_CONVERSATIONS})"
    )
    parser.add_argument("--turns", type=int, default=20, help=f"turns per conversation (1..{MAX_TURNS})")
    parser.add_argument(
        "--duration", type=float, default=60.0, help=f"stop sending after this many seconds (max {MAX_DURATION:.0f})"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--json", help="also write the summary to this file")
    parser.add_argument(
        "--cpu-of",
        nargs="*",
        default=[],
        metavar="PATTERN",
        help="report CPU ms per turn of the processes whose command line contains each "
        "PATTERN (e.g. 'rasa run --model' 'rasa run actions'), and of this client",
    )
    args = parser.parse_args(argv)
    cpu_before = process_cpu(args.cpu_of)
    result = asyncio.run(run_load(args.url, args.conversations, args.turns, args.duration, args.timeout))
    cpu_after = process_cpu(args.cpu_of)
    summary = result.summary()
    if args.cpu_of and result.turns_ok:
        summary["cpu_ms_per_turn"] = {
            name: round((cpu_after[name] - cpu_before[name]) * 1000 / result.turns_ok, 2) for name in cpu_after
        }
    print(TABLE_HEADER)
    print(format_row(f"{args.conversations} conv x {args.turns} turns -> {args.url}", summary))
    for name, ms in summary.get("cpu_ms_per_turn", {}).items():
        print(f"CPU per turn: {ms:6.2f} ms  {name}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=2)
    return 0 if result.turns_ok and not result.turns_failed and not result.sessions_failed else 1


if __name__ == "__main__":
    sys.exit(main())
