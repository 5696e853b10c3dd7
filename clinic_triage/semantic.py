"""The learned second reader of the triage: n-gram logistic regression over the four levels.

No Rasa imports. Trained when the pipeline loads, from the labelled tuning corpus named in
``rules/semantic.yml`` (a few thousand messages: about a second), so a clinician who adds a
message to the corpus changes the model on the next start, with no separate training step.

Optionally (``embedding_weight`` above 0) a dense sentence embedding of the same text is read
beside the n-grams. The reader does not know where the embedding comes from: the caller passes an
``embed`` function (texts -> one normalised row per text), e.g. :func:`clinic_triage.embedding.minilm`.
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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

if TYPE_CHECKING:
    import numpy as np

# Sentence embeddings of texts: (len(texts), dimension), each row L2-normalised.
Embed = Callable[[Sequence[str]], "np.ndarray"]

logger = logging.getLogger(__name__)

SETTINGS_FILE = Path(__file__).with_name("rules") / "semantic.yml"
# Fitted readers, one file per fingerprint of everything they depend on (see :func:`train`).
CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "triage-cache"
COMBINE_MODES = ("either", "rules_first", "off")
NONE = "none"
CRISIS = "crisis"
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
    # The weight of the sentence embedding of the text beside the n-grams (each n-gram block is
    # L2-normalised, the embedding too, so the embedding block's length is this weight); 0: off.
    embedding_weight: float = 0.0
    # The weight in the fit of each calm message of the tuning corpus (the hard calm cases: general
    # questions, negated lists, the past, logistics with symptom words) relative to one calm NLU
    # example, every other message weighing 1; 1: all the same.
    corpus_calm_weight: float = 1.0
    # The threshold on P(none) for the reader's crisis verdict when the rules discounted every mention
    # they found and none of them was of a crisis flag (a stroke in 2019, a negated fever): such a
    # discount says nothing about thoughts of self-harm. None: ``discounted_threshold`` for every level.
    discounted_other_crisis_threshold: Optional[float] = None
    # What a finding of this reader means, in the words staff see beside the message.
    description: str = ""


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
        discounted_other_crisis_threshold=_optional_threshold(
            data.get("discounted_other_crisis_threshold"), "discounted_other_crisis_threshold"
        ),
        embedding_weight=_embedding_weight(data.get("embedding_weight", 0)),
        corpus_calm_weight=_corpus_calm_weight(data.get("corpus_calm_weight", 1)),
        description=str(data.get("description") or ""),
    )


def _embedding_weight(value: object) -> float:
    weight = float(value)  # type: ignore[arg-type]
    if not weight >= 0.0:
        raise ValueError(f"semantic.yml: embedding_weight must be 0 (off) or more, not {value!r}")
    return weight


def _corpus_calm_weight(value: object) -> float:
    weight = float(value)  # type: ignore[arg-type]
    if not weight > 0.0:
        raise ValueError(f"semantic.yml: corpus_calm_weight must be above 0, not {value!r}")
    return weight


def sample_weights(
    corpus_levels: Sequence[str], calm_examples: int, settings: SemanticSettings
) -> Optional[List[float]]:
    """The fit's weight of each training message, the corpus's messages first (``corpus_levels``) and
    then ``calm_examples`` NLU examples: the corpus's calm messages weigh ``corpus_calm_weight``,
    every other message 1; None when that weight is 1 (no weights)."""
    if settings.corpus_calm_weight == 1.0:
        return None
    corpus = [settings.corpus_calm_weight if level == NONE else 1.0 for level in corpus_levels]
    return corpus + [1.0] * calm_examples


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


def choose_level_with_crisis_limit(
    probabilities: Mapping[str, float], limit: float, minimums: Mapping[str, float], crisis_limit: Optional[float]
) -> Tuple[Optional[str], float]:
    """:func:`choose_level` at ``limit``; when that does not escalate and ``crisis_limit`` is set, the
    crisis level alone is judged again at ``crisis_limit`` (the same minimums): the reader names crisis
    when :func:`choose_level` at that limit would, and nothing else changes."""
    level, probability = choose_level(probabilities, limit, minimums)
    if level is None and crisis_limit is not None:
        second, second_probability = choose_level(probabilities, crisis_limit, minimums)
        if second == CRISIS:
            return second, second_probability
    return level, probability


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

    def __init__(
        self,
        texts: Sequence[str],
        levels: Sequence[str],
        settings: SemanticSettings,
        embed: Optional[Embed] = None,
        weights: Optional[Sequence[float]] = None,
    ) -> None:
        """Fit on ``texts`` (as :meth:`probabilities` will read them) and their ``levels``, each message
        weighing as ``weights`` says (None: all the same; :func:`sample_weights`); ``embed``
        is required when ``settings.embedding_weight`` is above 0 (it is kept for scoring, never pickled)."""
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_union

        self.embedding_weight = settings.embedding_weight
        if self.embedding_weight > 0 and embed is None:
            raise ValueError("semantic.yml sets embedding_weight above 0: the reader needs an embed function")
        self._embed: Optional[Embed] = embed if self.embedding_weight > 0 else None
        self._features = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=settings.char_ngrams, min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="word", ngram_range=settings.word_ngrams, sublinear_tf=True),
        )
        self._regression = LogisticRegression(
            C=settings.C,
            max_iter=2000,
            class_weight="balanced" if settings.class_weight == "balanced" else None,
        )
        features = self._features.fit_transform(list(texts))
        if self._embed is not None:
            features = self._with_embedding(features, np.asarray(self._embed(list(texts)), dtype=np.float64))
        self._regression.fit(features, list(levels), sample_weight=None if weights is None else list(weights))
        self.classes: List[str] = list(self._regression.classes_)
        self.threshold = settings.threshold
        self.discounted_threshold = (
            settings.threshold if settings.discounted_threshold is None else settings.discounted_threshold
        )
        self.unflagged_threshold = (
            settings.threshold if settings.unflagged_threshold is None else settings.unflagged_threshold
        )
        self.min_level_probability: Dict[str, float] = dict(settings.min_level_probability)
        self.discounted_other_crisis_threshold = settings.discounted_other_crisis_threshold
        self.min_words = settings.min_words
        self._vectorizers = []
        offset = 0
        for _, vectorizer in self._features.transformer_list:
            self._vectorizers.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)
        self._coef = self._regression.coef_
        self._intercept = self._regression.intercept_
        # The embedding's coefficients (the columns after the n-grams'), scaled by the weight once.
        self._dense_coef = self._coef[:, offset:] * self.embedding_weight if self._embed is not None else None

    def _with_embedding(self, ngrams: Any, embeddings: "np.ndarray") -> Any:
        """The n-gram features with the weighted embeddings as further columns (sparse)."""
        from scipy.sparse import csr_matrix, hstack

        return hstack([ngrams, csr_matrix(embeddings * self.embedding_weight)], format="csr")

    def __getstate__(self) -> Dict[str, Any]:
        """Everything but the embed function (an encoder is not pickled: :func:`train` sets it again)."""
        return {**self.__dict__, "_embed": None}

    def set_embed(self, embed: Optional[Embed]) -> None:
        """The embed function to score with (after loading a pickled reader that reads embeddings)."""
        self._embed = embed if self.embedding_weight > 0 else None

    def embedding(self, text: str) -> Optional["np.ndarray"]:
        """The embedding of ``text`` the reader reads (None when it reads none)."""
        if self.embedding_weight <= 0:
            return None
        if self._embed is None:
            raise ValueError("this reader reads embeddings: set_embed() was not called")
        return self._embed([text])[0]

    def probabilities(self, text: str, embedding: Optional["np.ndarray"] = None) -> Dict[str, float]:
        """P(level) for each level: sublinear TF-IDF, L2-normalised per vectoriser, the weighted
        embedding when the reader reads one (``embedding``, else computed), multinomial softmax (the
        logistic function when only two levels were trained)."""
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
        if self._dense_coef is not None:
            vector = self.embedding(text) if embedding is None else embedding
            logits += self._dense_coef @ np.asarray(vector, dtype=np.float64)
        if len(logits) == 1:  # two classes: scikit-learn fits one row and uses the logistic function
            positive = 1.0 / (1.0 + np.exp(-logits[0]))
            return dict(zip(self.classes, (1.0 - float(positive), float(positive))))
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (float(p) for p in exp / exp.sum())))

    def sklearn_probabilities(self, text: str) -> Dict[str, float]:
        """The same probabilities through scikit-learn (the reference for the tests)."""
        import numpy as np

        features = self._features.transform([text])
        if self._dense_coef is not None:
            features = self._with_embedding(features, np.asarray(self.embedding(text), dtype=np.float64)[None, :])
        return dict(zip(self.classes, (float(p) for p in self._regression.predict_proba(features)[0])))

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

    def crisis_limit(
        self, rules_discounted_all: bool = False, rules_discounted_crisis: bool = False
    ) -> Optional[float]:
        """The threshold at which the crisis level alone is judged again when :meth:`limit`'s does not
        escalate: ``discounted_other_crisis_threshold`` when the rules discounted every mention and none
        was of a crisis flag (``rules_discounted_crisis`` False); None otherwise."""
        if rules_discounted_all and not rules_discounted_crisis:
            return self.discounted_other_crisis_threshold
        return None

    def verdict(
        self,
        text: str,
        rules_discounted_all: bool = False,
        rules_found_nothing: bool = False,
        rules_discounted_crisis: bool = False,
    ) -> Tuple[Optional[str], float]:
        """(level, probability of that level) when the message should be escalated, else (None, P(none));
        (None, 1.0) for a message shorter than ``min_words`` (nothing is embedded for it).

        The threshold is :meth:`limit`'s; the level is :func:`choose_level`'s, with the per-level
        minimums of ``min_level_probability``, and crisis is judged again at :meth:`crisis_limit` when
        that is set (``rules_discounted_crisis``: a mention the rules discounted was of a crisis flag)."""
        if len(text.split()) < self.min_words:
            return None, 1.0
        return choose_level_with_crisis_limit(
            self.probabilities(text),
            self.limit(rules_discounted_all, rules_found_nothing),
            self.min_level_probability,
            self.crisis_limit(rules_discounted_all, rules_discounted_crisis),
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


def fingerprint(settings: SemanticSettings, extra_files: Sequence[Path] = (), embedder: str = "") -> str:
    """A hash of every input of the fitted reader: its settings (``embedding_weight`` among them),
    corpus, calm examples, the files named in ``extra_files`` (the rules that mask the text), the
    name and version of the sentence encoder (``embedder``, when the reader reads embeddings) and this
    package's code."""
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
    if settings.embedding_weight > 0:
        digest.update(b"embedder\0" + embedder.encode())
    return digest.hexdigest()[:32]


def train(
    settings: SemanticSettings,
    prepare: Callable[[str], str],
    cache_key: Optional[str] = None,
    cache_dir: Path = CACHE_DIR,
    embed: Optional[Embed] = None,
) -> SemanticTriage:
    """The second reader trained on the settings' corpus and calm examples, each text passed through
    ``prepare`` (the engine's normalising and masking, the same as at run time); ``embed`` is the
    sentence encoder when ``embedding_weight`` is above 0 (the cache key must then name it).

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
                reader.set_embed(embed)
                return reader
        except Exception as error:  # a damaged file: fit again
            logger.warning("triage.semantic.cache_unreadable error=%s", type(error).__name__)
    reader = _fit(settings, prepare, embed)
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


def _fit(settings: SemanticSettings, prepare: Callable[[str], str], embed: Optional[Embed]) -> SemanticTriage:
    corpus = load_corpus(settings.corpus_files)
    texts = [m["text"] for m in corpus] + calm_examples(settings)
    levels = [m["level"] for m in corpus] + ["none"] * (len(texts) - len(corpus))
    weights = sample_weights(levels[: len(corpus)], len(texts) - len(corpus), settings)
    return SemanticTriage([prepare(t) for t in texts], levels, settings, embed, weights)
