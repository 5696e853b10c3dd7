"""The real action server and Rasa server of a checkout, as subprocesses on free loopback ports.

Used by the integration tests (this checkout) and by bench/ (bench/compare_revisions.py runs two
checkouts with this repository's ``.venv``). Each server logs to ``rasa.log`` / ``actions.log`` in
the work directory; each can be stopped, killed and started again (fault-injection tests).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

from tests.support.process import ROOT, VENV_BIN, ServerProcess, free_ports

READY_DEADLINE = 240.0  # seconds: a model load on a busy shared machine; a bound, not an expectation


def rss_mib(pids: Sequence[int]) -> float:
    """Resident memory of the processes ``pids`` together, in MiB, from /proc (a process gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its direct children, in MiB, from /proc."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return rss_mib(pids)


def server_env(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment both servers run with: this one, quiet, loopback only, plus ``extra``."""
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SANIC_HOST": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


def rasa_command(checkout: Path) -> List[str]:
    """How ``checkout`` starts its Rasa server: through its runtime layer (``python -m clinic_runtime``)
    when it has one, else the plain ``rasa`` command (checkouts from before the layer)."""
    if (checkout / "clinic_runtime" / "__main__.py").exists():
        return [str(VENV_BIN / "python"), "-m", "clinic_runtime"]
    return [str(VENV_BIN / "rasa")]


@dataclass
class Servers:
    """The two running servers; each can be stopped, killed and started again."""

    rasa_url: str
    action_url: str
    db: Path
    workdir: Path
    env: Dict[str, str]
    rasa: ServerProcess
    actions: ServerProcess

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def start_actions(self) -> None:
        self.actions.start()
        self.wait_actions()

    def wait_actions(self) -> None:
        self.actions.wait_http(f"{self.action_url}/health", READY_DEADLINE)

    def start_rasa(self) -> None:
        self.rasa.start()
        self.wait_rasa()

    def wait_rasa(self) -> None:
        self.rasa.wait_http(f"{self.rasa_url}/", READY_DEADLINE)

    def stop_actions(self) -> None:
        self.actions.stop()

    def stop_rasa(self) -> None:
        self.rasa.stop()


@contextmanager
def running_servers(
    workdir: Path,
    extra_env: Optional[Dict[str, str]] = None,
    endpoints_extra: str = "",
    credentials: Optional[Path] = None,
    rasa_args: Sequence[str] = (),
    tracker_store: str = "clinic_store.tracker_store.CachingSQLTrackerStore",
    database_url: Optional[str] = None,
    checkout: Path = ROOT,
    action_endpoint: Optional[str] = None,
) -> Iterator[Servers]:
    """Action server + Rasa server of ``checkout`` on free loopback ports, SQLite tracker store in
    ``workdir``; both stopped afterwards (their whole process groups), also on failure.

    ``credentials`` replaces the checkout's credentials.yml (e.g. to test other channel limits).
    ``rasa_args`` are added to ``rasa run`` (e.g. ``["--cors", "http://127.0.0.1:8080"]``).
    ``tracker_store`` is the store's ``type`` (``SQL`` for Rasa's own, for comparisons);
    ``database_url`` replaces the SQLite file in ``workdir`` (e.g. a PostgreSQL URL).
    ``checkout`` is the working copy whose code and ``models/`` run (this one by default).
    ``action_endpoint`` is the URL Rasa calls for actions instead of the action server's own (e.g. a
    recording proxy in front of it).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "tracker.db"
    action_port, rasa_port = free_ports(2)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "{action_endpoint or f"http://127.0.0.1:{action_port}/webhook"}"\n'
        '  enable_selective_domain: true\n'
        f'tracker_store:\n  type: {tracker_store}\n'
        + (f'  url: "{database_url}"\n' if database_url else f'  dialect: "sqlite"\n  db: "{db}"\n')
        + endpoints_extra
    )
    env = server_env(extra_env)
    rasa_cmd = [
        *rasa_command(checkout),
        "run",
        "--model",
        "models",
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials or checkout / "credentials.yml"),
        "--interface",
        "127.0.0.1",
        "--port",
        str(rasa_port),
        *rasa_args,
    ]
    action_cmd = [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)]
    servers = Servers(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        db=db,
        workdir=workdir,
        env=env,
        rasa=ServerProcess("Rasa server", rasa_cmd, env, workdir / "rasa.log", cwd=checkout),
        actions=ServerProcess("action server", action_cmd, env, workdir / "actions.log", cwd=checkout),
    )
    try:
        servers.actions.start()  # both load at once; the action server is checked once Rasa is up
        servers.start_rasa()
        servers.wait_actions()
        yield servers
    finally:
        servers.stop_rasa()
        servers.stop_actions()
