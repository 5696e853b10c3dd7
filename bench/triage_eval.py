"""Triage figures for BENCHMARKS.md (clinic_triage; docs/triage-levels.md).

  # the classifier's threshold: author-grouped cross-validation on the tuning corpus only
  .venv/bin/python bench/triage_eval.py --cv
  # a corpus part in process, with the shipped settings or another `combine` mode
  .venv/bin/python bench/triage_eval.py --part heldout [--combine off|either|rules_first]
  # the second held-out part (tests/data/triage/heldout2.yml, other authors again), in the same way
  .venv/bin/python bench/triage_eval.py --part heldout2
  # end to end over HTTP through a running server's patient channel (new conversation per message;
  # start the server with bench/credentials.load.yml so the session-start limit does not refuse it)
  .venv/bin/python bench/triage_eval.py --part heldout --url http://127.0.0.1:5005
  # the first detector (regular expressions, before medspaCy), from a git revision, in process
  .venv/bin/python bench/triage_eval.py --part heldout --regex-detector-from 6146f7c
  # one tuning part (a file of clinic_triage/corpus/) as new authors: the second reader trained without it
  .venv/bin/python bench/triage_eval.py --part tune4 --train-without-part [--combine off]
  # a review file's probes (probes and missed); the reader trained with every part, or without one
  .venv/bin/python bench/triage_eval.py --probes tests/data/triage/review48_probes.yml
  .venv/bin/python bench/triage_eval.py --probes tests/data/triage/review48_probes.yml \\
      --reader-without tune47_medicines
  # every tuning part as new authors, for each value of discounted_threshold (rules/semantic.yml)
  .venv/bin/python bench/triage_eval.py --lopo
  # another class_weight and a threshold grid above the shipped one: CV (each threshold with every
  # discounted_threshold), and leave one part out at these thresholds and discounted_thresholds
  .venv/bin/python bench/triage_eval.py --cv --class-weight none --thresholds 0.6,0.65,0.7,0.75,0.8,0.85,0.9
  .venv/bin/python bench/triage_eval.py --lopo --class-weight none --thresholds 0.6,0.7 --discounted 0.1,off
  # unflagged_threshold and the crisis level's min_level_probability (rules/semantic.yml): every pair of
  # the values given, at the shipped threshold and discounted_threshold ('off': null)
  .venv/bin/python bench/triage_eval.py --cv --unflagged off,0.5,0.4 --crisis-minimum off,0.3
  .venv/bin/python bench/triage_eval.py --lopo --unflagged off,0.5 --crisis-minimum off
  # the weight of the corpus's calm messages in the reader's fit (corpus_calm_weight; one value per run)
  .venv/bin/python bench/triage_eval.py --lopo --thresholds 0.6 --discounted 0.1 --corpus-calm-weight 1.5
  # the crisis level's threshold where only other mentions were discounted (discounted_other_crisis_threshold;
  # one value per run, 'off': null)
  .venv/bin/python bench/triage_eval.py --lopo --thresholds 0.6 --discounted 0.1 --discounted-other-crisis off
  # every message's leave-one-part-out verdict, to compare two revisions message by message
  .venv/bin/python bench/triage_eval.py --lopo --thresholds 0.6 --discounted 0.1 --dump var/lopo.tsv
  # the emergency level's min_level_probability (one value per run; 'off': null), CV or LOPO
  .venv/bin/python bench/triage_eval.py --cv --thresholds 0.6 --emergency-minimum 0.5
  # the sentence embedding beside the n-grams (embedding_weight, rules/semantic.yml; 0: off): the CV
  # for each weight (its threshold re-picked), then leave one part out at a weight's threshold
  .venv/bin/python bench/triage_eval.py --cv --embedding-weight 0,0.5,1,2,3
  .venv/bin/python bench/triage_eval.py --lopo --embedding-weight 1 --thresholds 0.6

The held-out parts are measured, never tuned on: nothing here changes a rule or a setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_triage import evaluation, semantic  # noqa: E402
from clinic_triage.engine import LEVELS, NONE, Assessment, Triage, load_rules  # noqa: E402

PARTS = {
    "heldout": [ROOT / "tests" / "data" / "triage" / "heldout.yml"],
    "heldout2": [ROOT / "tests" / "data" / "triage" / "heldout2.yml"],
    "tuning": sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml")),
    **{path.stem: [path] for path in (ROOT / "clinic_triage" / "corpus").glob("tune*.yml")},
}


STRICT_GRID = (None, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.0)  # None: the same threshold as every other message
CV_GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def repick_discounted(figures_by_strict: Dict[Optional[float], Dict[str, Any]]) -> Optional[float]:
    """The rule of ``discounted_threshold`` (rules/semantic.yml) at one threshold: of the values of
    ``STRICT_GRID``, the one that keeps the most calm messages calm while escalating not one emergency
    or crisis message fewer than None (the same threshold as every other message); ties: the largest
    (None counts as the largest)."""
    reference = figures_by_strict[None]["emergency_crisis_sensitivity"]["hits"]
    allowed = [s for s in STRICT_GRID if figures_by_strict[s]["emergency_crisis_sensitivity"]["hits"] >= reference]
    best = max(figures_by_strict[s]["calm_kept_calm"]["hits"] for s in allowed)
    return next(s for s in allowed if figures_by_strict[s]["calm_kept_calm"]["hits"] == best)  # grid is descending


Scores = List[Optional[Dict[str, float]]]  # the reader's probabilities per message; None: too short to judge


def _joined(
    rule_levels: Sequence[str],
    discounted_all: Sequence[bool],
    found_nothing: Sequence[bool],
    scores: Scores,
    combine: str,
    threshold: float,
    strict: Optional[float],
    unflagged: Optional[float] = None,
    minimums: Optional[Mapping[str, float]] = None,
    discounted_crisis: Optional[Sequence[bool]] = None,
    other_crisis: Optional[float] = None,
) -> List[str]:
    """The run-time level of each message: the rules' level joined with the reader's as ``combine`` says,
    the reader escalating when P(none) is below ``threshold`` (below ``strict`` when the rules discounted
    every mention they found and ``strict`` is set, below ``unflagged`` when they found no mention at
    all and ``unflagged`` is set), at the level :func:`semantic.choose_level` gives with ``minimums``;
    with ``other_crisis`` (discounted_other_crisis_threshold) crisis is judged again at it where ``strict``
    applied and no discounted mention was of a crisis flag (``discounted_crisis``)."""
    out = []
    crisis_flags = discounted_crisis if discounted_crisis is not None else [False] * len(rule_levels)
    for rule, discounted, nothing, probabilities, crisis_flag in zip(
        rule_levels, discounted_all, found_nothing, scores, crisis_flags
    ):
        reader = NONE
        if probabilities is not None:
            limit = threshold
            crisis_limit = None
            if discounted and strict is not None:
                limit = strict
                crisis_limit = None if crisis_flag else other_crisis
            elif nothing and unflagged is not None:
                limit = unflagged
            reader = (
                semantic.choose_level_with_crisis_limit(probabilities, limit, minimums or {}, crisis_limit)[0] or NONE
            )
        asks = combine == "either" or (combine == "rules_first" and rule == NONE)
        out.append(min((rule, reader if asks else NONE), key=LEVELS.index))
    return out


def _joined_column(
    assessed: Sequence[Assessment],
    scores: Scores,
    settings: semantic.SemanticSettings,
    combine: str,
    column: Tuple[float, Optional[float], Optional[float], Optional[float]],
    rule_levels: Optional[Sequence[str]] = None,
) -> List[str]:
    """:func:`_joined` for messages the rules alone assessed (``assessed``), at one column of
    :func:`leave_one_part_out` (threshold, discounted_threshold, unflagged_threshold, crisis minimum) and the
    settings' discounted_other_crisis_threshold; ``rule_levels`` in place of the rules' own levels (e.g.
    all none: the reader's own verdict)."""
    threshold, strict, unflagged, crisis = column
    return _joined(
        [a.level for a in assessed] if rule_levels is None else rule_levels,
        [a.rules_discounted_all for a in assessed],
        [a.rules_found_nothing for a in assessed],
        scores,
        combine,
        threshold,
        strict,
        unflagged,
        _minimums(settings, crisis),
        [a.rules_discounted_crisis for a in assessed],
        settings.discounted_other_crisis_threshold,
    )


def memo_embed() -> semantic.Embed:
    """all-MiniLM-L6-v2 with every text's embedding kept for the whole run (each text encoded once,
    however many folds read it)."""
    from clinic_triage import embedding

    return embedding.CachedEmbed(embedding.minilm(), maxsize=1_000_000)


def _reader_scores(model: semantic.SemanticTriage, texts: Sequence[str], min_words: int) -> Scores:
    """The reader's probabilities for each text (None below ``min_words``: left to the rules)."""
    return [None if len(text.split()) < min_words else model.probabilities(text) for text in texts]


def _minimums(settings: semantic.SemanticSettings, crisis: Optional[float]) -> Dict[str, float]:
    """The settings' ``min_level_probability`` with the crisis level's replaced (None: no condition)."""
    minimums = {k: v for k, v in settings.min_level_probability.items() if k != "crisis"}
    return minimums if crisis is None else {**minimums, "crisis": crisis}


def with_emergency_minimum(
    settings: semantic.SemanticSettings, values: Optional[Sequence[Optional[float]]]
) -> semantic.SemanticSettings:
    """``settings`` with the emergency level's ``min_level_probability`` replaced by the one value of
    ``values`` (None in it: no condition); unchanged when ``values`` is None."""
    if values is None:
        return settings
    if len(values) != 1:
        raise SystemExit("--emergency-minimum takes one value per run")
    minimums = {k: v for k, v in settings.min_level_probability.items() if k != "emergency"}
    if values[0] is not None:
        minimums["emergency"] = values[0]
    return dataclasses.replace(settings, min_level_probability=minimums)


def _strict_label(strict: Optional[float]) -> str:
    return "same as threshold (off)" if strict is None else f"{strict:.2f}"


def _minimum_label(minimum: Optional[float]) -> str:
    return "no condition (off)" if minimum is None else f"{minimum:.2f}"


def _pct(entry: Dict[str, Any]) -> str:
    return f"{100 * entry['rate']:.1f} % ({entry['hits']}/{entry['n']})"


def cross_validate(
    settings: semantic.SemanticSettings,
    thresholds: Sequence[float] = CV_GRID,
    unflagged: Optional[Sequence[Optional[float]]] = None,
    crisis_minimums: Optional[Sequence[Optional[float]]] = None,
    folds: int = 6,
    min_calm: float = 0.95,
    min_sensitivity: float = 0.99,
    embed: Optional[semantic.Embed] = None,
) -> Dict[str, Any]:
    """Author-grouped CV of the second reader, alone and joined with the rules; prints the chosen
    threshold and returns it (``threshold``) with the joined figures at it (``figures``).

    Each fold trains on the other authors' corpus messages plus the NLU calm examples (as at run
    time) and is scored on its own authors' corpus messages only (the hard cases). The second table
    joins each out-of-fold verdict with the rules' level as ``combine`` does at run time: the figures
    the targets are about (emergency + crisis escalated to emergency or crisis, calm kept calm). The
    rules were written on these parts, so their share of those figures is optimistic.

    Chosen: the largest threshold whose joined calm-kept-calm is >= ``min_calm`` and whose joined
    emergency + crisis sensitivity is >= ``min_sensitivity``. When none holds both, sensitivity wins
    (a missed emergency is the worse error): the smallest threshold that holds it, which keeps the
    most calm. The joined figures apply ``discounted_threshold`` as shipped; a last table shows each
    value of it at the shipped threshold (the rule that chose it is in ``rules/semantic.yml``), and a
    grid of every threshold with every value of it, with the value its rule picks at each threshold.
    With ``unflagged`` or ``crisis_minimums``, a last table gives every pair of an ``unflagged_threshold``
    and a crisis ``min_level_probability`` at the settings' threshold and discounted_threshold.
    ``settings`` may differ from the shipped ones (``--class-weight``, ``--embedding-weight``; ``embed``
    is the encoder when its ``embedding_weight`` is above 0)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    corpus = semantic.load_corpus(settings.corpus_files)
    rules_only = Triage(load_rules())
    texts = [rules_only.classifier_text(m["text"]) for m in corpus]  # as the classifier reads them at run time
    assessed = [rules_only.assess(m["text"]) for m in corpus]
    rule_levels = [a.level for a in assessed]
    discounted_all = [a.rules_discounted_all for a in assessed]
    found_nothing = [a.rules_found_nothing for a in assessed]
    discounted_crisis = [a.rules_discounted_crisis for a in assessed]
    calm_texts = [rules_only.classifier_text(t) for t in semantic.calm_examples(settings)]
    levels = np.array([m["level"] for m in corpus])
    authors = [m["author"] for m in corpus]
    scores: Scores = [None] * len(texts)
    for train, test in GroupKFold(n_splits=folds).split(texts, levels, authors):
        model = semantic.SemanticTriage(
            [texts[i] for i in train] + calm_texts,
            list(levels[train]) + [NONE] * len(calm_texts),
            settings,
            embed,
            semantic.sample_weights(list(levels[train]), len(calm_texts), settings),
        )
        for i, probabilities in zip(test, _reader_scores(model, [texts[i] for i in test], settings.min_words)):
            scores[i] = probabilities
    p_none = np.array([1.0 if p is None else p[NONE] for p in scores])
    calm, escalated = levels == NONE, levels != NONE
    combine = settings.combine

    def joined(
        threshold: float,
        strict: Optional[float] = settings.discounted_threshold,
        unflagged_threshold: Optional[float] = settings.unflagged_threshold,
        minimums: Mapping[str, float] = settings.min_level_probability,
    ) -> List[str]:
        return _joined(
            rule_levels,
            discounted_all,
            found_nothing,
            scores,
            combine,
            threshold,
            strict,
            unflagged_threshold,
            minimums,
            discounted_crisis,
            settings.discounted_other_crisis_threshold,
        )

    print(
        f"author-grouped {folds}-fold CV, {len(texts)} tuning messages ({len(set(authors))} authors, "
        f"{int(calm.sum())} calm), + {len(calm_texts)} NLU examples as calm in every training fold; "
        f"combine={combine}, discounted_threshold={settings.discounted_threshold}, "
        f"unflagged_threshold={settings.unflagged_threshold}, "
        f"min_level_probability={dict(settings.min_level_probability)}, "
        f"class_weight={settings.class_weight}, C={settings.C}, embedding_weight={settings.embedding_weight}"
    )
    print(
        "| threshold on P(none) | reader alone: escalated messages escalated | reader alone: calm kept calm "
        "| with the rules: emergency + crisis escalated | with the rules: calm kept calm |\n|---|---|---|---|---|"
    )
    chosen, fallback = None, None
    for threshold in thresholds:
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
    picked = chosen if chosen is not None else fallback
    at_picked = evaluation.report(list(levels), joined(picked)) if picked is not None else None
    if at_picked is not None:
        print(
            f"embedding_weight {settings.embedding_weight}, re-picked threshold {picked}: with the rules, "
            f"emergency + crisis {_pct(at_picked['emergency_crisis_sensitivity'])}, "
            f"calm {_pct(at_picked['calm_kept_calm'])}, "
            f"urgent escalated {_pct(at_picked['per_level']['urgent']['escalated'])}"
        )
    result: Dict[str, Any] = {"threshold": picked, "figures": at_picked}
    explained = np.array(discounted_all)
    top_levels = np.isin(levels, list(evaluation.TOP))
    print(
        f"\nmessages in which the rules discounted every mention they found: {int((explained & calm).sum())} calm, "
        f"{int((explained & escalated).sum())} escalated ({int((explained & top_levels).sum())} emergency or crisis)"
    )
    print(
        f"\nAt threshold {settings.threshold}: the threshold for messages in which the rules discounted every "
        "mention (discounted_threshold)\n| discounted_threshold | with the rules: emergency + crisis escalated "
        "| with the rules: calm kept calm | urgent escalated at all |\n|---|---|---|---|"
    )
    for strict in STRICT_GRID:
        figures = evaluation.report(list(levels), joined(settings.threshold, strict))
        print(
            f"| {_strict_label(strict)} | {_pct(figures['emergency_crisis_sensitivity'])} "
            f"| {_pct(figures['calm_kept_calm'])} | {_pct(figures['per_level']['urgent']['escalated'])} |"
        )
    print(
        "\nEvery threshold with every discounted_threshold, joined with the rules: "
        "emergency + crisis escalated / calm kept calm / urgent escalated at all (hits; of "
        f"{int(top_levels.sum())} / {int(calm.sum())} / {int((levels == 'urgent').sum())}); "
        "last column: the value the rule of discounted_threshold picks at that threshold\n"
        "| threshold | "
        + " | ".join(_strict_label(s) for s in STRICT_GRID)
        + " | re-picked |\n|---|"
        + "---|" * (len(STRICT_GRID) + 1)
    )
    for threshold in thresholds:
        by_strict = {s: evaluation.report(list(levels), joined(threshold, s)) for s in STRICT_GRID}
        cells = [
            f"{f['emergency_crisis_sensitivity']['hits']} / {f['calm_kept_calm']['hits']} / "
            f"{f['per_level']['urgent']['escalated']['hits']}"
            for f in by_strict.values()
        ]
        print(f"| {threshold:.2f} | " + " | ".join(cells) + f" | {_strict_label(repick_discounted(by_strict))} |")
    if unflagged is None and crisis_minimums is None:
        return result
    nothing = np.array(found_nothing)
    print(
        f"\nmessages in which the rules found no red-flag mention at all: {int((nothing & calm).sum())} calm, "
        f"{int((nothing & escalated).sum())} escalated ({int((nothing & top_levels).sum())} emergency or crisis)"
    )
    print(
        f"\nAt threshold {settings.threshold}, discounted_threshold {settings.discounted_threshold}: each "
        "unflagged_threshold with each crisis min_level_probability, joined with the rules\n"
        "| unflagged_threshold | crisis minimum | with the rules: emergency + crisis escalated "
        "| with the rules: calm kept calm | urgent escalated at all | calm escalated to crisis |\n"
        "|---|---|---|---|---|---|"
    )
    for u, c in itertools.product(
        unflagged if unflagged is not None else [settings.unflagged_threshold],
        crisis_minimums if crisis_minimums is not None else [settings.min_level_probability.get("crisis")],
    ):
        predicted = joined(settings.threshold, settings.discounted_threshold, u, _minimums(settings, c))
        figures = evaluation.report(list(levels), predicted)
        calm_crisis = sum(1 for label, level in zip(levels, predicted) if label == NONE and level == "crisis")
        print(
            f"| {_strict_label(u)} | {_minimum_label(c)} | {_pct(figures['emergency_crisis_sensitivity'])} "
            f"| {_pct(figures['calm_kept_calm'])} | {_pct(figures['per_level']['urgent']['escalated'])} "
            f"| {calm_crisis} |",
            flush=True,
        )
    return result


def leave_one_part_out(
    settings: semantic.SemanticSettings,
    thresholds: Optional[Sequence[float]] = None,
    discounted: Optional[Sequence[Optional[float]]] = None,
    unflagged: Optional[Sequence[Optional[float]]] = None,
    crisis_minimums: Optional[Sequence[Optional[float]]] = None,
    embed: Optional[semantic.Embed] = None,
    dump: Optional[Path] = None,
) -> None:
    """Each tuning part as new authors: the reader trained without it (plus the NLU calm examples), the
    part's messages joined with the rules at each of ``thresholds`` (default: the shipped threshold),
    for each ``discounted_threshold`` of ``discounted`` (default: ``STRICT_GRID`` at the shipped
    threshold when neither ``unflagged`` nor ``crisis_minimums`` is given, else the shipped value), each
    ``unflagged_threshold`` of ``unflagged`` and each crisis minimum of ``crisis_minimums`` (default:
    the shipped values), and for the rules alone. The rules were written on every part (optimistic), so
    each cell also gives the emergency + crisis messages the reader ALONE escalates to emergency or
    crisis (its own verdict at that column's settings). ``embed``: the encoder when the settings'
    ``embedding_weight`` is above 0. ``dump``: a TSV file of every message's verdicts (part, label, rules
    alone, joined at the first column's settings, text), to compare two revisions message by message."""
    levers = unflagged is not None or crisis_minimums is not None
    if thresholds is None:
        thresholds = [settings.threshold]
        if discounted is None:
            discounted = [settings.discounted_threshold] if levers else STRICT_GRID
    elif discounted is None:
        discounted = [settings.discounted_threshold]
    unflagged = [settings.unflagged_threshold] if unflagged is None else unflagged
    crisis_minimums = [settings.min_level_probability.get("crisis")] if crisis_minimums is None else crisis_minimums
    columns = list(itertools.product(thresholds, discounted, unflagged, crisis_minimums))
    rules_only = Triage(load_rules())
    calm_texts = [rules_only.classifier_text(t) for t in semantic.calm_examples(settings)]
    parts = {path.stem: semantic.load_corpus([path]) for path in settings.corpus_files}
    prepared = {
        name: ([rules_only.classifier_text(m["text"]) for m in corpus], [rules_only.assess(m["text"]) for m in corpus])
        for name, corpus in parts.items()
    }
    print(
        f"leave one part out, combine={settings.combine}, class_weight={settings.class_weight}, C={settings.C}, "
        f"corpus_calm_weight={settings.corpus_calm_weight}, "
        f"discounted_other_crisis_threshold={settings.discounted_other_crisis_threshold}, "
        f"embedding_weight={settings.embedding_weight}\n"
        "| part | rules only: E + C / calm / urgent escalated | "
        + " | ".join(
            f"threshold {t:.2f}, discounted_threshold {_strict_label(s)}"
            + (f", unflagged_threshold {_strict_label(u)}, crisis minimum {_minimum_label(c)}" if levers else "")
            + ": E + C / calm / reader alone E + C / urgent escalated"
            for t, s, u, c in columns
        )
        + " |\n|---|---|"
        + "---|" * len(columns)
    )
    totals: Dict[str, List[int]] = {}
    rows: List[str] = []
    for name, corpus in parts.items():
        train_texts = [t for other, (texts, _) in prepared.items() if other != name for t in texts]
        train_levels = [m["level"] for other, c in parts.items() if other != name for m in c]
        model = semantic.SemanticTriage(
            train_texts + calm_texts,
            train_levels + [NONE] * len(calm_texts),
            settings,
            embed,
            semantic.sample_weights(train_levels, len(calm_texts), settings),
        )
        texts, assessed = prepared[name]
        scores = _reader_scores(model, texts, settings.min_words)
        labels = [m["level"] for m in corpus]
        rule_levels = [a.level for a in assessed]
        cells = []
        nobody = [NONE] * len(rule_levels)  # no rule escalates: the reader's own verdict
        for key, predicted, alone in [("rules", rule_levels, None)] + [
            (
                f"{t} {_strict_label(s)} {_strict_label(u)} {_minimum_label(c)}",
                _joined_column(assessed, scores, settings, settings.combine, (t, s, u, c)),
                _joined_column(assessed, scores, settings, "either", (t, s, u, c), rule_levels=nobody),
            )
            for t, s, u, c in columns
        ]:
            figures = evaluation.report(labels, predicted)
            top, kept = figures["emergency_crisis_sensitivity"], figures["calm_kept_calm"]
            alone_hits = (
                None if alone is None else evaluation.report(labels, alone)["emergency_crisis_sensitivity"]["hits"]
            )
            urgent = figures["per_level"]["urgent"]["escalated"]
            total = totals.setdefault(key, [0, 0, 0, 0, 0, 0, 0])
            for j, value in enumerate(
                (top["hits"], top["n"], kept["hits"], kept["n"], alone_hits or 0, urgent["hits"], urgent["n"])
            ):
                total[j] += value
            cells.append(
                f"{top['hits']}/{top['n']} / {kept['hits']}/{kept['n']}"
                + ("" if alone is None else f" / {alone_hits}")
                + f" / {urgent['hits']}/{urgent['n']}"
            )
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
        if dump is not None:
            first = _joined_column(assessed, scores, settings, settings.combine, columns[0])
            rows += [
                "\t".join((name, m["level"], ruled, joined, " ".join(m["text"].split())))
                for m, ruled, joined in zip(corpus, rule_levels, first)
            ]
    if dump is not None:
        dump.write_text("part\tlabel\trules\tjoined\ttext\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    print(
        "| all parts | "
        + " | ".join(
            f"{100 * t[0] / t[1]:.1f} % ({t[0]}/{t[1]}) / {100 * t[2] / t[3]:.1f} % ({t[2]}/{t[3]})"
            + ("" if key == "rules" else f" / {t[4]}")
            + f" / {t[5]}/{t[6]}"
            for key, t in totals.items()
        )
        + " |"
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


def _review_messages(path: Path) -> List[Dict[str, str]]:
    """A review file's messages with their levels: its ``probes`` and its ``missed``."""
    review = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"text": m["text"], "level": m["level"]} for key in ("probes", "missed") for m in review.get(key) or []]


def _floats(text: str) -> List[float]:
    return [float(value) for value in text.split(",")]


def _strict_values(text: str) -> List[Optional[float]]:
    return [None if value.strip() == "off" else float(value) for value in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv", action="store_true", help="choose the classifier threshold by cross-validation")
    parser.add_argument(
        "--lopo", action="store_true", help="every tuning part as new authors, each discounted_threshold"
    )
    parser.add_argument(
        "--dump", type=Path, help="--lopo: write every message's verdicts (first column) to this TSV file"
    )
    parser.add_argument("--part", choices=sorted(PARTS), default="heldout")
    parser.add_argument(
        "--probes",
        type=Path,
        help="in process: measure a review file (tests/data/triage/review*_probes.yml: probes and missed) instead",
    )
    parser.add_argument(
        "--reader-without",
        action="append",
        choices=sorted(PARTS),
        default=[],
        help="in process: train the second reader without this corpus part (repeatable)",
    )
    parser.add_argument("--url", help="measure end to end through this server's patient channel")
    parser.add_argument("--combine", choices=semantic.COMBINE_MODES, help="in process: another combine mode")
    parser.add_argument("--regex-detector-from", metavar="REV", help="in process: the first detector at REV")
    parser.add_argument(
        "--train-without-part",
        action="store_true",
        help="in process: train the second reader without the measured part's files (new authors)",
    )
    parser.add_argument(
        "--discounted-other-crisis",
        metavar="VALUE",
        help="--cv / --lopo: discounted_other_crisis_threshold (rules/semantic.yml), one value, 'off' for null",
    )
    parser.add_argument(
        "--class-weight", choices=("balanced", "none"), help="--cv / --lopo: fit the reader with this class_weight"
    )
    parser.add_argument(
        "--corpus-calm-weight",
        type=float,
        help="--cv / --lopo: fit the reader with this corpus_calm_weight (rules/semantic.yml)",
    )
    parser.add_argument(
        "--thresholds", type=_floats, help="--cv / --lopo: comma-separated thresholds on P(none) (e.g. 0.6,0.7)"
    )
    parser.add_argument(
        "--discounted",
        type=_strict_values,
        help="--lopo: comma-separated discounted_threshold values, 'off' for none (e.g. 0.1,off)",
    )
    parser.add_argument(
        "--unflagged",
        type=_strict_values,
        help="--cv / --lopo: comma-separated unflagged_threshold values, 'off' for none (e.g. off,0.5,0.4)",
    )
    parser.add_argument(
        "--crisis-minimum",
        type=_strict_values,
        help="--cv / --lopo: comma-separated min_level_probability values for crisis, 'off' for none",
    )
    parser.add_argument(
        "--emergency-minimum",
        type=_strict_values,
        help="--cv / --lopo / --part: one min_level_probability value for emergency ('off' for none) "
        "in place of rules/semantic.yml's",
    )
    parser.add_argument(
        "--embedding-weight",
        type=_floats,
        help="--cv / --lopo: comma-separated embedding_weight values (0: off), each measured in turn; "
        "--part: one value",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.cv or args.lopo:
        settings = with_emergency_minimum(semantic.load_settings(), args.emergency_minimum)
        if args.class_weight:
            settings = dataclasses.replace(settings, class_weight=args.class_weight)
        if args.corpus_calm_weight:
            settings = dataclasses.replace(settings, corpus_calm_weight=args.corpus_calm_weight)
        if args.discounted_other_crisis is not None:
            settings = dataclasses.replace(
                settings, discounted_other_crisis_threshold=_strict_values(args.discounted_other_crisis)[0]
            )
        weights = args.embedding_weight or [settings.embedding_weight]
        embed = memo_embed() if any(w > 0 for w in weights) else None
        summary = []
        for weight in weights:
            weighted = dataclasses.replace(settings, embedding_weight=weight)
            if args.cv:
                result = cross_validate(
                    weighted, args.thresholds or CV_GRID, args.unflagged, args.crisis_minimum, embed=embed
                )
                summary.append((weight, result))
            else:
                leave_one_part_out(
                    weighted,
                    args.thresholds,
                    args.discounted,
                    args.unflagged,
                    args.crisis_minimum,
                    embed=embed,
                    dump=args.dump,
                )
            print(flush=True)
        if len(summary) > 1:
            print(
                "| embedding_weight | re-picked threshold | with the rules: emergency + crisis escalated "
                "| calm kept calm | urgent escalated at all |\n|---|---|---|---|---|"
            )
            for weight, result in summary:
                f = result["figures"]
                print(
                    f"| {weight} | {result['threshold']} | {_pct(f['emergency_crisis_sensitivity'])} "
                    f"| {_pct(f['calm_kept_calm'])} | {_pct(f['per_level']['urgent']['escalated'])} |"
                )
        return
    corpus = _review_messages(args.probes) if args.probes else semantic.load_corpus(PARTS[args.part])
    measured = args.probes.name if args.probes else args.part
    texts, labels = [m["text"] for m in corpus], [m["level"] for m in corpus]
    started = time.perf_counter()
    if args.url:
        name = f"{measured}, end to end over HTTP ({args.url})"
        predicted = evaluation.http_levels(args.url, texts)
    elif args.regex_detector_from:
        name = f"{measured}, first detector (regular expressions) at {args.regex_detector_from}, in process"
        detect = regex_detector(args.regex_detector_from)
        predicted = [detect(t) for t in texts]
    else:
        settings = with_emergency_minimum(semantic.load_settings(), args.emergency_minimum)
        if args.combine:
            settings = dataclasses.replace(settings, combine=args.combine)
        if args.embedding_weight:
            settings = dataclasses.replace(settings, embedding_weight=args.embedding_weight[0])
        name = f"{measured}, in process, combine={settings.combine}"
        without = list(args.reader_without) + ([args.part] if args.train_without_part and not args.probes else [])
        if without:
            left_out = {path.resolve() for part in without for path in PARTS[part]}
            settings = dataclasses.replace(
                settings, corpus_files=tuple(path for path in settings.corpus_files if path.resolve() not in left_out)
            )
            name += ", second reader trained without " + ", ".join(sorted(set(without)))
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
