"""The held-out triage gate: every held-out message, end to end over HTTP, as a patient sends it.

Each message of tests/data/triage/heldout.yml (written by other authors than the tuning corpus, and
never used to tune a rule or a setting) is the first message of a new conversation through the
patient channel of the real Rasa server; the level of the reply is compared with the label. The
figures are written to var/results/triage_heldout.json (BENCHMARKS.md quotes them).

The targets are emergency + crisis escalated >= 99 % and calm messages kept calm >= 95 %. The gate
holds the first at the target; the second is not met yet (94.5 %, 138/146, when last measured, in process and
over HTTP: the learned second reader trades calm messages for missed emergencies), so the gate holds it at
93.8 % (137/146), one message below the last measurement, against regressions until it is. SAFETY.md (H1,
H1b) records both.
"""

from __future__ import annotations

import json
import uuid

import pytest

from clinic_triage import evaluation, semantic
from tests.conftest import ROOT
from tests.support.servers import running_servers

pytestmark = pytest.mark.integration

HELD_OUT = ROOT / "tests" / "data" / "triage" / "heldout.yml"
MIN_EMERGENCY_CRISIS_SENSITIVITY = 0.99  # the target
MIN_CALM_KEPT_CALM = 0.938  # 137/146, below the 0.95 target: see the module docstring


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    # Raised rate limits: the gate opens one conversation per message from one address.
    with running_servers(
        tmp_path_factory.mktemp("triage"),
        extra_env={"PATIENT_SESSION_SECRET": uuid.uuid4().hex},
        credentials=ROOT / "bench" / "credentials.load.yml",
    ) as servers:
        yield servers.rasa_url


def test_held_out_triage_end_to_end(server_url):
    corpus = semantic.load_corpus([HELD_OUT])
    predicted = evaluation.http_levels(server_url, [m["text"] for m in corpus])
    figures = evaluation.report([m["level"] for m in corpus], predicted)
    out = ROOT / "var" / "results" / "triage_heldout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print("\n" + evaluation.format_report("held-out, end to end over HTTP", figures))
    assert figures["emergency_crisis_sensitivity"]["rate"] >= MIN_EMERGENCY_CRISIS_SENSITIVITY, figures["confusion"]
    assert figures["calm_kept_calm"]["rate"] >= MIN_CALM_KEPT_CALM, figures["confusion"]
    # Nothing labelled emergency or crisis may be answered as merely urgent without being counted above.
    assert figures["per_level"]["crisis"]["escalated"]["rate"] >= MIN_EMERGENCY_CRISIS_SENSITIVITY


def test_reply_level_reads_the_channel_and_an_older_server():
    assert evaluation.reply_level([{"text": "a", "level": None}, {"text": "b", "level": "urgent"}]) == "urgent"
    assert evaluation.reply_level([{"text": "a", "level": "urgent"}, {"text": "b", "level": "crisis"}]) == "crisis"
    assert evaluation.reply_level([{"text": "a", "emergency": True}]) == "emergency"  # before graded triage
    assert evaluation.reply_level([{"text": "a", "emergency": False, "level": None}]) == "none"
