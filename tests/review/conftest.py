"""Fixtures of the review-app tests: a database with realistic events (written by Rasa's own
SQLTrackerStore), on SQLite and, when a server is reachable, on PostgreSQL; a real review server.

PostgreSQL: ``REVIEW_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) is the
admin connection; each run creates ``review_test_<random>`` and drops it afterwards. If no server is
reachable the PostgreSQL tests are skipped with a reason that ``pytest -ra`` prints.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.review.conversations import NLU_FIXTURE, write_samples  # noqa: E402
from tests.support import chromium  # noqa: E402
from tests.support.review_app import PASSWORD, cli, review_server  # noqa: E402

PG_ADMIN_URL = os.environ.get("REVIEW_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin():
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        engine.dispose()
        pytest.skip(
            f"PostgreSQL not reachable at {PG_ADMIN_URL.split('@')[-1]}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''} (set REVIEW_TEST_PG_URL to run these tests)"
        )
    return engine


def make_database(kind: str, tmp_dir: Path):
    """Context manager: a fresh database URL of ``kind`` ('sqlite' or 'postgresql')."""

    @contextlib.contextmanager
    def _cm() -> Iterator[str]:
        if kind == "sqlite":
            yield f"sqlite:///{tmp_dir / 'rasa.db'}"
            return
        import sqlalchemy as sa

        admin = _pg_admin()
        name = f"review_test_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    return _cm()


@contextlib.contextmanager
def seeded_database(
    kind: str, tmp_dir: Path, seed: Callable[[str], object], users: Iterable[str] = ("alice",)
) -> Iterator[str]:
    """A fresh database of ``kind`` (``make_database``) filled by ``seed(url)``, in which each of
    ``users`` has an account with the tests' ``PASSWORD`` (made by ``review.cli create-user``); yields
    its URL. A PostgreSQL one is dropped afterwards; without a server the test is skipped.

    The shape a test module's database fixture shares: the fixture keeps its own name, scope, backend
    ``params`` and seed data, e.g.
    ``with seeded_database(request.param, tmp, lambda url: write_conversations(url, ...)) as url``.
    """
    with make_database(kind, tmp_dir) as url:
        seed(url)
        for user in users:
            result = cli(url, "create-user", user, "--password-stdin", stdin=PASSWORD + "\n")
            assert result.returncode == 0, result.stderr
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory) -> Iterator[str]:
    kind = request.param
    with seeded_database(kind, tmp_path_factory.mktemp(f"db-{kind}"), write_samples, users=("alice", "bob")) as url:
        yield url


@pytest.fixture(scope="session")
def nlu_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nlu") / "nlu.yml"
    path.write_text(NLU_FIXTURE, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def server_log(tmp_path_factory, db_url) -> Path:
    return tmp_path_factory.mktemp("log") / "review-server.log"


@pytest.fixture(scope="session")
def server(db_url, server_log, nlu_file) -> Iterator[str]:
    with review_server(db_url, server_log, REVIEW_PAGE_SIZE="4", REVIEW_NLU_FILE=str(nlu_file)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = chromium.launch(p)
        try:
            yield b
        finally:
            b.close()
