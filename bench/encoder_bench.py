"""Per-message cost of the MiniLM encoder: ONNX Runtime backend vs the NumPy reference.

    .venv/bin/python bench/encoder_bench.py [--repeats 300]

Encodes real patient questions (tests/nlu_test.yml, one message per call, as the Rasa server does
for each turn), interleaving the backends so that both see the same machine load, and prints the
median and p95 milliseconds per message of each, plus their ratio. Both use one thread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=300, help="messages encoded per backend")
    args = parser.parse_args()

    from rasa.shared.nlu.training_data.loading import load_data

    from clinic_nlu.minilm import BACKENDS, MiniLMEncoder

    texts = [m.get("text") for m in load_data(str(ROOT / "tests" / "nlu_test.yml")).training_examples]
    encoders = {backend: MiniLMEncoder(backend=backend) for backend in BACKENDS}
    for encoder in encoders.values():  # warm up
        encoder.encode_words([texts[0].split()])
    times = {backend: [] for backend in BACKENDS}
    for i in range(args.repeats):
        words = texts[i % len(texts)].split()
        for backend, encoder in encoders.items():
            start = time.perf_counter()
            encoder.encode_words([words])
            times[backend].append((time.perf_counter() - start) * 1000)
    print(f"{args.repeats} messages from tests/nlu_test.yml, one per call, one thread")
    print("| backend | p50 ms | p95 ms |")
    print("|---|---|---|")
    for backend, values in times.items():
        ordered = sorted(values)
        print(f"| {backend} | {statistics.median(values):.2f} | {ordered[int(0.95 * len(ordered)) - 1]:.2f} |")
    print(f"numpy / onnx (p50): {statistics.median(times['numpy']) / statistics.median(times['onnx']):.1f}x")


if __name__ == "__main__":
    main()
