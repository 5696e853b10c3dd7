"""Typo robustness of NLU pipelines: clean and typo macro-F1, paired CV and held-out.

    .venv/bin/python bench/typo_robustness.py config.yml bench/configs/typos_*.yml [--folds 5] [--json out.json]

For each fold of data/nlu.yml (StratifiedKFold, shuffle, seed 42, the folds of
bench/compare_pipelines.py) every config is trained with `rasa train nlu` on the training part and
parses the test part twice: as written, and with seeded phone-typing noise
(clinic_nlu/typo_noise.py, seed 14, the noise of tests/nlu_test_typos.yml). Each config is also
trained on all of data/nlu.yml (first, so that these figures come early) and parses the held-out
tests/nlu_test.yml and its typo split tests/nlu_test_typos.yml. A low-confidence fallback counts as
an error. Prints a Markdown table: per config, CV clean / typo macro-F1 (mean ± sd), the paired
difference to the first config (mean, worst fold), held-out clean / typo, and the median in-process
parse time per message.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from clinic_nlu.typo_noise import add_typos  # noqa: E402
from compare_pipelines import train_and_predict, write_nlu  # noqa: E402
from run_bench import load_examples, macro_f1  # noqa: E402

TYPO_SEED = 14  # the seed of tests/nlu_test_typos.yml (scripts/make_typos.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only-folds", type=int, nargs="+", help="run only these folds (to complete a run)")
    parser.add_argument("--no-held-out", action="store_true", help="skip the held-out part (to complete a run)")
    args = parser.parse_args()

    xs, ys = load_examples(ROOT / "data" / "nlu.yml")
    test_x, test_y = load_examples(ROOT / "tests" / "nlu_test.yml")
    typo_x, typo_y = load_examples(ROOT / "tests" / "nlu_test_typos.yml")
    assert typo_y == test_y, "the typo split must have the held-out examples in the same order"
    names = [str(c) for c in args.configs]
    cv: Dict[str, Dict[str, List[float]]] = {n: {"clean": [], "typo": []} for n in names}
    held: Dict[str, Dict[str, float]] = {}
    parse_ms: Dict[str, List[float]] = {n: [] for n in names}
    x_arr, y_arr = np.array(xs, dtype=object), np.array(ys, dtype=object)
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42)
    with tempfile.TemporaryDirectory() as tmp:
        all_file = Path(tmp) / "all.yml"
        write_nlu(all_file, xs, ys)
        for config in [] if args.no_held_out else args.configs:
            work = Path(tmp) / f"{config.stem}-all"
            work.mkdir()
            predicted, _, ms = train_and_predict(config, all_file, test_x + typo_x, work)
            held[str(config)] = {
                "clean": macro_f1(test_y, predicted[: len(test_x)]),
                "typo": macro_f1(test_y, predicted[len(test_x) :]),
            }
            parse_ms[str(config)].append(ms)
            print(f"held-out {config}: {held[str(config)]}", file=sys.stderr, flush=True)

        for k, (tr, te) in enumerate(folds.split(x_arr, y_arr)):
            if args.only_folds is not None and k not in args.only_folds:
                continue
            train_file = Path(tmp) / f"fold{k}.yml"
            write_nlu(train_file, list(x_arr[tr]), list(y_arr[tr]))
            clean, gold = list(x_arr[te]), list(y_arr[te])
            noisy = [add_typos(t, TYPO_SEED) for t in clean]
            for config in args.configs:
                work = Path(tmp) / f"{config.stem}-{k}"
                work.mkdir()
                predicted, _, ms = train_and_predict(config, train_file, clean + noisy, work)
                cv[str(config)]["clean"].append(macro_f1(gold, predicted[: len(clean)]))
                cv[str(config)]["typo"].append(macro_f1(gold, predicted[len(clean) :]))
                parse_ms[str(config)].append(ms)
                print(
                    f"fold {k} {config}: clean {cv[str(config)]['clean'][-1]:.3f} typo "
                    f"{cv[str(config)]['typo'][-1]:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
    base = names[0]
    print(
        f"# Typo robustness: paired {args.folds}-fold CV on data/nlu.yml ({len(xs)} examples; seed 42; "
        f"typo noise seed {TYPO_SEED}) and held-out tests/nlu_test.yml / tests/nlu_test_typos.yml\n"
    )
    print(f"Command: `{' '.join(sys.argv)}`\n")
    print(
        f"| config | CV clean | CV typo | CV typo minus {base}, mean (worst fold) | held-out clean | held-out typo "
        "| parse ms/message, median |\n|---|---|---|---|---|---|---|"
    )
    for name in names:
        clean, typo = np.array(cv[name]["clean"]), np.array(cv[name]["typo"])
        diff = typo - np.array(cv[base]["typo"])
        print(
            f"| {name} | {clean.mean():.3f} ± {clean.std():.3f} | {typo.mean():.3f} ± {typo.std():.3f} "
            f"| {diff.mean():+.3f} ({diff.min():+.3f}) | {held.get(name, {}).get('clean', float('nan')):.3f} "
            f"| {held.get(name, {}).get('typo', float('nan')):.3f} "
            f"| {np.median(parse_ms[name]):.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"cv": cv, "held_out": held, "parse_ms": parse_ms}, indent=2))


if __name__ == "__main__":
    main()
