"""Start the real action server and Rasa server as subprocesses (used by tests and bench/)."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 240.0) -> None:
    """Poll ``url`` until it answers 200, failing early if ``proc`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


def rss_mb(pid: int) -> float:
    """Resident memory of a process (and its children), in MiB, from /proc."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def _stop(proc: Optional[subprocess.Popen]) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Servers:
    """The two running servers; each can be stopped and started again (fault-injection tests)."""

    rasa_url: str
    action_url: str
    db: Path
    workdir: Path
    env: Dict[str, str]
    rasa_cmd: List[str]
    action_cmd: List[str]
    rasa: Optional[subprocess.Popen] = None
    actions: Optional[subprocess.Popen] = None

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def _spawn(self, cmd: List[str], log_name: str) -> subprocess.Popen:
        with open(self.workdir / log_name, "a") as log:
            return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_actions(self) -> None:
        self.actions = self._spawn(self.action_cmd, "actions.log")
        wait_for(f"{self.action_url}/health", self.actions)

    def start_rasa(self) -> None:
        self.rasa = self._spawn(self.rasa_cmd, "rasa.log")
        wait_for(f"{self.rasa_url}/", self.rasa)

    def stop_actions(self) -> None:
        _stop(self.actions)

    def stop_rasa(self) -> None:
        _stop(self.rasa)


@contextmanager
def running_servers(
    workdir: Path,
    extra_env: Optional[Dict[str, str]] = None,
    endpoints_extra: str = "",
    credentials: Optional[Path] = None,
    rasa_args: Sequence[str] = (),
    tracker_store: str = "clinic_store.tracker_store.CachingSQLTrackerStore",
    database_url: Optional[str] = None,
    action_endpoint: Optional[str] = None,
) -> Iterator[Servers]:
    """Action server + Rasa server on free loopback ports, SQLite tracker store in ``workdir``.

    ``credentials`` replaces the repo's credentials.yml (e.g. to test other channel limits).
    ``rasa_args`` are added to ``rasa run`` (e.g. ``["--cors", "http://127.0.0.1:8080"]``).
    ``tracker_store`` is the store's ``type`` (``SQL`` for Rasa's own, for comparisons);
    ``database_url`` replaces the SQLite file in ``workdir`` (e.g. a PostgreSQL URL).
    ``action_endpoint`` is the URL Rasa calls for actions instead of the action server's own (e.g. a
    recording proxy in front of it).
    """
    db = workdir / "tracker.db"
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "{action_endpoint or f"http://127.0.0.1:{action_port}/webhook"}"\n'
        '  enable_selective_domain: true\n'
        f'tracker_store:\n  type: {tracker_store}\n'
        + (f'  url: "{database_url}"\n' if database_url else f'  dialect: "sqlite"\n  db: "{db}"\n')
        + endpoints_extra
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    env.update(extra_env or {})
    servers = Servers(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        db=db,
        workdir=workdir,
        env=env,
        rasa_cmd=[str(VENV_BIN / "python"), "-m", "clinic_runtime", "run", "--model", "models", "--endpoints", str(endpoints),
                  "--credentials", str(credentials or ROOT / "credentials.yml"), "--interface", "127.0.0.1",
                  "--port", str(rasa_port), *rasa_args],
        action_cmd=[str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
    )
    try:
        servers.actions = servers._spawn(servers.action_cmd, "actions.log")
        servers.start_rasa()
        wait_for(f"{servers.action_url}/health", servers.actions)
        yield servers
    finally:
        servers.stop_rasa()
        servers.stop_actions()
