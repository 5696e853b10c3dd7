"""How long one full garbage collection stalls the Rasa server, with and without clinic_runtime.heap.

    .venv/bin/python bench/gc_pauses.py [--turns 400]

Loads the trained model as the server does (clinic_runtime.install(), Agent.load, the cached SQLite
tracker store in a temporary directory), runs ``--turns`` turns of 20 conversations so the heap
also holds the cached conversations, then times
``gc.collect()`` (a full, generation-2 collection: what CPython runs now and then under load, with
the event loop stopped) five times; then freezes the heap as the server does after start-up
(:func:`clinic_runtime.heap.freeze_loaded_heap`), runs the same number of turns again, and times
the collections again. Prints the medians and the tracked/frozen object counts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXTS = ["hello", "how long is recovery?", "how big is the scar?", "what does it cost", "thanks"]


def full_collections_ms(n: int = 5) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def turns(agent, count: int, tag: str) -> None:
    for i in range(count):
        await agent.handle_text(TEXTS[i % len(TEXTS)], sender_id=f"{tag}-{i % 20}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=400)
    args = parser.parse_args()
    from rasa.core.agent import Agent

    from clinic_runtime.heap import freeze_loaded_heap
    import clinic_runtime

    from clinic_store.tracker_store import CachingSQLTrackerStore

    clinic_runtime.install()
    workdir = tempfile.mkdtemp(prefix="gc-pauses-")
    agent = Agent.load(str(ROOT / "models" / "spine-clinic.tar.gz"))
    agent.tracker_store = agent.processor.tracker_store = CachingSQLTrackerStore(
        agent.domain, dialect="sqlite", db=str(Path(workdir) / "tracker.db")
    )
    asyncio.run(turns(agent, args.turns, "before"))
    before = full_collections_ms()
    tracked = len(gc.get_objects())
    frozen = freeze_loaded_heap()
    asyncio.run(turns(agent, args.turns, "after"))
    after = full_collections_ms()
    print(
        f"full collection, median of 5: {before:.2f} ms with {tracked} tracked objects; after "
        f"freeze_loaded_heap ({frozen} objects frozen) and {args.turns} more turns: {after:.2f} ms "
        f"with {len(gc.get_objects())} tracked objects"
    )


if __name__ == "__main__":
    main()
