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
from .onnx_proto import attribute, tensor_proto, value_info, write_model

OPSET = 17
ACTS = {
    "relu": [("Relu", {})],
    "sigmoid": [("Sigmoid", {})],
    "tanh": [("Tanh", {})],
    "softmax": [("Softmax", {"axis": -1})],
    "log_softmax": [("LogSoftmax", {"axis": -1})],
    "elu": [("Elu", {"alpha": 1.0})],
    "selu": [("Selu", {})],
    "softplus": [("Softplus", {})],
    "softsign": [("Softsign", {})],
    "exponential": [("Exp", {})],
    "hard_sigmoid": [("HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5})],
    "leaky_relu": [("LeakyRelu", {"alpha": 0.2})],
    "relu6": [("Clip", {"__min": 0.0, "__max": 6.0})],
}


class _Graph:
    """Nodes and initializers being written; ``x`` is the current value, ``nchw`` its hold."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        name = self.name(base)
        self.inits.append(tensor_proto(name, np.asarray(array)))
        return name

    def node(self, op, inputs, attrs=None, outputs=1, base=None):
        outs = [self.name(f"{base or op.lower()}_out") for _ in range(outputs)]
        attrs = [attribute(k, v) for k, v in (attrs or {}).items()]
        self.nodes.append(
            {
                "input": inputs,
                "output": outs,
                "name": self.name(base or op),
                "op_type": op,
                "attribute": attrs,
            }
        )
        return outs if outputs > 1 else outs[0]


def _act(g, x, activation, name):
    key = (
        activation
        if isinstance(activation, str) or activation is None
        else getattr(activation, "__name__", "?")
    )
    if key in (None, "linear"):
        return x
    if key in ("swish", "silu"):
        return g.node("Mul", [x, g.node("Sigmoid", [x])])
    if key not in ACTS:
        raise ValueError(f"onnx export: layer {name!r}: activation {key!r} has no ONNX mapping")
    for op, attrs in ACTS[key]:
        if op == "Clip":
            x = g.node(
                "Clip",
                [
                    x,
                    g.const("min", np.float32(attrs["__min"])),
                    g.const("max", np.float32(attrs["__max"])),
                ],
            )
        else:
            x = g.node(op, [x], attrs)
    return x


def _to(g, state, nchw: bool):
    """Move the current value to NCHW (True) or wasmdl's channels-last (False) if rank >= 3."""
    x, rank, now = state
    if rank < 3 or now == nchw:
        return x, rank, now
    perm = [0, rank - 1, *range(1, rank - 1)] if nchw else [0, *range(2, rank), 1]
    return g.node("Transpose", [x], {"perm": perm}), rank, nchw


def _pads(layer, in_hw, k, s, d=(1, 1)):
    if layer.padding == "valid":
        return [0] * (2 * len(k))
    pairs = []
    for n, kk, ss, dd in zip(in_hw, k, s, d, strict=True):
        total = max((-(-n // ss) - 1) * ss + (kk - 1) * dd + 1 - n, 0)
        pairs.append((total // 2, total - total // 2))
    return [b for b, _ in pairs] + [e for _, e in pairs]


def _dense(g, layer, state, shapes):
    x, rank, _ = _to(g, state, False)
    if rank == 2 and layer.use_bias:  # one Gemm: an importer gets a layer with its bias
        ins = [x, g.const("kernel", layer.kernel.numpy()), g.const("bias", layer.bias.numpy())]
        return _act(g, g.node("Gemm", ins), layer.activation, layer.name), rank, False
    y = g.node("MatMul", [x, g.const("kernel", layer.kernel.numpy())])
    if layer.use_bias:
        y = g.node("Add", [y, g.const("bias", layer.bias.numpy())])
    return _act(g, y, layer.activation, layer.name), rank, False


def _conv(g, layer, state, shapes):
    x, rank, _ = _to(g, state, True)
    k, spatial = layer.kernel.numpy(), shapes[0][1:-1]
    attrs = {"strides": list(layer.strides), "dilations": list(layer.dilation_rate)}
    if isinstance(layer, nn.Conv1D):
        w = k.transpose(2, 1, 0)
        if layer.padding == "causal":
            attrs["pads"] = [(layer.kernel_size[0] - 1) * layer.dilation_rate[0], 0]
        else:
            attrs["pads"] = _pads(
                layer, spatial, layer.kernel_size, layer.strides, layer.dilation_rate
            )
    elif isinstance(layer, nn.DepthwiseConv2D):
        kh, kw, c, m = k.shape
        w = k.reshape(kh, kw, c * m).transpose(2, 0, 1)[:, None]
        attrs.update(
            group=c,
            pads=_pads(layer, spatial, layer.kernel_size, layer.strides, layer.dilation_rate),
        )
    else:
        w = k.transpose(3, 2, 0, 1)
        attrs["pads"] = _pads(layer, spatial, layer.kernel_size, layer.strides, layer.dilation_rate)
    ins = [x, g.const("W", np.ascontiguousarray(w))]
    if layer.use_bias:
        ins.append(g.const("B", layer.bias.numpy()))
    return _act(g, g.node("Conv", ins, attrs), layer.activation, layer.name), rank, True


def _conv_transpose(g, layer, state, shapes):
    x, rank, _ = _to(g, state, True)
    w = layer.kernel.numpy().transpose(3, 2, 0, 1)
    pads, outp = [0, 0, 0, 0], [0, 0]
    if layer.padding == "same":
        for i, (k, s) in enumerate(zip(layer.kernel_size, layer.strides, strict=True)):
            crop = max(k - s, 0) // 2
            end = k - s - crop
            pads[i], pads[i + 2], outp[i] = crop, max(end, 0), max(-end, 0)
    attrs = {"strides": list(layer.strides), "pads": pads, "output_padding": outp}
    ins = [x, g.const("W", np.ascontiguousarray(w))] + (
        [g.const("B", layer.bias.numpy())] if layer.use_bias else []
    )
    return _act(g, g.node("ConvTranspose", ins, attrs), layer.activation, layer.name), rank, True


def _pool(g, layer, state, shapes):
    x, rank, _ = _to(g, state, True)
    k, s = list(layer.pool_size), list(layer.strides)
    attrs = {"kernel_shape": k, "strides": s, "pads": _pads(layer, shapes[0][1:-1], k, s)}
    op = "MaxPool" if isinstance(layer, nn.MaxPool2D | nn.MaxPool1D) else "AveragePool"
    if op == "AveragePool":
        attrs["count_include_pad"] = 0
    return g.node(op, [x], attrs), rank, True


def _global_pool(g, layer, state, shapes):
    x, _, _ = _to(g, state, True)
    op = "GlobalMaxPool" if "Max" in type(layer).__name__ else "GlobalAveragePool"
    return g.node("Flatten", [g.node(op, [x])], {"axis": 1}), 2, False


def _batchnorm(g, layer, state, shapes):
    x, rank, _ = _to(g, state, True)
    if layer.axis not in (-1, rank - 1):
        raise ValueError(f"onnx export: layer {layer.name!r}: only axis=-1 is exported")
    ins = [x] + [
        g.const(n, getattr(layer, n).numpy())
        for n in ("gamma", "beta", "moving_mean", "moving_variance")
    ]
    return g.node("BatchNormalization", ins, {"epsilon": layer.epsilon}), rank, rank >= 3


def _layernorm(g, layer, state, shapes):
    x, rank, _ = _to(g, state, False)
    if layer.axis not in (-1, rank - 1) or not (layer.scale and layer.center):
        raise ValueError(f"onnx export: layer {layer.name!r}: only axis=-1 with scale and center")
    ins = [x, g.const("scale", layer.gamma.numpy()), g.const("bias", layer.beta.numpy())]
    return g.node("LayerNormalization", ins, {"axis": -1, "epsilon": layer.epsilon}), rank, False


def _reshape(shape_fn):
    def emit(g, layer, state, shapes):
        x, _, _ = _to(g, state, False)
        out = shape_fn(layer, shapes)
        return g.node("Reshape", [x, g.const("shape", np.array(out, np.int64))]), len(out), False

    return emit


def _permute(g, layer, state, shapes):
    x, rank, _ = _to(g, state, False)
    return g.node("Transpose", [x], {"perm": [0, *layer.dims]}), rank, False


def _embedding(g, layer, state, shapes):
    x, rank, _ = state
    y = g.node("Gather", [g.const("embeddings", layer.embeddings.numpy()), x], {"axis": 0})
    return y, rank + 1, False


def _rnn_weights(layer):
    u = layer.units
    order = [0, 3, 1, 2] if isinstance(layer, nn.LSTM) else [0, 1, 2]  # wasmdl ifco -> ONNX iofc

    def blocks(a):
        return np.concatenate([a[i * u : (i + 1) * u] for i in order])

    w, r = blocks(layer.kernel.numpy().T), blocks(layer.recurrent_kernel.numpy().T)
    b = (
        layer.bias.numpy()
        if layer.use_bias
        else np.zeros(
            (2, len(order) * u) if isinstance(layer, nn.GRU) else len(order) * u, np.float32
        )
    )
    b = (
        np.concatenate([blocks(b[0]), blocks(b[1])])
        if b.ndim == 2
        else np.concatenate([blocks(b), np.zeros_like(b)])
    )
    return w, r, b


def _rnn(g, layer, state, shapes):
    x, _, _ = _to(g, state, False)
    bi = isinstance(layer, nn.Bidirectional)
    cells = [layer.forward_layer, layer.backward_layer] if bi else [layer]
    cell = cells[0]
    if (
        not isinstance(cell, nn.LSTM | nn.GRU)
        or cell.return_state
        or (bi and layer.merge_mode != "concat")
    ):
        raise ValueError(
            f"onnx export: layer {layer.name!r}: only LSTM/GRU (in Bidirectional: merge "
            "'concat') without return_state"
        )
    if not bi and cell.go_backwards and cell.return_sequences:
        raise ValueError(
            f"onnx export: layer {layer.name!r}: go_backwards with return_sequences is not exported"
        )
    if (cell.activation, cell.recurrent_activation) != ("tanh", "sigmoid"):
        raise ValueError(f"onnx export: layer {layer.name!r}: only tanh/sigmoid activations")
    ws = [_rnn_weights(c) for c in cells]
    ins = [g.node("Transpose", [x], {"perm": [1, 0, 2]})] + [
        g.const(k, np.stack([w[i] for w in ws])) for i, k in enumerate("WRB")
    ]
    direction = "bidirectional" if bi else "reverse" if cell.go_backwards else "forward"
    attrs = {"hidden_size": cell.units, "direction": direction}
    if isinstance(cell, nn.GRU):
        attrs["linear_before_reset"] = 1
    op = "LSTM" if isinstance(cell, nn.LSTM) else "GRU"
    y, yh = g.node(op, ins, attrs, outputs=2)
    d, u = len(cells), cell.units
    if cell.return_sequences:  # (T, D, N, H) -> (N, T, D * H)
        y = g.node("Transpose", [y], {"perm": [2, 0, 1, 3]})
        return g.node("Reshape", [y, g.const("shape", np.array([0, 0, d * u], np.int64))]), 3, False
    yh = g.node("Transpose", [yh], {"perm": [1, 0, 2]})  # (D, N, H) -> (N, D * H)
    return g.node("Reshape", [yh, g.const("shape", np.array([0, d * u], np.int64))]), 2, False


LAYERS = {
    nn.Dense: _dense,
    nn.Conv1D: _conv,
    nn.Conv2D: _conv,
    nn.DepthwiseConv2D: _conv,
    nn.Conv2DTranspose: _conv_transpose,
    nn.MaxPool2D: _pool,
    nn.AvgPool2D: _pool,
    nn.MaxPool1D: _pool,
    nn.AvgPool1D: _pool,
    nn.GlobalAvgPool2D: _global_pool,
    nn.GlobalMaxPool2D: _global_pool,
    nn.GlobalAvgPool1D: _global_pool,
    nn.GlobalMaxPool1D: _global_pool,
    nn.BatchNormalization: _batchnorm,
    nn.LayerNormalization: _layernorm,
    nn.Flatten: _reshape(lambda layer, s: [0, int(np.prod(s[0][1:]))]),
    nn.Reshape: _reshape(lambda layer, s: [0, *layer.target_shape]),
    nn.Permute: _permute,
    nn.Activation: lambda g, layer, state, shapes: (
        _act(g, state[0], layer.activation, layer.name),
        *state[1:],
    ),
    nn.Dropout: lambda g, layer, state, shapes: state,
    nn.Embedding: _embedding,
    nn.LSTM: _rnn,
    nn.GRU: _rnn,
    nn.Bidirectional: _rnn,
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
    g, state = _Graph(), ("input", len(decl), False)
    for layer, in_shape in zip(model.layers, ins, strict=True):
        emit = next((f for cls, f in LAYERS.items() if type(layer) is cls), None)
        if emit is None:
            raise ValueError(
                f"onnx export: layer {layer.name!r} ({type(layer).__name__}) has no ONNX "
                f"mapping; supported: {sorted(c.__name__ for c in LAYERS)}"
            )
        state = emit(g, layer, state, [in_shape])
    x, _, _ = _to(g, state, False)
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
