"""List training examples that mean nearly the same but carry different intents: label conflicts.

    .venv/bin/python bench/label_conflicts.py [--data data/nlu.yml] [--threshold 0.85]
        [--intent ask_not_covered] [--limit 200] [--json out.json]

Two examples with the same meaning and different labels teach the classifier a contradiction, and
no classifier can get both right. This script embeds every example of the training file with the
project's MiniLM sentence encoder (clinic_nlu/minilm.py, the same embedding the pipeline uses) and
prints every pair of examples with different intents whose cosine similarity is at least
``--threshold``, most similar first, with the line numbers in the file, so that a reviewer can
check each pair against the boundaries in docs/intents.md and relabel where the data contradicts
them. It never changes the data: the decision is the reviewer's.

``--intent`` keeps only pairs with that intent on one side (repeatable). Examples that are exactly
the same text under two intents are listed first whatever the threshold. Only training data is
read (the held-out sets are never opened). Deterministic: rerun it after relabelling to see what is
left.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_nlu.minilm import MiniLMEncoder  # noqa: E402

_INTENT = re.compile(r"^- intent:\s*(\S+)\s*$")
_EXAMPLE = re.compile(r"^    - (.+?)\s*$")


@dataclass(frozen=True)
class Example:
    """One training example: its text, its intent and its line in the file (1-based)."""

    text: str
    intent: str
    line: int


def read_examples(path: Path) -> List[Example]:
    """The examples of a Rasa NLU file in this project's plain layout (intent blocks of ``- text`` lines)."""
    out: List[Example] = []
    intent: Optional[str] = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        head = _INTENT.match(line)
        if head:
            intent = head.group(1)
            continue
        example = _EXAMPLE.match(line)
        if example and intent:
            out.append(Example(example.group(1), intent, number))
    return out


@dataclass(frozen=True)
class Conflict:
    """Two examples with different intents and their cosine similarity."""

    similarity: float
    a: Example
    b: Example


def conflicts(
    examples: Sequence[Example], embeddings: np.ndarray, threshold: float, intents: Sequence[str] = ()
) -> List[Conflict]:
    """Pairs with different intents and cosine >= threshold (or the same text), most similar first."""
    sims = embeddings @ embeddings.T  # rows are L2-normalised: dot product = cosine
    labels = np.array([e.intent for e in examples])
    normalised = np.array([" ".join(e.text.lower().split()) for e in examples])
    out: List[Conflict] = []
    for i in range(len(examples)):
        same_text = normalised[i + 1 :] == normalised[i]
        close = (sims[i, i + 1 :] >= threshold) | same_text
        for offset in np.flatnonzero(close & (labels[i + 1 :] != labels[i])):
            j = i + 1 + int(offset)
            if intents and labels[i] not in intents and labels[j] not in intents:
                continue
            similarity = 1.0 if normalised[i] == normalised[j] else float(sims[i, j])
            out.append(Conflict(similarity, examples[i], examples[j]))
    return sorted(out, key=lambda c: (-c.similarity, c.a.line, c.b.line))


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "nlu.yml")
    parser.add_argument("--threshold", type=float, default=0.85, help="minimum cosine similarity (default 0.85)")
    parser.add_argument("--intent", action="append", default=[], help="only pairs with this intent on one side")
    parser.add_argument("--limit", type=int, default=0, help="print at most this many pairs (0: all)")
    parser.add_argument("--json", type=Path, help="also write the pairs as JSON here")
    args = parser.parse_args(list(argv) or None)

    examples = read_examples(args.data)
    embeddings = MiniLMEncoder().encode_texts([e.text for e in examples])
    found = conflicts(examples, embeddings, args.threshold, args.intent)
    shown = found[: args.limit] if args.limit else found
    print(f"{len(examples)} examples in {args.data}; {len(found)} pairs, different intents, cosine >= {args.threshold}")
    for c in shown:
        print(f"{c.similarity:.3f}  L{c.a.line} {c.a.intent}: {c.a.text!r}")
        print(f"        L{c.b.line} {c.b.intent}: {c.b.text!r}")
    if args.json:
        rows = [{"similarity": round(c.similarity, 4), "a": c.a.__dict__, "b": c.b.__dict__} for c in found]
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
