"""ONNX operators (opsets 13-21) as wasmdl ops: the table ``OPS`` maps an op type to a builder
``build(node) -> (run, layer or None)``; ``run(values) -> values`` (see ``onnx_values``).
This module holds the elementwise, shape and indexing operators; the weighted ones (Conv,
Gemm, BatchNormalization, pooling, LSTM, GRU) are in ``onnx_ops_nn``. Where every input is a
host array (shape arithmetic) an op computes with numpy.

Example:
    >>> import numpy as np
    >>> from wasmdl.io.onnx_values import Node
    >>> node = Node("r", "Relu", ["x"], ["y"], {}, {}, 17)
    >>> run, _ = OPS["Relu"](node)
    >>> run([V(np.array([-1.0, 2.0], np.float32))])[0].data.tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import ops as O
from .onnx_layers import check_size
from .onnx_values import V, cl_perm, is_host, logical_shape, phys_axis, plain, tensor

OPS: dict = {}
NP_DTYPES = {
    1: np.float32,
    2: np.uint8,
    3: np.int8,
    5: np.int16,
    6: np.int32,
    7: np.int64,
    9: np.bool_,
    10: np.float16,
    11: np.float64,
    12: np.uint32,
    13: np.uint64,
}


def op(*names):
    def deco(build):
        for name in names:
            OPS[name] = build
        return build

    return deco


# ----------------------------------------------------------------------------- elementwise
def _hard_sigmoid(alpha, beta):
    return lambda x: O.minimum(O.maximum(x * alpha + beta, 0.0), 1.0)


def _with_alpha(fn, alpha):
    return lambda x: fn(x, alpha)


UNARY = {
    "Relu": lambda n: F.relu,
    "Sigmoid": lambda n: O.sigmoid,
    "Tanh": lambda n: O.tanh,
    "Exp": lambda n: O.exp,
    "Log": lambda n: O.log,
    "Sqrt": lambda n: O.sqrt,
    "Neg": lambda n: O.neg,
    "Abs": lambda n: O.abs,
    "Erf": lambda n: O.erf,
    "Softplus": lambda n: F.softplus,
    "Softsign": lambda n: F.softsign,
    "Selu": lambda n: F.selu,
    "Reciprocal": lambda n: lambda x: 1.0 / x,
    "LeakyRelu": lambda n: _with_alpha(F.leaky_relu, n.attrs.get("alpha", 0.01)),
    "Elu": lambda n: _with_alpha(F.elu, n.attrs.get("alpha", 1.0)),
    "HardSigmoid": lambda n: _hard_sigmoid(n.attrs.get("alpha", 0.2), n.attrs.get("beta", 0.5)),
    "HardSwish": lambda n: lambda x: x * _hard_sigmoid(1 / 6, 0.5)(x),
    "Identity": lambda n: lambda x: x,
}


def _unary(n):
    fn = UNARY[n.op](n)
    return (
        lambda vs: [V(vs[0].data if n.op == "Identity" else fn(tensor(vs[0].data)), vs[0].cl)]
    ), None


for _name in UNARY:
    OPS[_name] = _unary


@op("Clip")
def _clip(n):
    lo, hi = n.const(1), n.const(2)
    if (n.has(1) and lo is None) or (n.has(2) and hi is None):
        n.fail("min and max must be constants")
    if any(c is not None and c.size != 1 for c in (lo, hi)):
        n.fail("min and max must be scalars")
    lo, hi = (None if c is None else c.ravel()[0] for c in (lo, hi))

    def run(vs):
        x = tensor(vs[0].data)
        if lo is not None:
            x = O.maximum(x, float(lo))
        return [V(x if hi is None else O.minimum(x, float(hi)), vs[0].cl)]

    return run, None


@op("Dropout")
def _dropout(n):
    if len(n.outputs) > 1 and n.outputs[1]:
        n.fail("the mask output is not supported")
    return (lambda vs: [vs[0]]), None


def _np_div(a, b):
    with np.errstate(all="ignore"):
        if a.dtype.kind in "iu" and b.dtype.kind in "iu":
            return np.where(b == 0, 0, np.trunc(a / np.where(b == 0, 1, b))).astype(a.dtype)
        return a / b


BINARY = {
    "Add": (O.add, np.add),
    "Sub": (O.sub, np.subtract),
    "Mul": (O.mul, np.multiply),
    "Div": (O.div, _np_div),
    "Pow": (O.pow, np.power),
}


def _aligned(v, r):
    """``v`` broadcast-aligned to rank ``r`` and held channels-last, or None if it cannot be."""
    if v.cl:
        return v.data
    x = tensor(plain(v))
    if x.ndim > r:
        return None
    x = O.reshape(x, (1,) * (r - x.ndim) + tuple(x.shape))
    return O.permute(x, cl_perm(r))


def _binary(n):
    tfn, nfn = BINARY[n.op]

    def run(vs):
        a, b = vs
        shape = np.broadcast_shapes(logical_shape(a), logical_shape(b))
        check_size(shape, n.name)
        if is_host(a) and is_host(b):
            return [V(nfn(a.data, b.data).astype(np.result_type(a.data, b.data)))]
        if a.cl or b.cl:
            r = max(v.data.ndim for v in vs if v.cl)
            xs = [_aligned(v, r) for v in vs]
            if all(x is not None for x in xs):
                return [V(tfn(*xs), True)]
        return [V(tfn(tensor(plain(a)), tensor(plain(b))))]

    return run, None


for _name in BINARY:
    OPS[_name] = _binary


@op("Softmax", "LogSoftmax")
def _softmax(n):
    axis = n.attrs.get("axis", -1)

    def run(vs):
        v = vs[0]
        x = tensor(v.data)
        a = phys_axis(axis, x.ndim) if v.cl else axis
        if n.op == "Softmax":
            return [V(F.softmax(x, axis=a), v.cl)]
        return [V(x - F.logsumexp(x, axis=a, keepdims=True), v.cl)]

    return run, None


def norm_axis(axis, r, n, what="axis"):
    if not -r <= axis < r:
        n.fail(f"{what} {axis} is out of range for rank {r}")
    return axis % r


def host_array(v, n, what):
    if not is_host(v):
        n.fail(f"{what} must be computable at load (a constant or shape arithmetic)")
    return v.data


def axes_arg(n, vs, i=1):
    """Axes from input ``i`` (opset >= 13) or the ``axes`` attribute, or None."""
    if len(vs) > i and vs[i] is not None:
        return [int(a) for a in host_array(vs[i], n, "axes")]
    return n.attrs.get("axes")


@op("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum")
def _reduce(n):
    fn = {"ReduceMean": O.mean, "ReduceMax": O.max, "ReduceMin": O.min, "ReduceSum": O.sum}[n.op]
    np_fn = {"ReduceMean": np.mean, "ReduceMax": np.max, "ReduceMin": np.min, "ReduceSum": np.sum}
    keep = bool(n.attrs.get("keepdims", 1))

    def run(vs):
        v, axes = vs[0], axes_arg(n, vs)
        r = v.data.ndim
        if not axes:
            if n.attrs.get("noop_with_empty_axes", 0):
                return [v]
            axes = list(range(r))
        axes = tuple(sorted({norm_axis(a, r, n) for a in axes}))
        if v.cl and keep:  # reduce in place: the hold stays channels-last
            return [V(fn(v.data, axis=tuple(phys_axis(a, r) for a in axes), keepdims=True), True)]
        x = plain(v)
        if isinstance(x, np.ndarray):
            return [V(np.asarray(np_fn[n.op](x, axis=axes, keepdims=keep)))]
        return [V(fn(x, axis=axes, keepdims=keep))]

    return run, None
