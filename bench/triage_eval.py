"""Triage figures for BENCHMARKS.md (clinic_triage; docs/triage-levels.md).

  # the classifier's threshold: author-grouped cross-validation on the tuning corpus only
  .venv/bin/python bench/triage_eval.py --cv
  # a corpus part in process, with the shipped settings or another `combine` mode
  .venv/bin/python bench/triage_eval.py --part heldout [--combine off|either|rules_first]
  # end to end over HTTP through a running server's patient channel (new conversation per message;
  # start the server with bench/credentials.load.yml so the session-start limit does not refuse it)
  .venv/bin/python bench/triage_eval.py --part heldout --url http://127.0.0.1:5005
  # the first detector (regular expressions, before medspaCy), from a git revision, in process
  .venv/bin/python bench/triage_eval.py --part heldout --regex-detector-from 6146f7c
  # one tuning part (a file of clinic_triage/corpus/) as new authors: the second reader trained without it
  .venv/bin/python bench/triage_eval.py --part tune4 --train-without-part [--combine off]

The held-out part is measured, never tuned on: nothing here changes a rule or a setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_triage import evaluation, semantic  # noqa: E402
from clinic_triage.engine import LEVELS, NONE, Triage, load_rules  # noqa: E402

PARTS = {
    "heldout": [ROOT / "tests" / "data" / "triage" / "heldout.yml"],
    "tuning": sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml")),
    **{path.stem: [path] for path in (ROOT / "clinic_triage" / "corpus").glob("tune*.yml")},
}


def cross_validate(folds: int = 6, min_calm: float = 0.95, min_sensitivity: float = 0.99) -> None:
    """Author-grouped CV of the second reader, alone and joined with the rules; prints the chosen threshold.

    Each fold trains on the other authors' corpus messages plus the NLU calm examples (as at run
    time) and is scored on its own authors' corpus messages only (the hard cases). The second table
    joins each out-of-fold verdict with the rules' level as ``combine`` does at run time: the figures
    the targets are about (emergency + crisis escalated to emergency or crisis, calm kept calm). The
    rules were written on these parts, so their share of those figures is optimistic.

    Chosen: the largest threshold whose joined calm-kept-calm is >= ``min_calm`` and whose joined
    emergency + crisis sensitivity is >= ``min_sensitivity``. When none holds both, sensitivity wins
    (a missed emergency is the worse error): the smallest threshold that holds it, which keeps the
    most calm."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    settings = semantic.load_settings()
    corpus = semantic.load_corpus(settings.corpus_files)
    rules_only = Triage(load_rules())
    texts = [rules_only.classifier_text(m["text"]) for m in corpus]  # as the classifier reads them at run time
    rule_levels = [rules_only.assess(m["text"]).level for m in corpus]
    calm_texts = [rules_only.classifier_text(t) for t in semantic.calm_examples(settings)]
    levels = np.array([m["level"] for m in corpus])
    authors = [m["author"] for m in corpus]
    p_none = np.ones(len(texts))
    reader_level = [NONE] * len(texts)  # the most likely escalated level, used when P(none) is below the threshold
    for train, test in GroupKFold(n_splits=folds).split(texts, levels, authors):
        model = semantic.SemanticTriage(
            [texts[i] for i in train] + calm_texts, list(levels[train]) + [NONE] * len(calm_texts), settings
        )
        for i in test:
            if len(texts[i].split()) < settings.min_words:
                continue
            probabilities = model.probabilities(texts[i])
            p_none[i] = probabilities["none"]
            reader_level[i] = max((c for c in model.classes if c != NONE), key=probabilities.__getitem__)
    calm, escalated = levels == NONE, levels != NONE
    combine = settings.combine

    def joined(threshold: float) -> List[str]:
        out = []
        for rule, p, reader in zip(rule_levels, p_none, reader_level):
            asks = p < threshold and (combine == "either" or (combine == "rules_first" and rule == NONE))
            out.append(min((rule, reader if asks else NONE), key=LEVELS.index))
        return out

    print(
        f"author-grouped {folds}-fold CV, {len(texts)} tuning messages ({len(set(authors))} authors, "
        f"{int(calm.sum())} calm), + {len(calm_texts)} NLU examples as calm in every training fold; "
        f"combine={combine}"
    )
    print(
        "| threshold on P(none) | reader alone: escalated messages escalated | reader alone: calm kept calm "
        "| with the rules: emergency + crisis escalated | with the rules: calm kept calm |\n|---|---|---|---|---|"
    )
    chosen, fallback = None, None
    for threshold in [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]:
        sens, spec = (p_none[escalated] < threshold).mean(), (p_none[calm] >= threshold).mean()
        figures = evaluation.report(list(levels), joined(threshold))
        top, kept = figures["emergency_crisis_sensitivity"], figures["calm_kept_calm"]
        print(
            f"| {threshold:.2f} | {100 * sens:.1f} % | {100 * spec:.1f} % "
            f"| {100 * top['rate']:.1f} % ({top['hits']}/{top['n']}) "
            f"| {100 * kept['rate']:.1f} % ({kept['hits']}/{kept['n']}) |"
        )
        if top["rate"] >= min_sensitivity:
            fallback = threshold if fallback is None else fallback
            if kept["rate"] >= min_calm:
                chosen = threshold
    if chosen is None:
        print(
            f"no threshold keeps >= {100 * min_calm:.0f} % calm "
            f"with >= {100 * min_sensitivity:.0f} % emergency + crisis sensitivity; sensitivity wins: "
            f"the smallest threshold with it keeps the most calm: {fallback}"
        )
    print(
        f"largest threshold with calm kept calm >= {100 * min_calm:.0f} % and emergency + crisis >= "
        f"{100 * min_sensitivity:.0f} % (with the rules): {chosen} (rules/semantic.yml has {settings.threshold})"
    )


def regex_detector(revision: str) -> Callable[[str], str]:
    """The first red-flag detector (clinic_nlu/red_flags.py + .yml) at ``revision``: emergency or none."""
    folder = Path(tempfile.mkdtemp(prefix="regex-detector-"))
    for name in ("red_flags.py", "red_flags.yml"):
        blob = subprocess.run(
            ["git", "show", f"{revision}:clinic_nlu/{name}"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        (folder / name).write_bytes(blob)
    sys.path.insert(0, str(folder))
    import red_flags  # type: ignore[import-not-found]

    return lambda text: "emergency" if red_flags.detect(text) else NONE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv", action="store_true", help="choose the classifier threshold by cross-validation")
    parser.add_argument("--part", choices=sorted(PARTS), default="heldout")
    parser.add_argument("--url", help="measure end to end through this server's patient channel")
    parser.add_argument("--combine", choices=semantic.COMBINE_MODES, help="in process: another combine mode")
    parser.add_argument("--regex-detector-from", metavar="REV", help="in process: the first detector at REV")
    parser.add_argument(
        "--train-without-part",
        action="store_true",
        help="in process: train the second reader without the measured part's files (new authors)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.cv:
        cross_validate()
        return
    corpus = semantic.load_corpus(PARTS[args.part])
    texts, labels = [m["text"] for m in corpus], [m["level"] for m in corpus]
    started = time.perf_counter()
    if args.url:
        name = f"{args.part}, end to end over HTTP ({args.url})"
        predicted = evaluation.http_levels(args.url, texts)
    elif args.regex_detector_from:
        name = f"{args.part}, first detector (regular expressions) at {args.regex_detector_from}, in process"
        detect = regex_detector(args.regex_detector_from)
        predicted = [detect(t) for t in texts]
    else:
        settings = semantic.load_settings()
        if args.combine:
            settings = dataclasses.replace(settings, combine=args.combine)
        name = f"{args.part}, in process, combine={settings.combine}"
        if args.train_without_part:
            left_out = {path.resolve() for path in PARTS[args.part]}
            settings = dataclasses.replace(
                settings, corpus_files=tuple(path for path in settings.corpus_files if path.resolve() not in left_out)
            )
            name += ", second reader trained without this part"
        triage = Triage(load_rules(), settings)
        started = time.perf_counter()
        predicted = [triage.assess(t).level for t in texts]
    elapsed = time.perf_counter() - started
    figures = evaluation.report(labels, predicted)
    print(evaluation.format_report(name, figures))
    print(f"\n{len(texts)} messages in {elapsed:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"name": name, **figures}, indent=2))


if __name__ == "__main__":
    main()
