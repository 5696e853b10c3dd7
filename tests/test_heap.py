"""clinic_runtime/heap.py: after start-up the server's loaded objects leave the collector's walks,
and the collector still frees what is created later."""

from __future__ import annotations

import gc
import re
import weakref
from typing import Iterator

import pytest

from clinic_runtime.heap import freeze_loaded_heap

pytestmark = pytest.mark.integration


class Node:
    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_start_up_are_frozen_and_later_garbage_is_still_collected(unfrozen):
    loaded = [Node() for _ in range(1000)]  # stands for the model's objects
    ids = {id(n) for n in loaded}
    frozen = freeze_loaded_heap()
    assert frozen >= 1000
    assert not ids & {id(o) for o in gc.get_objects()}, "frozen objects are skipped by later collections"
    assert all(isinstance(n, Node) for n in loaded), "and stay alive"

    a, b = Node(), Node()  # a reference cycle created after start-up: only the collector frees it
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None


def test_the_server_freezes_its_heap_once_the_model_is_loaded(tmp_path):
    from tests.support.servers import running_servers

    with running_servers(tmp_path) as servers:
        log = (servers.workdir / "rasa.log").read_text(errors="replace")
    found = re.findall(r"heap frozen after loading the model: (\d+) objects", log)
    assert len(found) == 1 and int(found[0]) > 100_000, log[-2000:]
