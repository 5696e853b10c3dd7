"""scripts/transcript.py: conversations from a file, through the real servers, as a transcript."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.process import ROOT, VENV_BIN

sys.path.insert(0, str(ROOT / "scripts"))

from transcript import conversations  # noqa: E402


@pytest.mark.unit
def test_a_blank_line_starts_a_new_conversation():
    text = "hi\n  how long is recovery  \n\n\n\nmy legs are numb\n"
    assert conversations(text) == [["hi", "how long is recovery"], ["my legs are numb"]]
    windows = "hi\r\nhow much\r\n  \r\nbye\r\n"
    assert conversations(windows) == [["hi", "how much"], ["bye"]]


@pytest.mark.integration
def test_the_transcript_shows_what_a_patient_reads_turn_by_turn(tmp_path):
    walk = tmp_path / "walk.txt"
    walk.write_text("hello\nhow much does it cost\n\ni cant pee since this morning and my bum is numb\n")
    out = subprocess.run(
        [str(VENV_BIN / "python"), str(ROOT / "scripts" / "transcript.py"), str(walk)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    first, second = out.split("=" * 72)[1:]
    assert first.index(">> hello") < first.index("automated assistant") < first.index(">> how much does it cost")
    assert "about cost" in first.split(">> how much does it cost")[1]
    assert '"triage": "emergency"' in second and "emergency number" in second
