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


# ----------------------------------------------------------------------------- shapes
def _norm(axis, r, n, what="axis"):
    if not -r <= axis < r:
        n.fail(f"{what} {axis} is out of range for rank {r}")
    return axis % r


@op("Shape")
def _shape(n):
    start, end = n.attrs.get("start", 0), n.attrs.get("end")
    return (lambda vs: [V(np.array(logical_shape(vs[0])[start:end], np.int64))]), None


@op("Constant")
def _constant(n):
    value = n.consts[n.outputs[0]]
    return (lambda vs: [V(value)]), None


@op("Cast")
def _cast(n):
    to = NP_DTYPES.get(n.attrs.get("to"))
    if to is None:
        n.fail(f"cast to data type {n.attrs.get('to')} is not supported")
    kind = np.dtype(to).kind
    target = "float32" if kind == "f" else "bool" if kind == "b" else "int32"

    def run(vs):
        v = vs[0]
        if is_host(v):
            return [V(v.data.astype(to))]
        return [V(O.cast(v.data, target) if str(v.data.dtype) != target else v.data, v.cl)]

    return run, None


def _host(v, n, what):
    if not is_host(v):
        n.fail(f"{what} must be computable at load (a constant or shape arithmetic)")
    return v.data


@op("Reshape")
def _reshape(n):
    def run(vs):
        x, shape = plain(vs[0]), [int(d) for d in _host(vs[1], n, "shape")]
        if not n.attrs.get("allowzero", 0):
            shape = [x.shape[i] if d == 0 and i < x.ndim else d for i, d in enumerate(shape)]
        return [V(x.reshape(shape) if isinstance(x, np.ndarray) else O.reshape(x, tuple(shape)))]

    return run, None


@op("Flatten")
def _flatten(n):
    def run(vs):
        x = plain(vs[0])
        a = _norm(n.attrs.get("axis", 1), x.ndim + 1, n)
        shape = (int(np.prod(x.shape[:a])), int(np.prod(x.shape[a:])))
        return [V(x.reshape(shape) if isinstance(x, np.ndarray) else O.reshape(x, shape))]

    return run, None


@op("Transpose")
def _transpose(n):
    def run(vs):
        v = vs[0]
        r = v.data.ndim
        perm = n.attrs.get("perm", list(range(r))[::-1])
        if sorted(perm) != list(range(r)):
            n.fail(f"perm {perm} is not a permutation of {r} axes")
        if is_host(v):
            return [V(np.transpose(v.data, perm))]
        if v.cl:  # compose with the channels-last hold
            back = (0, r - 1, *range(1, r - 1))
            return [V(O.permute(v.data, tuple(back[p] for p in perm)))]
        return [V(O.permute(v.data, tuple(perm)))]

    return run, None


def _axes(n, vs, i=1):
    """Axes from input ``i`` (opset >= 13) or the ``axes`` attribute, or None."""
    if len(vs) > i and vs[i] is not None:
        return [int(a) for a in _host(vs[i], n, "axes")]
    return n.attrs.get("axes")


@op("Squeeze", "Unsqueeze")
def _squeeze(n):
    def run(vs):
        x, axes = plain(vs[0]), _axes(n, vs)
        shape = list(x.shape)
        if n.op == "Squeeze":
            keep = (
                set(range(len(shape))) - {_norm(a, len(shape), n) for a in axes}
                if axes is not None
                else {i for i, d in enumerate(shape) if d != 1}
            )
            if any(shape[i] != 1 for i in set(range(len(shape))) - keep):
                n.fail(f"cannot squeeze axes {axes} of shape {tuple(shape)}")
            new = [d for i, d in enumerate(shape) if i in keep]
        else:
            if axes is None:
                n.fail("axes are required")
            r = len(shape) + len(axes)
            ones = {_norm(a, r, n) for a in axes}
            it = iter(shape)
            new = [1 if i in ones else next(it) for i in range(r)]
        return [V(x.reshape(new) if isinstance(x, np.ndarray) else O.reshape(x, tuple(new)))]

    return run, None


@op("Concat")
def _concat(n):
    axis = n.attrs.get("axis")
    if axis is None:
        n.fail("attribute 'axis' is required")

    def run(vs):
        vs = [v for v in vs if v is not None]
        if all(is_host(v) for v in vs):
            return [V(np.concatenate([v.data for v in vs], _norm(axis, vs[0].data.ndim, n)))]
        r = vs[0].data.ndim
        if all(v.cl for v in vs):
            return [V(O.concat([v.data for v in vs], phys_axis(_norm(axis, r, n), r)), True)]
        return [V(O.concat([tensor(plain(v)) for v in vs], _norm(axis, r, n)))]

    return run, None


@op("Pad")
def _pad(n):
    if n.attrs.get("mode", "constant") != "constant":
        n.fail(f"mode {n.attrs.get('mode')!r} is not supported (only 'constant')")

    def run(vs):
        v, pads = vs[0], [int(p) for p in _host(vs[1], n, "pads")]
        r = v.data.ndim
        axes = _axes(n, vs, 3) or list(range(r))
        value = (
            float(_host(vs[2], n, "constant_value").ravel()[0]) if len(vs) > 2 and vs[2] else 0.0
        )
        if len(pads) != 2 * len(axes) or min(pads, default=0) < 0:
            n.fail(f"pads {pads[:16]} expected {2 * len(axes)} values >= 0")
        pairs = [(0, 0)] * r
        for i, a in enumerate(axes):
            a = _norm(a, r, n)
            pairs[phys_axis(a, r) if v.cl else a] = (pads[i], pads[i + len(axes)])
        check_size([d + b + e for d, (b, e) in zip(v.data.shape, pairs, strict=True)], n.name)
        if is_host(v):
            return [V(np.pad(v.data, pairs, constant_values=value))]
        return [V(O.pad(v.data, pairs, value), v.cl)]

    return run, None


@op("Gather")
def _gather(n):
    def run(vs):
        data, idx = plain(vs[0]), vs[1]
        axis = _norm(n.attrs.get("axis", 0), data.ndim, n)
        size = data.shape[axis]
        check_size((*idx.data.shape, *data.shape[:axis], *data.shape[axis + 1 :]), n.name)
        if is_host(idx):
            i = idx.data.astype(np.int64)
            if i.size and (i.min() < -size or i.max() >= size):
                n.fail(f"indices outside [-{size}, {size}) on axis {axis}")
            i = np.where(i < 0, i + size, i).astype(np.intp)  # Pyodide's intp is 32-bit
            if isinstance(data, np.ndarray):
                return [V(np.take(data, i, axis=axis))]
            if i.ndim == 0:  # a scalar index drops the axis
                y = O.gather(data, tensor(i.reshape(1)), axis=axis)
                return [V(O.reshape(y, data.shape[:axis] + data.shape[axis + 1 :]))]
            return [V(O.gather(data, tensor(i), axis=axis))]
        ids = idx.data if str(idx.data.dtype) == "int32" else O.cast(idx.data, "int32")
        return [V(O.gather(tensor(data), ids, axis=axis))]

    return run, None


@op("Slice")
def _slice(n):
    def run(vs):
        x = plain(vs[0])
        starts, ends = (_host(vs[i], n, "starts/ends").astype(np.int64) for i in (1, 2))
        axes = _axes(n, vs, 3) or list(range(len(starts)))
        steps = _host(vs[4], n, "steps") if len(vs) > 4 and vs[4] is not None else [1] * len(axes)
        if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in list(steps):
            n.fail("starts, ends, axes and steps must have one non-zero entry per axis")
        key = [slice(None)] * x.ndim
        for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
            s, e = (int(np.clip(v, -(2**62), 2**62)) for v in (s, e))
            key[_norm(int(a), x.ndim, n)] = slice(s, e, int(st))
        if isinstance(x, np.ndarray):
            return [V(x[tuple(key)])]
        if any(k.step is not None and k.step < 0 for k in key):
            n.fail("negative steps on a tensor are not supported")
        return [V(x[tuple(key)])]

    return run, None


@op("ConstantOfShape")
def _constant_of_shape(n):
    value = np.asarray(n.attrs.get("value", np.zeros(1, np.float32))).ravel()
    if value.size != 1:
        n.fail("attribute 'value' must hold one element")

    def run(vs):
        shape = [int(d) for d in _host(vs[0], n, "shape")]
        if min(shape, default=0) < 0:
            n.fail(f"negative size in shape {shape[:16]}")
        check_size(shape, n.name)
        return [V(np.full(shape, value[0], value.dtype))]

    return run, None
