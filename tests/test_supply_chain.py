"""The pins that matter for security are what is installed: checked on every run."""

from __future__ import annotations

import importlib.metadata as md

import pytest
from packaging.version import Version

from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("package, version", [("rasa", "3.6.21"), ("rasa-sdk", "3.6.2")])
def test_exact_pins(package, version):
    assert md.version(package) == version


def test_sanic_is_a_patched_21_12():
    sanic = Version(md.version("sanic"))
    assert Version("21.12.2") <= sanic < Version("21.13")


def _installed(name: str):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def test_every_installed_package_is_the_locked_version():
    """requirements-lock.txt constrains the install: whatever of it is installed has its version."""
    locked = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[name.lower().replace("_", "-")] = version
    mismatched = {
        name: (_installed(name), version) for name, version in locked.items() if _installed(name) not in (None, version)
    }
    assert mismatched == {}
