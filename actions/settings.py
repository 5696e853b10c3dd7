"""Configuration of the action server, read from the environment in this one place.

Contact details are the clinic's to fill in (environment variables, e.g. in a deployment's
secret store).  When they are unset the assistant says it has no contact details configured
rather than inventing any.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTS_FILE = PROJECT_ROOT / "facts" / "facts.yml"


@dataclass(frozen=True)
class Settings:
    """Everything the actions can be configured with."""

    facts_file: Path
    clinic_name: str
    clinic_phone: Optional[str]
    clinic_email: Optional[str]
    clinic_hours: Optional[str]
    crisis_line: Optional[str]
    personal_context_min_confidence: float

    @property
    def has_contact(self) -> bool:
        return bool(self.clinic_phone or self.clinic_email)


def _clean(value: Optional[str]) -> Optional[str]:
    value = (value or "").strip()
    return value or None


def load_settings(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Build :class:`Settings` from ``env`` (defaults to ``os.environ``)."""
    env = os.environ if env is None else env
    return Settings(
        facts_file=Path(env.get("CLINIC_FACTS_FILE") or DEFAULT_FACTS_FILE),
        clinic_name=_clean(env.get("CLINIC_NAME")) or "the clinic",
        clinic_phone=_clean(env.get("CLINIC_PHONE")),
        clinic_email=_clean(env.get("CLINIC_EMAIL")),
        clinic_hours=_clean(env.get("CLINIC_HOURS")),
        crisis_line=_clean(env.get("CRISIS_LINE")),
        # After a personal question, general facts are added only when the classifier gives their
        # (allow-listed) topic at least this confidence: high, so a guess never reads as an answer.
        personal_context_min_confidence=float(env.get("PERSONAL_CONTEXT_MIN_CONFIDENCE", "0.3")),
    )
