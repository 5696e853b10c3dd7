"""The test tiers of tests/conftest.py: which modules --tier leaves unimported, and the check that
keeps that skip honest (a test's tier must be written in its module's source)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

from tests.conftest import ROOT, pytest_ignore_collect, tiers_named_in

pytestmark = pytest.mark.unit


class _Config:
    """The one option the collection hook reads."""

    def __init__(self, tiers: Optional[List[str]]) -> None:
        self.tiers = tiers

    def getoption(self, name: str) -> Optional[List[str]]:
        assert name == "--tier"
        return self.tiers


def _module(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(source)
    tiers_named_in.cache_clear()
    return path


def test_a_module_naming_only_other_tiers_is_not_imported(tmp_path):
    path = _module(tmp_path, "test_servers.py", "import pytest\npytestmark = pytest.mark.integration\n")
    assert tiers_named_in(path) == {"integration"}
    assert pytest_ignore_collect(path, _Config(["unit"])) is True  # type: ignore[arg-type]
    assert pytest_ignore_collect(path, _Config(["integration", "browser"])) is None  # type: ignore[arg-type]
    assert pytest_ignore_collect(path, _Config(None)) is None  # type: ignore[arg-type]


def test_a_module_naming_no_tier_or_several_is_imported(tmp_path):
    bare = _module(tmp_path, "test_bare.py", "def test_x():\n    pass\n")
    mixed = _module(tmp_path, "test_mixed.py", "@pytest.mark.unit\n@pytest.mark.stress\n")
    assert pytest_ignore_collect(bare, _Config(["unit"])) is None  # type: ignore[arg-type]
    assert pytest_ignore_collect(mixed, _Config(["unit"])) is None  # type: ignore[arg-type]
    assert pytest_ignore_collect(mixed, _Config(["stress"])) is None  # type: ignore[arg-type]


@pytest.mark.integration  # runs pytest itself, twice
@pytest.mark.parametrize(
    "source, error",
    [
        ("import pytest\npytestmark = getattr(pytest.mark, 'unit')\n", "must be written in its module"),
        ("def test_x():\n    pass\n", "mark it with exactly one tier"),
    ],
)
def test_a_tier_the_module_does_not_write_out_fails_the_run(tmp_path, source, error):
    """Run as pytest runs it (this conftest as a plugin): the run stops with the reason."""
    path = tmp_path / "test_hidden_tier.py"
    path.write_text(source + "\n\ndef test_y():\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and error in done.stdout + done.stderr, done.stdout[-2000:]
