"""The guarded patient channel: ``/webhooks/patient/{session,message,health}`` (docs/patient-api.md).

Rasa's REST channel answers any failure with HTTP 200 and ``[]``, puts requests without a sender
into one shared ``default`` conversation, reads ``/intent{...}`` from anyone, and (through the
tracker store's fail-safe) keeps answering when nothing can be stored. This channel instead:

- issues the conversation ids itself and refuses ids it did not issue (:class:`~clinic_channel.guard.SessionSigner`);
- validates each request (type, size, empty text) and answers a JSON error with a patient-facing
  ``message`` from ``messages.yml``, never an empty 200;
- treats ``/...`` as text unless it is exactly a button the bot just offered;
- rate-limits per conversation and per client address;
- makes a tracker-store failure an explicit 503 (no silent in-memory fallback);
- replays the stored replies when a client retries a message it already sent (``message_id``);
- marks the patient's own words a reply quotes (``segments``), which a client shows as plain text;
- marks the triage replies (``level``: emergency, crisis or urgent; ``emergency: true`` for the first
  two) so the widget can show them unmistakably; red-flag messages never wait for a busy slot.

Configured in credentials.yml under ``clinic_channel.patient.PatientInput``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text, Tuple

import aiohttp
import yaml
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.lock_store import LOCK_LIFETIME
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic_channel.guard import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    SLASH_GUARD,
    RequestError,
    SessionSigner,
    clean_text,
    is_json_content_type,
    neutralise_slash,
    parse_feedback_request,
    parse_json_object,
    parse_message_request,
    parse_rate,
)
from clinic_channel.server_hardening import install as install_server_hardening
import clinic_runtime
from clinic_runtime.action_calls import close_kept_alive_sessions
from clinic_runtime.heap import freeze_loaded_heap
from clinic_store.rate_limits import DEFAULT_KEY_PREFIX, make_limiter
from clinic_triage import ESCALATED, assess as triage_assess
from clinic_vocabulary import PATIENT_WORDS_KEY, TRIAGE_INTENTS, TRIAGE_RESPONSES

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"
DEFAULT_SECRET_FILE = PROJECT_ROOT / "var" / "patient-session.key"
BUSY_RETRY_AFTER = 3  # seconds, in the Retry-After of a 503 busy
NOT_READY_RETRY_AFTER = 5  # seconds, in the Retry-After of a 503 not_ready (the model is still loading)
FEEDBACK_SLOT = "feedback"


def load_messages(path: Path = MESSAGES_FILE) -> Dict[str, str]:
    """The channel's patient-facing texts, by error code."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rate_limit_store(
    redis_url: Optional[str] = None, env: Optional[Mapping[str, str]] = None
) -> Tuple[Optional[str], str]:
    """Redis URL for the shared rate limits (argument, else ``RATE_LIMIT_REDIS_URL``; None: per process)
    and the key prefix (``REDIS_KEY_PREFIX``, as the lock store's)."""
    env = os.environ if env is None else env
    return (redis_url or env.get("RATE_LIMIT_REDIS_URL") or None), (env.get("REDIS_KEY_PREFIX") or DEFAULT_KEY_PREFIX)


def load_secret(env: Optional[Mapping[str, str]] = None, secret_file: Path = DEFAULT_SECRET_FILE) -> bytes:
    """``PATIENT_SESSION_SECRET`` (shared by all replicas), else a key kept in ``var/`` (created once, mode 600)."""
    env = os.environ if env is None else env
    if env.get("PATIENT_SESSION_SECRET"):
        return env["PATIENT_SESSION_SECRET"].encode("utf-8")
    if not secret_file.exists():
        # Written to a private temporary file, then linked into place: two servers starting at once
        # both end up with the one key that won, never with an empty or half-written file.
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=secret_file.parent, prefix=".key-")  # mode 600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.link(tmp, secret_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return secret_file.read_text(encoding="utf-8").strip().encode("utf-8")


def patient_segments(text: str, words: Any) -> Optional[List[Dict[str, Any]]]:
    """``text`` cut into segments that join back to it, the patient's quoted ``words`` marked
    ``"patient": true`` (each found in order), or None when the text quotes none of them.

    A reply that quotes the patient ("You asked: ...") must show those words as plain text: a client
    that turns the bot's ``http(s)://`` addresses into links must not turn the patient's into links.
    """
    if not isinstance(words, list):
        return None
    segments: List[Dict[str, Any]] = []
    cursor = 0
    for quote in words:
        if not isinstance(quote, str) or not quote:
            continue
        at = text.find(quote, cursor)
        if at < 0:
            continue
        if at > cursor:
            segments.append({"text": text[cursor:at], "patient": False})
        segments.append({"text": quote, "patient": True})
        cursor = at + len(quote)
    if not segments:
        return None
    if cursor < len(text):
        segments.append({"text": text[cursor:], "patient": False})
    return segments


def patient_message(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A bot message as the widget gets it: text, buttons, emergency flag and triage level (or None
    if it has neither text nor buttons); ``segments`` when it quotes the patient's own words."""
    text = message.get("text") or ""
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if not text and not buttons:
        return None
    custom: Dict[str, Any] = message["custom"] if isinstance(message.get("custom"), dict) else {}
    level = custom.get("triage")
    out: Dict[str, Any] = {
        "text": str(text),
        "emergency": bool(custom.get("emergency")),
        "level": level if level in ESCALATED else None,
    }
    if buttons:
        out["buttons"] = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons]
    segments = patient_segments(out["text"], custom.get(PATIENT_WORDS_KEY))
    if segments:
        out["segments"] = segments
    return out


class PatientOutputChannel(OutputChannel):
    """Collects the bot's replies of one turn, one dict per bot message (text and buttons together)."""

    @classmethod
    def name(cls) -> Text:
        return "patient"

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        formatted = patient_message(message)
        if formatted is not None:
            self.messages.append(formatted)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})


def _raise(error: Exception) -> None:
    raise error


def strict_tracker_store(agent: Any) -> Any:
    """The agent's tracker store, with Rasa's in-memory fallback turned into an error."""
    store = agent.tracker_store
    if isinstance(store, FailSafeTrackerStore) and store._on_tracker_store_error is not _raise:
        store._on_tracker_store_error = _raise
    return store


def offered_payloads(events: List[Any]) -> List[str]:
    """Payloads of the buttons in the bot's messages since the patient's last message."""
    payloads: List[str] = []
    for event in reversed(events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            payloads += [str(b.get("payload", "")) for b in (event.data or {}).get("buttons") or []]
    return payloads


def _replies_to(events: List[Any], message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The stored replies to the user message ``message_id``, or None if it was never stored."""
    for i, event in enumerate(events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            replies = []
            for later in events[i + 1 :]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    formatted = patient_message(later.message())
                    if formatted:
                        replies.append(formatted)
            return replies
    return None


def _sent_with_other_text(events: List[Any], message_id: str, text: str) -> bool:
    """True when the conversation has the user message ``message_id`` with a text other than ``text``.

    A retry must repeat the original words; a reused id with new words would otherwise be answered
    with the old replies and the new words silently dropped. (A stored text may carry the invisible
    :data:`~clinic_channel.guard.SLASH_GUARD` the channel put before a "/..." text.)
    """
    for event in events:
        if isinstance(event, UserUttered) and event.message_id == message_id:
            stored = event.text or ""
            return (stored[len(SLASH_GUARD) :] if stored.startswith(SLASH_GUARD) else stored) != text
    return False


def error_response(
    texts: Dict[str, str], max_chars: int, status: int, code: str, retry_after: int = 0, **extra: Any
) -> HTTPResponse:
    """A JSON error: the stable ``code`` and the patient-facing ``message`` for it (from ``texts``,
    the channel's messages.yml), never an empty 200. The code is in ``error`` (what the widget
    reads) and, for other clients, also in ``code``. ``extra`` fields join the body. A wait goes in
    the ``Retry-After`` header and, for browsers (which may not read that header across origins),
    in the body as ``retry_after`` (seconds)."""
    text = texts.get(code, texts["invalid_request"]).format(max_chars=max_chars)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    body = {"error": code, "code": code, "message": text, **extra}
    if retry_after:
        body["retry_after"] = retry_after
    return response.json(body, status=status, headers=headers)


def conversation_tag(session_id: str) -> str:
    """A short, non-reversible tag of a conversation id for log lines (never the id or any text)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:10]


class PatientInput(InputChannel):
    """The widget's channel. Options (credentials.yml): see :meth:`__init__`."""

    @classmethod
    def name(cls) -> Text:
        return "patient"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "PatientInput":
        return cls(**(credentials or {}))

    def __init__(
        self,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        max_body_bytes: int = MAX_BODY_BYTES,
        session_rate: str = "20/60",
        client_rate: str = "120/60",
        session_start_rate: str = "120/3600",
        health_timeout: float = 2.0,
        action_timeout: float = 10.0,
        max_turns_in_flight: int = 64,
        max_queue_seconds: float = 10.0,
        secret: Optional[bytes] = None,
        rate_limit_redis_url: Optional[str] = None,
    ) -> None:
        """Set the limits.

        Args:
            max_message_chars: longest accepted message, after trimming.
            max_body_bytes: largest accepted request body (also Sanic's request size cap).
            session_rate: messages per seconds per conversation, ``"count/seconds"``.
            client_rate: messages per seconds per client address.
            session_start_rate: new conversations per seconds per client address.
            health_timeout: seconds the health check waits for the action server.
            action_timeout: seconds Rasa waits for a custom action (Rasa's default is 300 s, far
                longer than the 60 s conversation lock: a slow action would let a second message
                of the same conversation run at the same time). A timed-out action yields the
                ``no_reply`` message within seconds.
            max_turns_in_flight: messages this process works on at once; more wait for a free
                slot, first come first served.
            max_queue_seconds: how long a message may wait for a slot; after that (a burst beyond
                what the server can answer in time) it is answered 503 ``busy`` with Retry-After,
                which the widget waits out and sends again. A message naming a red-flag symptom
                (the red-flag patterns: no model time) never waits and is never refused.
            secret: key that signs conversation ids (default: :func:`load_secret`).
            rate_limit_redis_url: Redis shared by all replicas for the rate limits (default:
                ``RATE_LIMIT_REDIS_URL``; unset: limits per process). See
                :mod:`clinic_store.rate_limits`.
        """
        self.max_message_chars = int(max_message_chars)
        self.max_body_bytes = int(max_body_bytes)
        self.health_timeout = float(health_timeout)
        self.action_timeout = float(action_timeout)
        self.max_turns_in_flight = int(max_turns_in_flight)
        self.max_queue_seconds = float(max_queue_seconds)
        if self.max_turns_in_flight < 1 or self.max_queue_seconds < 0:
            raise ValueError("max_turns_in_flight must be at least 1 and max_queue_seconds not negative")
        self._turn_slots = asyncio.Semaphore(self.max_turns_in_flight)
        lock_lifetime = float(LOCK_LIFETIME)  # the lock stores' (TICKET_LOCK_LIFETIME)
        if not 0 < self.action_timeout < lock_lifetime:
            raise ValueError(f"action_timeout must be between 0 and the lock lifetime ({lock_lifetime} s)")
        secret = secret or load_secret()
        self.signer = SessionSigner(secret)
        self.messages = load_messages()
        # The server's runtime layer (idempotent; python -m clinic_runtime installed it already):
        # this channel's action timeout, and its safe reply for a failed action (stored, flagged).
        clinic_runtime.install(action_timeout=self.action_timeout, safe_reply=self.messages["no_reply"])
        self._in_flight: Dict[Tuple[str, str], "asyncio.Future[None]"] = {}
        redis_url, key_prefix = rate_limit_store(rate_limit_redis_url)
        self.session_limiter = make_limiter("session", parse_rate(session_rate), redis_url, secret, key_prefix)
        self.client_limiter = make_limiter("client", parse_rate(client_rate), redis_url, secret, key_prefix)
        self.start_limiter = make_limiter("start", parse_rate(session_start_rate), redis_url, secret, key_prefix)

    def _error(self, status: int, code: str, retry_after: int = 0, **extra: Any) -> HTTPResponse:
        return error_response(self.messages, self.max_message_chars, status, code, retry_after, **extra)

    @staticmethod
    def _client(request: Request) -> str:
        return request.remote_addr or request.ip or "unknown"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The routes under ``/webhooks/patient/``."""
        bp = Blueprint("patient_webhook", __name__)
        channel = self

        @bp.listener("before_server_start")
        async def cap_request_size(app: Any, _loop: Any) -> None:
            # Sanic's default is 100 MB; the patient channel never needs more than a few KB.
            # (The Rasa HTTP API, which takes model uploads, is off on the patient-facing server.)
            app.config.REQUEST_MAX_SIZE = max(channel.max_body_bytes, 1024)

        @bp.listener("before_server_start")
        async def harden_server(app: Any, _loop: Any) -> None:
            # Sanic's own errors as JSON with the emergency line, no version on "/", no CORS credentials.
            install_server_hardening(app, channel._error)

        @bp.listener("after_server_start")
        async def freeze_model_heap(app: Any, _loop: Any) -> None:
            # Rasa loads the agent before the server starts; its objects leave the garbage collector's walks.
            if getattr(app.ctx, "agent", None) is not None:
                logger.info("heap frozen after loading the model: %d objects", freeze_loaded_heap())

        @bp.listener("after_server_stop")
        async def close_action_connections(_app: Any, _loop: Any) -> None:
            await close_kept_alive_sessions()
            for limiter in (channel.session_limiter, channel.client_limiter, channel.start_limiter):
                await limiter.close()

        @bp.route("/session", methods=["POST"])
        async def start_session(request: Request) -> HTTPResponse:
            if not is_json_content_type(request.headers.get("content-type")):
                return channel._error(415, "unsupported_media_type")  # a cross-site form post
            wait = await channel.start_limiter.acquire(channel._client(request))
            if wait:
                return channel._error(429, "rate_limited", wait)
            return response.json({"session_id": channel.signer.issue(), "max_message_chars": channel.max_message_chars})

        @bp.route("/message", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                data = parse_json_object(request.body or b"", channel.max_body_bytes)
                message = parse_message_request(data, channel.signer, channel.max_message_chars)
            except RequestError as error:
                if error.code == "message_too_long":  # the session is valid: rate-limited like a message
                    return await channel._too_long(request, data)
                return channel._error(error.status, error.code)
            wait = await channel._acquire(request, message.session_id)
            if wait:
                return channel._error(429, "rate_limited", wait)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return channel._error(503, "not_ready", NOT_READY_RETRY_AFTER)
            admission = await channel._admit(agent, message.text)
            if admission == "busy":
                return channel._error(503, "busy", BUSY_RETRY_AFTER)
            try:
                return await channel._handle(agent, on_new_message, message)
            finally:
                if admission == "slot":
                    channel._turn_slots.release()

        @bp.route("/feedback", methods=["POST"])
        async def feedback(request: Request) -> HTTPResponse:
            try:
                data = parse_json_object(request.body or b"", channel.max_body_bytes)
                rating = parse_feedback_request(data, channel.signer)
            except RequestError as error:
                return channel._error(error.status, error.code)
            wait = await channel.session_limiter.acquire(rating["session_id"])
            if wait:
                return channel._error(429, "rate_limited", wait)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return channel._error(503, "not_ready")
            return await channel._store_feedback(agent, rating)

        @bp.route("/live", methods=["GET"])
        async def live(request: Request) -> HTTPResponse:
            # Liveness: the process answers. Touches no database, model or action server, so an
            # outage of those never gets a healthy process restarted (that is what /health is for).
            return response.json({"status": "alive"})

        @bp.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            report = await channel.health_report(request.app.ctx.agent)
            ok = all(report.values())
            return response.json({"status": "ok" if ok else "degraded", **report}, status=200 if ok else 503)

        return bp

    async def _acquire(self, request: Request, session_id: str) -> int:
        """Seconds to wait before this conversation and client may send another message (0: go on)."""
        for limiter, key in ((self.session_limiter, session_id), (self.client_limiter, self._client(request))):
            wait = await limiter.acquire(key)
            if wait:
                return wait
        return 0

    async def _too_long(self, request: Request, data: Dict[str, Any]) -> HTTPResponse:
        """413 for a message over the limit, with the triage reply if its words escalate (judged by the
        rules, no model time): a long story that ends "and now I can't feel my legs" must still get
        the emergency advice. Nothing is stored: the patient is asked to send it shorter."""
        wait = await self._acquire(request, data["session_id"])
        if wait:
            return self._error(429, "rate_limited", wait)
        text = clean_text(data["message"])[: self.max_body_bytes]
        level = triage_assess(text).level
        agent = request.app.ctx.agent
        replies = self._triage_reply(agent, level) if agent is not None and level in ESCALATED else []
        if replies:
            return self._error(413, "message_too_long", messages=replies)
        return self._error(413, "message_too_long")

    @staticmethod
    def _triage_reply(agent: Any, level: str) -> List[Dict[str, Any]]:
        """The domain's first response for the triage ``level`` (emergency, crisis, urgent), as the widget shows it."""
        variants = agent.domain.responses.get(TRIAGE_RESPONSES[level]) or []
        return [m for m in (patient_message(dict(v)) for v in variants[:1]) if m]

    async def _admit(self, agent: Any, text: str) -> str:
        """``"slot"`` (a turn slot was taken: release it), ``"urgent"`` (triage escalates it: no slot, no wait)
        or ``"busy"`` (no slot freed within ``max_queue_seconds``).

        Only a message that would have to wait is triaged here: first the typed text (rules and
        reader, no model needed), then, if that is calm, the NLU's verdict, whose triage also reads
        the spelling corrector's readings (a red flag that only the corrected text shows must not
        wait either). One extra parse per waiting message: the price of never queueing a red flag.
        With the runtime layer that parse runs on the parse worker thread while turns are in flight
        (clinic_runtime/parse_offload.py), so it does not hold up the turns already running.
        """
        if not self._turn_slots.locked():
            await self._turn_slots.acquire()  # a free slot: no wait
            return "slot"
        if triage_assess(text).escalated or await self._triage_level_by_nlu(agent, text) is not None:
            return "urgent"
        try:
            await asyncio.wait_for(self._turn_slots.acquire(), self.max_queue_seconds)
        except asyncio.TimeoutError:
            # A burst beyond what this process answers in time: say so (the widget keeps the message
            # and sends it again) rather than let the patient wait towards the widget's timeout.
            logger.warning("patient.message.busy")
            return "busy"
        return "slot"

    async def _handle(
        self, agent: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: Any
    ) -> HTTPResponse:
        store = strict_tracker_store(agent)
        sender = message.session_id
        text = message.text
        collector = PatientOutputChannel()
        key = (sender, message.message_id) if message.message_id else None
        retry = bool(key and message.retry)
        if key in self._in_flight:
            # The same message is still being handled (the client gave up waiting and retried):
            # wait for it, then answer with what it stored instead of handling it twice.
            await asyncio.shield(self._in_flight[key])
            retry = True
        done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        if key:
            self._in_flight[key] = done
        try:
            if retry or text.startswith("/"):
                # Only these two cases read the conversation first (a normal turn costs no extra query).
                async with agent.lock_store.lock(sender):
                    tracker = await store.retrieve(sender)
                events = list(tracker.events) if tracker else []
                if retry:
                    if _sent_with_other_text(events, message.message_id, text):
                        # The client reused an id for new words: say so (the new text was not handled).
                        logger.warning("patient.message.id_conflict session=%s", conversation_tag(sender))
                        return self._error(
                            409, "message_id_conflict", messages=await self._emergency_reply(agent, text)
                        )
                    stored = _replies_to(events, message.message_id)
                    if stored is not None:
                        logger.info("patient.message.replayed session=%s", conversation_tag(sender))
                        return self._ok(message, stored or [self._no_reply()])
                text = neutralise_slash(text, offered_payloads(events))
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), message_id=message.message_id)
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the tracker store (or the model) failed: say so, never answer []
            logger.error("patient.message.failed session=%s error=%s", conversation_tag(sender), type(error).__name__)
            emergency = [m for m in collector.messages if m["emergency"]] or await self._emergency_reply(agent, text)
            return self._error(503, "not_saved", messages=emergency)
        finally:
            if key and self._in_flight.get(key) is done:
                del self._in_flight[key]
            done.set_result(None)
        replies = collector.messages or [self._no_reply()]
        return self._ok(message, replies)

    async def _store_feedback(self, agent: Any, rating: Dict[str, str]) -> HTTPResponse:
        """Record the patient's rating of the replies to one of their messages (slot ``feedback``)."""
        store = strict_tracker_store(agent)
        sender = rating["session_id"]
        try:
            async with agent.lock_store.lock(sender):
                tracker = await store.retrieve(sender)
                known = tracker is not None and any(
                    isinstance(e, UserUttered) and e.message_id == rating["message_id"] for e in tracker.events
                )
                if not known:
                    return self._error(404, "unknown_message")
                tracker.update(SlotSet(FEEDBACK_SLOT, {"message_id": rating["message_id"], "rating": rating["rating"]}))
                await store.save(tracker)
        except Exception as error:
            logger.error("patient.feedback.failed session=%s error=%s", conversation_tag(sender), type(error).__name__)
            return self._error(503, "not_saved")
        return response.json({"ok": True})

    def _no_reply(self) -> Dict[str, Any]:
        """What the patient sees when the assistant produced no reply (e.g. the action server failed)."""
        return {"text": self.messages["no_reply"], "emergency": False, "level": None}

    @staticmethod
    async def _emergency_reply(agent: Any, text: str) -> List[Dict[str, Any]]:
        """The triage response (emergency, crisis, urgent) if ``text`` escalates, judged by the NLU alone
        (no tracker needed).

        Used when the conversation could not be loaded or saved, so that a patient with red-flag
        symptoms still gets the advice.
        """
        level = await PatientInput._triage_level_by_nlu(agent, text)
        return [] if level is None else PatientInput._triage_reply(agent, level)

    @staticmethod
    async def _triage_level_by_nlu(agent: Any, text: str) -> Optional[str]:
        """The triage level (emergency, crisis, urgent) the NLU pipeline gives ``text``, or None.

        The pipeline's triage reads the typed text and every reading of the spelling corrector
        (config.yml ``TriageOverride``), so this is the verdict a turn would act on.
        """
        try:
            parse = await agent.parse_message(text)
        except Exception as error:
            logger.error("patient.emergency_check.failed error=%s", type(error).__name__)
            return None
        intent = (parse.get("intent") or {}).get("name")
        return next((lv for lv, name in TRIAGE_INTENTS.items() if name == intent), None)

    @staticmethod
    def _ok(message: Any, replies: List[Dict[str, Any]]) -> HTTPResponse:
        return response.json({"session_id": message.session_id, "message_id": message.message_id, "messages": replies})

    async def health_report(self, agent: Any) -> Dict[str, bool]:
        """Is the model loaded, can the tracker store write (a write rolled back), does the action server answer?"""
        report = {"model": bool(agent and agent.is_ready()), "tracker_store": False, "action_server": False}
        if agent is None:
            return report
        try:
            store = strict_tracker_store(agent)
            inner = store
            while getattr(inner, "_tracker_store", None) is not None:  # Rasa's FailSafe and Awaitable wrappers
                inner = inner._tracker_store
            if hasattr(inner, "check_writable"):
                inner.check_writable()  # a write rolled back: reading works on a read-only database too
            else:
                await store.retrieve("health-check")
            report["tracker_store"] = True
        except Exception as error:
            logger.error("patient.health.tracker_store error=%s", type(error).__name__)
        endpoint = getattr(agent, "action_endpoint", None)
        if endpoint and endpoint.url:
            url = endpoint.url.rsplit("/webhook", 1)[0] + "/health"
            try:
                timeout = aiohttp.ClientTimeout(total=self.health_timeout)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    async with session.get(url) as answer:
                        report["action_server"] = answer.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
        return report
