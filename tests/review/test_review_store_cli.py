"""Review app internals and its CLI: redaction, flags, settings, password hashing, accounts,
index, corrections export, retention (SQLite and PostgreSQL), cookie/session settings."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
import yaml

from review import auth, store
from review.settings import DEFAULT_DATABASE_URL, load_settings
from tests.review.conftest import make_database, seeded_database
from tests.review.conversations import NLU_FIXTURE, PHONE, write_samples
from tests.support.process import wait_until
from tests.support.review_app import PASSWORD, Staff, cli, logged_in_staff, review_server

pytestmark = pytest.mark.integration


# ------------------------------------------------------------------ pure functions


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call me on 0151 2345 6789 please", "call me on [phone] please"),
        ("+44 (20) 7946-0958", "[phone]"),
        ("mail jane.doe+x@example.co.uk now", "mail [email] now"),
        ("I am 67, recovery takes 2-6 weeks", "I am 67, recovery takes 2-6 weeks"),
        ("L4-L5 disc, 10:30 tomorrow", "L4-L5 disc, 10:30 tomorrow"),
        ("", ""),
    ],
)
def test_redaction(text, expected):
    assert store.redact(text) == expected


def test_event_flags():
    red = {"parse_data": {"intent": {"name": "ask_cost", "confidence": 0.9}, "red_flags": [{"flag": "x"}]}}
    assert store.event_flags("user", red) == {"emergency"}
    assert store.event_flags("user", {"parse_data": {"intent": {"name": "x"}, "red_flags": []}}) == set()
    assert store.event_flags("user", {"parse_data": {"intent": {"name": "request_human"}}}) == {"handoff"}
    assert store.event_flags("user", {"metadata": {"feedback": "down"}}) == {"feedback"}
    assert store.event_flags("action", {"name": "action_two_stage_fallback"}) == {"fallback"}
    assert store.event_flags("action", {"name": "action_defer_personal"}) == {"personal"}
    assert store.event_flags("bot", {"data": {"custom": {"emergency": True}}}) == {"emergency"}
    assert store.event_flags("slot", {"name": "callback_request", "value": {"name": "A"}}) == {"callback"}
    assert store.event_flags("slot", {"name": "callback_request", "value": None}) == set()
    assert store.event_flags("slot", {"name": "handoff_requested", "value": True}) == {"handoff"}
    assert store.event_flags("slot", {"name": "feedback", "value": "down"}) == {"feedback"}
    assert store.event_flags("user", {"metadata": {"feedback": {"value": "thumbs_down"}}}) == {"feedback"}
    assert store.event_flags("user", {"metadata": {"feedback": "up"}}) == set()


def test_csv_safe():
    assert store.csv_safe("=1+1") == "'=1+1"
    assert store.csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert store.csv_safe("fine") == "fine"
    assert store.csv_safe(None) == ""


def test_settings_defaults_and_validation():
    s = load_settings({})
    assert s.database_url == DEFAULT_DATABASE_URL and DEFAULT_DATABASE_URL.endswith("var/rasa.db")
    assert (s.host, s.port, s.low_confidence_threshold, s.secure_cookies, s.redact_contact_details) == (
        "127.0.0.1",
        8081,
        0.5,
        True,
        True,
    )
    assert s.retention_days is None
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://u@h/db",
            "REVIEW_PORT": "9000",
            "LOW_CONFIDENCE_THRESHOLD": "0.7",
            "RETENTION_DAYS": "90",
            "REVIEW_SECURE_COOKIES": "false",
            "REDACT_CONTACT_DETAILS": "no",
        }
    )
    assert (s.port, s.low_confidence_threshold, s.retention_days, s.secure_cookies, s.redact_contact_details) == (
        9000,
        0.7,
        90,
        False,
        False,
    )
    assert not s.is_sqlite
    for bad in ({"LOW_CONFIDENCE_THRESHOLD": "2"}, {"REVIEW_SECURE_COOKIES": "maybe"}, {"RETENTION_DAYS": "0"}):
        with pytest.raises(ValueError):
            load_settings(bad)


def test_password_hashing():
    h = auth.hash_password("a long enough password")
    scheme, n, r, p, salt, key = h.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**15), "8", "1")
    assert auth.verify_password("a long enough password", h)
    assert not auth.verify_password("a long enough passworD", h)
    assert not auth.verify_password("x", "garbage")
    assert auth.hash_password("a long enough password") != h  # random salt
    assert auth.validate_new_password("short") is not None
    assert auth.validate_new_password("aaaaaaaaaaaaaaaa") is not None
    assert auth.validate_new_password("correct horse battery") is None


# ------------------------------------------------------------------ database-backed (SQLite and PostgreSQL)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db(request, tmp_path):
    with seeded_database(request.param, tmp_path, write_samples, users=()) as url:
        yield url


def test_accounts_cli(fresh_db):
    engine = sa.create_engine(fresh_db)
    store.create_schema(engine)
    with engine.connect() as conn:  # no default account exists
        assert conn.execute(sa.text("SELECT count(*) FROM review_users")).scalar() == 0
    r = cli(fresh_db, "create-user", "carol", "--password-stdin", stdin="\n")
    assert r.returncode == 1 and "at least 12" in r.stderr
    r = cli(fresh_db, "create-user", "carol", "--password-stdin", stdin="short\n")
    assert r.returncode == 1
    r = cli(fresh_db, "create-user", "Bad Name!", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 1
    r = cli(fresh_db, "create-user", "carol", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = cli(fresh_db, "create-user", "carol", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 1 and "already exists" in r.stderr
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM review_users WHERE username='carol'")).scalar()
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    r = cli(fresh_db, "set-password", "carol", "--password-stdin", stdin="another good password\n")
    assert r.returncode == 0
    assert auth.verify_password(
        "another good password", engine.connect().execute(sa.text("SELECT password_hash FROM review_users")).scalar()
    )
    engine.dispose()


def test_index_and_corrections_export_cli(fresh_db, tmp_path):
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(NLU_FIXTURE)
    r = cli(fresh_db, "index")
    assert r.returncode == 0 and "events folded in" in r.stdout
    settings = load_settings({"DATABASE_URL": fresh_db, "REVIEW_NLU_FILE": str(nlu)})
    engine = store.make_engine(settings)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, sender_id, data FROM events WHERE type_name='user' ORDER BY id")).all()
    form_answers = {"Maria Lopez", PHONE, "weekday mornings"}
    with engine.begin() as conn:
        for row in rows:
            text = json.loads(row.data)["text"]
            intent = {"how much does it cost": "ask_cost"}.get(text, "ask_more")
            saved = store.save_correction(conn, row.sender_id, row.id, intent, "alice")
            assert saved == (text not in form_answers), text
    out = tmp_path / "out" / "corrections.yml"
    r = cli(fresh_db, "export-corrections", "--out", str(out), REVIEW_NLU_FILE=str(nlu))
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(out.read_text())
    examples = [line[2:] for item in doc["nlu"] for line in item["examples"].splitlines()]
    folded = [" ".join(e.split()).casefold() for e in examples]
    assert len(folded) == len(set(folded))  # no duplicates
    assert "how much does it cost" not in folded  # already in training data
    assert PHONE not in out.read_text() and "jane.doe" not in out.read_text()  # contact details never exported
    assert "Maria Lopez" not in out.read_text()  # callback-form answers cannot be corrected
    assert not any(e.startswith("/") for e in examples)
    assert "what about the thingy with the nerve" in folded
    assert "skipped" in r.stdout
    # rebuild keeps triage state
    with engine.begin() as conn:
        store.set_reviewed(conn, "conv-oos", True, "alice")
    r = cli(fresh_db, "index", "--rebuild")
    assert r.returncode == 0
    summary = store.get_summary(engine, "conv-oos", 0.5)
    assert summary["reviewed"] and summary["flag_out_of_scope"] and summary["turns"] == 1
    engine.dispose()


def test_retention_cli(fresh_db):
    engine = sa.create_engine(fresh_db)
    cli(fresh_db, "index")
    count = lambda q: engine.connect().execute(sa.text(q)).scalar()  # noqa: E731
    before = count("SELECT count(*) FROM events")
    old_events = count("SELECT count(*) FROM events WHERE sender_id='conv-old'")
    r = cli(fresh_db, "retention")
    assert r.returncode == 2 and "--days" in r.stderr
    r = cli(fresh_db, "retention", "--days", "365", "--dry-run")
    assert r.returncode == 0 and "would delete 1 conversations" in r.stdout
    assert count("SELECT count(*) FROM events") == before
    r = cli(fresh_db, "retention", RETENTION_DAYS="365")
    assert r.returncode == 0, r.stderr
    assert f"deleted 1 conversations, {old_events} events" in r.stdout
    assert "review_conversations: 1 rows" in r.stdout
    for secret in ("what does it cost", "conv-old"):
        assert secret not in r.stdout
    assert count("SELECT count(*) FROM events WHERE sender_id='conv-old'") == 0
    assert count("SELECT count(*) FROM review_conversations WHERE sender_id='conv-old'") == 0
    assert count("SELECT count(*) FROM review_conversation_intents WHERE sender_id='conv-old'") == 0
    assert count("SELECT count(*) FROM events") == before - old_events
    assert count("SELECT count(*) FROM review_audit WHERE action='retention'") == 1
    r = cli(fresh_db, "retention", "--days", "365")
    assert "deleted 0 conversations" in r.stdout
    engine.dispose()


# ------------------------------------------------------------------ cookie and session settings


def test_secure_cookie_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    write_samples(url)
    with review_server(url, tmp_path / "log", REVIEW_SECURE_COOKIES="true") as base:
        r = Staff(base).get("/login")
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-review_session=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Domain" not in cookie
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_disabled_account_is_logged_out_and_cannot_log_in(tmp_path):
    with (
        seeded_database("sqlite", tmp_path, write_samples, users=("frank",)) as url,
        review_server(url, tmp_path / "log") as base,
    ):
        s = Staff(base).logged_in("frank")
        r = cli(url, "disable-user", "frank")
        assert r.returncode == 0, r.stderr
        assert s.get("/open").status_code == 303  # session ended
        assert Staff(base).login("frank").status_code == 401
        assert cli(url, "disable-user", "nobody").returncode == 1
        assert cli(url, "set-password", "frank", "--password-stdin", stdin="a brand new password\n").returncode == 0
        assert Staff(base).login("frank", "a brand new password").status_code == 303


def test_idle_session_expires(tmp_path):
    with (
        seeded_database("sqlite", tmp_path, write_samples, users=("dave",)) as url,
        review_server(url, tmp_path / "log", REVIEW_SESSION_IDLE_MINUTES="0") as base,
    ):
        s = Staff(base)
        assert s.login("dave").status_code == 303
        # Idle limit 0 minutes: the session ends as soon as the clock moves on (condition, not a sleep).
        wait_until(lambda: s.get("/open").status_code == 303, "the idle session sent back to the login")


def test_indexer_after_retention_emptied_the_table(fresh_db):
    """SQLite reuses ids after the newest rows are deleted: the indexer must still see new events."""
    from tests.review.conversations import sample_events, write_conversations

    settings = load_settings({"DATABASE_URL": fresh_db})
    engine = store.make_engine(settings)
    store.create_schema(engine)
    store.index_new_events(engine, settings)
    report = store.retention(engine, 1, now=time.time() + 10_000 * 86400)  # everything is "old"
    assert report.conversations == 11
    write_conversations(fresh_db, {"conv-new": sample_events()["conv-emergency"]})
    store.index_new_events(engine, settings)
    summary = store.get_summary(engine, "conv-new", 0.5)
    assert summary is not None and summary["flag_emergency"] and summary["turns"] == 1
    engine.dispose()


def test_postgres_late_commit_is_picked_up_by_rescan(tmp_path):
    with make_database("postgresql", tmp_path) as url:
        write_samples(url)
        settings = load_settings({"DATABASE_URL": url})
        engine = store.make_engine(settings)
        store.create_schema(engine)
        store.index_new_events(engine, settings)
        hwm = store.indexed_up_to(engine)
        # A transaction took id hwm-3 but committed only after the indexer had passed it: free that id
        # (its event is already folded in) and commit the "late" event under it.
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM events WHERE id = :i"), {"i": hwm - 3})
        data = json.dumps(
            {
                "event": "user",
                "timestamp": time.time(),
                "text": "late",
                "parse_data": {"intent": {"name": "report_emergency", "confidence": 1.0}},
            }
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO events (id, sender_id, type_name, timestamp, intent_name, data) "
                    "VALUES (:i, 'conv-late-commit', 'user', :t, 'report_emergency', :d)"
                ),
                {"i": hwm - 3, "t": time.time(), "d": data},
            )
        assert store.index_new_events(engine, settings) == 0
        assert store.get_summary(engine, "conv-late-commit", 0.5) is None
        store.index_new_events(engine, settings, rescan=True)
        summary = store.get_summary(engine, "conv-late-commit", 0.5)
        assert summary is not None and summary["flag_emergency"]
        engine.dispose()


def test_app_starts_before_the_rasa_server_created_its_table(tmp_path):
    """`make run` may start the review app first: no `events` table yet is an empty list, not an error."""
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    assert cli(url, "create-user", "dave", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    with review_server(url, tmp_path / "log") as base:
        s = Staff(base).logged_in("dave")
        for path in ("/open", "/conversations", "/corrections", "/audit"):
            r = s.get(path)
            assert r.status_code == 200, path
        assert "No conversations match." in s.get("/conversations").text
        write_samples(url)  # now the Rasa server writes its first conversations
        assert "conv-emergency" in s.get("/conversations", flag="emergency").text
    engine = sa.create_engine(url)
    assert "events" in sa.inspect(engine).get_table_names()
    engine.dispose()


# ------------------------------------------------------------------ a failed action (the safe reply)


def _failed_action_conversation(t: float) -> list:
    """A turn whose action failed: the patient got the channel's safe reply, stored as the bot message
    marked metadata.failed_action (clinic_runtime/action_failures.py)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

    return [
        ActionExecuted("action_session_start", timestamp=t),
        SessionStarted(timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
        UserUttered(
            "how big is the scar",
            intent={"name": "ask_scarring", "confidence": 0.95},
            parse_data={
                "text": "how big is the scar",
                "intent": {"name": "ask_scarring", "confidence": 0.95},
                "entities": [],
                "intent_ranking": [{"name": "ask_scarring", "confidence": 0.95}],
            },
            timestamp=t + 1,
        ),
        ActionExecuted("action_answer_topic", timestamp=t + 2),
        BotUttered(
            "Sorry, I could not answer that just now.",
            metadata={"failed_action": "action_answer_topic"},
            timestamp=t + 2,
        ),
        ActionExecuted("action_listen", timestamp=t + 3),
    ]


def test_a_failed_action_is_flagged_filtered_and_an_open_item(fresh_db):
    from tests.review.conversations import write_conversations

    write_conversations(fresh_db, {"conv-failed": _failed_action_conversation(time.time() - 60)})
    settings = load_settings({"DATABASE_URL": fresh_db})
    engine = store.make_engine(settings)
    try:
        store.create_schema(engine)
        store.index_new_events(engine, settings)
        assert store.get_summary(engine, "conv-failed", 0.5)["flags"] == ["failed_action"]
        for flag in ("failed_action", "any"):  # the filter, and the open items (flagged, not reviewed)
            page = store.list_conversations(engine, store.ListFilter(flag=flag, reviewed=False), 0.5, 100)
            assert "conv-failed" in [r["sender_id"] for r in page.rows], flag
        failed = store.list_conversations(engine, store.ListFilter(flag="failed_action"), 0.5, 100)
        assert [r["sender_id"] for r in failed.rows] == ["conv-failed"], "no sample conversation has it"
        turns = store.build_transcript(store.conversation_events(engine, "conv-failed"), 0.5, True, {})
        assert [t.text for t in turns if "failed_action" in t.flags] == ["how big is the scar"]
        assert [s["failed_action"] for t in turns for s in t.steps if s["type"] == "bot"] == ["action_answer_topic"]
    finally:
        engine.dispose()


def test_a_database_from_before_the_failed_action_flag_gets_the_column(fresh_db):
    """create_all adds tables, not columns: an existing review database is given the new flag column."""
    settings = load_settings({"DATABASE_URL": fresh_db})
    engine = store.make_engine(settings)
    try:
        store.create_schema(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_review_conv_failed_action"))
            conn.execute(sa.text("ALTER TABLE review_conversations DROP COLUMN flag_failed_action"))
        store.create_schema(engine)
        inspector = sa.inspect(engine)
        assert "flag_failed_action" in {c["name"] for c in inspector.get_columns("review_conversations")}
        assert "ix_review_conv_failed_action" in {i["name"] for i in inspector.get_indexes("review_conversations")}
        store.index_new_events(engine, settings)
        assert store.get_summary(engine, "conv-emergency", 0.5)["flag_failed_action"] is False
    finally:
        engine.dispose()


def test_a_database_from_before_the_urgency_columns_gets_them_ranked(fresh_db):
    """An existing review database gets the urgency columns, ranked from its flags, so Open items are in
    urgency order at once; a rebuild then finds each conversation's worst message."""
    settings = load_settings({"DATABASE_URL": fresh_db})
    engine = store.make_engine(settings)
    try:
        store.create_schema(engine)
        store.index_new_events(engine, settings)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_review_conv_urgency"))
            for column in (
                "urgency",
                "worst_flag",
                "worst_text",
                "worst_ts",
                "worst_event_id",
                "worst_reason",
                "waiting_since",
            ):
                conn.execute(sa.text(f"ALTER TABLE review_conversations DROP COLUMN {column}"))
        store.create_schema(engine)
        assert "ix_review_conv_urgency" in {i["name"] for i in sa.inspect(engine).get_indexes("review_conversations")}
        ranked = store.list_open(engine, "any", 0.5, 100).rows
        by_id = {r["sender_id"]: r for r in ranked}
        assert ranked[0]["sender_id"] == "conv-emergency" and by_id["conv-emergency"]["worst_flag"] == "emergency"
        assert by_id["conv-callback"]["urgency"] == store.URGENCY_ORDER.index("callback")
        assert by_id["conv-feedback"]["worst_flag"] == "feedback"
        assert [r["urgency"] for r in ranked] == sorted(r["urgency"] for r in ranked)
        store.rebuild_index(engine, settings)
        row = store.get_summary(engine, "conv-callback", 0.5)
        # the patient's consent, not the form's answers (name, phone number, time) that followed it
        assert row["worst_flag"] == "callback" and row["worst_text"] == "yes please"
    finally:
        engine.dispose()


def test_the_review_app_shows_a_failed_action(tmp_path):
    from tests.review.conversations import write_conversations

    def seed(url: str) -> None:
        write_samples(url)
        write_conversations(url, {"conv-failed": _failed_action_conversation(time.time() - 60)})

    with (
        seeded_database("sqlite", tmp_path, seed, users=("erin",)) as url,
        logged_in_staff(url, tmp_path / "log", "erin") as staff,
    ):
        assert "conv-failed" in staff.get("/open").text
        listed = staff.get("/conversations", flag="failed_action")
        assert listed.status_code == 200 and "conv-failed" in listed.text and "conv-emergency" not in listed.text
        page = staff.get("/conversation", id="conv-failed").text
        assert 'class="flag flag-failed_action"' in page
        assert "<code>action_answer_topic</code> failed" in page


# ------------------------------------------------------------------ the audit log: no overwrite, hash chain


def _audit_engine(url: str):
    engine = store.make_engine(load_settings({"DATABASE_URL": url}))
    store.create_schema(engine)
    return engine


def _write_entries(engine, n: int) -> list:
    for i in range(n):
        with engine.begin() as conn:
            store.write_audit(conn, "alice", "view_conversation", f"conv-{i}", "127.0.0.1", json.dumps({"i": i}))
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT id FROM review_audit ORDER BY id"))]


def _overwrites(dialect: str) -> list:
    columns = "(id, ts, username, action, prev_hash, row_hash) VALUES (:id, 0, 'mallory', 'forged', 'x', 'y')"
    statements = [
        f"INSERT INTO review_audit {columns} ON CONFLICT (id) DO UPDATE SET action = 'forged'",
        f"INSERT INTO review_audit {columns} ON CONFLICT (id) DO NOTHING",
        f"INSERT INTO review_audit {columns}",
    ]
    if dialect == "sqlite":
        statements += [f"REPLACE INTO review_audit {columns}", f"INSERT OR REPLACE INTO review_audit {columns}"]
    return statements


def test_the_audit_log_refuses_an_insert_over_an_existing_entry(fresh_db):
    """SQLite's REPLACE deletes and re-inserts without firing the DELETE trigger; an upsert would
    rewrite the row (or silently skip). All are refused, on both databases."""
    engine = _audit_engine(fresh_db)
    try:
        ids = _write_entries(engine, 3)
        with engine.connect() as conn:
            before = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM review_audit ORDER BY id"))]
        for statement in _overwrites(engine.dialect.name):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(sa.text(statement), {"id": ids[1]})
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # not written by write_audit: no hash
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO review_audit (ts, action) VALUES (0, 'unchained')"))
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(sa.text("SELECT * FROM review_audit ORDER BY id"))] == before
        assert store.verify_audit_chain(engine).ok
    finally:
        engine.dispose()


def _drop_change_triggers(conn, dialect: str) -> None:
    if dialect == "sqlite":
        for name in ("review_audit_no_update", "review_audit_no_delete", "review_audit_no_overwrite"):
            conn.execute(sa.text(f"DROP TRIGGER {name}"))
    else:
        for name in ("review_audit_no_change", "review_audit_no_overwrite"):
            conn.execute(sa.text(f"DROP TRIGGER {name} ON review_audit"))


@pytest.mark.parametrize("tamper", ["edit", "delete", "replace_rehashed"])
def test_audit_verify_proves_the_chain_and_names_a_tampered_entry(fresh_db, tamper):
    """With the triggers dropped (someone with database access), a change is still found: the CLI
    (make audit-verify) fails and names the first entry that no longer fits."""
    engine = _audit_engine(fresh_db)
    try:
        ids = _write_entries(engine, 5)
        ok = cli(fresh_db, "audit-verify")
        assert ok.returncode == 0, ok.stderr
        assert "audit-verify: ok, 5 entries" in ok.stdout
        head = store.verify_audit_chain(engine).head
        assert head and head in ok.stdout
        victim = ids[2]
        with engine.begin() as conn:
            _drop_change_triggers(conn, engine.dialect.name)
            if tamper == "edit":
                conn.execute(sa.text("UPDATE review_audit SET target = 'conv-other' WHERE id = :id"), {"id": victim})
            elif tamper == "delete":
                conn.execute(sa.text("DELETE FROM review_audit WHERE id = :id"), {"id": victim})
            else:  # a forged entry in its place, hashed correctly onto the entry before it
                prev = conn.execute(
                    sa.text("SELECT row_hash FROM review_audit WHERE id = :id"), {"id": ids[1]}
                ).scalar()
                row = {"ts": 1.0, "username": "mallory", "action": "login", "target": None, "ip": None, "detail": None}
                conn.execute(sa.text("DELETE FROM review_audit WHERE id = :id"), {"id": victim})
                conn.execute(
                    sa.text(
                        "INSERT INTO review_audit (id, ts, username, action, prev_hash, row_hash) "
                        "VALUES (:id, 1.0, 'mallory', 'login', :prev, :hash)"
                    ),
                    {"id": victim, "prev": prev, "hash": store.audit_row_hash(prev, row)},
                )
        broken = cli(fresh_db, "audit-verify")  # also puts the triggers back (create_schema)
        assert broken.returncode == 1
        first_bad = victim if tamper == "edit" else ids[3]
        assert f"entry {first_bad} " in broken.stderr and "FAILED" in broken.stderr
        assert store.verify_audit_chain(engine).bad_id == first_bad
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM review_audit"))
    finally:
        engine.dispose()


def test_concurrent_audit_writers_keep_one_chain(fresh_db):
    """Writers serialise on the chain head: no two entries chain onto the same predecessor."""
    from concurrent.futures import ThreadPoolExecutor

    engine = _audit_engine(fresh_db)
    try:

        def write(worker: int) -> None:
            for i in range(10):
                with engine.begin() as conn:
                    store.write_audit(conn, f"user{worker}", "view_conversation", f"conv-{worker}-{i}")

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(write, range(4)))
        result = store.verify_audit_chain(engine)
        assert result.ok, result.error
        assert result.entries == 40 and result.unchained == 0
    finally:
        engine.dispose()


def test_an_audit_log_from_before_the_chain_is_upgraded_and_still_verifies(fresh_db):
    """Existing entries have no hashes: they are reported as older than the chain, and new entries chain."""
    engine = _audit_engine(fresh_db)
    try:
        with engine.begin() as conn:  # the audit table as an older version made it
            _drop_change_triggers(conn, engine.dialect.name)
            conn.execute(sa.text("ALTER TABLE review_audit DROP COLUMN row_hash"))
            conn.execute(sa.text("ALTER TABLE review_audit DROP COLUMN prev_hash"))
            conn.execute(
                sa.text(
                    "INSERT INTO review_audit (ts, username, action) VALUES (1.0, 'cli', 'create_user'), "
                    "(2.0, 'alice', 'login')"
                )
            )
        store.create_schema(engine)
        _write_entries(engine, 2)
        result = store.verify_audit_chain(engine)
        assert result.ok, result.error
        assert (result.entries, result.unchained) == (4, 2)
        assert "2 from before the chain" in cli(fresh_db, "audit-verify").stdout
    finally:
        engine.dispose()


# ------------------------------------------------------------------ login throttling (injected clock)


def _throttle_settings(url: str, **env: str):
    return load_settings(
        {
            "DATABASE_URL": url,
            "REVIEW_LOGIN_MAX_FAILURES": "3",
            "REVIEW_LOGIN_BACKOFF_SECONDS": "10",
            "REVIEW_LOGIN_WINDOW_MINUTES": "15",
            **env,
        }
    )


def _fail(engine, settings, username, ip=None, times=1, now=1_000_000.0):
    with engine.begin() as conn:
        for _ in range(times):
            auth.record_failure(conn, username, ip, now=now)


def _wait(engine, settings, username, ip=None, now=1_000_000.0) -> float:
    with engine.connect() as conn:
        return auth.login_wait(conn, settings, username, ip, now=now)


def test_an_account_backs_off_exponentially_after_failures(fresh_db):
    settings = _throttle_settings(fresh_db)
    engine = _audit_engine(fresh_db)
    try:
        t = 1_000_000.0
        _fail(engine, settings, "bob", times=2, now=t)
        assert _wait(engine, settings, "bob", now=t) == 0, "below login_max_failures: no wait"
        _fail(engine, settings, "bob", now=t)
        assert [_wait(engine, settings, "bob", now=t + dt) for dt in (0, 4, 10)] == [10, 6, 0]
        _fail(engine, settings, "bob", now=t + 10)  # 4th failure: 20 s
        assert _wait(engine, settings, "bob", now=t + 10) == 20
        _fail(engine, settings, "bob", now=t + 30)  # 5th: 40 s, then 80, 160, ... capped at the window
        assert _wait(engine, settings, "bob", now=t + 30) == 40
        _fail(engine, settings, "bob", times=10, now=t + 70)
        assert _wait(engine, settings, "bob", now=t + 70) == 15 * 60
        assert _wait(engine, settings, "bob", now=t + 70 + 15 * 60) == 0, "failures older than the window are forgotten"
        assert _wait(engine, settings, "BOB", now=t + 70) == 15 * 60, "user names are case-insensitive"
        with engine.begin() as conn:
            auth.clear_failures(conn, "bob")  # a successful login
        assert _wait(engine, settings, "bob", now=t + 71) == 0
    finally:
        engine.dispose()


def test_one_accounts_failures_never_lock_another_behind_one_address(fresh_db):
    """Behind the reverse proxy every staff member has the proxy's address: 20 failures of one account
    (or of several unknown names) must not lock anyone else out."""
    settings = _throttle_settings(fresh_db)
    engine = _audit_engine(fresh_db)
    try:
        for name in ("bob", "nobody1", "nobody2", "nobody3"):
            _fail(engine, settings, name, times=20)
        assert _wait(engine, settings, "alice") == 0, "no trusted client IP: no per-address limit"
        assert _wait(engine, settings, "alice", ip="203.0.113.7") == 0, "the address counted nothing yet"
        assert _wait(engine, settings, "bob") > 0
    finally:
        engine.dispose()


def test_the_per_address_limit_is_high_and_needs_a_trusted_address(fresh_db):
    settings = _throttle_settings(fresh_db, REVIEW_LOGIN_IP_MAX_FAILURES="30")
    engine = _audit_engine(fresh_db)
    try:
        t = 1_000_000.0
        _fail(engine, settings, "bob", ip="203.0.113.7", times=20, now=t)
        assert _wait(engine, settings, "alice", ip="203.0.113.7", now=t) == 0, "20 failures of bob do not lock alice"
        _fail(engine, settings, "carol", ip="203.0.113.7", times=10, now=t + 60)
        assert _wait(engine, settings, "alice", ip="203.0.113.7", now=t + 60) == 15 * 60 - 60
        assert _wait(engine, settings, "alice", ip="198.51.100.1", now=t + 60) == 0, "other addresses are not affected"
        assert _wait(engine, settings, "alice", ip=None, now=t + 60) == 0
        assert _wait(engine, settings, "alice", ip="203.0.113.7", now=t + 15 * 60) == 0, "bob's 20 left the window"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "peer, header, expected",
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.5", "198.51.100.9, 203.0.113.7", "203.0.113.7"),  # the left part is the client's own claim
        ("10.0.0.5", "203.0.113.7, 10.0.0.6", "203.0.113.7"),  # a second trusted proxy in the chain
        ("10.0.0.5", None, None),
        ("10.0.0.5", "not-an-ip", None),
        ("10.0.0.5", "10.0.0.6", None),  # only proxies: no client address
        ("192.0.2.1", "203.0.113.7", None),  # not from a trusted proxy: the header is not believed
    ],
)
def test_the_client_address_comes_only_from_a_trusted_proxys_header(peer, header, expected):
    trusted = load_settings({"REVIEW_TRUSTED_PROXIES": "10.0.0.5, 10.0.0.6/32"}).trusted_proxies
    assert auth.forwarded_client_ip(peer, header, trusted) == expected
    assert auth.forwarded_client_ip(peer, header, ()) is None, "no trusted proxy configured"


def test_trusted_proxies_must_be_addresses():
    with pytest.raises(ValueError, match="REVIEW_TRUSTED_PROXIES"):
        load_settings({"REVIEW_TRUSTED_PROXIES": "proxy.example"})


def test_over_http_failures_of_other_accounts_do_not_lock_a_colleague_out(tmp_path):
    """The clinic's proxy: every login comes from one address. 20 failed logins (of four names)
    used to lock every account; now only the failing accounts wait, and a trusted proxy's
    X-Forwarded-For is what the audit log records."""
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    write_samples(url)
    for name in ("gina", "hank"):
        assert cli(url, "create-user", name, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    with review_server(url, tmp_path / "log", REVIEW_TRUSTED_PROXIES="127.0.0.1") as base:
        for name in ("gina", "nobody1", "nobody2", "nobody3"):
            for _ in range(5):
                assert Staff(base).login(name, "wrong password here").status_code == 401
        assert Staff(base).login("hank").status_code == 303, "another account is not locked"
        blocked = Staff(base).login("gina")
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
        assert "wait 1 minute " in blocked.text
        colleague = Staff(base)
        colleague.http.headers["X-Forwarded-For"] = "203.0.113.7"
        assert colleague.login("hank").status_code == 303
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ips = [r[0] for r in conn.execute(sa.text("SELECT ip FROM review_audit WHERE action = 'login' ORDER BY id"))]
    engine.dispose()
    assert ips == ["127.0.0.1", "203.0.113.7"]
