"""How the Rasa server calls the action server: a timeout under the lock lifetime, and a cached
response validator.

Both change module-level behaviour of ``rasa.core.actions.action`` (Rasa 3.6 has no setting for
either) and are installed by the patient channel when the server starts.

- Rasa waits ``DEFAULT_REQUEST_TIMEOUT`` (300 s) for every custom action, far longer than the 60 s
  conversation lock; a slow action would let a second message of the same conversation run at
  the same time.
- ``RemoteAction._action_call_format`` sends the whole conversation (every event) to the action
  server on every call, so a call grows with the conversation. Our actions read only the slots,
  the latest message and the events since it (forms: the slot candidates appended after it), so
  the events before the patient's latest message are left out (the slots still carry their values).
- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which re-checks the whole
  event schema against the meta-schema on every action call: most of an action call's time in
  bench/profile_turns.py. A validator built once gives the same result and the same error.
- ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` - a new TCP connection to the
  action server - for every action call (a visible share of the Rasa server's CPU under load, py-spy).
  :func:`install_kept_alive_requests` keeps one session per endpoint and event loop (each Sanic
  worker has its own), with keep-alive connections closed after 3 s idle (before the action
  server's 5 s), and retries a request once when a kept-alive connection turns out to have been
  closed by the server (restart): our actions only return events, so a repeat is harmless.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Text, Tuple

import aiohttp
import rasa
import rasa.core.actions.action as rasa_action
import rasa.utils.endpoints as rasa_endpoints
from rasa.utils.endpoints import EndpointConfig
from jsonschema import ValidationError
from jsonschema.validators import validator_for

_validator = None


def set_action_timeout(seconds: float) -> None:
    """Seconds the Rasa server waits for any custom action."""
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """Same check as Rasa's, with the schema checked once and the validator kept."""
    global _validator
    if _validator is None:
        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    try:
        _validator.validate(result)
        return True
    except ValidationError as error:
        raise ValidationError(
            f"{error.message}. Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid."
        ) from error


def install_cached_validation() -> None:
    """Replace ``RemoteAction._validate_action_result`` by the cached version (idempotent)."""
    rasa_action.RemoteAction._validate_action_result = _validate_action_result


_full_call_format = rasa_action.RemoteAction._action_call_format  # Rasa's, kept as the tests' reference


def _action_call_format(self: Any, tracker: Any, domain: Any) -> Dict[Text, Any]:
    """Rasa's request body (``RemoteAction._action_call_format``) with only the recent events, and
    without serialising the older ones first (that was O(conversation length) per action call)."""
    from rasa.shared.core.trackers import EventVerbosity

    recent: List[Any] = []
    for event in reversed(tracker.events):
        recent.append(event)
        if event.type_name == "user":
            break
    state = tracker.current_state(EventVerbosity.NONE)  # everything but the events
    state["events"] = [event.as_dict() for event in reversed(recent)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def install_short_action_calls() -> None:
    """Send the action server only the events since the patient's latest message (idempotent)."""
    rasa_action.RemoteAction._action_call_format = _action_call_format


KEEP_ALIVE_SECONDS = 3.0  # under Sanic's default keep-alive timeout (5 s) of the action server
_sessions: Dict[Tuple[int, int], aiohttp.ClientSession] = {}


class _Kept:
    """``async with`` on a shared session without closing it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _shared_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    key = (id(loop), id(endpoint))
    session = _sessions.get(key)
    if session is None or session.closed:
        # As Rasa's ``EndpointConfig.session`` (headers, basic auth, timeout), with a kept-alive pool.
        auth = endpoint.basic_auth
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
            timeout=aiohttp.ClientTimeout(total=rasa_endpoints.DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
        )
        _sessions[key] = session
    return session


_original_request = EndpointConfig.request


async def _request_kept_alive(self: EndpointConfig, *args: Any, **kwargs: Any) -> Optional[Any]:
    try:
        return await _original_request(self, *args, **kwargs)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        # A kept-alive connection the server had closed (e.g. it restarted): once more, on a new one.
        return await _original_request(self, *args, **kwargs)


def install_kept_alive_requests() -> None:
    """Reuse connections to the action server across calls (idempotent; see the module doc)."""
    EndpointConfig.session = lambda self: _Kept(_shared_session(self))  # type: ignore[assignment]
    EndpointConfig.request = _request_kept_alive  # type: ignore[assignment]


async def close_kept_alive_sessions() -> None:
    """Close the shared sessions of the running event loop (server shutdown)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _sessions if k[0] == loop_id]:
        await _sessions.pop(key).close()
