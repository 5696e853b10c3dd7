"""Where the time of a turn goes, early and late in one long conversation (in-process, cProfile).

    .venv/bin/python bench/profile_turns.py [--turns 200] [--top 25]

Loads models/ into an in-process Agent with the SQLite tracker store and the real action server
(started here), sends one conversation of --turns messages, prints per-turn p50 for the first and
last 20 turns (timed without the profiler), then profiles 20 more turns and prints cProfile's top
functions (cumulative).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(ROOT / "bench"))

from run_bench import MESSAGES  # noqa: E402  (the same conversation as the latency benchmark)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key, e.g. tottime")
    parser.add_argument(
        "--rasa-only", action="store_true", help="without the server's speed-ups (Rasa's own code paths)"
    )
    parser.add_argument("--callers", help="also print the callers of functions matching this pattern")
    parser.add_argument(
        "--store",
        choices=["caching", "rasa"],
        default="caching",
        help="clinic_store's CachingSQLTrackerStore (default) or Rasa's SQLTrackerStore",
    )
    args = parser.parse_args()

    import structlog
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    import clinic_runtime
    from clinic_store.tracker_store import CachingSQLTrackerStore
    from tests.support.servers import running_servers

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if not args.rasa_only:
        clinic_runtime.install()  # as the patient channel does in the Rasa server
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, running_servers(Path(tmp)) as servers:
        store_class = CachingSQLTrackerStore if args.store == "caching" else SQLTrackerStore
        store = store_class(dialect="sqlite", db=str(Path(tmp) / "profile.db"))
        agent = Agent.load(
            str(ROOT / "models" / "spine-clinic.tar.gz"),
            tracker_store=store,
            action_endpoint=EndpointConfig(f"{servers.action_url}/webhook"),
        )

        async def turn(i: int) -> float:
            start = time.perf_counter()
            await agent.handle_message(UserMessage(MESSAGES[i % len(MESSAGES)], CollectingOutputChannel(), "profiled"))
            return (time.perf_counter() - start) * 1000

        async def run() -> None:
            # Timed without the profiler (its per-call overhead would weigh on the late turns only),
            # then 20 more turns profiled for the listing.
            times = [await turn(i) for i in range(args.turns)]
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(args.turns, args.turns + 20):
                await turn(i)
            profiler.disable()
            first, last = sorted(times[:20])[10], sorted(times[-20:])[10]
            print(
                f"turns 1-20 p50 {first:.1f} ms; turns {args.turns - 19}-{args.turns} p50 {last:.1f} ms; "
                f"ratio {last / first:.2f} (no profiler); profile below: turns {args.turns + 1}-{args.turns + 20}"
            )
            stats = pstats.Stats(profiler).sort_stats(args.sort)
            stats.print_stats(args.top)
            if args.callers:
                stats.print_callers(args.callers)

        asyncio.run(run())


if __name__ == "__main__":
    main()
