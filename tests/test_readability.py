"""Plain language: every patient-facing sentence reads at about school grade 8 or below."""
from __future__ import annotations

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


def test_every_patient_facing_text_is_grade_8_or_below(domain, book):
    too_hard = []
    for name, text in _domain_texts(domain) + _fact_texts(book):
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
    assert not [n for n, t in _domain_texts(domain) if claim in t.lower()]


def test_no_patient_facing_sentence_is_a_python_literal():
    """Wording lives in domain.yml and facts/facts.yml: actions only pass response names."""
    offenders = []
    for path in (ROOT / "actions").glob("*.py"):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if "utter_message(" in line and "text=" in line and "text=answer.text" not in line:
                offenders.append(f"{path.name}:{lineno}")
            # a string literal of 5+ words that is not a docstring or comment
            stripped = line.strip()
            if stripped.startswith(("#", '"""', "'''")):
                continue
            for literal in re.findall(r'"([^"]{25,})"', line):
                if len(literal.split()) >= 5:
                    offenders.append(f"{path.name}:{lineno}: {literal}")
    assert offenders == []
