"""Every text a patient can see, gathered in one place for the content checks.

The facts (answers, leads, gaps), the domain responses and their buttons, the patient channel's
messages (clinic_channel/messages.yml) and the widget's own strings (the ``STRINGS`` table of
widget/clinic-chat.js, read with a regex: the widget is plain JS with no build step). Read by the
readability check (tests/test_readability.py) and the withheld-claims check (tests/test_facts.py).
"""

from __future__ import annotations

import json
import re
from typing import Dict, List, Tuple, Union

from tests.conftest import ROOT

WIDGET_JS = ROOT / "widget" / "clinic-chat.js"
# What the widget's {placeholders} stand for when it shows them.
WIDGET_PLACEHOLDERS = {"max": "2000", "label": "Chat with us", "n": "3"}


def domain_texts(domain) -> List[Tuple[str, str]]:
    out = []
    for name, variants in domain["responses"].items():
        for v in variants:
            if v.get("text"):
                out.append((name, re.sub(r"\{\w+\}", "the clinic", v["text"])))
            for b in v.get("buttons", []):
                out.append((f"{name}:button", b["title"]))
    return out


def fact_texts(book) -> List[Tuple[str, str]]:
    out = [(f.id, f.answer) for f in book.facts]
    for intent, t in book.topics.items():
        out.append((f"{intent}:lead", t.lead))
        if t.gap:
            out.append((f"{intent}:gap", t.gap))
    return out


def channel_texts() -> List[Tuple[str, str]]:
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


def widget_texts() -> List[Tuple[str, str]]:
    out = []
    for key, value in widget_strings("en").items():
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            out.append((f"widget:{key}" + (f"[{i}]" if isinstance(value, list) else ""), _fill(text)))
    return out


def all_patient_texts(domain, book) -> List[Tuple[str, str]]:
    """(where it comes from, text) for every patient-visible text; placeholders filled with stand-ins."""
    return domain_texts(domain) + fact_texts(book) + channel_texts() + widget_texts()
