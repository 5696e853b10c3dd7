"""What adding Rasa's TEDPolicy to the rule and memoization policies would cost.

    cd /work/main && RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/policy_cost.py

Options: --predictions N (per model, default 300), --long-turns N (default 200), --long-predictions N
(default 100), --ted-model PATH (reuse a trained TED model instead of training one),
--no-baseline-train (skip training config.yml for comparison), --json PATH. About 4 minutes on
2 cores (training both configs from scratch is half of it).

Two models:
  A = models/spine-clinic.tar.gz, the project's model (config.yml: windowed Memoization + Rule policies);
  B = bench/configs/with_ted.yml, the same pipeline and policies plus TEDPolicy, trained here.

1. Training: config.yml (unless --no-baseline-train) and with_ted.yml are each trained from scratch
   with ``rasa.model_training.train`` in a child process, into a temporary directory with an empty
   Rasa cache (nothing is written to models/ or .rasa/). Seconds are measured around ``train()``.
   The two trainings run one after the other, so machine load is not evened out: the load average
   is printed with them.
2. Memory and size: each model's file size (and how much of B's archive is TED); each model loaded
   alone in a fresh child process (VmRSS from /proc/self/status after the imports, after
   ``Agent.load``, after a first prediction, and the peak VmHWM), and both loaded into this process,
   A first (VmRSS before and after each ``Agent.load``: B's figure is what it adds on top of A).
   Indicative only (allocator reuse, shared libraries). No tracker store or action server: the
   agents use Rasa's in-memory tracker store and run no actions.
3. Agreement: every conversation in tests/test_stories.yml is replayed, user texts parsed once by
   A's NLU (so both models see the same intents), and at every point where Rasa predicts an action
   both models predict (``MessageProcessor._predict_next_with_tracker``, the call the server makes;
   no actions are run). The tracker is then advanced with the story's action (teacher forcing),
   marked ``hide_rule_turn`` as the server would after that model's prediction; as in `rasa test`,
   a form predicted where the story has something else counts as rejected by the form and is
   predicted again. Differences between A and B, and from the story, are counted and listed, as is
   TEDPolicy's own top action inside B (B follows TED only where no rule or memorized story
   applies).
4. Prediction time: the tracker at each of those points is predicted again, --predictions times per
   model, interleaving the two models (A, B, B, A, A, B, ...) so that machine load falls on both alike;
   p50 / p95 in ms. The same again for the first and the last --long-points prediction points of one
   long conversation (the test stories chained to --long-turns patient messages; early and late, A and
   B, all four interleaved): the windowed policies make a late turn cost what an early one does,
   TEDPolicy builds the dialogue state of the whole history for every prediction (then keeps 5).

No timing assertions: the figures are printed (and written as JSON with --json PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # also turns off Rasa's tqdm progress bars

PROJECT_MODEL = ROOT / "models" / "spine-clinic.tar.gz"
TED_CONFIG = ROOT / "bench" / "configs" / "with_ted.yml"
BASE_CONFIG = ROOT / "config.yml"
TEST_STORIES = ROOT / "tests" / "test_stories.yml"


# ---------------------------------------------------------------- helpers


def vm_rss_mib() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: List[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def quiet_logging() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


# ---------------------------------------------------------------- training (child process)


def train_child(config: str, out: str, name: str, result_file: str) -> None:
    """Runs in a child process: train one model, write seconds and path to result_file."""
    quiet_logging()
    from rasa.model_training import train

    start = time.perf_counter()
    result = train(domain="domain.yml", config=config, training_files=["data"], output=out, fixed_model_name=name)
    seconds = time.perf_counter() - start
    Path(result_file).write_text(json.dumps({"seconds": seconds, "model": result.model, "code": result.code}))


def train(config: Path, tmp: Path, name: str) -> Dict[str, Any]:
    """Train ``config`` from scratch (own empty cache) in a child process; returns seconds, model, load."""
    result_file, log_file = tmp / f"{name}.json", tmp / f"{name}.log"
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(tmp / f"cache-{name}")}
    load_before = os.getloadavg()[0]
    with open(log_file, "w") as log:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--_train", str(config), str(tmp), name, str(result_file)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if proc.returncode != 0 or not result_file.exists():
        sys.exit(
            f"training {config} failed (exit {proc.returncode}); log tail:\n"
            + "\n".join(log_file.read_text().splitlines()[-30:])
        )
    result = json.loads(result_file.read_text())
    if result["code"] != 0 or not result["model"]:
        sys.exit(f"training {config} returned code {result['code']}; see {log_file}")
    result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
    return result


# ---------------------------------------------------------------- memory (child process)


def vm_status() -> Dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of this process, MiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(line.split()[1]) / 1024
    return out


def memory_child(model: str, result_file: str) -> None:
    """Runs in a fresh child process: RSS after imports, after Agent.load, after a first prediction."""
    quiet_logging()
    from rasa.core.agent import Agent
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    figures = {"imports": vm_status()}
    start = time.perf_counter()
    agent = Agent.load(model)
    figures["load_s"] = time.perf_counter() - start
    figures["loaded"] = vm_status()
    parse = asyncio.run(agent.parse_message("how long is the recovery"))
    tracker = DialogueStateTracker.from_events(
        "m",
        [ActionExecuted("action_listen"), UserUttered(parse["text"], parse["intent"], [], parse)],
        agent.domain.slots,
    )
    agent.processor._predict_next_with_tracker(tracker)
    figures["predicted"] = vm_status()
    Path(result_file).write_text(json.dumps(figures))


def memory_in_fresh_process(model: Path, tmp: Path, name: str) -> Dict[str, Any]:
    result_file = tmp / f"memory-{name}.json"
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_memory", str(model), str(result_file)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0 or not result_file.exists():
        sys.exit(f"memory measurement of {model} failed:\n" + proc.stderr[-3000:])
    return json.loads(result_file.read_text())


# ---------------------------------------------------------------- conversations


def story_event_lists(domain: Any) -> List[Tuple[str, List[Any]]]:
    """(story name, events) for every conversation in tests/test_stories.yml, as `rasa test` builds them."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        training_data_paths=[str(TEST_STORIES)], domain_path=str(ROOT / "domain.yml")
    )
    generator = TrainingDataGenerator(
        importer.get_stories(), domain, use_story_concatenation=False, augmentation_factor=0
    )
    return [(t.sender_id, list(t.events)) for t in generator.generate_story_trackers()]


def with_parsed_user_turns(events: List[Any], parses: Dict[str, Dict[str, Any]]) -> List[Any]:
    """The story's events with each patient message replaced by what the NLU made of its text."""
    from rasa.shared.core.events import UserUttered

    out = []
    for event in events:
        if isinstance(event, UserUttered) and event.text:
            parse = parses[event.text]
            event = UserUttered(event.text, parse["intent"], parse["entities"], parse)
        out.append(event)
    return out


def chain(stories: List[List[Any]], user_turns: int) -> List[Any]:
    """One long conversation: the stories one after another until ``user_turns`` patient messages."""
    from rasa.shared.core.events import UserUttered

    events: List[Any] = list(stories[0])
    i = 1
    while sum(isinstance(e, UserUttered) for e in events) < user_turns:
        story = stories[i % len(stories)]
        # every story starts with action_listen and ends with one: do not repeat it
        events.extend(story[1:] if events[-1] == story[0] else story)
        i += 1
    while sum(isinstance(e, UserUttered) for e in events) > user_turns:  # cut back to exactly user_turns
        events.pop()
    return events


class Point:
    """One place in a conversation where the model predicts an action."""

    __slots__ = ("story", "step", "events", "expected", "predicted", "policy", "confidence", "ted", "ted_confidence")

    def __init__(
        self, story: str, step: int, events: List[Any], expected: str, predicted: str, policy: str, confidence: float
    ) -> None:
        self.story, self.step, self.events, self.expected = story, step, events, expected
        self.predicted, self.policy, self.confidence = predicted, policy, confidence
        self.ted: Optional[str] = None  # TEDPolicy's own top action (model B only)
        self.ted_confidence = 0.0


def ted_node(processor: Any) -> Optional[str]:
    """Name of the TEDPolicy node in the model's prediction graph, if it has one."""
    from rasa.core.policies.ted_policy import TEDPolicy

    for name, node in processor.graph_runner._instantiated_nodes.items():
        if isinstance(getattr(node, "_component", None), TEDPolicy):
            return name
    return None


def replay(
    processor: Any,
    domain: Any,
    story: str,
    events: List[Any],
    first_ms: Optional[List[float]] = None,
    with_ted_alone: bool = False,
) -> List[Point]:
    """Predict at every action of ``events`` on one growing tracker (as the tracker store keeps it),
    then log the story's action, as the server logs the action it ran. As in `rasa test`, a form
    predicted where the story has something else is taken as rejected by the form and predicted again.
    ``first_ms``: if given and empty, the time of the first prediction is appended to it."""
    from rasa.core.test import emulate_loop_rejection
    from rasa.engine.constants import PLACEHOLDER_TRACKER
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    node = ted_node(processor) if with_ted_alone else None
    tracker = DialogueStateTracker.from_events(story, events[:1], domain.slots)
    points: List[Point] = []
    for event in events[1:]:
        if not isinstance(event, ActionExecuted):
            tracker.update(event)
            continue
        expected = event.action_name or event.action_text
        start = time.perf_counter()
        prediction = processor._predict_next_with_tracker(tracker)
        if first_ms is not None and not first_ms:
            first_ms.append((time.perf_counter() - start) * 1000)
        predicted = domain.action_names_or_texts[prediction.max_confidence_index]
        if predicted != expected and predicted == tracker.active_loop_name and predicted in domain.form_names:
            emulate_loop_rejection(tracker)
            prediction = processor._predict_next_with_tracker(tracker)
            predicted = domain.action_names_or_texts[prediction.max_confidence_index]
        point = Point(
            story,
            len(points),
            list(tracker.events),
            expected,
            predicted,
            prediction.policy_name or "?",
            prediction.max_confidence,
        )
        if node:
            ted = processor.graph_runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[node])[node]
            point.ted, point.ted_confidence = domain.action_names_or_texts[ted.max_confidence_index], ted.max_confidence
        points.append(point)
        tracker.update(
            ActionExecuted(
                expected,
                prediction.policy_name,
                prediction.max_confidence,
                hide_rule_turn=prediction.hide_rule_turn and predicted == expected,
            )
        )
    return points


def interleaved_times(procs: List[Any], trackers: List[List[Any]], n: int) -> List[List[float]]:
    """Predict n times per (processor, trackers) pair, in turn, the order reversed every other round
    (A, B, B, A, ...), cycling through each pair's trackers."""
    times: List[List[float]] = [[] for _ in procs]
    order = list(range(len(procs)))
    for i in range(n):
        j = i % len(trackers[0])
        for m in order if i % 2 == 0 else order[::-1]:
            tracker = trackers[m][j]
            start = time.perf_counter()
            procs[m]._predict_next_with_tracker(tracker)
            times[m].append((time.perf_counter() - start) * 1000)
    return times


def tracker_for(point: Point, domain: Any) -> Any:
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events(point.story, point.events, domain.slots)


def ted_bytes(model: Path) -> int:
    with tarfile.open(model) as tar:
        return sum(m.size for m in tar.getmembers() if m.isfile() and "TEDPolicy" in m.name)


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", type=int, default=300, help="timed predictions per model, test stories")
    parser.add_argument("--long-turns", type=int, default=200, help="patient messages in the long conversation")
    parser.add_argument(
        "--long-predictions", type=int, default=100, help="timed predictions per model, long conversation"
    )
    parser.add_argument(
        "--long-points", type=int, default=20, help="the last N prediction points of the long conversation are timed"
    )
    parser.add_argument("--ted-model", type=Path, help="use this trained with_ted.yml model instead of training one")
    parser.add_argument("--no-baseline-train", action="store_true", help="do not train config.yml for comparison")
    parser.add_argument("--show", type=int, default=15, help="list at most this many differing predictions")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--_train", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--_memory", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.chdir(ROOT)

    if args._train:
        train_child(*args._train)
        return
    if args._memory:
        memory_child(*args._memory)
        return
    if not PROJECT_MODEL.exists():
        sys.exit(f"no {PROJECT_MODEL.relative_to(ROOT)}: run `make train` first")

    started = time.perf_counter()
    results: Dict[str, Any] = {
        "command": " ".join(["bench/policy_cost.py"] + sys.argv[1:]),
        "cores": os.cpu_count(),
        "long_points": args.long_points,
    }
    with tempfile.TemporaryDirectory(prefix="policy-cost-") as tmp_name:
        tmp = Path(tmp_name)

        # 1. training
        if not args.no_baseline_train:
            print("training config.yml from scratch (child process) ...", flush=True)
            results["train_baseline"] = train(BASE_CONFIG, tmp, "baseline")
            print(f"  {results['train_baseline']['seconds']:.1f} s", flush=True)
        if args.ted_model:
            ted_model = args.ted_model.resolve()
        else:
            print("training bench/configs/with_ted.yml from scratch (child process) ...", flush=True)
            results["train_ted"] = train(TED_CONFIG, tmp, "with-ted")
            print(f"  {results['train_ted']['seconds']:.1f} s", flush=True)
            ted_model = Path(results["train_ted"]["model"])

        # 2. loading, memory, size: each model alone in a fresh process, then both in this one
        print("memory of each model in a fresh process ...", flush=True)
        results["fresh_process"] = [
            memory_in_fresh_process(PROJECT_MODEL, tmp, "A"),
            memory_in_fresh_process(ted_model, tmp, "B"),
        ]
        quiet_logging()
        from rasa.core.agent import Agent

        names = ["A rule+memo (models/)", "B + TEDPolicy"]
        paths = [PROJECT_MODEL, ted_model]
        agents, memory = [], []
        for path in paths:
            tf_before = "tensorflow" in sys.modules
            before = vm_rss_mib()
            start = time.perf_counter()
            agents.append(Agent.load(str(path)))
            load_s = time.perf_counter() - start
            after = vm_rss_mib()
            memory.append(
                {
                    "rss_before_mib": before,
                    "rss_after_mib": after,
                    "delta_mib": after - before,
                    "load_s": load_s,
                    "tensorflow_already_imported": tf_before,
                    "tensorflow_imported_after": "tensorflow" in sys.modules,
                    "file_mb": path.stat().st_size / 1e6,
                    "ted_mb": ted_bytes(path) / 1e6,
                }
            )
        results["memory"] = memory
        procs = [a.processor for a in agents]
        domain = agents[0].domain
        if agents[1].domain.action_names_or_texts != domain.action_names_or_texts:
            sys.exit("the two models have different domains: was with_ted.yml trained on another domain.yml?")

        # 3. agreement on the story tests
        stories = story_event_lists(domain)

        async def parse_all() -> Dict[str, Dict[str, Any]]:
            from rasa.shared.core.events import UserUttered

            texts = {e.text for _, evs in stories for e in evs if isinstance(e, UserUttered) and e.text}
            return {t: await agents[0].parse_message(t) for t in sorted(texts)}

        parses = asyncio.run(parse_all())
        conversations = [(name, with_parsed_user_turns(evs, parses)) for name, evs in stories]
        from rasa.shared.core.events import UserUttered

        nlu_off = sum(
            1
            for _, evs in stories
            for e in evs
            if isinstance(e, UserUttered) and e.text and e.intent_name != parses[e.text]["intent"].get("name")
        )
        first_ms: List[List[float]] = [[], []]
        points: List[List[Point]] = [[], []]
        for name, evs in conversations:
            for m in (0, 1):
                points[m].extend(replay(procs[m], domain, name, evs, first_ms[m], with_ted_alone=m == 1))
        results["first_prediction_ms"] = [f[0] for f in first_ms]
        results["rss_after_first_predictions_mib"] = vm_rss_mib()
        differ = [(a, b) for a, b in zip(points[0], points[1]) if a.predicted != b.predicted]
        policy_counts: List[Dict[str, int]] = [{}, {}]
        for m in (0, 1):
            for p in points[m]:
                policy_counts[m][p.policy] = policy_counts[m].get(p.policy, 0) + 1
        results["agreement"] = {
            "stories": len(conversations),
            "prediction_points": len(points[0]),
            "user_turns_nlu_differs_from_story_intent": nlu_off,
            "A_vs_B_differ": len(differ),
            "A_vs_story_differ": sum(p.predicted != p.expected for p in points[0]),
            "B_vs_story_differ": sum(p.predicted != p.expected for p in points[1]),
            "winning_policy_counts": policy_counts,
            "ted_alone_vs_story_differ": sum(p.ted != p.expected for p in points[1]),
            "ted_alone_vs_B_differ": sum(p.ted != p.predicted for p in points[1]),
            "ted_alone_confidence_p50": pct([p.ted_confidence for p in points[1]], 50),
            "ted_alone_confidence_min": min(p.ted_confidence for p in points[1]),
            "ted_alone_differences": [
                {
                    "story": p.story,
                    "step": p.step,
                    "story_action": p.expected,
                    "B": p.predicted,
                    "ted": p.ted,
                    "ted_confidence": round(p.ted_confidence, 3),
                }
                for p in points[1]
                if p.ted != p.expected
            ],
            "differences": [
                {
                    "story": a.story,
                    "step": a.step,
                    "story_action": a.expected,
                    "A": a.predicted,
                    "A_policy": a.policy,
                    "B": b.predicted,
                    "B_policy": b.policy,
                    "B_confidence": round(b.confidence, 3),
                }
                for a, b in differ
            ],
        }

        # 4a. prediction time, test-story points
        print(f"timing {args.predictions} predictions per model on {len(points[0])} test-story points ...", flush=True)
        trackers = [[tracker_for(p, domain) for p in points[m]] for m in (0, 1)]
        interleaved_times(procs, trackers, min(20, args.predictions))  # warm-up, not counted
        times = interleaved_times(procs, trackers, args.predictions)
        results["story_points_ms"] = [{"p50": pct(t, 50), "p95": pct(t, 95), "n": len(t)} for t in times]

        # 4b. prediction time, late in one long conversation
        print(f"replaying one conversation of {args.long_turns} patient messages with both models ...", flush=True)
        long_events = chain([evs for _, evs in conversations], args.long_turns)
        long_points = [replay(procs[m], domain, "long", long_events) for m in (0, 1)]
        late = [lp[-args.long_points :] for lp in long_points]
        results["long"] = {
            "events": len(long_events),
            "patient_messages": args.long_turns,
            "points": len(long_points[0]),
            "A_vs_B_differ": sum(a.predicted != b.predicted for a, b in zip(*long_points)),
        }
        # late A, late B, early A, early B, all interleaved
        trackers = [[tracker_for(p, domain) for p in late[m]] for m in (0, 1)] + [
            [tracker_for(p, domain) for p in long_points[m][: args.long_points]] for m in (0, 1)
        ]
        interleaved_times(procs * 2, trackers, min(10, args.long_predictions))  # warm-up (builds window caches)
        late_a, late_b, early_a, early_b = interleaved_times(procs * 2, trackers, args.long_predictions)
        late_times, early_times = [late_a, late_b], [early_a, early_b]
        results["long"]["late_ms"] = [{"p50": pct(t, 50), "p95": pct(t, 95), "n": len(t)} for t in late_times]
        results["long"]["early_ms"] = [{"p50": pct(t, 50), "p95": pct(t, 95), "n": len(t)} for t in early_times]
        results["long"]["late_events_min"] = min(len(p.events) for p in late[0])

    results["total_s"] = time.perf_counter() - started
    results["load_avg_end"] = os.getloadavg()[0]
    report(results, names, args.show)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def report(r: Dict[str, Any], names: List[str], show: int) -> None:
    print(
        "\n== Policy cost: A = models/spine-clinic.tar.gz (windowed Memoization + Rule), "
        "B = bench/configs/with_ted.yml (A's policies + TEDPolicy, max_history 5, 40 epochs) =="
    )
    print(f"{r['cores']} cores; load average {r['load_avg_end']:.2f} at the end; total {r['total_s']:.0f} s\n")
    for key, label in (("train_baseline", "config.yml"), ("train_ted", "with_ted.yml")):
        if key in r:
            t = r[key]
            print(
                f"training {label} from scratch (empty cache, NLU included): {t['seconds']:.1f} s "
                f"(load average {t['load_before']:.2f} -> {t['load_after']:.2f})"
            )
    if "train_baseline" in r and "train_ted" in r:
        print(
            f"  TED adds ~{r['train_ted']['seconds'] - r['train_baseline']['seconds']:.0f} s "
            "(difference of two single runs, one after the other)"
        )
    print()
    print(
        "memory, each model alone in a fresh process (VmRSS MiB after imports -> after Agent.load -> "
        "after a first prediction; peak VmHWM):"
    )
    for name, f, m in zip(names, r["fresh_process"], r["memory"]):
        ted = f", of which TED {m['ted_mb']:.2f} MB" if m["ted_mb"] else ""
        print(
            f"  {name}: file {m['file_mb']:.2f} MB{ted}; Agent.load {f['load_s']:.1f} s; VmRSS "
            f"{f['imports']['VmRSS']:.0f} -> {f['loaded']['VmRSS']:.0f} -> {f['predicted']['VmRSS']:.0f} "
            f"(+{f['predicted']['VmRSS'] - f['imports']['VmRSS']:.0f}); peak {f['predicted']['VmHWM']:.0f}"
        )
    a, b = r["fresh_process"]
    print(
        f"  B - A: {b['predicted']['VmRSS'] - a['predicted']['VmRSS']:+.0f} MiB resident, "
        f"{b['predicted']['VmHWM'] - a['predicted']['VmHWM']:+.0f} MiB peak, "
        f"{b['load_s'] - a['load_s']:+.1f} s to load"
    )
    print("memory, both in this process, A loaded first (VmRSS MiB before -> after Agent.load):")
    for name, m in zip(names, r["memory"]):
        print(
            f"  {name}: {m['rss_before_mib']:.0f} -> {m['rss_after_mib']:.0f} (+{m['delta_mib']:.0f}); "
            f"Agent.load {m['load_s']:.1f} s"
        )
    first = r["first_prediction_ms"]
    print(f"first prediction after load: A {first[0]:.0f} ms, B {first[1]:.0f} ms\n")

    s, lg = r["story_points_ms"], r["long"]
    print("per prediction (MessageProcessor._predict_next_with_tracker, interleaved A/B), ms:")
    print(f"  {'':44} {'A p50':>7} {'A p95':>7} {'B p50':>7} {'B p95':>7} {'B/A p50':>8}")
    rows = [
        (f"test-story points (n={s[0]['n']} each)", s),
        (f"long conversation, first {r['long_points']} points (n={lg['early_ms'][0]['n']})", lg["early_ms"]),
        (f"long conversation, last {r['long_points']} points (n={lg['late_ms'][0]['n']})", lg["late_ms"]),
    ]
    for label, (a, b) in rows:
        print(
            f"  {label:44} {a['p50']:7.2f} {a['p95']:7.2f} {b['p50']:7.2f} {b['p95']:7.2f} "
            f"{b['p50'] / a['p50']:7.1f}x"
        )
    print(
        f"  (long conversation: {lg['patient_messages']} patient messages, {lg['events']} events; "
        f"late points have >= {lg['late_events_min']} events)\n"
    )

    g = r["agreement"]
    print(
        f"agreement on tests/test_stories.yml ({g['stories']} conversations, "
        f"{g['prediction_points']} prediction points, user texts parsed by A's NLU; "
        f"{g['user_turns_nlu_differs_from_story_intent']} user turns where NLU differs from the story's intent):"
    )
    print(
        f"  A vs B differ at {g['A_vs_B_differ']}; A vs story {g['A_vs_story_differ']}; B vs story "
        f"{g['B_vs_story_differ']}"
    )
    for name, counts in zip(names, g["winning_policy_counts"]):
        print(f"  {name}: winning policy " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for d in g["differences"][:show]:
        print(
            f"    {d['story']!r} step {d['step']}: story {d['story_action']}, A {d['A']} ({d['A_policy']}), "
            f"B {d['B']} ({d['B_policy']} {d['B_confidence']})"
        )
    print(
        f"  TEDPolicy's own top action (inside B): differs from the story at {g['ted_alone_vs_story_differ']}, "
        f"from B's choice at {g['ted_alone_vs_B_differ']}; its confidence p50 {g['ted_alone_confidence_p50']:.2f}, "
        f"min {g['ted_alone_confidence_min']:.2f}"
    )
    for d in g["ted_alone_differences"][:show]:
        print(
            f"    {d['story']!r} step {d['step']}: story {d['story_action']}, B {d['B']}, "
            f"TED alone {d['ted']} ({d['ted_confidence']})"
        )
    print(f"  long conversation: A vs B differ at {lg['A_vs_B_differ']} of {lg['points']} points")


if __name__ == "__main__":
    main()
