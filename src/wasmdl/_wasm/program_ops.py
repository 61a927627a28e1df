"""Encoders of the elementwise and layout instructions: one ``Instr`` of a
``wasmdl.program.Program`` -> records of ``kernels/wasm/program.c``'s stream.

An encoder is ``fn(e, ins, out, params) -> bool`` (``program_kernels.ENCODERS`` is the table):
it appends records through the encoder ``e`` (``program.Encoder``: slot shapes and dtypes,
address words, scratch) and returns False for what the C side does not cover (another dtype,
bool arithmetic, ...): that instruction then runs as the numpy kernel. Elementwise ops,
reductions, casts, ``where`` and every copy (permute, expand, slice, pad, concat) are one
strided loop (``OP_EW``, see ``program_nd``); the semantics are the numpy kernels'.

>>> f32_bits(1.0), f64_words(1.0)
(1065353216, [0, 1072693248])
"""

from __future__ import annotations

import numpy as np

from . import program_nd as nd

F32, I32, BOOL = np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.bool_)
OP = dict(EW=1, FILL=2, MATMUL=3, DENSE=4, ARGMAX=5, GATHER=6, SCATTER=7, CONV=8, POOL=9,
          SOFTMAX=10, SMAX_GRAD=11, SXENT=12, PXENT=13, SGD=14, ADAM=15, BIAS_ACT=16,
          SGD_GEMM=17, SGD_COLSUM=18)  # fmt: skip
UNARY = {"neg": 1, "abs": 2, "exp": 3, "log": 4, "sqrt": 5, "tanh": 6, "sigmoid": 7, "relu": 8,
         "sin": 9, "cos": 10, "erf": 11}  # fmt: skip
INT_UNARY = ("neg", "abs")
BINARY = {"add": 16, "sub": 17, "mul": 18, "div": 19, "pow": 20, "maximum": 21, "minimum": 22,
          "relu_grad": 23}  # fmt: skip
INT_BINARY = ("add", "sub", "mul", "maximum", "minimum")
BOOL_BINARY = ("add", "mul", "maximum", "minimum")  # or, and, or, and
COMPARE = {"eq": 32, "ne": 33, "lt": 34, "le": 35, "gt": 36, "ge": 37}
F_WHERE, F_CAST, F_COPY = 48, 64, 0
REDUCE = {"sum": ("add", 0.0, 0), "max": ("maximum", -np.inf, -(2**31)),
          "min": ("minimum", np.inf, 2**31 - 1)}  # fmt: skip


def f32_bits(v) -> int:
    return int(np.array(v, F32).view(np.int32))


def f64_words(v) -> list:
    return [int(w) for w in np.array([v], np.float64).view(np.int32)]


def fill(e, s, value, off=0, n=None) -> None:
    """Fill slot ``s`` (from ``off`` bytes, ``n`` elements) with ``value`` in its dtype."""
    dt = e.dtype(s)
    bits = int(bool(value)) if dt == BOOL else f32_bits(value) if dt == F32 else int(value)
    size = int(np.prod(e.shape(s), dtype=np.int64)) if n is None else n
    e.record(OP["FILL"], [e.addr(s, off), size, dt.itemsize, bits])


def ew(e, fn, dt, shape, operands) -> bool:
    """One ``OP_EW`` record over ``shape``: operands ``(slot, byte offset, element strides)``
    for d, a, b, c (None for an unused one)."""
    ops = [o for o in operands if o is not None]
    pad = nd.padded(shape, [o[2] for o in ops])
    if pad is None:
        return False
    shp, strides = pad
    words, k = [fn, nd.DTYPES[dt], *shp], 0
    for o in operands:
        if o is None:
            words += [0, 4] + [0] * nd.MAXD
            continue
        words += [e.addr(o[0], o[1]), e.dtype(o[0]).itemsize, *strides[k]]
        k += 1
    e.record(OP["EW"], words)
    return True


def _dense_out(e, out):
    return (out, 0, nd.contiguous(e.shape(out)))


def _in(e, s, shape):
    return (s, 0, nd.broadcast(e.shape(s), shape))


def elementwise(name):
    def enc(e, ins, out, params):
        dt, shape = e.dtype(ins[0]), e.shape(out)
        if name in COMPARE:
            fn = COMPARE[name]
        elif dt == F32:
            fn = UNARY.get(name) or BINARY[name]
        elif dt == I32 and (name in INT_UNARY or name in INT_BINARY):
            fn = UNARY[name] if name in INT_UNARY else BINARY[name]
        elif dt == BOOL and name in BOOL_BINARY and len(ins) == 2:
            fn = BINARY[name]
        else:
            return False
        srcs = [_in(e, s, shape) for s in ins] + [None] * (3 - len(ins))
        return ew(e, fn, dt, shape, [_dense_out(e, out), *srcs])

    return enc


def where(e, ins, out, params):
    shape = e.shape(out)
    srcs = [_in(e, s, shape) for s in ins]
    return ew(e, F_WHERE, e.dtype(ins[1]), shape, [_dense_out(e, out), *srcs])


def cast(e, ins, out, params):
    fn = F_CAST + nd.DTYPES[np.dtype(params["dtype"])]
    shape = e.shape(out)
    return ew(
        e, fn, e.dtype(ins[0]), shape, [_dense_out(e, out), _in(e, ins[0], shape), None, None]
    )


def reduce(name):
    op, fzero, izero = REDUCE[name]

    def enc(e, ins, out, params):
        x, dt = ins[0], e.dtype(ins[0])
        shape, axes = e.shape(x), set(params["axis"])
        if dt not in (F32, I32):
            return False
        kept = tuple(n for i, n in enumerate(shape) if i not in axes)
        ks = iter(nd.contiguous(kept))
        ostr = tuple(0 if i in axes else next(ks) for i in range(len(shape)))
        fill(e, out, fzero if dt == F32 else izero)
        d = (out, 0, ostr)
        return ew(e, BINARY[op], dt, shape, [d, d, (x, 0, nd.contiguous(shape)), None])

    return enc


def copy(e, out, src, shape, a_off, a_strides, d_off=0, d_strides=None) -> bool:
    dst = (out, d_off, nd.contiguous(shape) if d_strides is None else d_strides)
    return ew(e, F_COPY, e.dtype(out), shape, [dst, (src, a_off, a_strides), None, None])


def permute(e, ins, out, params):
    st = nd.contiguous(e.shape(ins[0]))
    return copy(e, out, ins[0], e.shape(out), 0, tuple(st[a] for a in params["axes"]))


def expand(e, ins, out, params):
    shape = e.shape(out)
    return copy(e, out, ins[0], shape, 0, nd.broadcast(e.shape(ins[0]), shape))


def _window(e, shape, starts, steps):
    """(byte offset, element strides) of a slice of a contiguous ``shape``."""
    st = nd.contiguous(shape)
    off = sum(int(b) * s for b, s in zip(starts, st, strict=True))
    return off, tuple(s * int(k) for s, k in zip(st, steps, strict=True))


def slice_(e, ins, out, params):
    off, st = _window(e, e.shape(ins[0]), params["starts"], params["steps"])
    return copy(e, out, ins[0], e.shape(out), off * e.dtype(out).itemsize, st)


def slice_grad(e, ins, out, params):
    g = ins[0]
    off, st = _window(e, e.shape(out), params["starts"], params["steps"])
    fill(e, out, 0)
    return copy(
        e, out, g, e.shape(g), 0, nd.contiguous(e.shape(g)), off * e.dtype(out).itemsize, st
    )


def slice_grad_sum(e, ins, out, params):
    """The base copied (or zeros), then each gradient added into its window in place."""
    shape, dt = e.shape(out), e.dtype(out)
    if dt != F32:
        return False
    grads = ins[1:] if params["base"] else ins
    if params["base"]:
        if not copy(e, out, ins[0], shape, 0, nd.contiguous(shape)):
            return False
    else:
        fill(e, out, 0)
    for g, (starts, _stops, steps) in zip(grads, params["regions"], strict=True):
        off, st = _window(e, shape, starts, steps)
        d, gs = (out, off * dt.itemsize, st), e.shape(g)
        if not ew(e, BINARY["add"], dt, gs, [d, d, (g, 0, nd.contiguous(gs)), None]):
            return False
    return True


def concat(e, ins, out, params):
    axis, shape = params["axis"], e.shape(out)
    ost, at = nd.contiguous(shape), 0
    for s in ins:
        xs = e.shape(s)
        if not copy(
            e, out, s, xs, 0, nd.contiguous(xs), at * ost[axis] * e.dtype(out).itemsize, ost
        ):
            return False
        at += xs[axis]
    return True


def pad(e, ins, out, params):
    xs = e.shape(ins[0])
    off, st = _window(e, e.shape(out), [b for b, _ in params["pads"]], [1] * len(xs))
    fill(e, out, params["value"])
    return copy(e, out, ins[0], xs, 0, nd.contiguous(xs), off * e.dtype(out).itemsize, st)


def _split(shape, axis):
    return (int(np.prod(shape[:axis], dtype=np.int64)), int(shape[axis]),
            int(np.prod(shape[axis + 1:], dtype=np.int64)))  # fmt: skip


def gather(e, ins, out, params):
    x, idx = ins
    if e.dtype(idx) != I32:
        return False
    outer, n, inner = _split(e.shape(x), params["axis"])
    size = int(np.prod(e.shape(idx), dtype=np.int64))
    words = [e.dtype(x).itemsize, outer, n, size, inner, e.addr(x), e.addr(idx), e.addr(out)]
    e.record(OP["GATHER"], words)
    return True


def scatter_add(e, ins, out, params):
    g, idx = ins
    if e.dtype(g) != F32 or e.dtype(idx) != I32:
        return False
    outer, n, inner = _split(tuple(params["shape"]), params["axis"])
    size = int(np.prod(e.shape(idx), dtype=np.int64))
    e.record(OP["SCATTER"], [outer, n, size, inner, e.addr(g), e.addr(idx), e.addr(out)])
    return True


def argmax(e, ins, out, params):
    x, axis = ins[0], params["axis"]
    shape = e.shape(x)
    if e.dtype(x) not in (F32, I32) or 0 in shape:
        return False
    outer, n, inner = (1, int(np.prod(shape)), 1) if axis is None else _split(shape, axis)
    e.record(OP["ARGMAX"], [nd.DTYPES[e.dtype(x)], outer, n, inner, e.addr(x), e.addr(out)])
    return True
