"""The held-out triage gates: every held-out message, end to end over HTTP, as a patient sends it.

Each message of a held-out part (written by other authors than the tuning corpus, and never used to
tune a rule or a setting) is the first message of a new conversation through the patient channel of
the real Rasa server; the level of the reply is compared with the label. The figures are written to
var/results/ (BENCHMARKS.md quotes them). There are two parts: tests/data/triage/heldout.yml, and
tests/data/triage/heldout2.yml, written later by new authors and committed before any rule or
reader ran on it, because the first part's aggregate confusions had been read for many sessions.
Neither part is ever in what the second reader trains on (checked below).

The targets are emergency + crisis escalated >= 99 % and calm messages kept calm >= 95 %. The first
part's gates hold both at the target (calm 140/146 measured in session 24, the first time the target
was met; BENCHMARKS.md). SAFETY.md (H1, H1b) records both. The second part's gates are in its test's
docstring.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest

from clinic_triage import evaluation, normalise, semantic
from tests.conftest import ROOT
from tests.support.servers import running_servers

pytestmark = pytest.mark.integration

TRIAGE_DATA = ROOT / "tests" / "data" / "triage"
HELD_OUT = TRIAGE_DATA / "heldout.yml"
HELD_OUT_2 = TRIAGE_DATA / "heldout2.yml"
HELD_OUT_PARTS = (HELD_OUT, HELD_OUT_2)
MIN_EMERGENCY_CRISIS_SENSITIVITY = 0.99  # the target
MIN_CALM_KEPT_CALM = 0.95  # the target: 139/146, then 140/146, measured in session 24
# The second part's gates, from its first measurement: see test_second_held_out_part_end_to_end.
MIN_EMERGENCY_CRISIS_SENSITIVITY_2 = 0.975  # below the 0.99 target: 157/161, one below the best measured (158/161)
MIN_CRISIS_ESCALATED_2 = 0.92  # 23/25, one below the best measured (24/25); not lowered when a change lost one
MIN_CALM_KEPT_CALM_2 = 0.974  # one message below the measured 156/159 (the 0.95 target is met)


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


def _measure(server_url: str, part: Path, result_name: str, title: str) -> Dict[str, Any]:
    """The part's figures end to end over HTTP, written to var/results/``result_name`` and printed."""
    corpus = semantic.load_corpus([part])
    predicted = evaluation.http_levels(server_url, [m["text"] for m in corpus])
    figures = evaluation.report([m["level"] for m in corpus], predicted)
    out = ROOT / "var" / "results" / result_name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print("\n" + evaluation.format_report(title, figures))
    return figures


def test_held_out_triage_end_to_end(server_url):
    figures = _measure(server_url, HELD_OUT, "triage_heldout.json", "held-out, end to end over HTTP")
    assert figures["emergency_crisis_sensitivity"]["rate"] >= MIN_EMERGENCY_CRISIS_SENSITIVITY, figures["confusion"]
    assert figures["calm_kept_calm"]["rate"] >= MIN_CALM_KEPT_CALM, figures["confusion"]
    # Nothing labelled emergency or crisis may be answered as merely urgent without being counted above.
    assert figures["per_level"]["crisis"]["escalated"]["rate"] >= MIN_EMERGENCY_CRISIS_SENSITIVITY


def test_second_held_out_part_end_to_end(server_url):
    """The second held-out part, measured once per change of the rules, never tuned on.

    Emergency + crisis sensitivity does not reach the 0.99 target on this part: when first measured
    96.3 % (155/161) were escalated to emergency or crisis and 88 % (22/25) of the crisis messages were
    escalated at all; after the eighth tuning part's rules, over HTTP, 96.9 % (156/161) and 92 % (23/25);
    after the patterns of three reviews of new messages (session 16), 97.5 % (157/161) and 96 % (24/25);
    after two new tuning parts and their rules (session 17), 96.9 % (156/161) and 96 % (24/25), one
    message fewer with changes that raised the first part to 127/127 (BENCHMARKS.md, session 17); 97.5 %
    (157/161) again in session 20, 98.1 % (158/161) in session 21 (the reader retrained on two more tuning
    parts; the rules alone found the same 143). The emergency + crisis gate sits one message below the
    latest measurement, the crisis gate one message below its own. Neither claims the target. Calm
    messages kept calm, 97.5 % (155/159), then
    98.1 % (156/159) after the eleventh tuning part and its context rules, meet the 0.95 target; the
    gate sits one message below the latest measurement."""
    figures = _measure(
        server_url, HELD_OUT_2, "triage_heldout2.json", "second held-out part (heldout2), end to end over HTTP"
    )
    assert figures["emergency_crisis_sensitivity"]["rate"] >= MIN_EMERGENCY_CRISIS_SENSITIVITY_2, figures["confusion"]
    assert figures["calm_kept_calm"]["rate"] >= MIN_CALM_KEPT_CALM_2, figures["confusion"]
    assert figures["per_level"]["crisis"]["escalated"]["rate"] >= MIN_CRISIS_ESCALATED_2, figures["confusion"]


@pytest.mark.unit
def test_no_held_out_message_is_in_what_the_second_reader_learns_from():
    """The second reader trains on its corpus files and the NLU calm examples: no held-out part is one
    of those files, none lies under tests/, and no held-out message (after the triage's own
    normalising) is a tuning message or a calm example. The two held-out parts share no message either."""
    settings = semantic.load_settings()
    files = {path.resolve() for path in settings.corpus_files}
    assert files and not files & {part.resolve() for part in HELD_OUT_PARTS}
    assert not [path for path in files if (ROOT / "tests").resolve() in path.parents]
    learned = {normalise(m["text"]) for m in semantic.load_corpus(sorted(files))}
    learned |= {normalise(text) for text in semantic.calm_examples(settings)}
    held = [[normalise(m["text"]) for m in semantic.load_corpus([part])] for part in HELD_OUT_PARTS]
    for part, texts in zip(HELD_OUT_PARTS, held):
        shared = sum(text in learned for text in texts)
        assert shared == 0, f"{part.name}: {shared} message(s) also in the second reader's training data"
    assert not set(held[0]) & set(held[1]), "the two held-out parts share a message"


@pytest.mark.unit
def test_the_second_held_out_part_is_large_and_spread_as_written():
    """At least 300 messages by new authors (none of the first part's), every level present."""
    first, second = (semantic.load_corpus([part]) for part in HELD_OUT_PARTS)
    assert len(second) >= 300
    assert not {m["author"] for m in first} & {m["author"] for m in second}
    assert {m["level"] for m in second} == {"emergency", "crisis", "urgent", "none"}


def test_reply_level_reads_the_channel_and_an_older_server():
    assert evaluation.reply_level([{"text": "a", "level": None}, {"text": "b", "level": "urgent"}]) == "urgent"
    assert evaluation.reply_level([{"text": "a", "level": "urgent"}, {"text": "b", "level": "crisis"}]) == "crisis"
    assert evaluation.reply_level([{"text": "a", "emergency": True}]) == "emergency"  # before graded triage
    assert evaluation.reply_level([{"text": "a", "emergency": False, "level": None}]) == "none"
