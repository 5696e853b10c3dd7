"""Plain language: every patient-facing sentence reads at about school grade 8 or below."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import List, Tuple

import pytest
import textstat

from tests.conftest import ABSOLUTE_CLAIMS, ROOT

MAX_GRADE = 8.0


def _domain_texts(domain) -> List[Tuple[str, str]]:
    out = []
    for name, variants in domain["responses"].items():
        for v in variants:
            if v.get("text"):
                out.append((name, re.sub(r"\{\w+\}", "the clinic", v["text"])))
            for b in v.get("buttons", []):
                out.append((f"{name}:button", b["title"]))
    return out


def _fact_texts(book) -> List[Tuple[str, str]]:
    out = [(f.id, f.answer) for f in book.facts]
    for intent, t in book.topics.items():
        out.append((f"{intent}:lead", t.lead))
        if t.gap:
            out.append((f"{intent}:gap", t.gap))
    return out


def _channel_texts() -> List[Tuple[str, str]]:
    from clinic_channel.patient import load_messages

    return [(f"channel:{code}", text.format(max_chars=2000)) for code, text in load_messages().items()]


def test_every_patient_facing_text_is_grade_8_or_below(domain, book):
    too_hard = []
    for name, text in _domain_texts(domain) + _fact_texts(book) + _channel_texts():
        if len(text.split()) < 8:
            continue  # grade formulas are meaningless on button labels and one-liners
        grade = textstat.flesch_kincaid_grade(text)
        if grade > MAX_GRADE:
            too_hard.append((name, grade))
    assert too_hard == []


def test_the_readability_check_can_fail():
    hard = ("Percutaneous transforaminal endoscopic discectomy necessitates comprehensive "
            "preoperative radiological characterisation of intervertebral pathology.")
    assert textstat.flesch_kincaid_grade(hard) > MAX_GRADE


@pytest.mark.parametrize("claim", ABSOLUTE_CLAIMS)
def test_no_domain_response_promises_absolute_safety(domain, claim):
    assert not [n for n, t in _domain_texts(domain) + _channel_texts() if claim in t.lower()]


def test_every_channel_error_gives_the_emergency_advice():
    """Any error may be what a patient with red-flag symptoms sees instead of the emergency reply."""
    without = [name for name, text in _channel_texts() if "emergency number" not in text]
    assert without == []


def test_every_error_code_of_the_server_has_a_text():
    from clinic_channel.server_hardening import SANIC_ERROR_CODES, error_code

    texts = dict(_channel_texts())
    codes = {*SANIC_ERROR_CODES.values(), error_code(400), error_code(500), error_code(418)}
    assert [code for code in sorted(codes) if f"channel:{code}" not in texts] == []


def _sentence_literals(source: str) -> List[Tuple[int, str]]:
    """String constants of 5+ words in ``source``, except docstrings, log lines and exception messages."""
    tree = ast.parse(source)
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        developer_facing = isinstance(node, ast.Raise) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id in {"logger", "logging", "structlogger"}
        )
        if developer_facing:
            skip.update(id(n) for n in ast.walk(node))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        and len(node.value.split()) >= 5
    ]


def test_no_patient_facing_sentence_is_a_python_literal():
    """Wording lives in domain.yml, facts/facts.yml and clinic_channel/messages.yml, never in Python."""
    offenders = []
    for path in [*(ROOT / "actions").glob("*.py"), *(ROOT / "clinic_channel").glob("*.py")]:
        source = path.read_text()
        for lineno, line in enumerate(source.splitlines(), 1):
            if "utter_message(" in line and "text=" in line and "text=answer.text" not in line:
                offenders.append(f"{path.name}:{lineno}")
        offenders += [f"{path.name}:{lineno}: {text}" for lineno, text in _sentence_literals(source)]
    assert offenders == []


def test_the_literal_check_finds_a_sentence_in_code():
    code = '"""Doc string with many words in it."""\nreply = "Your operation is very safe, do not worry."\n'
    assert _sentence_literals(code) == [(2, "Your operation is very safe, do not worry.")]
