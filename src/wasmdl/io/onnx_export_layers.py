"""The per-layer emitters of ``wasmdl.io.onnx_export`` and the graph being written.

Each emitter takes ``(graph, layer, state, input shapes)`` where ``state`` is ``(value name,
rank, held NCHW?)`` and returns the new state: convolutions and pooling work in ONNX's NCHW,
everything else in wasmdl's channels-last layout, with ``to_layout`` inserting a ``Transpose`` only
where the hold changes.

Example:
    >>> g = Graph()
    >>> to_layout(g, ("x", 4, False), True)[0], g.nodes[0]["op_type"]
    ('transpose_out_1', 'Transpose')
"""

from __future__ import annotations

import numpy as np

from .. import nn
from .onnx_proto import attribute, tensor_proto

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


class Graph:
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


def act(g, x, activation, name):
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


def to_layout(g, state, nchw: bool):
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


def emit_dense(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, False)
    if rank == 2 and layer.use_bias:  # one Gemm: an importer gets a layer with its bias
        ins = [x, g.const("kernel", layer.kernel.numpy()), g.const("bias", layer.bias.numpy())]
        return act(g, g.node("Gemm", ins), layer.activation, layer.name), rank, False
    y = g.node("MatMul", [x, g.const("kernel", layer.kernel.numpy())])
    if layer.use_bias:
        y = g.node("Add", [y, g.const("bias", layer.bias.numpy())])
    return act(g, y, layer.activation, layer.name), rank, False


def emit_conv(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, True)
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
    return act(g, g.node("Conv", ins, attrs), layer.activation, layer.name), rank, True


def emit_conv_transpose(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, True)
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
    return act(g, g.node("ConvTranspose", ins, attrs), layer.activation, layer.name), rank, True


def emit_pool(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, True)
    k, s = list(layer.pool_size), list(layer.strides)
    attrs = {"kernel_shape": k, "strides": s, "pads": _pads(layer, shapes[0][1:-1], k, s)}
    op = "MaxPool" if isinstance(layer, nn.MaxPool2D | nn.MaxPool1D) else "AveragePool"
    if op == "AveragePool":
        attrs["count_include_pad"] = 0
    return g.node(op, [x], attrs), rank, True


def emit_global_pool(g, layer, state, shapes):
    x, _, _ = to_layout(g, state, True)
    op = "GlobalMaxPool" if "Max" in type(layer).__name__ else "GlobalAveragePool"
    return g.node("Flatten", [g.node(op, [x])], {"axis": 1}), 2, False


def emit_batchnorm(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, True)
    if layer.axis not in (-1, rank - 1):
        raise ValueError(f"onnx export: layer {layer.name!r}: only axis=-1 is exported")
    ins = [x] + [
        g.const(n, getattr(layer, n).numpy())
        for n in ("gamma", "beta", "moving_mean", "moving_variance")
    ]
    return g.node("BatchNormalization", ins, {"epsilon": layer.epsilon}), rank, rank >= 3


def emit_layernorm(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, False)
    if layer.axis not in (-1, rank - 1) or not (layer.scale and layer.center):
        raise ValueError(f"onnx export: layer {layer.name!r}: only axis=-1 with scale and center")
    ins = [x, g.const("scale", layer.gamma.numpy()), g.const("bias", layer.beta.numpy())]
    return g.node("LayerNormalization", ins, {"axis": -1, "epsilon": layer.epsilon}), rank, False


def emit_reshape(shape_fn):
    def emit(g, layer, state, shapes):
        x, _, _ = to_layout(g, state, False)
        out = shape_fn(layer, shapes)
        return g.node("Reshape", [x, g.const("shape", np.array(out, np.int64))]), len(out), False

    return emit


def emit_permute(g, layer, state, shapes):
    x, rank, _ = to_layout(g, state, False)
    return g.node("Transpose", [x], {"perm": [0, *layer.dims]}), rank, False


def emit_embedding(g, layer, state, shapes):
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


def emit_rnn(g, layer, state, shapes):
    x, _, _ = to_layout(g, state, False)
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
