"""scripts/proxy_error_pages.py: the proxy's own errors carry the channel's JSON and wording."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

EMERGENCY = "In an emergency, call your local emergency number now."


def _directives(credentials) -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "proxy_error_pages.py"), "--credentials", str(credentials)],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout


def test_every_status_the_proxy_answers_gets_the_channels_json(tmp_path):
    credentials = tmp_path / "credentials.yml"
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    channels["clinic_channel.patient.PatientInput"]["max_message_chars"] = 1234
    credentials.write_text(yaml.safe_dump(channels))
    text = _directives(credentials)
    pages = dict(re.findall(r"^\s*error_page (\d+) @(\S+);$", text, re.M))
    bodies = {
        m[0]: (m[1], json.loads(m[2]))
        for m in re.findall(
            r"^\s*location @(\S+) \{ default_type application/json; return (\d+) '(.*)'; \}$", text, re.M
        )
    }
    assert set(pages) == {"404", "405", "413", "502", "503", "504"}
    texts = yaml.safe_load((ROOT / "clinic_channel" / "messages.yml").read_text())
    for status, location in pages.items():
        returned, body = bodies[location]
        assert returned == status, location  # the status is kept, not turned into a 200
        assert body["error"] == body["code"] and body["code"] in texts, status
        assert body["message"].endswith(EMERGENCY), status
    assert bodies[pages["413"]][1]["code"] == "request_too_large"
    assert "1234 characters" in bodies[pages["413"]][1]["message"]
    assert bodies[pages["502"]][1]["code"] == "not_ready"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "proxy_error_pages.py"), *args],
        timeout=60,
        capture_output=True,
        text=True,
    )


def test_the_compose_proxys_error_pages_are_up_to_date_and_included():
    result = _run("--check", str(ROOT / "deploy" / "nginx-errors.conf"))
    assert result.returncode == 0, result.stdout + result.stderr
    # mounted where deploy/nginx.conf includes it, inside the public server block
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yml").read_text())
    assert "./nginx-errors.conf:/etc/nginx/clinic-errors.conf:ro" in compose["services"]["proxy"]["volumes"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    server = conf[conf.index("  server {") :]
    assert re.search(r"^\s*include /etc/nginx/clinic-errors.conf;$", server, re.M)


def test_check_fails_on_a_stale_include_and_out_rewrites_it(tmp_path):
    stale = tmp_path / "errors.conf"
    stale.write_text((ROOT / "deploy" / "nginx-errors.conf").read_text().replace("2000 characters", "999 characters"))
    result = _run("--check", str(stale))
    assert result.returncode == 1 and "out of date" in result.stdout
    assert _run("--out", str(stale)).returncode == 0
    assert _run("--check", str(stale)).returncode == 0
    assert "2000 characters" in stale.read_text()
