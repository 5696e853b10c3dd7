"""Plain language: every patient-facing sentence reads at about school grade 8 or below.

Checked per sentence (no sentence above grade 10) and on average (grade 8 or below) over every text
a patient can see: the facts (answers, leads, gaps), the domain responses, the patient channel's
messages (clinic_channel/messages.yml) and the widget's own strings (the ``STRINGS`` table of
widget/clinic-chat.js, read with a regex: the widget is plain JS with no build step).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Dict, List, Tuple, Union

import pytest
import textstat

from tests.conftest import ROOT, absolute_claims_in

pytestmark = pytest.mark.unit

MAX_SENTENCE_GRADE = 10.0
MAX_AVERAGE_GRADE = 8.0
MIN_WORDS = 6  # grade formulas are meaningless on button labels and very short sentences
WIDGET_JS = ROOT / "widget" / "clinic-chat.js"
# What the widget's {placeholders} stand for when it shows them.
WIDGET_PLACEHOLDERS = {"max": "2000", "label": "Chat with us", "n": "3"}


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


_JS_STRING = r'"(?:[^"\\\n]|\\.)*"'


def widget_strings(lang: str = "en") -> Dict[str, Union[str, List[str]]]:
    """The widget's ``STRINGS[lang]`` table: key -> text (or list of texts), JS escapes decoded.

    The table is the one place the widget keeps patient-visible wording (see its header comment);
    its entries are ``key: "text"`` or ``key: ["text", ...]`` (JS double-quoted strings use the
    same escapes as JSON)."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    table = re.search(r"var STRINGS = \{(.*?)\n  \};", source, re.S)
    assert table, "no `var STRINGS = {...};` table in widget/clinic-chat.js"
    block = re.search(r"\n    %s: \{(.*?)\n    \}" % re.escape(lang), table.group(1), re.S)
    assert block, f"no STRINGS.{lang} in widget/clinic-chat.js"
    out: Dict[str, Union[str, List[str]]] = {}
    for key, value in re.findall(r"\n\s+(\w+): (%s|\[.*?\])" % _JS_STRING, block.group(1), re.S):
        if value.startswith("["):
            out[key] = [json.loads(v) for v in re.findall(_JS_STRING, value)]
        else:
            out[key] = json.loads(value)
    # Every `key:` line of the block was read (nothing in another form slipped past the check).
    assert sorted(out) == sorted(re.findall(r"\n\s+(\w+):", block.group(1))), "unreadable entry in STRINGS"
    return out


def _fill(text: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: WIDGET_PLACEHOLDERS.get(m.group(1), m.group(0)), text)


def _widget_texts() -> List[Tuple[str, str]]:
    out = []
    for key, value in widget_strings("en").items():
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            out.append((f"widget:{key}" + (f"[{i}]" if isinstance(value, list) else ""), _fill(text)))
    return out


def all_patient_texts(domain, book) -> List[Tuple[str, str]]:
    return _domain_texts(domain) + _fact_texts(book) + _channel_texts() + _widget_texts()


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
    texts = _domain_texts(domain) + _channel_texts() + _widget_texts()
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
