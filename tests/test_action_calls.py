"""clinic_runtime.action_calls: the cached validator accepts and rejects exactly what Rasa's does; only
recent events are sent; action calls reuse one kept-alive connection (over real HTTP)."""

from __future__ import annotations

from typing import List, Optional

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from clinic_runtime.action_calls import _validate_action_result, install_cached_validation

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("rasa_restored")]

GOOD = [
    {"events": [{"event": "slot", "name": "last_topic", "value": "ask_cost"}], "responses": [{"text": "hi"}]},
    {"events": [], "responses": []},
    {},
]
BAD = [
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"events": "nope"},
    {"responses": [1, 2]},
]


@pytest.mark.parametrize("result", GOOD)
def test_valid_results_pass(result):
    action = RemoteAction("action_x", None)
    validate(result, action.action_response_format_spec())  # Rasa's own check agrees
    assert _validate_action_result(action, result) is True


@pytest.mark.parametrize("result", BAD)
def test_invalid_results_fail_as_in_rasa(result):
    action = RemoteAction("action_x", None)
    with pytest.raises(ValidationError):
        validate(result, action.action_response_format_spec())
    with pytest.raises(ValidationError) as raised:
        _validate_action_result(action, result)
    assert "Failed to validate Action server response" in raised.value.message


def test_install_replaces_rasas_method():
    install_cached_validation()
    assert RemoteAction._validate_action_result is _validate_action_result


def test_only_the_events_since_the_latest_user_message_are_sent():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from clinic_runtime.action_calls import install_short_action_calls
    from tests.conftest import ROOT

    install_short_action_calls()
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "s",
        [
            ActionExecuted("action_listen"),
            UserUttered("how much", {"name": "ask_cost", "confidence": 0.9}),
            ActionExecuted("action_answer_topic"),
            SlotSet("last_topic", "ask_cost"),
            ActionExecuted("action_listen"),
            UserUttered("tell me more", {"name": "ask_more", "confidence": 0.9}),
        ],
        slots=domain.slots,
    )
    sent = RemoteAction("action_tell_more", None)._action_call_format(tracker, domain)["tracker"]
    assert [e["event"] for e in sent["events"]] == ["user"]
    assert sent["events"][0]["text"] == "tell me more"
    assert sent["slots"]["last_topic"] == "ask_cost", "slot values still travel with the call"
    assert sent["latest_message"]["intent"]["name"] == "ask_more"


def test_the_request_body_equals_rasas_with_the_events_trimmed_for_every_story_step():
    """The fast format (no serialising of old events) gives exactly Rasa's body, then trimmed."""
    from rasa.core.training import load_data
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from clinic_runtime.action_calls import _action_call_format, _full_call_format
    from tests.conftest import ROOT

    def reference(action, tracker, domain):
        """Rasa's own body with every event, then cut to the events from the latest user message on."""
        body = _full_call_format(action, tracker, domain)
        events = body["tracker"]["events"]
        starts = [i for i, e in enumerate(events) if e["event"] == "user"]
        body["tracker"]["events"] = events[starts[-1] :] if starts else events
        return body

    domain = Domain.load(str(ROOT / "domain.yml"))
    checked = 0
    for story in load_data(str(ROOT / "tests" / "test_stories.yml"), domain, augmentation_factor=0):
        tracker = DialogueStateTracker(story.sender_id, domain.slots)
        for event in story.events:
            tracker.update(event)
            for name in ("action_answer_topic", "validate_callback_form"):
                action = RemoteAction(name, None)
                assert _action_call_format(action, tracker, domain) == reference(action, tracker, domain)
                checked += 1
    assert checked > 300


# ---------------------------------------------------------------- kept-alive connections (real HTTP)

from aiohttp import web  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from clinic_runtime import action_calls  # noqa: E402


class PeerCounter:
    """A real HTTP server on loopback that records the client port of every request."""

    def __init__(self) -> None:
        self.peers: List[int] = []
        self.runner: Optional[web.AppRunner] = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        async def handle(request: web.Request) -> web.Response:
            self.peers.append(request.transport.get_extra_info("peername")[1])
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001

    async def stop(self) -> None:
        await self.runner.cleanup()


@pytest.fixture
def restore_endpoint_config(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(EndpointConfig, "request", EndpointConfig.request)


async def _calls(n: int, kept_alive: bool, restart_after: Optional[int] = None) -> PeerCounter:
    server = PeerCounter()
    await server.start()
    if kept_alive:
        action_calls.install_kept_alive_requests()
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
    try:
        for i in range(n):
            if i == restart_after:
                port = server.port
                await server.stop()  # the action server restarts: the kept connection is dead
                server = PeerCounter()
                await server.start(port)
            assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}
    finally:
        await action_calls.close_kept_alive_sessions()
        await server.stop()
    return server


@pytest.mark.asyncio
async def test_rasa_opens_a_new_connection_for_every_action_call(restore_endpoint_config):
    server = await _calls(5, kept_alive=False)
    assert len(set(server.peers)) == 5


@pytest.mark.asyncio
async def test_kept_alive_action_calls_reuse_one_connection(restore_endpoint_config):
    server = await _calls(5, kept_alive=True)
    assert len(server.peers) == 5 and len(set(server.peers)) == 1


@pytest.mark.asyncio
async def test_a_restarted_action_server_is_reached_on_a_new_connection(restore_endpoint_config):
    server = await _calls(4, kept_alive=True, restart_after=2)  # calls 3 and 4 go to the new server
    assert len(server.peers) == 2 and len(set(server.peers)) == 1


@pytest.mark.asyncio
async def test_an_action_server_that_is_down_is_still_an_error(restore_endpoint_config):
    action_calls.install_kept_alive_requests()
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")  # nothing listens on the discard port
    with pytest.raises(aiohttp_client_errors()):
        await endpoint.request(json={}, method="post")
    await action_calls.close_kept_alive_sessions()


def aiohttp_client_errors():
    import aiohttp

    return aiohttp.ClientError
