"""Rasa's REST channel (``/webhooks/rest/webhook``, same request and reply format), with guards.

Kept for integrations and the clinic's own evaluation scripts, which send
``{"sender": ..., "message": ...}`` and read Rasa's list of bot messages. Unlike Rasa's own
``RestInput`` it refuses a missing or malformed sender (no shared ``default`` conversation) and the
patient channel's ids, refuses non-string, empty and over-long messages with a JSON 4xx, reads
``/...`` as text unless it is an offered button, rate-limits, and answers a failure with a JSON 503
instead of ``200 []``. The widget uses :mod:`clinic_channel.patient`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic_channel.guard import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    SESSION_PREFIX,
    RequestError,
    neutralise_slash,
    parse_json_object,
    parse_rate,
    parse_text,
)
from clinic_channel.patient import (
    offered_payloads,
    strict_tracker_store,
    conversation_tag,
    error_response,
    load_messages,
    load_secret,
    rate_limit_store,
)
from clinic_channel.server_hardening import install as install_server_hardening
import clinic_runtime
from clinic_store.rate_limits import make_limiter

logger = logging.getLogger(__name__)

# fullmatch: with ``match`` and ``$`` a sender "default\n" would pass and be stored as its own conversation.
_SENDER_RE = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")


def parse_rest_request(data: Dict[str, Any], max_chars: int) -> Dict[str, str]:
    """``{"sender", "message"}`` validated (sender format, text type/size) or :class:`RequestError`."""
    sender = data.get("sender")
    if not isinstance(sender, str) or not _SENDER_RE.fullmatch(sender) or sender == "default":
        raise RequestError(400, "invalid_sender")
    if sender.startswith(SESSION_PREFIX + "."):
        raise RequestError(403, "unknown_session")  # patients' conversations are the patient channel's
    return {"sender": sender, "text": parse_text(data.get("message"), max_chars)}


class GuardedRestInput(RestInput):
    """``rest`` in credentials.yml maps here (see that file); options as for the patient channel."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedRestInput":
        return cls(**(credentials or {}))

    def __init__(
        self,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        max_body_bytes: int = MAX_BODY_BYTES,
        sender_rate: str = "600/60",
        client_rate: str = "6000/60",
        rate_limit_redis_url: Optional[str] = None,
    ) -> None:
        self.max_message_chars = int(max_message_chars)
        self.max_body_bytes = int(max_body_bytes)
        self.messages = load_messages()
        clinic_runtime.install(safe_reply=self.messages["no_reply"])  # idempotent; keeps the action timeout set
        redis_url, key_prefix = rate_limit_store(rate_limit_redis_url)
        secret = load_secret()
        self.sender_limiter = make_limiter("rest-sender", parse_rate(sender_rate), redis_url, secret, key_prefix)
        self.client_limiter = make_limiter("rest-client", parse_rate(client_rate), redis_url, secret, key_prefix)

    def _error(self, status: int, code: str, retry_after: int = 0) -> HTTPResponse:
        return error_response(self.messages, self.max_message_chars, status, code, retry_after)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("guarded_rest_webhook", __name__)
        channel = self

        @bp.listener("before_server_start")
        async def harden_server(app: Any, _loop: Any) -> None:
            # As the patient channel does (once per app, whichever channel comes first).
            install_server_hardening(app, channel._error)

        @bp.listener("after_server_stop")
        async def close_limiters(_app: Any, _loop: Any) -> None:
            for limiter in (channel.sender_limiter, channel.client_limiter):
                await limiter.close()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                data = parse_json_object(request.body or b"", channel.max_body_bytes)
                parsed = parse_rest_request(data, channel.max_message_chars)
            except RequestError as error:
                return channel._error(error.status, error.code)
            sender, text = parsed["sender"], parsed["text"]
            for limiter, key in (
                (channel.sender_limiter, sender),
                (channel.client_limiter, request.remote_addr or request.ip),
            ):
                wait = await limiter.acquire(key)
                if wait:
                    return channel._error(429, "rate_limited", wait)
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return channel._error(503, "not_ready")
            store = strict_tracker_store(agent)
            collector = CollectingOutputChannel()
            try:
                if text.startswith("/"):
                    async with agent.lock_store.lock(sender):
                        tracker = await store.retrieve(sender)
                    text = neutralise_slash(text, offered_payloads(list(tracker.events) if tracker else []))
                await on_new_message(UserMessage(text, collector, sender, input_channel=channel.name()))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.error("rest.message.failed sender=%s error=%s", conversation_tag(sender), type(error).__name__)
                return channel._error(503, "not_saved")
            return response.json(collector.messages or [{"recipient_id": sender, "text": channel.messages["no_reply"]}])

        return bp
