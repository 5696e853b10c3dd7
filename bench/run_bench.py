"""Benchmarks of the assistant (`make bench`). Prints a Markdown report; see BENCHMARKS.md.

Measures, on this machine:
- intent macro-F1 on the held-out tests/nlu_test.yml: the trained model in models/, and two
  baselines trained on the same data/nlu.yml (TF-IDF word+char n-grams + logistic regression;
  all-MiniLM-L6-v2 sentence embeddings + logistic regression);
- 5-fold stratified cross-validation on data/nlu.yml of the same three (--cv; Rasa's own
  `rasa test nlu --cross-validation` for the pipeline);
- in-process parse latency, per-turn latency over HTTP (REST channel + action server),
  Rasa server memory, model size, and training time from scratch (--train-time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402


def load_examples(path: Path) -> Tuple[List[str], List[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    pairs = [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def pct(values: List[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def macro_f1(y_true: List[str], y_pred: List[str]) -> float:
    return float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0))


# ----------------------------------------------------------------------------- baselines
def tfidf_model():
    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(max_iter=2000, C=10))


class MiniLMLogReg:
    def __init__(self) -> None:
        from clinic_nlu.minilm import MiniLMEncoder

        self.encoder = MiniLMEncoder()
        self.clf = LogisticRegression(max_iter=2000, C=10)
        self.cache: Dict[str, np.ndarray] = {}

    def _embed(self, texts: List[str]) -> np.ndarray:
        todo = [t for t in set(texts) if t not in self.cache]
        for t, v in zip(todo, self.encoder.encode_texts(todo, batch_size=64)):
            self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])

    def fit(self, texts, labels):
        self.clf.fit(self._embed(list(texts)), labels)
        return self

    def predict(self, texts):
        return list(self.clf.predict(self._embed(list(texts))))


def baselines(train_x, train_y, test_x, test_y, cv: bool) -> Dict[str, Dict[str, float]]:
    out: Dict[str, Dict[str, float]] = {}
    minilm = MiniLMLogReg()
    for name, factory in (("TF-IDF word+char + LogReg", tfidf_model), ("MiniLM + LogReg", lambda: minilm)):
        model = factory().fit(train_x, train_y)
        row = {"held_out": macro_f1(test_y, model.predict(test_x))}
        if cv:
            scores = []
            folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
            xs, ys = np.array(train_x, dtype=object), np.array(train_y, dtype=object)
            for tr, te in folds.split(xs, ys):
                m = factory().fit(list(xs[tr]), list(ys[tr]))
                scores.append(macro_f1(list(ys[te]), m.predict(list(xs[te]))))
            row["cv_mean"], row["cv_std"] = float(np.mean(scores)), float(np.std(scores))
        out[name] = row
    return out


# ----------------------------------------------------------------------------- the Rasa model
def latest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit("no model in models/: run `make train` first")
    return models[-1]


def rasa_held_out(model: Path, test_x: List[str], test_y: List[str]) -> Dict[str, float]:
    import logging

    import structlog
    from rasa.core.agent import Agent

    # Rasa's structlog defaults to debug in-process and would print every parsed text.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))

    async def parse_all() -> Tuple[List[str], List[str], List[float]]:
        preds, raw, times = [], [], []
        for text in test_x:
            start = time.perf_counter()
            result = await agent.parse_message(text)
            times.append((time.perf_counter() - start) * 1000)
            preds.append(result["intent"]["name"])
            ranked = [r["name"] for r in result.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
            raw.append(ranked[0] if ranked else result["intent"]["name"])
        return preds, raw, times

    asyncio.run(parse_all())  # warm-up
    preds, raw, times = asyncio.run(parse_all())
    # nlu_fallback counts as a wrong answer for the intent it replaced
    return {
        "held_out": macro_f1(test_y, preds),
        "held_out_no_fallback": macro_f1(test_y, raw),
        "fallback_rate": sum(p == "nlu_fallback" for p in preds) / len(preds),
        "parse_p50_ms": pct(times, 50),
        "parse_p95_ms": pct(times, 95),
    }


def rasa_cv(config: Path) -> Dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="cv-"))
    subprocess.run(
        [
            str(ROOT / ".venv/bin/rasa"),
            "test",
            "nlu",
            "--nlu",
            "data/nlu.yml",
            "--config",
            str(config),
            "--cross-validation",
            "--folds",
            "5",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    report = json.loads((out / "intent_report.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return {"cv_macro_f1": report["macro avg"]["f1-score"]}


BENCH_CREDENTIALS = ROOT / "bench" / "credentials.load.yml"  # rate limits lifted for a fast client
MESSAGES = [
    "hi",
    "how long is the recovery",
    "and the cost?",
    "is it safe",
    "will i have a scar",
    "do i get general anaesthesia",
    "tell me more",
    "thanks",
]


def http_latency(turns: int) -> Dict[str, float]:
    """One conversation of ``turns`` turns over HTTP (REST, real action server, SQLite), then fresh ones.

    The channel's rate limits are lifted for the benchmark (they would stop a client this fast).
    """
    import requests

    from tests.support.servers import rss_mb, running_servers

    with tempfile.TemporaryDirectory() as tmp:
        with running_servers(Path(tmp), credentials=BENCH_CREDENTIALS) as servers:
            session = requests.Session()
            for m in MESSAGES:  # warm-up
                session.post(servers.webhook, json={"sender": "warmup", "message": m}, timeout=30)
            times = []
            sender = f"bench-{uuid.uuid4()}"
            for i in range(turns):
                start = time.perf_counter()
                r = session.post(
                    servers.webhook, json={"sender": sender, "message": MESSAGES[i % len(MESSAGES)]}, timeout=30
                )
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200 and r.json(), r.text
            fresh = []
            for i in range(min(turns, 100)):
                start = time.perf_counter()
                fresh_turn = {"sender": f"fresh-{uuid.uuid4()}", "message": MESSAGES[i % len(MESSAGES)]}
                session.post(servers.webhook, json=fresh_turn, timeout=30)
                fresh.append((time.perf_counter() - start) * 1000)
            return {
                "turn_p50_ms": pct(times, 50),
                "turn_p95_ms": pct(times, 95),
                "fresh_p50_ms": pct(fresh, 50),
                "first10_p50_ms": pct(times[:10], 50),
                "last10_p50_ms": pct(times[-10:], 50),
                "rasa_rss_mb": rss_mb(servers.rasa.pid),
                "actions_rss_mb": rss_mb(servers.actions.pid),
            }


def prediction_floor(model: Path, repeats: int = 60) -> Dict[str, float]:
    """In-process NLU parse + one policy prediction, the floor under an HTTP turn (no I/O, no actions)."""
    import asyncio

    import structlog
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))

    async def measure() -> Dict[str, float]:
        parse, predict = [], []
        for i in range(repeats):
            text, sender = MESSAGES[i % len(MESSAGES)], f"floor-{i}"
            start = time.perf_counter()
            await agent.parse_message(text)
            parse.append((time.perf_counter() - start) * 1000)
            await agent.log_message(UserMessage(text, sender_id=sender))
            tracker = await agent.tracker_store.retrieve(sender)
            start = time.perf_counter()
            agent.processor.predict_next_with_tracker(tracker)
            predict.append((time.perf_counter() - start) * 1000)
        return {"parse_p50_ms": pct(parse, 50), "predict_p50_ms": pct(predict, 50)}

    return asyncio.run(measure())


def train_time() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")}
        start = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv/bin/rasa"), "train", "--out", tmp],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv", action="store_true", help="add 5-fold cross-validation (slow: 5 trainings)")
    parser.add_argument("--train-time", action="store_true", help="time `rasa train` from scratch")
    parser.add_argument("--turns", type=int, default=100, help="turns of one conversation over HTTP")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()

    train_x, train_y = load_examples(ROOT / "data" / "nlu.yml")
    test_x, test_y = load_examples(ROOT / "tests" / "nlu_test.yml")
    model = latest_model()
    results: Dict[str, object] = {
        "train_examples": len(train_x),
        "test_examples": len(test_x),
        "intents": len(set(train_y)),
        "model": model.name,
        "model_mb": model.stat().st_size / 2**20,
    }
    results["rasa"] = rasa_held_out(model, test_x, test_y)
    if args.cv:
        results["rasa"].update(rasa_cv(ROOT / "config.yml"))
    results["baselines"] = baselines(train_x, train_y, test_x, test_y, args.cv)
    results["floor"] = prediction_floor(model)
    results["http"] = http_latency(args.turns)
    if args.train_time:
        results["train_seconds"] = train_time()

    r, h = results["rasa"], results["http"]
    print(f"# Benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores): `{' '.join(sys.argv)}`\n")
    print(
        f"Data: {results['train_examples']} training examples, {results['test_examples']} held-out, "
        f"{results['intents']} intents. Model {results['model']} ({results['model_mb']:.1f} MB).\n"
    )
    print("| classifier | held-out macro-F1 | 5-fold CV macro-F1 |\n|---|---|---|")
    print(
        f"| this pipeline (config.yml) | {r['held_out']:.3f} (top intent without fallback: "
        f"{r['held_out_no_fallback']:.3f}) | {r.get('cv_macro_f1', float('nan')):.3f} |"
    )
    for name, row in results["baselines"].items():
        cv = f"{row['cv_mean']:.3f} ± {row['cv_std']:.3f}" if "cv_mean" in row else "n/a"
        print(f"| {name} | {row['held_out']:.3f} | {cv} |")
    print(
        f"\nFallback (low confidence) on held-out: {r['fallback_rate']:.1%}. In-process parse: p50 "
        f"{r['parse_p50_ms']:.1f} ms, p95 {r['parse_p95_ms']:.1f} ms."
    )
    print(
        f"HTTP turn (REST + actions + SQLite, cached tracker store), one conversation of {args.turns} turns: "
        f"p50 {h['turn_p50_ms']:.1f} ms, p95 {h['turn_p95_ms']:.1f} ms;"
        f" first 10 p50 {h['first10_p50_ms']:.1f} ms, last 10 p50 {h['last10_p50_ms']:.1f} ms;"
        f" fresh conversation per message p50 {h['fresh_p50_ms']:.1f} ms."
    )
    f = results["floor"]
    floor = f["parse_p50_ms"] + 2 * f["predict_p50_ms"]
    print(
        f"Floor (in-process, no I/O): parse p50 {f['parse_p50_ms']:.1f} ms"
        f" + 2 policy predictions (the answer, then listen) of p50 {f['predict_p50_ms']:.1f} ms = {floor:.1f} ms;"
        f" HTTP turn p50 / floor = {h['turn_p50_ms'] / floor:.1f}x;"
        f" last 10 / first 10 turns = {h['last10_p50_ms'] / h['first10_p50_ms']:.2f}x."
    )
    print(f"Memory: Rasa server RSS {h['rasa_rss_mb']:.0f} MiB, action server RSS {h['actions_rss_mb']:.0f} MiB.")
    if "train_seconds" in results:
        print(f"Training from scratch (`rasa train`, empty cache): {results['train_seconds']:.0f} s.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
