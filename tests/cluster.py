"""Start the scale-out stack (scripts/run_cluster.sh: nginx, Rasa replicas, action servers, review app)
for tests and bench/, on free loopback ports, with a fresh PostgreSQL database and a unique Redis key
prefix; stop every process and drop the database afterwards, also on failure.

PostgreSQL: ``CLUSTER_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) is the
admin connection; each cluster gets ``cluster_test_<random>``. Redis: ``CLUSTER_TEST_REDIS``
(default ``127.0.0.1:6379``), db 1, key prefix ``clustertest<random>`` (its keys are deleted after).
:func:`services_unreachable` says why the cluster cannot run (tests skip with that reason).
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests


ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "run_cluster.sh"
PG_ADMIN_URL = os.environ.get("CLUSTER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_ADDR = os.environ.get("CLUSTER_TEST_REDIS", "127.0.0.1:6379")
REDIS_DB = 1
LOAD_CREDENTIALS = ROOT / "bench" / "credentials.load.yml"


def free_ports(n: int) -> List[int]:
    """``n`` different free loopback ports (all bound at once, so none is handed out twice)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _redis():
    import redis

    host, port = REDIS_ADDR.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), db=REDIS_DB, socket_timeout=3, socket_connect_timeout=3)


def _pg_admin():
    import sqlalchemy as sa

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def services_unreachable() -> Optional[str]:
    """None if PostgreSQL and Redis answer, else a sentence saying which does not (a skip reason)."""
    import sqlalchemy as sa

    problems = []
    engine = _pg_admin()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as error:  # noqa: BLE001
        problems.append(f"PostgreSQL not reachable at {PG_ADMIN_URL.split('@')[-1]} ({type(error).__name__})")
    finally:
        engine.dispose()
    try:
        _redis().ping()
    except Exception as error:  # noqa: BLE001
        problems.append(f"Redis not reachable at {REDIS_ADDR} ({type(error).__name__})")
    if not problems:
        return None
    return "; ".join(problems) + ": scale-out tests skipped (scripts/services.sh starts both)"


@dataclass
class Cluster:
    """A running cluster: URLs, database, and the processes' pid files (to kill one replica)."""

    public_url: str  # nginx -> Rasa replicas
    action_url: str  # nginx -> action servers
    rasa_urls: List[str]  # each replica directly
    review_url: Optional[str]
    db_url: str
    redis_prefix: str
    workdir: Path
    env: Dict[str, str]
    proc: subprocess.Popen = field(repr=False)

    def pid(self, name: str) -> int:
        """Pid of ``rasa-1``, ``actions-2``, ``nginx``, ``review`` (numbering from 1)."""
        return int((self.workdir / "pids" / f"{name}.pid").read_text().strip())

    def kill_rasa(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Kill replica ``index`` (0-based, as in ``rasa_urls``)."""
        os.kill(self.pid(f"rasa-{index + 1}"), sig)

    def log(self, name: str) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def output(self) -> str:
        path = self.workdir / "run_cluster.out"
        return path.read_text(errors="replace") if path.exists() else ""


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the script's process group (its trap stops the children too), then SIGKILL what is left."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = proc.pid
    for sig, wait in ((signal.SIGTERM, 40), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            proc.poll()  # reap the script itself (a zombie still counts as a group member)
            try:
                os.killpg(pgid, 0)  # anything left in the group?
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            continue
        break
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _wait_ready(cluster: Cluster, timeout: float) -> None:
    urls = [f"{u}/webhooks/patient/health" for u in cluster.rasa_urls] + [f"{cluster.public_url}/webhooks/patient/health"]
    if cluster.review_url:
        urls.append(f"{cluster.review_url}/healthz")
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        if cluster.proc.poll() is not None:
            raise RuntimeError(f"run_cluster.sh exited with {cluster.proc.returncode}:\n{cluster.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"cluster not ready after {timeout:.0f} s: {pending}\n{cluster.output()[-3000:]}")
        for url in list(pending):
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    pending.remove(url)
            except requests.RequestException:
                pass
        time.sleep(0.5)


@contextmanager
def running_cluster(
    workdir: Path,
    n_rasa: int = 2,
    n_actions: int = 2,
    credentials: Path = LOAD_CREDENTIALS,
    review: bool = True,
    extra_env: Optional[Dict[str, str]] = None,
    ready_timeout: float = 300.0,
) -> Iterator[Cluster]:
    """A cluster from scripts/run_cluster.sh on free ports with its own database and Redis prefix.

    ``credentials`` defaults to bench/credentials.load.yml (rate limits raised: all test traffic
    comes from 127.0.0.1). ``extra_env`` is added to the script's environment (e.g.
    ``TICKET_LOCK_LIFETIME``, ``REVIEW_SECURE_COOKIES``).
    """
    import sqlalchemy as sa

    token = secrets.token_hex(4)
    db_name = f"cluster_test_{token}"
    prefix = f"clustertest{token}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    db_url = admin.url.set(database=db_name).render_as_string(hide_password=False)
    ports = free_ports(n_rasa + n_actions + 3)
    rasa_ports, action_ports = ports[:n_rasa], ports[n_rasa:n_rasa + n_actions]
    public_port, action_port, review_port = ports[-3:]
    redis_host, redis_port = REDIS_ADDR.rsplit(":", 1)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "N_RASA": str(n_rasa),
        "N_ACTIONS": str(n_actions),
        "RASA_REPLICA_PORTS": " ".join(map(str, rasa_ports)),
        "ACTION_REPLICA_PORTS": " ".join(map(str, action_ports)),
        "RASA_PORT": str(public_port),
        "ACTION_PORT": str(action_port),
        "PUBLIC_HOST": "127.0.0.1",
        "REVIEW_HOST": "127.0.0.1",
        "REVIEW_PORT": str(review_port) if review else "off",
        "REVIEW_SECURE_COOKIES": "false",
        "REVIEW_INDEX_INTERVAL": "1",
        "CLUSTER_DATABASE_URL": db_url,
        "REDIS_HOST": redis_host,
        "REDIS_PORT": redis_port,
        "REDIS_DB": str(REDIS_DB),
        "REDIS_KEY_PREFIX": prefix,
        "CREDENTIALS": str(credentials),
        "CLUSTER_DIR": str(workdir),
        "PATIENT_SESSION_SECRET": secrets.token_hex(32),
        "CLINIC_PHONE": "",
        "CLINIC_EMAIL": "",
    }
    env.pop("DATABASE_URL", None)
    env.update(extra_env or {})
    proc: Optional[subprocess.Popen] = None
    try:
        with open(workdir / "run_cluster.out", "ab") as out:
            proc = subprocess.Popen(["bash", str(SCRIPT)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        cluster = Cluster(
            public_url=f"http://127.0.0.1:{public_port}",
            action_url=f"http://127.0.0.1:{action_port}",
            rasa_urls=[f"http://127.0.0.1:{p}" for p in rasa_ports],
            review_url=f"http://127.0.0.1:{review_port}" if review else None,
            db_url=db_url,
            redis_prefix=prefix,
            workdir=workdir,
            env={**env, "DATABASE_URL": db_url},
            proc=proc,
        )
        _wait_ready(cluster, ready_timeout)
        yield cluster
    finally:
        if proc is not None:
            _stop(proc)
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        finally:
            admin.dispose()
        try:
            client = _redis()
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        except Exception:  # noqa: BLE001 - best effort; the prefix is unique to this run
            pass
