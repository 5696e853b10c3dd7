"""scripts/probe.py against a server started as `make run` starts it: every check passes, and a
check fails when what it guards is broken (here: a deployment that adds Rasa's socket.io channel)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT
from tests.support.servers import running_servers

pytestmark = pytest.mark.integration
PROBE = ROOT / "scripts" / "probe.py"


def _probe(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROBE), url], capture_output=True, text=True, timeout=300)


def test_the_probe_passes_against_the_shipped_configuration(tmp_path):
    with running_servers(tmp_path, extra_env={"PATIENT_SESSION_SECRET": uuid.uuid4().hex}) as servers:
        result = _probe(servers.rasa_url)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("ok  ")]) >= 14 and "probe: all checks passed" in lines


def test_the_probe_fails_on_an_unguarded_channel(tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        (ROOT / "credentials.yml").read_text() + "\nsocketio:\n  user_message_evt: user_uttered\n"
        "  bot_message_evt: bot_uttered\n  session_persistence: true\n"
    )
    with running_servers(
        tmp_path, extra_env={"PATIENT_SESSION_SECRET": uuid.uuid4().hex}, credentials=credentials
    ) as servers:
        result = _probe(servers.rasa_url)
    assert result.returncode == 1
    assert "FAIL socket.io is not mounted" in result.stdout
