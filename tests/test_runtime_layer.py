"""clinic_runtime: one visible, version-checked, switchable layer of runtime patches over Rasa."""

from __future__ import annotations

import logging

import pytest

import clinic_runtime
from clinic_runtime import layer
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.fixture
def plain_rasa(rasa_restored):
    """Rasa's own attributes before the test (other tests restore what they patch); the layer
    undone after it, and checked."""
    clinic_runtime.uninstall()
    before = {target: layer._read(target) for patch in layer.PATCHES for target in patch.targets}
    yield before
    clinic_runtime.uninstall()
    assert {target: layer._read(target) for target in before} == before


def test_install_replaces_every_target_logs_each_patch_and_uninstall_restores_rasa(plain_rasa, caplog):
    with caplog.at_level(logging.INFO, logger="clinic_runtime"):
        names = clinic_runtime.install(action_timeout=7, safe_reply="safe", env={})
    assert names == clinic_runtime.patch_names() == clinic_runtime.installed()
    changed = [target for target, value in plain_rasa.items() if layer._read(target) is not value]
    assert sorted(changed) == sorted(plain_rasa), "a patch left its target as Rasa's"
    import rasa.core.actions.action as rasa_action

    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 7
    assert [r.getMessage() for r in caplog.records] == [f"clinic_runtime: installed {n}" for n in names]
    # Idempotent: a channel installing again logs nothing new, and may set its own timeout.
    caplog.clear()
    assert clinic_runtime.install(action_timeout=3, env={}) == names and not caplog.records
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 3
    clinic_runtime.install(env={})  # no timeout given: the one set stays
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 3


def test_another_rasa_version_installs_nothing_and_says_so_in_one_line(plain_rasa, caplog):
    with caplog.at_level(logging.INFO, logger="clinic_runtime"):
        assert clinic_runtime.install(env={}, rasa_version="3.7.0") == []
    assert all(layer._read(target) is value for target, value in plain_rasa.items())
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.ERROR
    assert "written for Rasa 3.6.21, found Rasa 3.7.0" in caplog.records[0].getMessage()


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
def test_the_switch_gives_plain_rasa(plain_rasa, caplog, value):
    with caplog.at_level(logging.INFO, logger="clinic_runtime"):
        assert clinic_runtime.install(env={clinic_runtime.PATCHES_ENV: value}) == []
    assert all(layer._read(target) is value_ for target, value_ in plain_rasa.items())
    assert "plain Rasa" in caplog.records[0].getMessage()


def test_every_patched_module_lives_in_the_runtime_package():
    """Nothing outside clinic_runtime assigns to a Rasa class or module attribute."""
    import re

    assignment = re.compile(
        r"^\s*(?:rasa\.[\w.]+|MessageProcessor|DialogueStateTracker|EndpointConfig|RemoteAction|"
        r"Event|rasa_action|rasa_endpoints)\.\w+\s*=",
        re.M,
    )
    offenders = []
    for package in ("clinic_channel", "clinic_nlu", "clinic_store", "clinic_triage", "actions", "review"):
        for path in (ROOT / package).rglob("*.py"):
            if assignment.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
