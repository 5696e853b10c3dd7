"""Cost of the staff dashboard's figures and of grouping unanswered questions.

1. Aggregates: fills ``review_messages`` with N generated patient messages (default 500,000 in
   150,000 conversations over 180 days; rows inserted directly, no events) in a temporary SQLite
   database and, when reachable, PostgreSQL (``REVIEW_TEST_PG_URL``; skip with ``--no-pg``), then times
   each dashboard query in process for a 28-day range per day and a 180-day range per week: median of
   ``--repeat`` runs.
2. Grouping: embeds and clusters ``--texts`` unanswered questions (the labelled sets' messages with
   varied endings), the largest number the page groups at once (2,000): embedding (cold cache) and
   clustering, median of ``--repeat`` runs.

    .venv/bin/python bench/dashboard_bench.py
    .venv/bin/python bench/dashboard_bench.py -n 100000 --no-pg --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from review import dashboard, store, unanswered  # noqa: E402
from review.settings import load_settings  # noqa: E402

PG_ADMIN_URL = os.environ.get("REVIEW_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
INTENTS = [
    "ask_recovery_time",
    "ask_cost",
    "ask_scarring",
    "ask_pain",
    "ask_what_is_endoscopy",
    "nlu_fallback",
    "ask_not_covered",
    "request_human",
    "affirm",
    "report_emergency",
]


def fill(engine, n: int, conversations: int, days: int, today: date, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), timezone.utc).timestamp()
    rows: List[Dict] = []
    with engine.begin() as conn:
        for i in range(n):
            ts = start + rng.random() * days * 86400
            d = datetime.fromtimestamp(ts, timezone.utc).date()
            intent = rng.choice(INTENTS)
            rows.append(
                {
                    "event_id": i + 1,
                    "sender_id": f"c{rng.randrange(conversations)}",
                    "message_id": None,
                    "ts": ts,
                    "local_day": d.isoformat(),
                    "local_week": (d - timedelta(days=d.weekday())).isoformat(),
                    "intent": intent,
                    "confidence": rng.random(),
                    "level": "emergency" if intent == "report_emergency" else None,
                    "fallback": intent == "nlu_fallback",
                    "not_covered": intent == "ask_not_covered",
                    "out_of_scope": False,
                    "callback": rng.random() < 0.01,
                    "thumbs_down": rng.random() < 0.03,
                    "form_answer": rng.random() < 0.02,
                    "payload": intent == "affirm",
                    "latency": rng.lognormvariate(0.3, 0.6),
                }
            )
            if len(rows) == 20000:
                conn.execute(store.messages.insert(), rows)
                rows = []
        if rows:
            conn.execute(store.messages.insert(), rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE review_messages"))


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_queries(url: str, args) -> List[str]:
    settings = load_settings({"DATABASE_URL": url})
    engine = store.make_engine(settings)
    store.create_schema(engine)
    today = date.today()
    t = time.perf_counter()
    fill(engine, args.n, args.conversations, args.days, today)
    lines = [f"filled {args.n:,} messages in {time.perf_counter() - t:.0f} s"]
    ranges = {
        "28 days per day": dashboard.DateRange(today - timedelta(days=27), today, "day"),
        f"{args.days} days per week": dashboard.DateRange(today - timedelta(days=args.days - 1), today, "week"),
    }
    for name, rng in ranges.items():
        figures = {
            "per_bucket (volume + 8 rates)": lambda: dashboard.per_bucket(engine, rng, 0.5),
            "totals": lambda: dashboard.totals(engine, rng, 0.5),
            "topics": lambda: dashboard.topics(engine, rng, 0.5),
            "latency (median per bucket + overall)": lambda: dashboard.latency(engine, rng),
            "unanswered candidates (2,000 newest)": lambda: dashboard.unanswered_candidates(engine, rng, 0.5),
        }
        for label, fn in figures.items():
            lines.append(f"| {engine.dialect.name} | {name} | {label} | {median_ms(fn, args.repeat):.0f} ms |")
    engine.dispose()
    return lines


def bench_grouping(args) -> List[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from unanswered_groups import load

    base = load("dev")[0] + load("heldout")[0]
    endings = ["", "?", " please", " thanks", " after the op", " after surgery?", " i am worried", " asap"]
    combinations = len(base) * len(endings)
    texts = [
        base[i % len(base)] + endings[(i // len(base)) % len(endings)] + ("" if i < combinations else f" ({i})")
        for i in range(args.texts)
    ]
    unanswered.encoder()  # loading the model is a one-off per process: not counted
    embed_ms = median_ms(lambda: unanswered.embed(texts), args.repeat)
    vectors = unanswered.embed(texts)
    cluster_ms = median_ms(lambda: unanswered.cluster(vectors), args.repeat)
    return [
        f"| grouping | {len(texts):,} questions | embedding (MiniLM, ONNX Runtime) | {embed_ms:.0f} ms |",
        f"| grouping | {len(texts):,} questions | agglomerative clustering | {cluster_ms:.0f} ms |",
        f"| grouping | {len(texts):,} questions | groups found | {len(unanswered.cluster(vectors))} |",
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=500_000)
    p.add_argument("--conversations", type=int, default=150_000)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--texts", type=int, default=2000)
    p.add_argument("--no-pg", action="store_true")
    args = p.parse_args(argv)
    out = ["| database | range | figure | median |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        out += bench_queries(f"sqlite:///{tmp}/bench.db", args)
    if not args.no_pg:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"dash_bench_{secrets.token_hex(4)}"
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001
            out.append(f"PostgreSQL skipped: {type(exc).__name__}")
        else:
            try:
                out += bench_queries(admin.url.set(database=name).render_as_string(hide_password=False), args)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    out += bench_grouping(args)
    print("\n".join(line for line in out if line.startswith("|")))
    print("\n".join(line for line in out if not line.startswith("|")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
