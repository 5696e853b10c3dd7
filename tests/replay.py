"""Replay the project's own conversations through a running Rasa server and compare two replays.

Used to show that the runtime layer (clinic_runtime) changes nothing a patient or the action server
would notice: the same conversations are replayed through a patched and a plain server, and every
prediction and event must agree (tests/test_runtime_equivalence.py).

- :func:`conversations`: every story of tests/test_stories.yml (its user turns, in order) and every
  message of the held-out tests/nlu_test.yml, dealt round-robin into a few long conversations (long
  conversations are where the tracker and action-call patches differ most from Rasa's code).
- :func:`replay`: sends the turns over the REST channel (several conversations at once, each one
  turn after the other, so the parse thread and the shared connections are used) and returns, per
  conversation, the bot's replies per turn and the tracker the server stored (``--enable-api``).
- :class:`RecordingProxy`: stands between the Rasa server and the real action server and records
  every action call (the request body Rasa sent and the action server's answer).
- :func:`differences`: the paths at which two recorded structures differ, with what is legitimately
  random (times, message ids) left out and floats compared within a tolerance.
- :func:`trimmed_body`: Rasa's full action-call body cut to what the runtime layer sends.

Runnable against any server started with ``--enable-api``::

    python -m tests.replay --url http://127.0.0.1:5005 --out var/replay-patched.json
    python -m tests.replay --compare var/replay-patched.json var/replay-plain.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
STORIES_FILE = ROOT / "tests" / "test_stories.yml"
NLU_FILE = ROOT / "tests" / "nlu_test.yml"
NLU_CONVERSATIONS = 12  # held-out messages dealt into this many conversations (about 30 turns each)
PARALLEL = 4  # conversations replayed at once
FLOAT_TOLERANCE = 1e-6

# Keys whose values differ between two runs of the same conversation and say nothing about what was
# predicted or answered: event and tracker times, random message ids, and the time a callback
# request was stored (actions/callback.py). Left out wherever they occur.
VOLATILE_KEYS = frozenset({"timestamp", "latest_event_time", "message_id", "requested_at"})

Turns = List[str]


def story_conversations(path: Path = STORIES_FILE) -> Dict[str, Turns]:
    """Each test story's user texts in order, keyed ``story:<name>``."""
    stories = yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    found: Dict[str, Turns] = {}
    for story in stories:
        turns = [str(step["user"]).strip() for step in story["steps"] if "user" in step]
        found[f"story:{story['story']}"] = turns
    return found


def held_out_messages(path: Path = NLU_FILE) -> List[str]:
    """Every example of the held-out NLU file, in file order."""
    messages: List[str] = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                messages.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:].strip()))
    return messages


def conversations(nlu_conversations: int = NLU_CONVERSATIONS) -> Dict[str, Turns]:
    """Every story, then the held-out messages dealt round-robin into ``nlu_conversations`` conversations."""
    found = story_conversations()
    messages = held_out_messages()
    for index in range(nlu_conversations):
        found[f"nlu:{index:02d}"] = messages[index::nlu_conversations]
    return found


def sender_id(key: str) -> str:
    """A conversation id the REST channel accepts (letters, digits, ``_.:@-``), stable per key."""
    return "replay-" + re.sub(r"[^A-Za-z0-9_.:@-]+", "_", key)[:100]


def _replay_one(url: str, key: str, turns: Turns, timeout: float) -> Dict[str, Any]:
    sender = sender_id(key)
    replies = []
    with requests.Session() as http:
        for text in turns:
            answer = http.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
            )
            if answer.status_code != 200:
                raise RuntimeError(f"{key}: {text!r} answered {answer.status_code}: {answer.text[:300]}")
            replies.append(answer.json())
        tracker = http.get(f"{url}/conversations/{sender}/tracker", params={"include_events": "ALL"}, timeout=timeout)
        tracker.raise_for_status()
    return {"sender": sender, "turns": turns, "replies": replies, "tracker": tracker.json()}


def replay(url: str, plan: Dict[str, Turns], parallel: int = PARALLEL, timeout: float = 60.0) -> Dict[str, Any]:
    """Every conversation of ``plan`` through the server at ``url``: its replies and stored tracker."""
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = {key: pool.submit(_replay_one, url, key, turns, timeout) for key, turns in plan.items()}
        return {key: future.result() for key, future in futures.items()}


# ------------------------------------------------------------------------------------ comparison


def without_volatile(value: Any) -> Any:
    """``value`` with :data:`VOLATILE_KEYS` removed at any depth."""
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def _describe(event: Any) -> str:
    if isinstance(event, dict) and "event" in event:
        return f"{event['event']} {event.get('name') or event.get('text') or ''}".strip()
    return repr(event)[:80]


def differences(a: Any, b: Any, path: str = "", tolerance: float = FLOAT_TOLERANCE) -> List[str]:
    """Where ``a`` and ``b`` differ (JSON-like values; volatile keys ignored; floats within ``tolerance``)."""
    a, b = without_volatile(a), without_volatile(b)
    return list(_differences(a, b, path or "$", tolerance))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _differences(a: Any, b: Any, path: str, tolerance: float) -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{path}.{key}: only in {'first' if key in a else 'second'}"
            else:
                yield from _differences(a[key], b[key], f"{path}.{key}", tolerance)
    elif isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b)):
            yield from _differences(x, y, f"{path}[{index}]", tolerance)
        if len(a) != len(b):
            extra = a[len(b) :] if len(a) > len(b) else b[len(a) :]
            yield (
                f"{path}: {len(a)} vs {len(b)} items; first extra in {'first' if len(a) > len(b) else 'second'}: "
                f"{_describe(extra[0])}"
            )
    elif _is_number(a) and _is_number(b) and (isinstance(a, float) or isinstance(b, float)):
        if not math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance):
            yield f"{path}: {a!r} vs {b!r}"
    elif type(a) is not type(b) or a != b:
        yield f"{path}: {a!r:.200} vs {b!r:.200}"


def compare_replays(first: Dict[str, Any], second: Dict[str, Any]) -> List[str]:
    """Every difference between two replays of the same plan: replies turn by turn, then the stored
    tracker (events with their predictions and policies, slots, latest message, active form)."""
    found = differences(sorted(first), sorted(second), "conversations")
    for key in sorted(set(first) & set(second)):
        found += differences(first[key]["replies"], second[key]["replies"], f"{key}.replies")
        found += differences(first[key]["tracker"], second[key]["tracker"], f"{key}.tracker")
    return found


def count_predictions(recorded: Dict[str, Any]) -> Dict[str, int]:
    """How much a replay holds: turns, parsed messages, predicted actions, bot messages, slot events."""
    events = [e for conversation in recorded.values() for e in conversation["tracker"]["events"]]
    return {
        "conversations": len(recorded),
        "turns": sum(len(c["turns"]) for c in recorded.values()),
        "parsed_messages": sum(1 for e in events if e["event"] == "user"),
        "predicted_actions": sum(1 for e in events if e["event"] == "action" and e.get("policy")),
        "bot_messages": sum(1 for e in events if e["event"] == "bot"),
        "slot_events": sum(1 for e in events if e["event"] == "slot"),
    }


# ------------------------------------------------------------------------------------ action calls


def trimmed_body(body: Dict[str, Any]) -> Dict[str, Any]:
    """Rasa's full action-call body with the events before the patient's latest message left out:
    what clinic_runtime.action_calls documents that it sends (the rest of the body unchanged)."""
    events = body["tracker"]["events"]
    starts = [index for index, event in enumerate(events) if event.get("event") == "user"]
    cut = {**body["tracker"], "events": events[starts[-1] :] if starts else events}
    return {**body, "tracker": cut}


@dataclass
class RecordingProxy:
    """A loopback HTTP proxy in front of the action server that records every call.

    Start it before the Rasa server (its :attr:`url` goes into the endpoints as the action
    endpoint), set :attr:`target` to the action server's webhook once it runs. Each call is recorded
    as ``{"body": <what Rasa sent>, "status": <action server's status>, "answer": <its JSON>}``.
    """

    target: str = ""
    calls: List[Dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _loop: Optional[asyncio.AbstractEventLoop] = None
    _thread: Optional[threading.Thread] = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> "RecordingProxy":
        started = threading.Event()
        failure: List[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(started, failure), daemon=True, name="recording-proxy"
        )
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join()

    def calls_by_sender(self) -> Dict[str, List[Dict[str, Any]]]:
        """The recorded calls per conversation, in the order they were made."""
        found: Dict[str, List[Dict[str, Any]]] = {}
        with self._lock:
            for call in self.calls:
                found.setdefault(call["body"]["sender_id"], []).append(call)
        return found

    def _serve(self, started: threading.Event, failure: List[BaseException]) -> None:
        from aiohttp import ClientSession, web

        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def forward(request: web.Request) -> web.Response:
            raw = await request.read()
            async with ClientSession() as client:
                async with client.post(self.target, data=raw, headers={"Content-Type": "application/json"}) as answer:
                    status, payload = answer.status, await answer.read()
            with self._lock:
                self.calls.append(
                    {"body": json.loads(raw), "status": status, "answer": json.loads(payload) if payload else None}
                )
            return web.Response(status=status, body=payload, content_type="application/json")

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook", forward)
        runner = web.AppRunner(app)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
            self.url = f"http://127.0.0.1:{port}/webhook"
        except BaseException as error:  # reported to the starting thread
            failure.append(error)
            started.set()
            return
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()


def paired_calls(
    full: Dict[str, List[Dict[str, Any]]], trimmed: Dict[str, List[Dict[str, Any]]]
) -> Tuple[List[Tuple[Dict[str, Any], Dict[str, Any]]], List[str]]:
    """The calls of a plain run and of a patched run, paired per conversation in order; and what does
    not pair (a conversation or an action call made by one run only)."""
    pairs, unpaired = [], []
    for sender in sorted(set(full) | set(trimmed)):
        a, b = full.get(sender, []), trimmed.get(sender, [])
        names_a = [call["body"]["next_action"] for call in a]
        names_b = [call["body"]["next_action"] for call in b]
        if names_a != names_b:
            unpaired.append(f"{sender}: plain called {names_a}, patched called {names_b}")
            continue
        pairs += list(zip(a, b))
    return pairs, unpaired


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a Rasa server started with --enable-api")
    parser.add_argument("--out", type=Path, help="write the replay here (JSON)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar="JSON", help="compare two replays")
    args = parser.parse_args(argv)
    if args.compare:
        # A replay as written by --out, or the test's dump (conversations and action calls).
        first, second = (json.loads(p.read_text(encoding="utf-8")) for p in args.compare)
        first, second = (d.get("conversations", d) if "action_calls" in d else d for d in (first, second))
        found = compare_replays(first, second)
        print("\n".join(found) if found else f"same: {count_predictions(first)}")
        sys.exit(1 if found else 0)
    if not args.url or not args.out:
        parser.error("--url and --out, or --compare")
    recorded = replay(args.url.rstrip("/"), conversations())
    args.out.write_text(json.dumps(recorded, indent=1), encoding="utf-8")
    print(count_predictions(recorded))


if __name__ == "__main__":
    main()
