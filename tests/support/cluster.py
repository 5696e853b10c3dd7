"""Start the scale-out stack (scripts/run_cluster.sh: nginx, Rasa replicas, action servers, review app)
for tests and bench/ on free loopback ports, with a fresh PostgreSQL database and a unique Redis key
prefix; stop every process (the script's process group) and drop the database afterwards, also on
failure.

PostgreSQL: ``CLUSTER_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) is the
admin connection; each cluster gets ``cluster_test_<random>``. Redis: ``CLUSTER_TEST_REDIS``
(default ``127.0.0.1:6379``), db 1, key prefix ``clustertest<random>`` (its keys are deleted after).
:func:`services_unreachable` says why the cluster cannot run (tests skip with that reason).
"""

from __future__ import annotations

import os
import secrets
import signal
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from tests.support.process import ROOT, ServerProcess, free_ports, http_ok

SCRIPT = ROOT / "scripts" / "run_cluster.sh"
PG_ADMIN_URL = os.environ.get("CLUSTER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_ADDR = os.environ.get("CLUSTER_TEST_REDIS", "127.0.0.1:6379")
REDIS_DB = 1
LOAD_CREDENTIALS = ROOT / "bench" / "credentials.load.yml"


def redis_client() -> Any:
    """A client of the test Redis database (``REDIS_ADDR``, db ``REDIS_DB``)."""
    import redis

    host, port = REDIS_ADDR.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), db=REDIS_DB, socket_timeout=3, socket_connect_timeout=3)


def _pg_admin() -> Any:
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
        redis_client().ping()
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
    process: ServerProcess = field(repr=False)

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
        path = self.process.log_path
        return path.read_text(errors="replace") if path.exists() else ""


def _wait_ready(cluster: Cluster, deadline: float) -> None:
    """Every replica, the proxy and the review app answer their health URL (each checked until it does)."""
    pending = [f"{u}/webhooks/patient/health" for u in cluster.rasa_urls]
    pending.append(f"{cluster.public_url}/webhooks/patient/health")
    if cluster.review_url:
        pending.append(f"{cluster.review_url}/healthz")

    def all_healthy() -> bool:
        pending[:] = [url for url in pending if not http_ok(url)]
        return not pending

    cluster.process.wait_ready(all_healthy, deadline, "healthy (replicas, proxy, review app)")


@contextmanager
def running_cluster(
    workdir: Path,
    n_rasa: int = 2,
    n_actions: int = 2,
    credentials: Path = LOAD_CREDENTIALS,
    review: bool = True,
    extra_env: Optional[Dict[str, str]] = None,
    ready_timeout: float = 600.0,  # a bound for model loads on a busy shared machine, not an expectation
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
    rasa_ports, action_ports = ports[:n_rasa], ports[n_rasa : n_rasa + n_actions]
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
    # The script's trap stops its children on SIGTERM; anything left in the group is killed after.
    process = ServerProcess("run_cluster.sh", ["bash", str(SCRIPT)], env, workdir / "run_cluster.out")
    try:
        process.start()
        cluster = Cluster(
            public_url=f"http://127.0.0.1:{public_port}",
            action_url=f"http://127.0.0.1:{action_port}",
            rasa_urls=[f"http://127.0.0.1:{p}" for p in rasa_ports],
            review_url=f"http://127.0.0.1:{review_port}" if review else None,
            db_url=db_url,
            redis_prefix=prefix,
            workdir=workdir,
            env={**env, "DATABASE_URL": db_url},
            process=process,
        )
        _wait_ready(cluster, ready_timeout)
        yield cluster
    finally:
        process.stop(grace=40.0)
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        finally:
            admin.dispose()
        try:
            client = redis_client()
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        except Exception:  # noqa: BLE001 - best effort; the prefix is unique to this run
            pass
