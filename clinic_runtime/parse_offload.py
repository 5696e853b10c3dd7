"""Run the NLU parse of each message on a worker thread, so one Rasa process uses both cores.

Rasa 3.6's ``MessageProcessor.parse_message`` is a coroutine that runs the NLU graph (tokenizer,
TF-IDF, MiniLM, classifier, red-flag override) synchronously on the event loop: while one message
is parsed, no other conversation moves. Under load (20 concurrent conversations, py-spy on the
server; BENCHMARKS.md) a large share of the server's CPU was ONNX Runtime's MiniLM forward pass, which
runs native code without holding Python's GIL.

:func:`install` makes ``parse_message`` hand ``_parse_message_with_graph`` to one dedicated worker
thread and await it. While MiniLM runs there, the event loop goes on with the other conversations'
policy predictions, action calls, tracker saves and HTTP, on the other core. What stays the same:

- the same graph, nodes, inputs and parse result (``_parse_message_with_graph`` is Rasa's own);
  tests/test_parse_offload.py checks the results against Rasa's on every held-out message;
- the order of one conversation's turns: the processor holds the conversation's lock around the
  whole turn, so its parse and its policy predictions never overlap;
- errors: an exception raised by the graph reaches the caller as before.

Only when there is something to overlap: a parse goes to the thread when another turn is in
progress in this process (or an earlier handed-off parse has not finished); a lone turn parses on the
loop as Rasa does. Handing off costs two thread wake-ups per turn (measurable on a single conversation
over HTTP; BENCHMARKS.md, "Figures behind the code"), which buys nothing when nobody else is waiting.
Turns are counted around ``MessageProcessor.handle_message``. Because a parse runs inline only when no
handed-off parse is still running, the NLU components never run on both threads at once.

Why one thread: parses run one at a time, as before, so the NLU components never run concurrently
with themselves (none of them has to be thread-safe against itself). The policy nodes run on the
loop's thread; the only node the NLU and policy sub-graphs share is ``domain_provider``, which hands
out the loaded domain (tests/test_parse_offload.py fails if a pipeline change makes them share
more, e.g. end-to-end policies that run NLU components). A second parse thread would compete with
the event loop for the same two cores. The HTTP interpreter path (``http_interpreter``, not used
here) keeps Rasa's code.

The Rasa server installs it through :func:`clinic_runtime.install`; training keeps Rasa's processor.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Text, Tuple

import structlog
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

structlogger = structlog.get_logger()

THREAD_NAME = "clinic-nlu-parse"
_original_parse_message = MessageProcessor.parse_message
_original_handle_message = MessageProcessor.handle_message
_executor: Optional[Tuple[int, ThreadPoolExecutor]] = None
_executor_lock = threading.Lock()


class _Load:
    """This process's turns in progress and handed-off parses not yet finished (event loop thread only)."""

    turns = 0
    handed_off = 0


def parse_executor() -> ThreadPoolExecutor:
    """The process's one parse thread (a new one after ``fork``: Sanic workers are processes)."""
    global _executor
    with _executor_lock:
        if _executor is None or _executor[0] != os.getpid():
            _executor = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME))
        return _executor[1]


async def parse_message_off_loop(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """``MessageProcessor.parse_message`` with the graph run on :func:`parse_executor`'s thread."""
    if self.http_interpreter:
        return await _original_parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    if _Load.turns <= 1 and not _Load.handed_off:
        parse_data = self._parse_message_with_graph(message, tracker, only_output_properties)
    else:
        loop = asyncio.get_running_loop()
        work = parse_executor().submit(self._parse_message_with_graph, message, tracker, only_output_properties)
        _Load.handed_off += 1
        # Counted down when the thread is really done, not when the awaiting turn is cancelled (the
        # graph runs on regardless, so an inline parse must still wait for it).
        work.add_done_callback(lambda _work: _parse_finished_threadsafe(loop))
        parse_data = await asyncio.wrap_future(work)
    # The rest as in Rasa's parse_message; its debug line also logged the patient's text and entities.
    self._update_full_retrieval_intent(parse_data)
    structlogger.debug("processor.message.parse", parse_data_intent=parse_data["intent"])
    self._check_for_unseen_features(parse_data)
    return parse_data


def _parse_finished() -> None:
    _Load.handed_off -= 1


def _parse_finished_threadsafe(loop: asyncio.AbstractEventLoop) -> None:
    """From the parse thread: count the parse down on the event loop's thread, which owns ``_Load``."""
    try:
        loop.call_soon_threadsafe(_parse_finished)
    except RuntimeError:  # the loop has closed (server shut down): nothing is left to count
        pass


async def handle_message_counted(self: MessageProcessor, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
    """Rasa's ``handle_message``, counted in ``_Load.turns`` while it runs."""
    _Load.turns += 1
    try:
        return await _original_handle_message(self, message)
    finally:
        _Load.turns -= 1


def install() -> None:
    """Make every ``MessageProcessor`` parse on the worker thread when other turns are running (idempotent)."""
    MessageProcessor.parse_message = parse_message_off_loop  # type: ignore[assignment]
    MessageProcessor.handle_message = handle_message_counted  # type: ignore[assignment]


def uninstall() -> None:
    """Back to Rasa's ``parse_message`` and ``handle_message`` (for tests that compare them)."""
    MessageProcessor.parse_message = _original_parse_message  # type: ignore[assignment]
    MessageProcessor.handle_message = _original_handle_message  # type: ignore[assignment]
