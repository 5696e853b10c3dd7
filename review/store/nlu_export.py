"""Staff intent corrections as Rasa NLU training data (``make export-corrections``): deduplicated,
without texts already trained on, button payloads, markup or contact details."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Set

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review.settings import Settings
from review.store.redaction import has_contact_details
from review.store.schema import corrections


_ANNOTATION_RE = re.compile(r"\[[^\]]*\]\s*[({]")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def existing_training_texts(nlu_file: Path) -> Set[str]:
    """Normalised example texts already in the NLU training data."""
    import yaml

    if not nlu_file.exists():
        return set()
    doc = yaml.safe_load(nlu_file.read_text(encoding="utf-8")) or {}
    texts: Set[str] = set()
    for item in doc.get("nlu") or []:
        examples = item.get("examples") if isinstance(item, dict) else None
        if not isinstance(examples, str):
            continue
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                # strip entity annotations [text](entity) -> text
                plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:])
                texts.add(_norm(plain))
    return texts


@dataclass
class CorrectionsExport:
    """The NLU YAML of the corrections and how many were left out, and why."""

    yaml_text: str
    exported: int
    skipped_duplicate: int
    skipped_in_training: int
    skipped_unsafe: int


def export_corrections(engine: Engine, settings: Settings) -> CorrectionsExport:
    """Rasa NLU YAML of the corrected messages, deduplicated, without texts already trained on."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(corrections.c.text, corrections.c.corrected_intent).order_by(corrections.c.id)
        ).all()
    in_training = existing_training_texts(settings.nlu_file)
    seen: Set[str] = set()
    by_intent: Dict[str, List[str]] = {}
    dup = trained = unsafe = 0
    for row in rows:
        text = " ".join((row.text or "").split())
        key = _norm(text)
        if not text or text.startswith("/") or _ANNOTATION_RE.search(text) or has_contact_details(text):
            unsafe += 1  # button payloads, entity-like markup, phone numbers / e-mail addresses
            continue
        if key in seen:
            dup += 1
            continue
        seen.add(key)
        if key in in_training:
            trained += 1
            continue
        by_intent.setdefault(row.corrected_intent, []).append(text)
    lines = [
        'version: "3.1"',
        "",
        "# Staff corrections exported by the review app "
        f"({datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}).",
        "nlu:",
    ]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {text}" for text in by_intent[intent]]
    if not by_intent:
        lines[-1] = "nlu: []"
    return CorrectionsExport("\n".join(lines) + "\n", sum(len(v) for v in by_intent.values()), dup, trained, unsafe)
