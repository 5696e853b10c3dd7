"""Seeded phone-typing noise (clinic_nlu/typo_noise.py) and the committed typo split it generates."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clinic_nlu.typo_noise import NEIGHBOURS, SLIPS, add_typos, misspell, noisy_nlu_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
SOURCE, TYPOS = ROOT / "tests" / "nlu_test.yml", ROOT / "tests" / "nlu_test_typos.yml"


def _intents(path: Path):
    return [
        (block["intent"], [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")])
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    ]


def test_the_committed_typo_split_is_exactly_what_the_script_writes():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_typos.py"), str(SOURCE), str(TYPOS), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_on_a_hand_edited_split(tmp_path):
    edited = tmp_path / "typos.yml"
    edited.write_text(TYPOS.read_text(encoding="utf-8").replace("- ", "- x", 1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_typos.py"), str(SOURCE), str(edited), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "OUT OF DATE" in result.stdout


def test_the_typo_split_has_the_same_intents_and_examples_in_the_same_order():
    clean, noisy = _intents(SOURCE), _intents(TYPOS)
    assert [i for i, _ in clean] == [i for i, _ in noisy]
    for (_, a), (_, b) in zip(clean, noisy):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert y == add_typos(x, 14)


def test_about_one_word_in_three_is_misspelt_and_nothing_has_capitals_or_apostrophes():
    changed = total = 0
    for (_, clean), (_, noisy) in zip(_intents(SOURCE), _intents(TYPOS)):
        for x, y in zip(clean, noisy):
            assert y == y.lower() and "'" not in y
            words = re.findall(r"[a-z]+", x.lower().replace("'", ""))
            typed = re.findall(r"[a-z]+", y)
            long_words = [w for w in words if len(w) >= 3]
            total += len(long_words)
            changed += sum(1 for w in long_words if w not in typed)
    assert 0.25 <= changed / total <= 0.40, changed / total


def test_the_noise_is_deterministic_by_seed_and_text():
    text = "How long is the recovery after the endoscopic discectomy, and when can I drive?"
    assert add_typos(text, 7) == add_typos(text, 7)
    assert len({add_typos(text, seed) for seed in range(10)}) > 5
    assert add_typos(text, 7, probability=0.0) == text.lower().replace("'", "")


def test_every_kind_of_slip_is_one_edit_of_the_word():
    rng = random.Random(0)
    for slip in SLIPS:
        for word in ("recovery", "anaesthesia", "cost"):
            typed = slip(word, rng)
            neighbours = set("".join(NEIGHBOURS.values()))
            assert abs(len(typed) - len(word)) <= 1 and typed != "" and set(typed) - set(word) <= neighbours
    assert misspell("recovery", rng) != "recovery"


def test_neighbour_keys_are_next_to_each_other_on_a_qwerty_keyboard():
    assert set(NEIGHBOURS["s"]) == set("awedxz")
    assert "p" not in NEIGHBOURS["a"] and "l" in NEIGHBOURS["k"]


@pytest.mark.parametrize(
    "annotated",
    [
        "i take [ibuprofen](medication) every morning for the pain in my back",
        'can my [mother]{"entity": "relative"} come with me to the consultation please',
    ],
)
def test_entity_annotations_are_kept_exactly(annotated):
    span = re.search(r"\[[^\]]*\](?:\([^)]*\)|\{[^}]*\})", annotated).group(0)
    for seed in range(30):
        noisy = add_typos(annotated, seed, probability=1.0)
        assert span in noisy
        assert noisy.replace(span, "") != annotated.replace(span, "")


def test_only_example_lines_change_in_a_yaml_file():
    source = (
        'version: "3.1"\n# a comment with Words\nnlu:\n- intent: ask_cost\n  examples: |\n'
        "    - How much does the operation cost\n    - What's the price\n\n- synonym: price\n"
        "  examples: |\n    - cost of it\n- regex: code\n  examples: |\n    - \\d{5}\n"
    )
    out = noisy_nlu_yaml(source, 3, probability=1.0)
    assert out.splitlines()[:4] == source.splitlines()[:4]
    assert "- intent: ask_cost" in out and "- synonym: price" in out
    assert "What's" not in out and "How much" not in out
    assert yaml.safe_load(out)["nlu"][0]["intent"] == "ask_cost"
    assert "\\d{5}" in out and "- cost of it" in out  # regex and synonym examples are not patient text
