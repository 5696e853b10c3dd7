"""Checks for the patient channel, free of Rasa and Sanic imports (so they are easy to test).

- :class:`SessionSigner` issues unguessable conversation ids and recognises only its own.
- :func:`parse_message_request` validates a message request and says precisely what is wrong.
- :func:`clean_text` normalises patient text (NFC, no control or zero-width characters).
- :func:`neutralise_slash` stops ``/intent{...}`` injections unless the text is an offered button.
- :func:`parse_rate` reads a rate (``events/seconds``); the limiters are in ``clinic_store.rate_limits``.
- :data:`MAX_MESSAGE_CHARS` and :data:`MAX_BODY_BYTES`: the size limits both channels (and the proxy's
  own error pages) use unless credentials.yml sets others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional, Tuple, Union

# The defaults of the options both channels take (credentials.yml sets an option only to change it).
MAX_MESSAGE_CHARS = 2000  # the longest accepted message, after trimming
MAX_BODY_BYTES = 16384  # the largest accepted request body

SESSION_PREFIX = "p1"
# Ids are checked with ``fullmatch``: ``match`` with ``$`` also accepts a trailing newline, which
# would make "<id>\n" a different conversation (and a fresh rate-limit budget) that still verifies.
_SESSION_RE = re.compile(r"p1\.([0-9a-f]{32})\.([0-9a-f]{32})")
_MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Letters that show as a blank (Hangul fillers, the Braille blank): spaces, so that a message of
# nothing else is empty. Format characters (Unicode category Cf: zero-width, bidi controls, the
# soft hyphen, left/right marks, tags) are invisible and used to smuggle text past checks: dropped.
_BLANKS = dict.fromkeys([0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800], " ")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Put before a text that starts with "/" so that Rasa does not read it as "/intent{entities}".
# U+2060 WORD JOINER: not whitespace (Rasa strips whitespace first), invisible when shown.
SLASH_GUARD = "\u2060"


class RequestError(Exception):
    """A request the channel refuses: ``code`` is stable (the widget maps it), ``status`` is HTTP."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


class SessionSigner:
    """Issues conversation ids ``p1.<128 random bits>.<HMAC>`` and verifies them.

    The server keeps no list of ids: any replica with the same secret recognises them, and an id
    that was not issued with the secret (a guess, ``default``, another user's name) is refused.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, token: str) -> str:
        return hmac.new(self._secret, f"{SESSION_PREFIX}.{token}".encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        """A new conversation id."""
        token = secrets.token_hex(16)
        return f"{SESSION_PREFIX}.{token}.{self._sign(token)}"

    def verify(self, session_id: Any) -> bool:
        """True only for an id this signer (or one with the same secret) issued."""
        if not isinstance(session_id, str):
            return False
        match = _SESSION_RE.fullmatch(session_id)
        return match is not None and hmac.compare_digest(match.group(2), self._sign(match.group(1)))


def clean_text(text: str) -> str:
    """NFC-normalised text without control or format characters (zero-width, bidi, soft hyphen, tags),
    blank-looking letters as spaces, whitespace tidied at the ends.

    Line breaks and tabs become spaces; everything a patient can see is kept (emoji, accents, RTL
    scripts).
    """
    text = _SURROGATES.sub("\ufffd", text)  # lone surrogates (from JSON "\\ud83d") are not text
    text = unicodedata.normalize("NFC", text).translate(_BLANKS)
    whitespace = "\t\r\n\v\f"
    text = "".join(
        " " if ch in whitespace else ch
        for ch in text
        if ch in whitespace or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return text.strip()


@dataclass(frozen=True)
class MessageRequest:
    """A validated request: whose conversation, what text, and the client's id for retries."""

    session_id: str
    text: str
    message_id: Optional[str]
    retry: bool


JSON_MEDIA_TYPE = "application/json"


def is_json_content_type(content_type: Optional[str]) -> bool:
    """True for ``application/json`` (any parameters, e.g. ``; charset=utf-8``, any letter case).

    A web page on another site can post a form (urlencoded, multipart or text/plain) to us without
    asking the browser's CORS permission first; it cannot send ``application/json`` that way. So a
    route that must only be called by the widget requires this type.
    """
    return (content_type or "").split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


def parse_json_object(body: bytes, max_bytes: int, max_depth: int = 8) -> Dict[str, Any]:
    """The request body as a JSON object, or :class:`RequestError` (size, encoding, shape)."""
    if len(body) > max_bytes:
        raise RequestError(413, "request_too_large")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestError(400, "invalid_json") from None
    if not isinstance(data, dict):
        raise RequestError(400, "invalid_json")
    if _depth(data) > max_depth:
        raise RequestError(400, "invalid_request")
    return data


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, computed without recursion (deep input must not crash it)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_message_request(data: Dict[str, Any], signer: SessionSigner, max_chars: int) -> MessageRequest:
    """Validate a message request (see docs/patient-api.md) or raise :class:`RequestError`."""
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not signer.verify(session_id):
        raise RequestError(403, "unknown_session")
    message = data.get("message")
    if not isinstance(message, str):
        raise RequestError(400, "invalid_request")  # checked before the optional fields
    message_id = data.get("message_id")
    if message_id is not None and (not isinstance(message_id, str) or not _MESSAGE_ID_RE.fullmatch(message_id)):
        raise RequestError(400, "invalid_request")
    retry = data.get("retry", False)
    if not isinstance(retry, bool):
        raise RequestError(400, "invalid_request")
    return MessageRequest(session_id, parse_text(message, max_chars), message_id, retry)


def parse_text(message: Any, max_chars: int) -> str:
    """The cleaned text of a message, or :class:`RequestError` (not a string, empty, too long)."""
    if not isinstance(message, str):
        raise RequestError(400, "invalid_request")
    text = clean_text(message)
    if not text:
        raise RequestError(422, "empty_message")
    if len(text) > max_chars:
        raise RequestError(413, "message_too_long")
    return text


RATINGS = ("up", "down")


def parse_feedback_request(data: Dict[str, Any], signer: SessionSigner) -> Dict[str, str]:
    """``{"session_id", "message_id", "rating": "up"|"down"}`` validated, or :class:`RequestError`."""
    if not signer.verify(data.get("session_id")):
        raise RequestError(403, "unknown_session")
    message_id, rating = data.get("message_id"), data.get("rating")
    if not isinstance(message_id, str) or not _MESSAGE_ID_RE.fullmatch(message_id) or rating not in RATINGS:
        raise RequestError(400, "invalid_request")
    return {"session_id": data["session_id"], "message_id": message_id, "rating": rating}


def neutralise_slash(text: str, offered_payloads: Iterable[str]) -> str:
    """``text`` as Rasa should read it: a "/..." text is a command only if it is an offered button.

    Anything else that starts with "/" (``/restart``, ``/ask_cost{"x": 1}``, ``/greet@0.01``) is
    kept as the patient typed it, behind an invisible :data:`SLASH_GUARD`, so the NLU model reads
    it as ordinary text.
    """
    if not text.startswith("/") or text in set(offered_payloads):
        return text
    return SLASH_GUARD + text


def parse_rate(spec: Union[str, Tuple[int, float]]) -> Tuple[int, float]:
    """``"30/60"`` -> (30 events, 60 seconds)."""
    if isinstance(spec, tuple):
        return spec
    count, _, seconds = str(spec).partition("/")
    parsed = int(count), float(seconds or 60)
    if parsed[0] < 1 or parsed[1] <= 0:
        raise ValueError(f"a rate is 'events/seconds' with both positive, got {spec!r}")
    return parsed
