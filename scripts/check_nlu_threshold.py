"""Fail (exit 1) when the intent macro-F1 in a `rasa test nlu` report is below a threshold."""

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path, help="intent_report.json written by `rasa test nlu`")
    parser.add_argument("--min-macro-f1", type=float, required=True)
    parser.add_argument("--name", default="nlu-eval", help="what is evaluated, for the printed line")
    args = parser.parse_args()
    report = json.loads(args.report.read_text())
    macro = report["macro avg"]["f1-score"]
    worst = sorted(
        (
            (name, v["f1-score"])
            for name, v in report.items()
            if isinstance(v, dict) and "support" in v and name not in ("macro avg", "weighted avg", "micro avg")
        ),
        key=lambda item: item[1],
    )[:5]
    print(
        f"{args.name}: intent macro-F1 {macro:.3f} (threshold {args.min_macro_f1:.2f}); weakest: "
        + ", ".join(f"{n} {f:.2f}" for n, f in worst)
    )
    return 0 if macro >= args.min_macro_f1 else 1


if __name__ == "__main__":
    sys.exit(main())
