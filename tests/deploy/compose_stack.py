"""Start deploy/compose.yml with podman-compose under a unique project name on free loopback ports,
wait until the public proxy reports the Rasa server healthy, and always tear it all down (containers,
network and the database volume), also on failure.

Needs the images built (deploy/build_images.sh) and ``PODMAN_COMPOSE`` naming podman-compose
(scripts/test_deploy.sh sets both up). Two stacks can run side by side on one machine: project,
network, volume and container names carry a random suffix, and the ports are picked free.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.support.process import free_ports, http_ok, wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yml"
HEALTH_DEADLINE_S = 600.0  # first start: PostgreSQL init, migration, model load on a shared 2-core machine


@dataclass
class Stack:
    project: str
    public_url: str  # the proxy: the only public port
    review_url: str  # the staff app, bound to loopback
    env_file: Path
    seconds_to_healthy: float

    def compose(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        return compose(self.project, self.env_file, *args, check=check, timeout=timeout)

    def container(self, service: str) -> str:
        """The container name podman-compose gives ``service`` (first replica)."""
        return f"{self.project}_{service}_1"

    def exec(self, service: str, *cmd: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            ["podman", "exec", "-i", self.container(service), *cmd],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )


def compose(
    project: str, env_file: Path, *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess:
    cmd = [
        os.environ.get("PODMAN_COMPOSE", "podman-compose"),
        "-p",
        project,
        "-f",
        str(COMPOSE_FILE),
        "--env-file",
        str(env_file),
        *args,
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed " f"({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


@contextmanager
def compose_stack(tmp_dir: Path) -> Iterator[Stack]:
    """The whole Compose stack, up and healthy; removed afterwards whatever happened."""
    project = "clinictest" + secrets.token_hex(4)
    public_port, review_port = free_ports(2)
    env_file = tmp_dir / "deploy.env"
    env_file.write_text(
        "\n".join(
            [
                f"POSTGRES_PASSWORD={secrets.token_hex(16)}",
                f"PATIENT_SESSION_SECRET={secrets.token_hex(32)}",
                "PUBLIC_BIND=127.0.0.1",
                f"PUBLIC_PORT={public_port}",
                f"REVIEW_PORT={review_port}",
                # The test talks to the review app over plain HTTP on loopback.
                "REVIEW_SECURE_COOKIES=false",
            ]
        )
        + "\n"
    )
    env_file.chmod(0o600)
    public_url = f"http://127.0.0.1:{public_port}"
    try:
        started = time.monotonic()
        compose(project, env_file, "up", "-d", "--no-build")
        health = public_url + "/webhooks/patient/health"
        wait_until(lambda: http_ok(health, timeout=5), f"{health} answering 200", HEALTH_DEADLINE_S, interval=2)
        seconds = time.monotonic() - started
        yield Stack(project, public_url, f"http://127.0.0.1:{review_port}", env_file, seconds)
    except BaseException:
        logs = compose(project, env_file, "logs", "--tail", "40", check=False)
        print(f"--- logs of {project} ---\n{logs.stdout[-20000:]}\n{logs.stderr[-5000:]}")
        raise
    finally:
        compose(project, env_file, "down", "-v", "-t", "10", check=False)
