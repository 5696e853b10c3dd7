"""Start a server as a subprocess, wait until it is ready, and stop it with everything it started.

Readiness is a condition (usually "this URL answers 200") polled until a deadline, never a fixed
sleep; the process dying first ends the wait at once. Each server runs in its own process group and
writes to its own log file, whose tail is in the error when the server does not become ready.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Optional, Sequence

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
POLL_INTERVAL = 0.2  # seconds between two checks of a condition (the deadline bounds the wait)
LOG_TAIL = 4000  # characters of a server's log shown when it fails


def free_ports(n: int) -> List[int]:
    """``n`` different free loopback ports (all bound at once, so none is handed out twice)."""
    sockets: List[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    """One free loopback port."""
    return free_ports(1)[0]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether a GET of ``url`` answers 200 (a connection error or another status is False)."""
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def wait_until(
    condition: Callable[[], object],
    what: str,
    deadline: float = 60.0,
    interval: float = POLL_INTERVAL,
    details: Optional[Callable[[], str]] = None,
) -> None:
    """Poll ``condition`` until it is true; ``TimeoutError`` naming ``what`` after ``deadline`` seconds.

    ``details`` adds context to the error (e.g. a log's tail). The deadline bounds the wait: a
    condition met early returns early, so nothing depends on how fast the machine is.
    """
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            extra = details() if details else ""
            raise TimeoutError(f"not seen within {deadline:.0f} s: {what}" + (f"\n{extra}" if extra else ""))
        time.sleep(interval)


@dataclass
class ServerProcess:
    """One server: its command, environment and log file, and the running process once started.

    ``start`` may be called again after ``stop`` or ``kill`` (fault tests restart a server with the
    same command, port and environment); the log file is appended to.
    """

    name: str
    cmd: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path = ROOT
    proc: Optional["subprocess.Popen[bytes]"] = field(default=None, repr=False)

    def start(self) -> "ServerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                list(self.cmd),
                cwd=self.cwd,
                env=dict(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = LOG_TAIL) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- last lines of {self.log_path} ---\n{text[-chars:]}"

    def wait_ready(self, ready: Callable[[], object], deadline: float = 240.0, what: str = "ready") -> None:
        """Poll ``ready`` until true; fails at once if the process exits, or after ``deadline`` seconds,
        with the log's tail in the error."""
        end = time.monotonic() + deadline
        while True:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise RuntimeError(f"{self.name} exited with code {code} before it was {what}\n{self.log_tail()}")
            if ready():
                return
            if time.monotonic() > end:
                raise TimeoutError(f"{self.name} not {what} after {deadline:.0f} s\n{self.log_tail()}")
            time.sleep(POLL_INTERVAL)

    def wait_http(self, url: str, deadline: float = 240.0) -> None:
        """Wait until ``url`` answers 200."""
        self.wait_ready(lambda: http_ok(url), deadline, f"answering 200 at {url}")

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM the process group, wait until every member has gone (``grace`` seconds), then
        SIGKILL whatever is left. Safe to call on a stopped or never started server."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM, grace)
        self._signal_group(signal.SIGKILL, 10.0)

    def kill(self) -> None:
        """SIGKILL the process group at once (a crash, for fault tests) and reap it."""
        if self.proc is not None:
            self._signal_group(signal.SIGKILL, 10.0)

    def _signal_group(self, sig: int, wait: float) -> None:
        assert self.proc is not None
        pgid = self.proc.pid  # start_new_session: the process leads its own group
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            self.proc.poll()
            return
        end = time.monotonic() + wait
        while time.monotonic() < end:
            self.proc.poll()  # reap the leader (a zombie still counts as a member of the group)
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


@contextmanager
def running_process(
    server: ServerProcess, ready: Callable[[], object], deadline: float = 240.0, what: str = "ready"
) -> Iterator[ServerProcess]:
    """``server`` started and ready; stopped (with its whole process group) afterwards, also on failure."""
    try:
        server.start()
        server.wait_ready(ready, deadline, what)
        yield server
    finally:
        server.stop()
