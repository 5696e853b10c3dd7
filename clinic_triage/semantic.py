"""The learned second reader of the triage: n-gram logistic regression over the four levels.

No Rasa imports. Trained when the pipeline loads, from the labelled tuning corpus named in
``rules/semantic.yml`` (about a thousand messages: well under a second), so a clinician who adds a
message to the corpus changes the model on the next start, with no separate training step.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

logger = logging.getLogger(__name__)

SETTINGS_FILE = Path(__file__).with_name("rules") / "semantic.yml"
# Fitted readers, one file per fingerprint of everything they depend on (see :func:`train`).
CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "triage-cache"
COMBINE_MODES = ("either", "rules_first", "off")
NONE = "none"
ESCALATED_LEVELS = ("crisis", "emergency", "urgent")


@dataclass(frozen=True)
class SemanticSettings:
    """The reviewable settings of ``rules/semantic.yml``."""

    corpus_files: Tuple[Path, ...]
    calm_examples_from: Optional[Path]
    calm_intents_exclude: Tuple[str, ...]
    char_ngrams: Tuple[int, int]
    word_ngrams: Tuple[int, int]
    C: float
    threshold: float
    combine: str
    min_words: int
    # The threshold used instead of ``threshold`` when the rules found red-flag mentions in the message
    # and discounted every one (negated, hypothetical, over, someone else's); None: ``threshold``.
    discounted_threshold: Optional[float] = None
    # "balanced": each level weighs as much in the fit as the others (scikit-learn's class_weight);
    # "none": every message weighs the same.
    class_weight: str = "balanced"
    # The threshold used instead of ``threshold`` when the rules found no red-flag mention at all in the
    # message (counted or discounted); None: ``threshold``.
    unflagged_threshold: Optional[float] = None
    # The least probability at which the reader names a level on its own, per escalated level (a level
    # not listed: no condition); see :func:`choose_level`.
    min_level_probability: Mapping[str, float] = field(default_factory=dict)


def load_settings(path: Path = SETTINGS_FILE) -> SemanticSettings:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if data["combine"] not in COMBINE_MODES:
        raise ValueError(f"semantic.yml: combine must be one of {COMBINE_MODES}, not {data['combine']!r}")
    files = tuple(sorted(Path(p) for p in glob.glob(str(Path(path).parent / data["corpus"]))))
    if data["combine"] != "off" and not files:
        raise ValueError(f"semantic.yml: no corpus file matches {data['corpus']!r}")
    return SemanticSettings(
        corpus_files=files,
        calm_examples_from=(
            (Path(path).parent / data["calm_examples_from"]).resolve() if data.get("calm_examples_from") else None
        ),
        calm_intents_exclude=tuple(data.get("calm_intents_exclude", [])),
        char_ngrams=tuple(data["char_ngrams"]),  # type: ignore[arg-type]
        word_ngrams=tuple(data["word_ngrams"]),  # type: ignore[arg-type]
        C=float(data["C"]),
        threshold=float(data["threshold"]),
        combine=data["combine"],
        min_words=int(data.get("min_words", 1)),
        discounted_threshold=_optional_threshold(data.get("discounted_threshold"), "discounted_threshold"),
        class_weight=_class_weight(data.get("class_weight", "balanced")),
        unflagged_threshold=_optional_threshold(data.get("unflagged_threshold"), "unflagged_threshold"),
        min_level_probability=_level_minimums(data.get("min_level_probability")),
    )


def _class_weight(value: object) -> str:
    if value not in ("balanced", "none"):
        raise ValueError(f"semantic.yml: class_weight must be 'balanced' or 'none', not {value!r}")
    return str(value)


def _optional_threshold(value: object, name: str) -> Optional[float]:
    if value is None:
        return None
    threshold = float(value)  # type: ignore[arg-type]
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"semantic.yml: {name} must be between 0 and 1 or null, not {value!r}")
    return threshold


def _level_minimums(value: object) -> Dict[str, float]:
    """``min_level_probability``: escalated level -> least probability; levels set to null are left out."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not set(value) <= set(ESCALATED_LEVELS):
        raise ValueError(f"semantic.yml: min_level_probability must map {ESCALATED_LEVELS} to values, not {value!r}")
    minimums = {}
    for level, minimum in value.items():
        checked = _optional_threshold(minimum, f"min_level_probability.{level}")
        if checked is not None:
            minimums[str(level)] = checked
    return minimums


def choose_level(
    probabilities: Mapping[str, float], limit: float, minimums: Mapping[str, float]
) -> Tuple[Optional[str], float]:
    """The reader's verdict from its probabilities: (level, P(level)), or (None, P(none)) when it does
    not escalate.

    It escalates when P(none) is below ``limit``, to its most likely escalated level. A level with a
    minimum in ``minimums`` that its probability does not reach counts as calm instead: its probability
    is added to P(none) and the next most likely level is judged the same way, so the reader falls back
    to a level it is sure enough of, or to none. Without minimums: the most likely escalated level
    whenever P(none) is below ``limit``."""
    p_none = probabilities[NONE]
    calm = p_none
    # Most likely first; equal probabilities keep the order of ``probabilities`` (the fitted classes).
    for level in sorted((c for c in probabilities if c != NONE), key=lambda c: -probabilities[c]):
        if calm >= limit:
            break
        minimum = minimums.get(level)
        if minimum is None or probabilities[level] >= minimum:
            return level, probabilities[level]
        calm += probabilities[level]
    return None, p_none


def load_corpus(files: Sequence[Path]) -> List[Dict[str, str]]:
    """The labelled messages of the corpus files (``text``, ``level``, ``category``, ``author``)."""
    return [m for f in files for m in yaml.safe_load(Path(f).read_text(encoding="utf-8"))["messages"]]


class SemanticTriage:
    """Probabilities of the four levels for a (normalised) message.

    Trained with scikit-learn; one message is then scored from the fitted vocabularies, IDF weights
    and coefficients directly (the same arithmetic as sklearn's ``transform`` and ``predict_proba``,
    checked against them in the tests), which skips sklearn's per-call input validation: an order of
    magnitude less time per message.
    """

    def __init__(self, texts: Sequence[str], levels: Sequence[str], settings: SemanticSettings) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=settings.char_ngrams, min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="word", ngram_range=settings.word_ngrams, sublinear_tf=True),
        )
        self._model = make_pipeline(
            features,
            LogisticRegression(
                C=settings.C,
                max_iter=2000,
                class_weight="balanced" if settings.class_weight == "balanced" else None,
            ),
        )
        self._model.fit(list(texts), list(levels))
        self.classes: List[str] = list(self._model.classes_)
        self.threshold = settings.threshold
        self.discounted_threshold = (
            settings.threshold if settings.discounted_threshold is None else settings.discounted_threshold
        )
        self.unflagged_threshold = (
            settings.threshold if settings.unflagged_threshold is None else settings.unflagged_threshold
        )
        self.min_level_probability: Dict[str, float] = dict(settings.min_level_probability)
        self.min_words = settings.min_words
        union, regression = self._model.steps[0][1], self._model.steps[1][1]
        self._vectorizers = []
        offset = 0
        for _, vectorizer in union.transformer_list:
            self._vectorizers.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)
        self._coef = regression.coef_
        self._intercept = regression.intercept_

    def probabilities(self, text: str) -> Dict[str, float]:
        """P(level) for each level: sublinear TF-IDF, L2-normalised per vectoriser, multinomial softmax
        (the logistic function when only two levels were trained)."""
        import numpy as np

        logits = self._intercept.copy()
        for analyze, vocabulary, idf, offset in self._vectorizers:
            counts: Dict[int, int] = {}
            for gram in analyze(text):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[columns]
            values /= np.sqrt(values @ values)
            logits += self._coef[:, columns + offset] @ values
        if len(logits) == 1:  # two classes: scikit-learn fits one row and uses the logistic function
            positive = 1.0 / (1.0 + np.exp(-logits[0]))
            return dict(zip(self.classes, (1.0 - float(positive), float(positive))))
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (float(p) for p in exp / exp.sum())))

    def sklearn_probabilities(self, text: str) -> Dict[str, float]:
        """The same probabilities through scikit-learn (the reference for the tests)."""
        return dict(zip(self.classes, (float(p) for p in self._model.predict_proba([text])[0])))

    def limit(self, rules_discounted_all: bool = False, rules_found_nothing: bool = False) -> float:
        """The threshold on P(none) for a message: ``discounted_threshold`` when the rules found red-flag
        mentions and discounted every one (they were told why the message is calm),
        ``unflagged_threshold`` when they found none at all (the reader alone reads a red flag in it),
        ``threshold`` otherwise."""
        if rules_discounted_all:
            return self.discounted_threshold
        if rules_found_nothing:
            return self.unflagged_threshold
        return self.threshold

    def verdict(
        self, text: str, rules_discounted_all: bool = False, rules_found_nothing: bool = False
    ) -> Tuple[Optional[str], float]:
        """(level, probability of that level) when the message should be escalated, else (None, P(none));
        (None, 1.0) for a message shorter than ``min_words``.

        The threshold is :meth:`limit`'s; the level is :func:`choose_level`'s, with the per-level
        minimums of ``min_level_probability``."""
        if len(text.split()) < self.min_words:
            return None, 1.0
        return choose_level(
            self.probabilities(text),
            self.limit(rules_discounted_all, rules_found_nothing),
            self.min_level_probability,
        )


def calm_examples(settings: SemanticSettings) -> List[str]:
    """The NLU training examples of the intents that are not triage intents (Rasa's YAML format)."""
    if settings.calm_examples_from is None:
        return []
    data = yaml.safe_load(settings.calm_examples_from.read_text(encoding="utf-8"))
    out = []
    for block in data.get("nlu", []):
        if "intent" not in block or block["intent"] in settings.calm_intents_exclude:
            continue
        out += [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
    return out


def fingerprint(settings: SemanticSettings, extra_files: Sequence[Path] = ()) -> str:
    """A hash of every input of the fitted reader: its settings, corpus, calm examples, the files named
    in ``extra_files`` (the rules that mask the text) and this package's code."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    files = [
        SETTINGS_FILE,
        *settings.corpus_files,
        *([settings.calm_examples_from] if settings.calm_examples_from else []),
        *extra_files,
        *sorted(package.glob("*.py")),
    ]
    for path in files:
        digest.update(str(Path(path).name).encode() + b"\0" + Path(path).read_bytes() + b"\0")
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:32]


def train(
    settings: SemanticSettings,
    prepare: Callable[[str], str],
    cache_key: Optional[str] = None,
    cache_dir: Path = CACHE_DIR,
) -> SemanticTriage:
    """The second reader trained on the settings' corpus and calm examples, each text passed through
    ``prepare`` (the engine's normalising and masking, the same as at run time).

    With a ``cache_key`` (:func:`fingerprint`), a reader fitted before on the same inputs is loaded
    from ``cache_dir`` instead (a server start then skips the fitting); a missing or unwritable
    cache only means fitting again.
    """
    cached = cache_dir / f"{cache_key}.pkl" if cache_key else None
    if cached is not None and cached.exists():
        try:
            with cached.open("rb") as handle:
                reader = pickle.load(handle)
            if isinstance(reader, SemanticTriage):
                return reader
        except Exception as error:  # a damaged file: fit again
            logger.warning("triage.semantic.cache_unreadable error=%s", type(error).__name__)
    reader = _fit(settings, prepare)
    if cached is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".reader-")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(reader, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cached)  # atomic: a concurrent start reads the old file or the new one
        except OSError as error:
            logger.info("triage.semantic.cache_not_written error=%s", type(error).__name__)
    return reader


def _fit(settings: SemanticSettings, prepare: Callable[[str], str]) -> SemanticTriage:
    corpus = load_corpus(settings.corpus_files)
    texts = [m["text"] for m in corpus] + calm_examples(settings)
    levels = [m["level"] for m in corpus] + ["none"] * (len(texts) - len(corpus))
    return SemanticTriage([prepare(t) for t in texts], levels, settings)
