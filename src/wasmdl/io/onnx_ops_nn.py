"""The weighted and spatial ONNX operators: Gemm, MatMul, Conv, ConvTranspose,
BatchNormalization, LayerNormalization, MaxPool, AveragePool, GlobalAveragePool/MaxPool, LSTM
and GRU (registered into ``onnx_ops.OPS``). Weights are converted once, here, into layers.

Example:
    >>> import numpy as np
    >>> from wasmdl.io.onnx_values import Node, V
    >>> w = np.ones((3, 2), np.float32)
    >>> run, layer = OPS["MatMul"](Node("m", "MatMul", ["x", "w"], ["y"], {}, {"w": w}, 17))
    >>> run([V(np.ones((1, 3), np.float32)), None])[0].data.tolist(), type(layer).__name__
    ([[3.0, 3.0]], 'Dense')
"""

from __future__ import annotations

import numpy as np

from .. import nn
from .. import ops as O
from .onnx_layers import OnnxConv, OnnxRNN, check_size, same_pads
from .onnx_ops import OPS, op  # noqa: F401  (OPS: the table these rows join)
from .onnx_values import V, chlast, plain, tensor


def _dense(n, kernel, bias):
    layer = nn.Dense(kernel.shape[1], use_bias=bias is not None, name=f"onnx_{n.name}")
    layer.build((None, kernel.shape[0]))
    layer.built = True
    weights = {"kernel": kernel, **({"bias": bias} if bias is not None else {})}
    layer.load_weights_dict({k: np.asarray(v, np.float32) for k, v in weights.items()}, n.op)
    return layer


@op("MatMul")
def _matmul(n):
    b = n.const(1)
    if b is not None and b.ndim == 2 and b.dtype.kind == "f":
        layer = _dense(n, b, None)
        return (lambda vs: [V(layer(tensor(plain(vs[0]))))]), layer

    def run(vs):
        a, b = (plain(v) for v in vs)
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return [V(np.matmul(a, b))]
        check_size((*np.shape(a)[:-1], np.shape(b)[-1]), n.name)
        return [V(O.matmul(tensor(a), tensor(b)))]

    return run, None


@op("Gemm")
def _gemm(n):
    alpha, beta = n.attrs.get("alpha", 1.0), n.attrs.get("beta", 1.0)
    ta, tb = n.attrs.get("transA", 0), n.attrs.get("transB", 0)
    b, c = n.const(1), n.const(2)
    if (
        b is not None
        and b.ndim == 2
        and not ta
        and b.dtype.kind == "f"
        and (c is None or c.size in (1, b.shape[1 - tb]))
    ):
        kernel = (b.T if tb else b) * alpha
        bias = None if not n.has(2) else np.broadcast_to(c.ravel() * beta, (kernel.shape[1],))
        if n.has(2) and c is None:
            n.fail("a non-constant C is not supported with a constant B")
        layer = _dense(n, kernel, bias)
        return (lambda vs: [V(layer(tensor(plain(vs[0]))))]), layer

    def run(vs):
        x, w = tensor(plain(vs[0])), tensor(plain(vs[1]))
        x, w = (O.permute(x, (1, 0)) if ta else x), (O.permute(w, (1, 0)) if tb else w)
        check_size((x.shape[0], w.shape[1]), n.name)
        y = O.matmul(x, w) * alpha
        return [V(y + tensor(plain(vs[2])) * beta if len(vs) > 2 and vs[2] else y)]

    return run, None


def _spatial(n, w):
    """strides, dilations and pads (pairs, or a SAME_* string) of a Conv-like node."""
    sr = w.ndim - 2
    if sr not in (1, 2):
        n.fail(f"{sr}-D convolutions are not supported (1-D and 2-D are)")
    strides = n.ints("strides", [1] * sr, sr, 1)
    dil = n.ints("dilations", [1] * sr, sr, 1)
    auto = n.attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = auto
    elif auto in ("NOTSET", "VALID"):
        p = n.ints("pads", [0] * 2 * sr, 2 * sr, 0) if auto == "NOTSET" else [0] * 2 * sr
        pads = [(p[i], p[i + sr]) for i in range(sr)]
    else:
        n.fail(f"auto_pad {auto!r} is not supported")
    if sr == 1:
        strides, dil = [1, *strides], [1, *dil]
        pads = pads if isinstance(pads, str) else [(0, 0), *pads]
    return strides, dil, pads


@op("Conv")
def _conv(n):
    w = n.need_const(1, "W").astype(np.float32)
    b = n.const(2) if n.has(2) else None
    group = n.attrs.get("group", 1)
    if not isinstance(group, int) or group < 1 or w.ndim < 3 or w.shape[0] % group:
        n.fail(f"group {group} does not divide the {w.shape[0]} output channels")
    strides, dil, pads = _spatial(n, w)
    if isinstance(pads, str) and w.ndim == 3:
        n.fail("auto_pad SAME on a 1-D convolution is not supported")
    kernel = w.transpose(2, 3, 1, 0) if w.ndim == 4 else w.transpose(2, 1, 0)[None]
    layer = OnnxConv(kernel, b, strides, pads, dil, group, name=f"onnx_{n.name}")
    return (lambda vs: [V(layer(chlast(vs[0])), True)]), layer


@op("ConvTranspose")
def _conv_transpose(n):
    w = n.need_const(1, "W").astype(np.float32)
    b = n.const(2) if n.has(2) else None
    if n.attrs.get("group", 1) != 1 or "output_shape" in n.attrs:
        n.fail("group > 1 and output_shape are not supported")
    strides, dil, pads = _spatial(n, w)
    if isinstance(pads, str):
        n.fail("auto_pad SAME is not supported on ConvTranspose")
    sr = w.ndim - 2
    outp = n.ints("output_padding", [0] * sr, sr, 0)
    outp = [0, *outp] if sr == 1 else outp
    w4 = w if w.ndim == 4 else w[:, :, None, :]
    kernel = np.ascontiguousarray(w4[:, :, ::-1, ::-1].transpose(2, 3, 0, 1))
    layer = OnnxConv(kernel, b, strides, pads, dil, 1, True, outp, name=f"onnx_{n.name}")
    return (lambda vs: [V(layer(chlast(vs[0])), True)]), layer


@op("BatchNormalization")
def _batchnorm(n):
    if n.attrs.get("training_mode", 0) or len([o for o in n.outputs if o]) > 1:
        n.fail("training_mode (and the running-statistics outputs) are not supported")
    scale, bias, mean, var = (
        n.need_const(i, w) for i, w in enumerate(("scale", "B", "input_mean", "input_var"), 1)
    )
    layer = nn.BatchNormalization(
        momentum=n.attrs.get("momentum", 0.9),
        epsilon=n.attrs.get("epsilon", 1e-5),
        name=f"onnx_{n.name}",
    )
    layer.build((None, scale.shape[0]))
    layer.built = True
    arrays = {"gamma": scale, "beta": bias, "moving_mean": mean, "moving_variance": var}
    layer.load_weights_dict({k: np.asarray(v, np.float32) for k, v in arrays.items()}, n.op)

    def run(vs):
        x = chlast(vs[0])
        return [V(layer(x), x.ndim >= 3)]

    return run, layer


@op("LayerNormalization")
def _layernorm(n):
    scale = n.need_const(1, "Scale")
    bias = n.const(2) if n.has(2) else np.zeros_like(scale)
    axis = n.attrs.get("axis", -1)
    if len([o for o in n.outputs if o]) > 1:
        n.fail("the Mean and InvStdDev outputs are not supported")
    axes = list(range(axis, 0)) if axis < 0 else None
    layer = nn.LayerNormalization(
        axis=axes or -1, epsilon=n.attrs.get("epsilon", 1e-5), name=f"onnx_{n.name}"
    )
    if axes is None or scale.ndim != len(axes):
        n.fail(f"axis {axis} with a scale of shape {scale.shape} is not supported")
    layer.build((None, *scale.shape))
    layer.built = True
    layer.load_weights_dict(
        {"gamma": scale.astype(np.float32), "beta": bias.astype(np.float32)}, n.op
    )
    return (lambda vs: [V(layer(tensor(plain(vs[0]))))]), layer


def _pool_pads(n, hw, k, s, pads, ceil):
    """Explicit pairs per spatial axis, and the extra end padding ceil_mode adds."""
    if isinstance(pads, str):
        pads = [
            same_pads(x, kk, ss, 1, pads == "SAME_UPPER")
            for x, kk, ss in zip(hw, k, s, strict=True)
        ]
    extra = []
    for x, kk, ss, (b, e) in zip(hw, k, s, pads, strict=True):
        size = x + b + e
        if size < kk:
            n.fail(f"window {kk} is larger than the padded input {size}")
        out = (-(-(size - kk) // ss) if ceil else (size - kk) // ss) + 1
        if ceil and (out - 1) * ss >= x + b:  # the last window must start inside the input
            out -= 1
        extra.append(max((out - 1) * ss + kk - size, 0))
    return [tuple(p) for p in pads], extra


@op("MaxPool", "AveragePool")
def _pool(n):
    if len([o for o in n.outputs if o]) > 1:
        n.fail("the Indices output is not supported")
    k = n.ints("kernel_shape", None, None, 1)
    sr = len(k)
    if sr not in (1, 2) or n.ints("dilations", [1] * sr, sr, 1) != [1] * sr:
        n.fail("only 1-D and 2-D pooling without dilation is supported")
    w = np.zeros((1, 1, *k))
    strides, _, pads = _spatial(n, w)
    k = [1, *k] if sr == 1 else k
    ceil, include = n.attrs.get("ceil_mode", 0), n.attrs.get("count_include_pad", 0)

    def run(vs):
        x = chlast(vs[0])
        rank = x.ndim
        if rank == 3:
            x = O.reshape(x, (x.shape[0], 1, *x.shape[1:]))
        p, extra = _pool_pads(n, x.shape[1:3], k, strides, pads, ceil)
        check_size(
            (
                x.shape[0],
                x.shape[1] + sum(p[0]) + extra[0],
                x.shape[2] + sum(p[1]) + extra[1],
                x.shape[3],
            ),
            n.name,
        )
        if n.op == "AveragePool" and include and any(map(any, p)):
            x = O.pad(x, [(0, 0), *p, (0, 0)])
            p = [(0, 0), (0, 0)]
        p = tuple((b, e + ex) for (b, e), ex in zip(p, extra, strict=True))
        fn = O.max_pool2d if n.op == "MaxPool" else O.avg_pool2d
        y = fn(x, tuple(k), tuple(strides), p)
        return [V(O.reshape(y, (y.shape[0], *y.shape[2:])) if rank == 3 else y, True)]

    return run, None


@op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(n):
    fn = O.mean if n.op == "GlobalAveragePool" else O.max

    def run(vs):
        x = chlast(vs[0])
        return [V(fn(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True), True)]

    return run, None


@op("LSTM", "GRU")
def _rnn(n):
    w, r = n.need_const(1, "W").astype(np.float32), n.need_const(2, "R").astype(np.float32)
    b = n.const(3).astype(np.float32) if n.has(3) else None
    g = 4 if n.op == "LSTM" else 3
    hidden = n.attrs.get("hidden_size", r.shape[-1] if r.ndim == 3 else 0)
    direction = n.attrs.get("direction", "forward")
    dirs = 2 if direction == "bidirectional" else 1
    if w.ndim != 3 or r.shape != (dirs, g * hidden, hidden) or w.shape[:2] != (dirs, g * hidden):
        n.fail(f"W {w.shape} / R {r.shape} do not fit hidden_size {hidden}, {dirs} direction(s)")
    if b is not None and b.shape != (dirs, 2 * g * hidden):
        n.fail(f"B has shape {b.shape}, expected {(dirs, 2 * g * hidden)}")
    default = ["Sigmoid", "Tanh", "Tanh"][: 3 if n.op == "LSTM" else 2] * dirs
    if n.attrs.get("activations", default) != default or "clip" in n.attrs:
        n.fail("only the default activations and no clip are supported")
    if n.attrs.get("input_forget", 0) or (n.op == "LSTM" and n.has(7)):
        n.fail("input_forget and peepholes are not supported")
    if n.op == "GRU" and not n.attrs.get("linear_before_reset", 0):
        n.fail("linear_before_reset=0 is not supported (PyTorch and Keras export 1)")
    if direction not in ("forward", "reverse", "bidirectional"):
        n.fail(f"direction {direction!r} is not supported")
    layout = n.attrs.get("layout", 0)
    layer = OnnxRNN(n.op, w, r, b, direction, layout, name=f"onnx_{n.name}")

    def run(vs):
        x = tensor(plain(vs[0]))
        if len(vs) > 4 and vs[4] is not None:
            lens = vs[4].data.numpy() if hasattr(vs[4].data, "numpy") else vs[4].data
            if (np.asarray(lens) != x.shape[layout]).any():
                n.fail("sequence_lens shorter than the sequence are not supported")
        h0, c0 = (tensor(plain(vs[i])) if len(vs) > i and vs[i] else None for i in (5, 6))
        return [V(o) for o in layer(x, h0=h0, c0=c0)]

    return run, layer
