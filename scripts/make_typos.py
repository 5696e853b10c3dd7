"""Write the typo version of a Rasa NLU YAML file (seeded phone-typing noise, clinic_nlu/typo_noise.py).

    .venv/bin/python scripts/make_typos.py tests/nlu_test.yml tests/nlu_test_typos.yml [--seed 14]
    .venv/bin/python scripts/make_typos.py tests/nlu_test.yml tests/nlu_test_typos.yml --check

The same input and seed always give the same file. ``--check`` writes nothing and exits 1 when
the file on disk is not what the script would write (tests/test_typo_noise.py runs the same check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_nlu.typo_noise import WORD_PROBABILITY, noisy_nlu_yaml  # noqa: E402

DEFAULT_SEED = 14


def render(source: Path, seed: int = DEFAULT_SEED, probability: float = WORD_PROBABILITY) -> str:
    """The typo file's text for ``source`` (its header names the command that regenerates it)."""
    try:
        shown = source.resolve().relative_to(ROOT)
    except ValueError:
        shown = source
    header = (
        f"# GENERATED from {shown} by scripts/make_typos.py (seed {seed}, one word in "
        f"{round(1 / probability)} misspelt); do not edit: change the source and run the script.\n"
    )
    return noisy_nlu_yaml(source.read_text(encoding="utf-8"), seed, header, probability)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--check", action="store_true", help="exit 1 if target differs from what would be written")
    args = parser.parse_args()
    text = render(args.source, args.seed)
    if args.check:
        same = args.target.exists() and args.target.read_text(encoding="utf-8") == text
        print(f"{args.target}: {'up to date' if same else 'OUT OF DATE: run scripts/make_typos.py'}")
        return 0 if same else 1
    args.target.write_text(text, encoding="utf-8")
    print(f"wrote {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
