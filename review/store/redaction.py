"""Redaction of contact details (e-mail addresses, phone numbers, full dates) in text shown or exported."""

from __future__ import annotations

import re
from typing import Optional, overload


EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?<![\w+])\+?\d[\d \-().\/]{4,}\d(?!\w)")
# Full dates (a date of birth is the usual one patients give): 12/03/1975, 1975-03-12, 3.3.75,
# 3 March 1975, March 3rd, 1975. A bare year or "3 weeks" is kept.
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_RE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b",
    re.IGNORECASE,
)


def _phone_sub(match: "re.Match[str]") -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[phone]" if digits >= 7 else match.group(0)


@overload
def redact(text: str) -> str: ...


@overload
def redact(text: None) -> None: ...


@overload
def redact(text: Optional[str]) -> Optional[str]: ...


def redact(text: Optional[str]) -> Optional[str]:
    """Mask e-mail addresses, full dates (e.g. a date of birth) and phone numbers (7+ digits) in ``text``."""
    if not text:
        return text
    return PHONE_RE.sub(_phone_sub, DATE_RE.sub("[date]", EMAIL_RE.sub("[email]", text)))


def has_contact_details(text: str) -> bool:
    """Whether :func:`redact` would change ``text``."""
    return redact(text) != text
