"""A real HTTP receiver for the review app's outgoing alerts (the app itself: tests.support.review_app)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Tuple

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
