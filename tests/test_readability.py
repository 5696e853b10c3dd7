"""Plain language: every patient-facing sentence reads at about school grade 8 or below.

Checked per sentence (no sentence above grade 10) and on average (grade 8 or below) over every text
a patient can see: the facts (answers, leads, gaps), the domain responses, the patient channel's
messages (clinic_channel/messages.yml) and the widget's own strings (the ``STRINGS`` table of
widget/clinic-chat.js, read with a regex: the widget is plain JS with no build step).
"""

from __future__ import annotations

import ast
import re
from typing import List, Tuple

import pytest
import textstat

from tests.conftest import ROOT, absolute_claims_in
from tests.patient_texts import all_patient_texts, channel_texts, domain_texts, widget_strings, widget_texts

pytestmark = pytest.mark.unit

MAX_SENTENCE_GRADE = 10.0
MAX_AVERAGE_GRADE = 8.0
MIN_WORDS = 6  # grade formulas are meaningless on button labels and very short sentences


def sentences(text: str) -> List[str]:
    """The sentences of ``text``: split at . ! ? followed by a space and at line breaks (bullets)."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [re.sub(r"^[•\-*]\s*", "", p).strip() for p in parts if p.strip()]


def _graded(domain, book) -> List[Tuple[str, str, float]]:
    return [
        (name, sentence, textstat.flesch_kincaid_grade(sentence))
        for name, text in all_patient_texts(domain, book)
        for sentence in sentences(text)
        if len(re.findall(r"[A-Za-z0-9'’]+", sentence)) >= MIN_WORDS
    ]


def test_the_widget_strings_table_is_read():
    strings = widget_strings("en")
    assert {"notice", "footer", "errorOffline", "errorServer", "tooLong"} <= set(strings)
    assert isinstance(strings["notice"], list) and len(strings["notice"]) >= 2
    assert "\\u00b7" not in strings["subtitle"] and "\u00b7" in strings["subtitle"]  # JS escapes decoded
    assert set(widget_strings("de")) <= set(strings)


def test_no_patient_facing_sentence_is_above_grade_10(domain, book):
    too_hard = [(name, round(grade, 1), s) for name, s, grade in _graded(domain, book) if grade > MAX_SENTENCE_GRADE]
    assert too_hard == []


def test_patient_facing_sentences_average_grade_8_or_below(domain, book):
    graded = _graded(domain, book)
    assert len(graded) > 100  # facts, responses, channel and widget texts were all read
    average = sum(g for _, _, g in graded) / len(graded)
    assert average <= MAX_AVERAGE_GRADE, average


def test_every_source_of_patient_text_is_checked(domain, book):
    names = {name.split(":")[0] for name, _, _ in _graded(domain, book)}
    assert {"channel", "widget", "utter_greet", "what.endoscope"} <= names


def test_sentence_splitting():
    assert sentences("Here is the sheet:\n• One thing. Two things!\n• Three?") == [
        "Here is the sheet:",
        "One thing.",
        "Two things!",
        "Three?",
    ]
    assert sentences("About 7.5 mm long. Done.") == ["About 7.5 mm long.", "Done."]


def test_the_readability_check_can_fail():
    hard = (
        "Percutaneous transforaminal endoscopic discectomy necessitates comprehensive "
        "preoperative radiological characterisation of intervertebral pathology."
    )
    assert textstat.flesch_kincaid_grade(hard) > MAX_SENTENCE_GRADE


def test_no_domain_response_channel_message_or_widget_string_promises_absolute_safety(domain):
    texts = domain_texts(domain) + channel_texts() + widget_texts()
    assert [(n, absolute_claims_in(t)) for n, t in texts if absolute_claims_in(t)] == []


EMERGENCY_ADVICE = "In an emergency, call your local emergency number now."
EMERGENCY_ADVICE_DE = "Im Notfall rufen Sie den Notruf an."
# The widget's error texts: named error*, *Failed or tooLong in STRINGS. ("notSent" is the status
# label beside an unsent message; it is always shown with one of these texts or with the channel's
# message, which carry the advice.)
WIDGET_ERROR_KEY = re.compile(r"^error|Failed$|^tooLong$")


def test_every_channel_message_gives_the_emergency_advice():
    """Every text the patient channel can answer with is an error a patient sees, and any error can
    hide an emergency: each one ends with the same advice."""
    from clinic_channel.patient import load_messages

    messages = load_messages()
    assert messages
    assert [code for code, text in messages.items() if EMERGENCY_ADVICE not in text] == []


def test_every_widget_error_string_gives_the_emergency_advice():
    en, de = widget_strings("en"), widget_strings("de")
    errors = sorted(k for k in en if WIDGET_ERROR_KEY.search(k))
    assert {"errorOffline", "errorTimeout", "errorServer", "tooLong", "rateFailed"} <= set(errors)
    assert [k for k in errors if EMERGENCY_ADVICE not in en[k]] == []
    assert [k for k in errors if k in de and EMERGENCY_ADVICE_DE not in de[k]] == []


def test_every_error_code_of_the_server_has_a_text():
    from clinic_channel.server_hardening import SANIC_ERROR_CODES, error_code

    texts = dict(channel_texts())
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
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"logger", "logging", "structlogger"}
        )
        if developer_facing:
            skip.update(id(n) for n in ast.walk(node))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
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
