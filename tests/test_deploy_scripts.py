"""deploy/migrate.py (the tables before the servers start) and deploy/healthcheck.py (the images'
HEALTHCHECK), run as the containers run them: as scripts, against a real database and real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration  # runs the scripts as other programs, against a database and HTTP

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def run(script: str, *args: str, env: dict = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, str(ROOT / "deploy" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **(env or {})},
    )


def tables(url: str) -> set:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_creates_the_tracker_and_review_tables_and_can_run_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    first = run("migrate.py", env={"DATABASE_URL": url})
    assert first.returncode == 0, first.stderr
    created = tables(url)
    assert "events" in created and any(t.startswith("review_") for t in created)
    again = run("migrate.py", env={"DATABASE_URL": url})
    assert again.returncode == 0, again.stderr
    assert tables(url) == created


def test_wait_returns_once_the_tables_exist_and_fails_when_they_never_do(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    missing = run("migrate.py", "--wait", env={"DATABASE_URL": url, "MIGRATE_WAIT_SECONDS": "1"})
    assert missing.returncode == 1 and "LookupError" in missing.stderr
    assert "events" not in tables(url)  # waiting creates nothing
    assert run("migrate.py", env={"DATABASE_URL": url}).returncode == 0
    ready = run("migrate.py", "--wait", env={"DATABASE_URL": url, "MIGRATE_WAIT_SECONDS": "1"})
    assert ready.returncode == 0, ready.stderr


def test_migrate_without_a_database_url_says_so():
    result = run("migrate.py", env={"DATABASE_URL": ""})
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr


@pytest.fixture
def http_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_healthcheck_passes_on_200_and_fails_otherwise(http_server):
    assert run("healthcheck.py", http_server + "/ok", timeout=60).returncode == 0
    assert run("healthcheck.py", http_server + "/degraded", timeout=60).returncode == 1
    closed = http_server.rsplit(":", 1)[0] + ":9"  # discard port: nothing listens
    assert run("healthcheck.py", closed, timeout=60).returncode == 1
    assert run("healthcheck.py", timeout=60).returncode == 1  # no URL given
