"""The staff review app as a real server (subprocess), its command line, and a browser-like client.

Used by the review tests, the cluster tests and bench/review_list_bench.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import parse_qs, urlparse

import requests

from tests.support.process import PYTHON, ROOT, ServerProcess, free_port, http_ok, running_process

PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CONV_LINK_RE = re.compile(r'href="/conversation\?id=([^"&]+)"')
READY_DEADLINE = 60.0  # seconds: a bound on the app's start, not an expectation


def base_env(db_url: str, **extra: str) -> Dict[str, str]:
    """This environment with the review app pointed at ``db_url`` over plain HTTP, plus ``extra``."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "REVIEW_SECURE_COOKIES": "false",
            "REVIEW_INDEX_INTERVAL": "1",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def cli(
    db_url: str, *args: str, stdin: Optional[str] = None, timeout: float = 120, **env: str
) -> "subprocess.CompletedProcess[str]":
    """``python -m review.cli ARGS`` against ``db_url``, output captured."""
    return subprocess.run(
        [PYTHON, "-m", "review.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=base_env(db_url, **env),
        timeout=timeout,
    )


@contextmanager
def review_server(db_url: str, log_path: Path, **env: str) -> Iterator[str]:
    """``review.cli serve`` on a free loopback port, yielding its URL once ``/healthz`` answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        "review app", [PYTHON, "-m", "review.cli", "serve", "--port", str(port)], base_env(db_url, **env), log_path
    )
    with running_process(server, lambda: http_ok(url + "/healthz", timeout=1), READY_DEADLINE, "healthy"):
        yield url


class Staff:
    """A browser-like client: cookie jar, CSRF token from the last page, no automatic redirects."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.csrf: Optional[str] = None

    def get(self, path: str, **params: Any) -> requests.Response:
        r = self.http.get(self.base + path, params=params or None, allow_redirects=False, timeout=30)
        m = CSRF_RE.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, path: str, data: Optional[Dict[str, Any]] = None, csrf: bool = True) -> requests.Response:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=60)

    def login(self, username: str = "alice", password: str = PASSWORD) -> requests.Response:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})

    def logged_in(self, username: str = "alice") -> "Staff":
        r = self.login(username)
        assert r.status_code == 303 and r.headers["location"] == "/", r.text[:500]  # the dashboard
        self.get("/open")
        return self


@contextmanager
def logged_in_staff(db_url: str, log_path: Path, user: str = "alice", **env: str) -> Iterator[Staff]:
    """``review_server(db_url, log_path, **env)`` and a ``Staff`` client logged in to it as ``user``
    (with ``PASSWORD``, landing on the dashboard); the server stops when the block ends."""
    with review_server(db_url, log_path, **env) as base:
        yield Staff(base).logged_in(user)


def conversation_ids(html: str) -> List[str]:
    """Conversation ids linked from a list page, in page order (duplicates removed)."""
    out: List[str] = []
    for raw in CONV_LINK_RE.findall(html):
        sid = parse_qs("id=" + raw)["id"][0]
        if sid not in out:
            out.append(sid)
    return out


def location_query(resp: requests.Response) -> Dict[str, str]:
    """The query parameters of a redirect's ``Location``."""
    return {k: v[0] for k, v in parse_qs(urlparse(resp.headers["location"]).query).items()}
