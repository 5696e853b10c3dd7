"""Start the review app as a real server (subprocess) and talk to it over HTTP like a browser."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CONV_LINK_RE = re.compile(r'href="/conversation\?id=([^"&]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(db_url: str, **extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": db_url, "REVIEW_SECURE_COOKIES": "false", "REVIEW_INDEX_INTERVAL": "1",
                "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def cli(db_url: str, *args: str, stdin: Optional[str] = None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "review.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=base_env(db_url, **env), timeout=timeout)


@contextmanager
def review_server(db_url: str, log_path: Path, **env: str) -> Iterator[str]:
    port = free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([PYTHON, "-m", "review.cli", "serve", "--port", str(port)], cwd=ROOT,
                                env=base_env(db_url, **env), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"review server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(url)
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Staff:
    """A browser-like client: cookie jar, CSRF token from the last page, no automatic redirects."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.csrf: Optional[str] = None

    def get(self, path: str, **params) -> requests.Response:
        r = self.http.get(self.base + path, params=params or None, allow_redirects=False, timeout=30)
        m = CSRF_RE.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, path: str, data: Optional[dict] = None, csrf: bool = True) -> requests.Response:
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


def conversation_ids(html: str):
    """Conversation ids linked from a list page, in page order (duplicates removed)."""
    out = []
    for raw in CONV_LINK_RE.findall(html):
        sid = parse_qs("id=" + raw)["id"][0]
        if sid not in out:
            out.append(sid)
    return out


def location_query(resp: requests.Response) -> Dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(resp.headers["location"]).query).items()}


DEADLINE = 60.0  # seconds: a generous bound on waiting for a condition, never a timing assertion


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST (path, content type, body); ``/fail``
    answers 500. Tests wait on what it received (a condition variable), never on the clock."""

    def __init__(self) -> None:
        received: List[Tuple[str, str, bytes]] = []
        cond = threading.Condition()
        self.received, self.cond = received, cond

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with cond:
                    received.append((self.path, self.headers.get("Content-Type", ""), body))
                    cond.notify_all()
                self.send_response(500 if self.path == "/fail" else 204)
                self.end_headers()

            def log_message(self, *args):  # keep test output quiet
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def alerts(self, path: str = "/hook") -> List[dict]:
        return [json.loads(body) for p, _, body in list(self.received) if p == path]

    def wait_until(self, condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> None:
        """Block until ``condition()`` is true after some POST (checked now and on each arrival)."""
        with self.cond:
            if not self.cond.wait_for(condition, timeout=deadline):
                raise AssertionError(f"gave up waiting for {what}")

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
