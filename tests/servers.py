"""Start the real action server and Rasa server as subprocesses (used by tests and bench/)."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence

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


@dataclass
class Servers:
    rasa_url: str
    action_url: str
    db: Path
    rasa: subprocess.Popen
    actions: subprocess.Popen

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"


@contextmanager
def running_servers(
    workdir: Path,
    extra_env: Optional[Dict[str, str]] = None,
    endpoints_extra: str = "",
    credentials: Optional[Path] = None,
    rasa_args: Sequence[str] = (),
) -> Iterator[Servers]:
    """Action server + Rasa server on free loopback ports, SQLite tracker store in ``workdir``.

    ``credentials`` replaces the repo's credentials.yml (e.g. to test other channel limits).
    ``rasa_args`` are added to ``rasa run`` (e.g. ``["--cors", "http://127.0.0.1:8080"]``).
    """
    db = workdir / "tracker.db"
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n' + endpoints_extra
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    env.update(extra_env or {})
    logs = [open(workdir / "actions.log", "w"), open(workdir / "rasa.log", "w")]
    actions = subprocess.Popen(
        [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [str(VENV_BIN / "rasa"), "run", "--model", "models", "--endpoints", str(endpoints),
         "--credentials", str(credentials or ROOT / "credentials.yml"), "--interface", "127.0.0.1", "--port", str(rasa_port), *rasa_args],
        cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{action_port}/health", actions)
        wait_for(f"http://127.0.0.1:{rasa_port}/", rasa)
        yield Servers(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", db, rasa, actions)
    finally:
        for p in (rasa, actions):
            p.terminate()
        for p in (rasa, actions):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()
