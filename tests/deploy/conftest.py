"""The deploy smoke test runs only from scripts/test_deploy.sh (`make test-deploy`), which builds the
images and provides podman-compose; in a plain `pytest tests` it is skipped, saying so."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.deploy.compose_stack import Stack, compose_stack


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PODMAN_COMPOSE"):
        return
    skip = pytest.mark.skip(reason="container smoke test: run `make test-deploy` (builds the images, needs podman)")
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with compose_stack(tmp_path_factory.mktemp("compose")) as running:
        print(f"compose stack {running.project} healthy after {running.seconds_to_healthy:.0f} s")
        yield running
