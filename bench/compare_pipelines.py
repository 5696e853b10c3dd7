"""Compare NLU pipelines and the two baselines on the SAME stratified folds (paired CV).

    .venv/bin/python bench/compare_pipelines.py config.yml bench/configs/*.yml [--folds 5] [--json out.json]

For each fold of data/nlu.yml (StratifiedKFold, shuffle, seed 42) every Rasa config is trained with
`rasa train nlu` on the training part and parses the test part in-process; the TF-IDF+LogReg and
MiniLM+LogReg baselines of bench/run_bench.py are fitted on the same part. Prints, per classifier,
the mean and standard deviation of the fold macro-F1 (a low-confidence fallback counts as an error),
then each Rasa config's paired difference to the MiniLM baseline (mean and min over folds), and the
held-out tests/nlu_test.yml score of a model trained on all of data/nlu.yml. Used to choose the
pipeline in config.yml (BENCHMARKS.md, ablation); slow: folds x configs trainings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from run_bench import MiniLMLogReg, load_examples, macro_f1, tfidf_model  # noqa: E402


def write_nlu(path: Path, texts: List[str], labels: List[str]) -> None:
    """Write examples as a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = TrainingData([Message(data={"text": t, "intent": y}) for t, y in zip(texts, labels)])
    path.write_text(RasaYAMLWriter().dumps(data), encoding="utf-8")


def train_and_predict(config: Path, train: Path, texts: List[str], workdir: Path) -> Tuple[List[str], float, float]:
    """Train an NLU model with ``config`` on ``train`` and predict the intent of each text; also returns
    the training wall time (s, empty cache) and the median in-process parse time per message (ms)."""
    import structlog
    from rasa.core.agent import Agent

    out = workdir / "model"
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(workdir / "cache")}
    started = time.perf_counter()
    subprocess.run(
        [
            str(ROOT / ".venv/bin/rasa"),
            "train",
            "nlu",
            "-c",
            str(config),
            "--nlu",
            str(train),
            "--out",
            str(out),
            "--fixed-model-name",
            "m",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    train_seconds = time.perf_counter() - started
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(out / "m.tar.gz"))
    times: List[float] = []

    async def parse() -> List[str]:
        intents = []
        for text in texts:
            t0 = time.perf_counter()
            intents.append((await agent.parse_message(text))["intent"]["name"])
            times.append((time.perf_counter() - t0) * 1000)
        return intents

    intents = asyncio.run(parse())
    return intents, train_seconds, float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    xs, ys = load_examples(ROOT / "data" / "nlu.yml")
    test_x, test_y = load_examples(ROOT / "tests" / "nlu_test.yml")
    names = [str(c) for c in args.configs] + ["TF-IDF + LogReg", "MiniLM + LogReg"]
    scores: Dict[str, List[float]] = {n: [] for n in names}
    costs: Dict[str, List[Tuple[float, float]]] = {str(c): [] for c in args.configs}
    minilm = MiniLMLogReg()
    x_arr, y_arr = np.array(xs, dtype=object), np.array(ys, dtype=object)
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42)
    with tempfile.TemporaryDirectory() as tmp:
        for k, (tr, te) in enumerate(folds.split(x_arr, y_arr)):
            tr_x, tr_y, te_x, te_y = list(x_arr[tr]), list(y_arr[tr]), list(x_arr[te]), list(y_arr[te])
            train_file = Path(tmp) / f"fold{k}.yml"
            write_nlu(train_file, tr_x, tr_y)
            for config in args.configs:
                work = Path(tmp) / f"{config.stem}-{k}"
                work.mkdir()
                predicted, train_s, parse_ms = train_and_predict(config, train_file, te_x, work)
                scores[str(config)].append(macro_f1(te_y, predicted))
                costs[str(config)].append((train_s, parse_ms))
            scores["TF-IDF + LogReg"].append(macro_f1(te_y, tfidf_model().fit(tr_x, tr_y).predict(te_x)))
            scores["MiniLM + LogReg"].append(macro_f1(te_y, minilm.fit(tr_x, tr_y).predict(te_x)))
            print(f"fold {k}: " + ", ".join(f"{n} {s[-1]:.3f}" for n, s in scores.items()), file=sys.stderr, flush=True)
        held_out = {}
        all_file = Path(tmp) / "all.yml"
        write_nlu(all_file, xs, ys)
        for config in args.configs:
            work = Path(tmp) / f"{config.stem}-all"
            work.mkdir()
            held_out[str(config)] = macro_f1(test_y, train_and_predict(config, all_file, test_x, work)[0])
        held_out["TF-IDF + LogReg"] = macro_f1(test_y, tfidf_model().fit(xs, ys).predict(test_x))
        held_out["MiniLM + LogReg"] = macro_f1(test_y, minilm.fit(xs, ys).predict(test_x))

    base = np.array(scores["MiniLM + LogReg"])
    print(
        f"# Paired {args.folds}-fold CV on data/nlu.yml ({len(xs)} examples; seed 42) "
        "and held-out tests/nlu_test.yml\n"
    )
    print(f"Command: `{' '.join(sys.argv)}`\n")
    print(
        "| classifier | CV macro-F1 mean ± sd | minus MiniLM+LogReg, mean (worst fold) | held-out macro-F1 "
        "| `rasa train nlu` s, median of folds | parse ms/message, median |\n|---|---|---|---|---|---|"
    )
    for name, s in scores.items():
        diff = np.array(s) - base
        cost = costs.get(name)
        timing = f"{np.median([c[0] for c in cost]):.0f} | {np.median([c[1] for c in cost]):.1f}" if cost else "– | –"
        print(
            f"| {name} | {np.mean(s):.3f} ± {np.std(s):.3f} | {diff.mean():+.3f} ({diff.min():+.3f}) | "
            f"{held_out[name]:.3f} | {timing} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"folds": scores, "held_out": held_out, "costs": costs}, indent=2))


if __name__ == "__main__":
    main()
