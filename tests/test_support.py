"""tests/support/: the one way the tests and the benchmarks start, wait for and stop a server.

A small loopback HTTP server stands in for Rasa: it is ready only once its health file appears, and
it starts a child of its own (as Sanic workers and run_cluster.sh do). bench/ imports this package
and nothing else of tests/.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

from tests.support.process import ROOT, ServerProcess, free_port, free_ports, http_ok, running_process, wait_until

pytestmark = pytest.mark.unit

# Serves 200 on /health once READY_FILE exists (503 before); starts a sleeping child and writes its pid.
SERVER = r"""
import http.server, os, subprocess, sys
port, ready_file, child_pid_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(child_pid_file, "w").write(str(child.pid))
print("serving on", port, flush=True)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if os.path.exists(ready_file) else 503)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _server(tmp_path: Path) -> tuple[ServerProcess, str, Path, Path]:
    port = free_port()
    ready, child_pid = tmp_path / "ready", tmp_path / "child.pid"
    server = ServerProcess(
        "toy server",
        [sys.executable, "-c", SERVER, str(port), str(ready), str(child_pid)],
        dict(os.environ),
        tmp_path / "toy.log",
    )
    return server, f"http://127.0.0.1:{port}/health", ready, child_pid


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(5)
    assert len(set(ports)) == 5 and all(1024 <= p <= 65535 for p in ports)


@pytest.mark.integration  # a real server process over HTTP: not the inner loop
def test_the_wait_ends_when_the_condition_holds_and_stop_ends_the_whole_group(tmp_path):
    server, health, ready, child_pid = _server(tmp_path)
    server.start()
    try:
        wait_until(
            lambda: server.running() and child_pid.exists() and child_pid.read_text().strip(),
            "the toy server's child",
            deadline=60,
        )
        assert not http_ok(health)  # up, but not ready: the wait must go on
        ready.touch()
        server.wait_http(health, deadline=60)
        child = int(child_pid.read_text())
        assert _alive(child)
    finally:
        server.stop()
    assert not server.running()
    assert not _alive(child), "the server's child outlived the stop"


def test_a_server_that_dies_fails_the_wait_at_once_with_its_log(tmp_path):
    crash = "print('config error: no model'); raise SystemExit(3)"
    server = ServerProcess("broken server", [sys.executable, "-c", crash], dict(os.environ), tmp_path / "broken.log")
    with pytest.raises(RuntimeError, match=r"(?s)broken server exited with code 3.*config error: no model"):
        with running_process(server, lambda: False, deadline=600):
            pass


@pytest.mark.integration  # a real server process over HTTP: not the inner loop
def test_a_server_never_ready_fails_at_the_deadline_and_is_stopped(tmp_path):
    server, health, _ready, _child = _server(tmp_path)
    with pytest.raises(TimeoutError, match=r"(?s)toy server not answering 200 .* after 1 s.*toy.log"):
        with running_process(server, lambda: http_ok(health), deadline=1, what=f"answering 200 at {health}"):
            pass
    assert not server.running()


def test_wait_until_names_what_it_waited_for():
    with pytest.raises(TimeoutError, match="not seen within 0 s: the impossible"):
        wait_until(lambda: False, "the impossible", deadline=0.05, details=lambda: "some context")


def test_bench_imports_nothing_of_tests_but_the_support_package():
    wrong = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            wrong += [
                f"{path.name}:{node.lineno} imports {n}"
                for n in names
                if n.split(".")[0] == "tests" and not (n + ".").startswith("tests.support.")
            ]
    assert wrong == []


def test_chromium_is_the_configured_binary_and_a_missing_one_fails_loudly(monkeypatch, tmp_path):
    """The browser tests fail (never skip) when there is no Chromium: `make setup` installs it."""
    from tests.support import chromium

    fake = tmp_path / "chromium-under-test"
    fake.write_text("")
    monkeypatch.setattr(chromium, "_CONFIGURED", str(fake))
    assert chromium.executable() == str(fake)
    monkeypatch.setattr(chromium, "_CONFIGURED", str(tmp_path / "absent"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="make setup"):
        chromium.executable()
    assert "--headless" in chromium.ARGS
