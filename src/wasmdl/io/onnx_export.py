"""Export a wasmdl ``Sequential`` to ONNX (opset 17), runnable by ONNX Runtime.

The exported graph takes and returns wasmdl's layouts (channels-last images ``(N, H, W, C)``,
batch-first sequences), so it predicts exactly what the wasmdl model predicts: convolutions
run in ONNX's NCHW between ``Transpose`` nodes the exporter inserts only where the layout
changes. One row of ``LAYERS`` per layer type emits its nodes; shapes come from running the
model once on zeros. Layers: Dense, Conv1D, Conv2D, DepthwiseConv2D, Conv2DTranspose,
MaxPool2D, AvgPool2D, global pooling, BatchNormalization, LayerNormalization, Flatten, Reshape,
Permute, Activation, Dropout (dropped), Embedding, LSTM, GRU and Bidirectional of them.

Example:
    >>> import wasmdl
    >>> net = wasmdl.Sequential([wasmdl.nn.Dense(2, "softmax", input_shape=(3,))])
    >>> blob = export(net)
    >>> from wasmdl.io.onnx_proto import parse_model
    >>> [n["op_type"] for n in parse_model(blob)["graph"]["node"]]
    ['Gemm', 'Softmax', 'Identity']
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd import no_grad
from .onnx_export_layers import (
    OPSET,
    Graph,
    act,
    emit_batchnorm,
    emit_conv,
    emit_conv_transpose,
    emit_dense,
    emit_embedding,
    emit_global_pool,
    emit_layernorm,
    emit_permute,
    emit_pool,
    emit_reshape,
    emit_rnn,
    to_layout,
)
from .onnx_proto import value_info, write_model

LAYERS = {
    nn.Dense: emit_dense,
    nn.Conv1D: emit_conv,
    nn.Conv2D: emit_conv,
    nn.DepthwiseConv2D: emit_conv,
    nn.Conv2DTranspose: emit_conv_transpose,
    nn.MaxPool2D: emit_pool,
    nn.AvgPool2D: emit_pool,
    nn.MaxPool1D: emit_pool,
    nn.AvgPool1D: emit_pool,
    nn.GlobalAvgPool2D: emit_global_pool,
    nn.GlobalMaxPool2D: emit_global_pool,
    nn.GlobalAvgPool1D: emit_global_pool,
    nn.GlobalMaxPool1D: emit_global_pool,
    nn.BatchNormalization: emit_batchnorm,
    nn.LayerNormalization: emit_layernorm,
    nn.Flatten: emit_reshape(lambda layer, s: [0, int(np.prod(s[0][1:]))]),
    nn.Reshape: emit_reshape(lambda layer, s: [0, *layer.target_shape]),
    nn.Permute: emit_permute,
    nn.Activation: lambda g, layer, state, shapes: (
        act(g, state[0], layer.activation, layer.name),
        *state[1:],
    ),
    nn.Dropout: lambda g, layer, state, shapes: state,
    nn.Embedding: emit_embedding,
    nn.LSTM: emit_rnn,
    nn.GRU: emit_rnn,
    nn.Bidirectional: emit_rnn,
}


def _shapes(model):
    """Each layer's input shape (batch 1), from one forward pass on zeros."""
    shapes = model.build_input_shape_json()
    if not shapes or len(shapes) != 1:
        raise ValueError(
            "onnx export: argument 'model' expected a built single-input Sequential "
            "(give the first layer input_shape)"
        )
    int_input = isinstance(model.layers[0], nn.Embedding)
    x = np.zeros([1, *shapes[0][1:]], np.int32 if int_input else np.float32)
    ins = []
    with no_grad():
        for layer in model.layers:
            ins.append(tuple(np.shape(x)))
            x = layer(x, training=False)
    return [tuple(shapes[0])], ins, tuple(x.shape), int_input


def export(model, name: str = "wasmdl_model") -> bytes:
    """ONNX bytes of a wasmdl ``Sequential`` (input ``input``, output ``output``, batch ``N``)."""
    from ..models import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(
            f"onnx export: argument 'model' expected a Sequential, received {type(model).__name__}"
        )
    (decl,), ins, out_shape, int_input = _shapes(model)
    g, state = Graph(), ("input", len(decl), False)
    for layer, in_shape in zip(model.layers, ins, strict=True):
        emit = next((f for cls, f in LAYERS.items() if type(layer) is cls), None)
        if emit is None:
            raise ValueError(
                f"onnx export: layer {layer.name!r} ({type(layer).__name__}) has no ONNX "
                f"mapping; supported: {sorted(c.__name__ for c in LAYERS)}"
            )
        state = emit(g, layer, state, [in_shape])
    x, _, _ = to_layout(g, state, False)
    g.nodes.append({"input": [x], "output": ["output"], "name": "output", "op_type": "Identity"})
    graph = {
        "node": g.nodes,
        "name": name,
        "initializer": g.inits,
        "input": [value_info("input", ["N", *decl[1:]], 7 if int_input else 1)],
        "output": [value_info("output", ["N", *out_shape[1:]])],
    }
    opsets = [{"domain": "", "version": OPSET}]
    return write_model(
        {"ir_version": 8, "producer_name": "wasmdl", "graph": graph, "opset_import": opsets}
    )
