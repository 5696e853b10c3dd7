"""clinic_runtime/parse_offload.py: the NLU parse runs on its worker thread, gives Rasa's results, and the
event loop keeps serving other conversations meanwhile."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, List, Set

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from clinic_runtime import parse_offload
from tests.conftest import ROOT, parse_probe_texts

pytestmark = pytest.mark.integration

MODEL = ROOT / "models" / "spine-clinic.tar.gz"


@pytest.fixture(scope="module")
def processor() -> MessageProcessor:
    if not MODEL.exists():
        pytest.skip("no trained model (make train)")
    return Agent.load(str(MODEL)).processor


@pytest.mark.asyncio
async def test_every_held_out_message_parses_as_with_rasas_parse_message(processor):
    async def outcome(parse: Any, text: str) -> Any:
        try:
            return await parse(processor, UserMessage(text, sender_id="a"))
        except Exception as error:  # noqa: BLE001 - the same failure is the same outcome ("" fails in Rasa)
            return type(error).__name__, str(error)

    texts = parse_probe_texts()
    assert len(texts) > 100
    for text in texts:
        rasa_parse = await outcome(parse_offload._original_parse_message, text)
        assert await outcome(parse_offload.parse_message_off_loop, text) == rasa_parse, text


@pytest.mark.asyncio
async def test_the_graph_runs_on_the_parse_thread_while_the_loop_serves_others(processor, monkeypatch):
    """While the graph runs (native, GIL-free time), another coroutine must get the event loop. The
    graph below waits until a coroutine on the loop has run after it started: with Rasa's
    parse_message it would run on the loop itself, the coroutine could never run, and the wait
    would give up."""
    seen_threads: List[str] = []
    graph_started, loop_served = threading.Event(), threading.Event()
    served_while_parsing: List[bool] = []
    real = MessageProcessor._parse_message_with_graph

    def waiting_graph(self: MessageProcessor, *args: Any) -> Any:
        seen_threads.append(threading.current_thread().name)
        graph_started.set()
        served_while_parsing.append(loop_served.wait(timeout=20))
        return real(self, *args)

    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", waiting_graph)
    monkeypatch.setattr(parse_offload._Load, "turns", 2)  # another conversation's turn is in progress

    async def another_conversation() -> None:
        while not graph_started.is_set():
            await asyncio.sleep(0.001)
        loop_served.set()

    other = asyncio.ensure_future(another_conversation())
    parse = await parse_offload.parse_message_off_loop(processor, UserMessage("how long is recovery", sender_id="b"))
    if not other.done():
        other.cancel()
    assert parse["intent"]["name"] == "ask_recovery_time"
    assert seen_threads and seen_threads[0].startswith(parse_offload.THREAD_NAME)
    assert served_while_parsing == [True], "the event loop was blocked while the graph ran"


@pytest.mark.asyncio
@pytest.mark.parametrize("turns", [1, 2])
async def test_an_error_in_the_graph_reaches_the_caller(processor, monkeypatch, turns):
    def broken(self: MessageProcessor, *args: Any) -> Any:
        raise ValueError("component failed")

    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", broken)
    monkeypatch.setattr(parse_offload._Load, "turns", turns)
    with pytest.raises(ValueError, match="component failed"):
        await parse_offload.parse_message_off_loop(processor, UserMessage("hello", sender_id="c"))
    assert parse_offload._Load.handed_off == 0


@pytest.mark.asyncio
async def test_a_lone_turn_parses_on_the_loop_and_concurrent_turns_hand_off(processor, monkeypatch):
    """Through the processor's real handle_message: one conversation alone pays no thread hand-off;
    when conversations' turns overlap, parses go to the parse thread, and never inline while a
    handed-off parse is still running. The overlap is made certain, not left to timing: the four
    turns meet in the tracker store before any of them parses, and the first handed-off parse is
    held on the thread until all four have chosen where to parse."""
    threads: List[str] = []
    concurrent = 4
    real = MessageProcessor._parse_message_with_graph
    all_decided = threading.Event()
    handed: List[int] = []
    real_executor = parse_offload.parse_executor

    class CountingExecutor:
        def submit(self, *args: Any) -> Any:
            handed.append(1)
            if len(handed) == concurrent:
                all_decided.set()
            return real_executor().submit(*args)

    def recording_graph(self: MessageProcessor, *args: Any) -> Any:
        name = threading.current_thread().name
        threads.append(name)
        if name.startswith(parse_offload.THREAD_NAME) and len(threads) == 1:
            all_decided.wait(timeout=30)
        return real(self, *args)

    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", recording_graph)
    monkeypatch.setattr(parse_offload, "parse_executor", CountingExecutor)
    store = processor.tracker_store
    real_retrieve = store.retrieve
    entered: Set[str] = set()
    all_in = asyncio.Event()

    async def retrieve_together(sender_id: str) -> Any:
        """The concurrent turns wait here for each other (a real store yields to the loop here too)."""
        if sender_id.startswith("c"):
            entered.add(sender_id)
            if len(entered) == concurrent:
                all_in.set()
            await asyncio.wait_for(all_in.wait(), timeout=30)
        return await real_retrieve(sender_id)

    monkeypatch.setattr(store, "retrieve", retrieve_together)
    try:
        parse_offload.install()
        # Greetings: answered by a response, so no action server is needed here.
        await processor.handle_message(UserMessage("hello", sender_id="solo"))
        assert threads == ["MainThread"]
        assert parse_offload._Load.turns == 0
        threads.clear()
        await asyncio.gather(
            *(processor.handle_message(UserMessage("hi there", sender_id=f"c{i}")) for i in range(concurrent))
        )
        assert len(threads) == concurrent
        assert all(t.startswith(parse_offload.THREAD_NAME) for t in threads), threads
        assert parse_offload._Load.turns == 0 and parse_offload._Load.handed_off == 0
    finally:
        parse_offload.uninstall()


@pytest.mark.asyncio
async def test_no_inline_parse_while_a_handed_off_parse_still_runs(processor, monkeypatch):
    """A turn cancelled while its parse runs on the thread leaves that parse running: the next lone
    turn must queue behind it rather than run the NLU components on the loop at the same time.
    The first parse is held on the thread until the second turn has decided where to parse."""
    running: List[str] = []
    overlaps: List[bool] = []
    release_first = threading.Event()
    real = MessageProcessor._parse_message_with_graph

    def tracked_graph(self: MessageProcessor, *args: Any) -> Any:
        overlaps.append(bool(running))
        running.append(threading.current_thread().name)
        try:
            if len(overlaps) == 1:
                release_first.wait(timeout=20)
            return real(self, *args)
        finally:
            running.pop()

    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", tracked_graph)
    monkeypatch.setattr(parse_offload._Load, "turns", 2)
    first = asyncio.ensure_future(parse_offload.parse_message_off_loop(processor, UserMessage("hello", sender_id="d")))
    await _until(lambda: bool(running))  # the first parse is running on the thread
    first.cancel()
    monkeypatch.setattr(parse_offload._Load, "turns", 1)  # the cancelled turn has ended: this one is alone
    assert parse_offload._Load.handed_off == 1
    second = asyncio.ensure_future(
        parse_offload.parse_message_off_loop(processor, UserMessage("how big is the scar", sender_id="e"))
    )
    await asyncio.sleep(0)  # the second turn's first step: it parses inline or queues, synchronously
    release_first.set()
    await second
    assert overlaps == [False, False]
    await _until(lambda: parse_offload._Load.handed_off == 0)


async def _until(condition: Any, deadline_seconds: float = 30.0) -> None:
    """Wait on the event loop until ``condition()`` holds (a generous deadline, not a timing)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_seconds
    while not condition():
        assert loop.time() < give_up, "condition not reached"
        await asyncio.sleep(0.001)


def test_install_replaces_parse_message_and_uninstall_restores_it():
    try:
        parse_offload.install()
        parse_offload.install()
        assert MessageProcessor.parse_message is parse_offload.parse_message_off_loop
        assert MessageProcessor.handle_message is parse_offload.handle_message_counted
    finally:
        parse_offload.uninstall()
    assert MessageProcessor.parse_message is parse_offload._original_parse_message
    assert MessageProcessor.handle_message is parse_offload._original_handle_message


def test_one_parse_thread_per_process():
    first = parse_offload.parse_executor()
    assert parse_offload.parse_executor() is first
    assert first._max_workers == 1


def test_the_nlu_and_policy_graphs_share_only_the_domain_provider(processor):
    """The parse thread and the event loop run these two sub-graphs at the same time: a component in
    both would be called from two threads at once."""
    runner, metadata = processor.graph_runner, processor.model_metadata
    nlu = set(runner._graph_schema.minimal_graph_schema([metadata.nlu_target]).nodes)
    core = set(runner._graph_schema.minimal_graph_schema([metadata.core_target]).nodes)
    assert any("MiniLM" in n for n in nlu) and any("Policy" in n for n in core)
    assert nlu & core == {"domain_provider"}
