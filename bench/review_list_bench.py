"""Load figure for the staff review app: list views over N generated conversations (default 100,000).

Generates conversations into a temporary SQLite database (and PostgreSQL when reachable; skip with
``--no-pg``) with the Rasa tracker store's own ``events`` table (created by ``SQLTrackerStore``; rows
shaped exactly as it writes them, from Rasa event objects' ``as_dict()``), builds the review index
with ``python -m review.cli index`` (timed), starts the review app as a real server and times pages
over real HTTP as a logged-in staff member: p50 / p95 per view. Prints a markdown table.

    .venv/bin/python bench/review_list_bench.py                   # 100,000 conversations, SQLite + PG
    .venv/bin/python bench/review_list_bench.py -n 20000 --no-pg --requests 20
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.review_app import PASSWORD, Staff, cli, review_server  # noqa: E402

PG_ADMIN_URL = os.environ.get("REVIEW_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DAY = 86400.0
QUESTIONS = [
    ("how long is recovery?", "ask_recovery_time"),
    ("what does it cost", "ask_cost"),
    ("is it safe", "ask_safety"),
    ("will there be a scar", "ask_scarring"),
    ("am I asleep during it", "ask_anesthesia"),
    ("what is spinal endoscopy", "ask_what_is_endoscopy"),
    ("is it better than open surgery", "ask_comparison"),
    ("does it help with leg pain", "ask_pain_relief"),
]


def templates() -> Dict[str, List[dict]]:
    """Event dicts per conversation kind, from Rasa's own event classes."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    def user(text, intent, conf, **extra):
        parse = {
            "text": text,
            "intent": {"name": intent, "confidence": conf},
            "entities": [],
            "intent_ranking": [{"name": intent, "confidence": conf}],
            "red_flags": [],
        }
        parse.update(extra)
        return UserUttered(text, intent=parse["intent"], parse_data=parse, input_channel="rest", metadata={})

    def bot(text, utter=None, **meta):
        if utter:
            meta["utter_action"] = utter
        return BotUttered(text, data={"buttons": None, "custom": None}, metadata=meta)

    start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    kinds = {
        "answer": start
        + [
            user("Q", "ask_recovery_time", 0.95),
            ActionExecuted("action_answer_topic", "RulePolicy", 1.0),
            bot("Most people go home the same day.", topic="ask_recovery_time", fact_ids=["recovery_1"]),
            ActionExecuted("action_listen"),
        ],
        "emergency": start
        + [
            user(
                "I can't feel my legs",
                "report_emergency",
                1.0,
                classifier_intent={"name": "ask_recovery_time", "confidence": 0.4},
                red_flags=[{"flag": "cauda_equina", "matched": "can't feel my legs"}],
            ),
            ActionExecuted("utter_emergency", "RulePolicy", 1.0),
            bot("This could be a medical emergency.", "utter_emergency"),
            ActionExecuted("action_listen"),
        ],
        "handoff": start
        + [
            user("can I talk to a person", "request_human", 0.9),
            ActionExecuted("action_handoff", "RulePolicy", 1.0),
            bot("Would you like the clinic to call you back?", "utter_offer_callback"),
            SlotSet("handoff_requested", True),
            ActionExecuted("action_listen"),
        ],
        "callback": start
        + [
            user("call me back please", "request_human", 0.9),
            ActionExecuted("action_handoff", "RulePolicy", 1.0),
            SlotSet("handoff_requested", True),
            user("yes", "affirm", 0.97),
            ActionExecuted("action_submit_callback", "RulePolicy", 1.0),
            SlotSet(
                "callback_request",
                {
                    "name": "Pat Doe",
                    "phone": "0151 2345 6789",
                    "preferred_time": "mornings",
                    "consent": True,
                    "requested_at": "2026-11-20T10:00:00+00:00",
                },
            ),
            ActionExecuted("action_listen"),
        ],
        "personal": start
        + [
            user("I'm 70 with a bad heart, can I have it", "ask_personal_advice", 0.85),
            ActionExecuted("action_defer_personal", "RulePolicy", 1.0),
            bot("A doctor needs to look at your case.", "utter_personal_defer"),
            SlotSet("personal_question", True),
            ActionExecuted("action_listen"),
        ],
        "fallback": start
        + [
            user("the thingy with the nerve", "nlu_fallback", 0.3),
            ActionExecuted("action_default_fallback", "RulePolicy", 1.0),
            bot("Sorry, I am not sure I understood.", "utter_ask_rephrase"),
            ActionExecuted("action_listen"),
        ],
        "oos": start
        + [
            user("what's the weather", "out_of_scope", 0.93),
            ActionExecuted("utter_out_of_scope", "RulePolicy", 1.0),
            bot("Sorry, I can only answer general questions.", "utter_out_of_scope"),
            ActionExecuted("action_listen"),
        ],
    }
    return {k: [e.as_dict() for e in v] for k, v in kinds.items()}


KIND_WEIGHTS = [
    ("answer", 72),
    ("emergency", 2),
    ("handoff", 5),
    ("callback", 1),
    ("personal", 5),
    ("fallback", 10),
    ("oos", 5),
]


def generate_rows(n: int, seed: int = 42):
    """Yield (sender_id, type_name, timestamp, intent_name, action_name, data) like SQLTrackerStore.save."""
    rng = random.Random(seed)
    tpl = templates()
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    now = time.time()
    for i in range(n):
        sender = f"bench-{i:07d}-{rng.getrandbits(32):08x}"
        kind = rng.choice(kinds)
        t = now - (n - i) * (180 * DAY / n) - rng.random() * 60  # spread over ~180 days, newest last
        for j, ev in enumerate(tpl[kind]):
            data = dict(ev)
            data["timestamp"] = t + j * 0.5
            if data["event"] == "user" and kind == "answer":
                text, intent = rng.choice(QUESTIONS)
                if rng.random() < 0.005:
                    text += " with sciatica"
                conf = round(rng.uniform(0.35, 0.99), 3)
                pd = dict(
                    data["parse_data"],
                    text=text,
                    intent={"name": intent, "confidence": conf},
                    intent_ranking=[{"name": intent, "confidence": conf}],
                )
                data.update(text=text, parse_data=pd)
            intent = (data.get("parse_data") or {}).get("intent", {}).get("name") if data["event"] == "user" else None
            yield sender, data["event"], data["timestamp"], intent, data.get("name"), json.dumps(data)


def create_events_table(url: str) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    store = SQLTrackerStore(host=url)  # the Rasa server's own table definition
    store.engine.dispose()


def fill_sqlite(path: Path, n: int) -> int:
    create_events_table(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    count = 0
    batch = []
    for row in generate_rows(n):
        batch.append(row)
        if len(batch) >= 20000:
            con.executemany(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            count += len(batch)
            batch = []
    con.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        batch,
    )
    count += len(batch)
    con.commit()
    con.close()
    return count


def fill_pg(url: str, n: int) -> int:
    import psycopg2

    create_events_table(url)
    from sqlalchemy.engine import make_url

    u = make_url(url)
    con = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    count = 0
    with con, con.cursor() as cur:
        buf, w = io.StringIO(), None
        w = csv.writer(buf)
        for row in generate_rows(n):
            w.writerow(row)
            count += 1
            if count % 50000 == 0:
                buf.seek(0)
                cur.copy_expert(
                    "COPY events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "FROM STDIN WITH (FORMAT csv)",
                    buf,
                )
                buf, w = io.StringIO(), None
                w = csv.writer(buf)
        buf.seek(0)
        cur.copy_expert(
            "COPY events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "FROM STDIN WITH (FORMAT csv)",
            buf,
        )
        cur.execute("ANALYZE")
    con.close()
    return count


def pct(values: List[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def time_views(base: str, requests_per_view: int) -> List[Tuple[str, float, float, str]]:
    staff = Staff(base).logged_in("bench")
    first = staff.get("/conversations").text
    import re
    import html

    # a deep page: follow "Older" 20 times (keyset pagination)
    r = first
    for _ in range(20):
        r = staff.get(html.unescape(re.search(r'<a href="([^"]+)" rel="next">', r).group(1))).text
    deep = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', r).group(1))
    sender = re.search(r'href="/conversation\?id=([^"&]+)"', first).group(1)
    r = staff.get("/open").text
    for _ in range(2):
        r = staff.get(html.unescape(re.search(r'<a href="([^"]+)" rel="next">', r).group(1))).text
    open_deep = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', r).group(1))
    views = [
        ("list, newest first (page 1)", "/conversations", {}),
        ("list, page 22 (keyset cursor)", deep, {}),
        ("filter: emergency", "/conversations", {"flag": "emergency"}),
        ("filter: fallback / low confidence", "/conversations", {"flag": "fallback"}),
        ("filter: intent ask_cost + not reviewed", "/conversations", {"intent": "ask_cost", "reviewed": "no"}),
        (
            "filter: date range (30 days)",
            "/conversations",
            {
                "date_from": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 60 * DAY)),
                "date_to": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * DAY)),
            },
        ),
        ("free-text search (rare word)", "/conversations", {"q": "sciatica"}),
        ("open items (callbacks + flagged unreviewed)", "/open", {}),
        ("open items, page 3 (urgency keyset cursor)", open_deep, {}),
        ("live count (/live.json)", "/live.json", {"since": "0"}),
        ("one conversation", "/conversation", {"id": sender}),
    ]
    out = []
    for label, path, params in views:
        staff.get(path, **params)  # warm-up
        times = []
        for _ in range(requests_per_view):
            t0 = time.perf_counter()
            resp = staff.get(path, **params)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (label, resp.status_code)
        total = re.search(r"([\w ,]*\d) conversations?,|\(([\w ,]*\d)\)</h2>", resp.text)
        shown = next((g for g in (total.groups() if total else ()) if g), "")
        out.append((label, statistics.median(times), pct(times, 95), shown))
    return out


def run_backend(kind: str, url: str, n: int, requests_per_view: int, fill) -> Dict:
    t0 = time.perf_counter()
    events = fill(n)
    fill_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = cli(url, "index", timeout=3600)  # a first index of 700,000 events on a busy machine
    index_s = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    assert cli(url, "create-user", "bench", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    with tempfile.TemporaryDirectory() as tmp:
        with review_server(url, Path(tmp) / "log", REVIEW_INDEX_INTERVAL="0") as base:
            results = time_views(base, requests_per_view)
    return {"kind": kind, "events": events, "fill_s": fill_s, "index_s": index_s, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per view")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "rasa.db"
        url = f"sqlite:///{db}"
        reports.append(run_backend("SQLite", url, args.conversations, args.requests, lambda n: fill_sqlite(db, n)))
        reports[-1]["size"] = f"{db.stat().st_size / 1e6:.0f} MB"
    if not args.no_pg:
        try:
            import sqlalchemy as sa

            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            print(f"PostgreSQL not reachable ({type(exc).__name__}): PostgreSQL figures skipped", file=sys.stderr)
        else:
            name = f"review_bench_{secrets.token_hex(4)}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            try:
                reports.append(
                    run_backend("PostgreSQL", url, args.conversations, args.requests, lambda n: fill_pg(url, n))
                )
                with admin.connect() as conn:
                    size = conn.execute(sa.text("SELECT pg_database_size(:d)"), {"d": name}).scalar()
                    reports[-1]["size"] = f"{size / 1e6:.0f} MB"
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

    print(
        f"\n### Review app list views, {args.conversations:,} conversations, {args.requests} requests per view "
        f"(real HTTP, logged in)\n"
    )
    print(
        f"Command: `.venv/bin/python bench/review_list_bench.py -n {args.conversations} --requests {args.requests}"
        f"{' --no-pg' if args.no_pg else ''}`\n"
    )
    for rep in reports:
        print(
            f"**{rep['kind']}**: {rep['events']:,} events, database {rep.get('size', '?')}; generated in "
            f"{rep['fill_s']:.0f} s; initial index (`python -m review.cli index`) {rep['index_s']:.0f} s "
            f"({rep['events'] / rep['index_s']:,.0f} events/s)\n"
        )
        print("| view | p50 ms | p95 ms | matching |")
        print("|---|---|---|---|")
        for label, p50, p95, shown in rep["results"]:
            print(f"| {label} | {p50:.1f} | {p95:.1f} | {shown} |")
        print()


if __name__ == "__main__":
    main()
