"""Encoders for the instructions that call ``kernels/wasm``'s compute kernels (GEMM, dense,
convolution, pooling, softmax, cross-entropy, optimizer updates), and ``ENCODERS``: every
kernel name the stream covers -> its encoder (``fn(e, ins, out, params) -> bool``; False when
that instruction must run as the numpy kernel; see ``program_ops``).

>>> "matmul" in ENCODERS and "adam_update" in ENCODERS and "reshape" not in ENCODERS
True
"""

from __future__ import annotations

import numpy as np

from . import program_nd as nd
from . import program_ops as po
from .cpu import ACT
from .cpu_conv import geometry

F32, I32, OP = po.F32, po.I32, po.OP
CONV_MODE = {"conv2d": 0, "conv2d_grad_input": 1, "conv2d_grad_weight": 2, "conv2d_bias": 0}
POOL_MODE = {"maxpool2d": 0, "maxpool2d_grad": 1, "avgpool2d": 2, "avgpool2d_grad": 3}


def _f32(e, *slots) -> bool:
    return all(e.dtype(s) == F32 for s in slots)


def matmul(e, ins, out, params):
    a, b = ins
    sa, sb = e.shape(a), e.shape(b)
    m, k, n = sa[-2], sa[-1], sb[-1]
    if not _f32(e, a, b) or 0 in (m, k, n):
        return False
    ta, tb = int(e.transposed(a)), int(e.transposed(b))  # 2-D only (see Lowered)
    lda, ldb = (m if ta else k), (k if tb else n)
    batch = e.shape(out)[:-2]
    if len(sb) == 2:  # (..., m, k) @ (k, n): one tall GEMM
        m, batch = m * int(np.prod(sa[:-2], dtype=np.int64)), ()
    astr = nd.broadcast(sa[:-2], batch) if batch else ()
    bstr = nd.broadcast(sb[:-2], batch) if batch else ()
    shape, (astr, bstr) = nd.coalesce(batch, [tuple(s * m * k for s in astr),
                                              tuple(s * k * n for s in bstr)])  # fmt: skip
    if len(shape) > 3:
        return False
    lead = 3 - len(shape)
    nb = [1] * lead + list(shape)
    sa3, sb3 = [0] * lead + list(astr), [0] * lead + list(bstr)
    head = [ta, tb, m, n, k, e.addr(a), lda, e.addr(b), ldb, e.addr(out), n]
    e.record(OP["MATMUL"], [*head, *nb, *sa3, *sb3, e.work])
    return True


def dense(e, ins, out, params):
    x, w, b = ins
    if not _f32(e, x, w, b) or len(e.shape(x)) != 2 or ACT.get(params["activation"]) is None:
        return False
    (m, k), n = e.shape(x), e.shape(w)[1]
    if 0 in (m, k, n):
        return False
    words = [m, n, k, e.addr(x), e.addr(w), e.addr(b), e.addr(out), ACT[params["activation"]]]
    e.record(OP["DENSE"], [*words, e.work])
    return True


def conv(name):
    mode = CONV_MODE[name]

    def enc(e, ins, out, params):
        groups = params["groups"]
        if not _f32(e, *ins):
            return False
        xs = tuple(params["input_shape"]) if mode == 1 else e.shape(ins[0])
        ws = tuple(params["weight_shape"]) if mode == 2 else e.shape(ins[1])
        geo = geometry(xs, ws, params["strides"], params["padding"], params["dilation"])
        kkc, pixels = int(geo[7] * geo[8] * ws[2]), int(geo[0] * geo[4] * geo[5])
        if kkc * pixels * int(geo[6]) == 0 or xs[3] != ws[2] * groups or ws[3] % groups:
            return False
        need = min(kkc * pixels, max(1 << 20, kkc * 4))
        if groups == xs[3] == ws[3] > 1:  # depthwise: conv.c's per-row weight-gradient sums
            need = max(need, kkc * xs[3])
        act = ACT.get(params.get("activation")) if name == "conv2d_bias" else None
        if name == "conv2d_bias" and (act is None or e.shape(ins[2]) != (ws[3],)):
            return False
        col, floats = e.col(need)
        words = [mode, e.addr(ins[0]), e.addr(ins[1]), e.addr(out), col, floats, e.work, groups]
        e.record(OP["CONV"], [*words, *map(int, geo)])
        if name == "conv2d_bias":  # the epilogue: act(y + b), b per output channel
            e.record(OP["BIAS_ACT"], [e.addr(out), e.addr(ins[2]), pixels, int(ws[3]), act])
        return True

    return enc


def pool(name):
    def enc(e, ins, out, params):
        x = ins[0]
        if not _f32(e, *ins) or 0 in e.shape(x):
            return False
        c = e.shape(x)[3]
        geo = geometry(e.shape(x), (*params["pool"], c, c), params["strides"], params["padding"],
                       params["dilation"])  # fmt: skip
        g = ins[1] if len(ins) > 1 else x
        words = [POOL_MODE[name], e.addr(x), e.addr(g), e.addr(out), *map(int, geo)]
        e.record(OP["POOL"], words)
        return True

    return enc


def _rows(e, x):
    shape = e.shape(x)
    if not shape or 0 in shape:
        return None
    return int(np.prod(shape[:-1], dtype=np.int64)), int(shape[-1])


def softmax(e, ins, out, params):
    rc = _rows(e, ins[0])
    if rc is None or not _f32(e, ins[0]):
        return False
    e.record(OP["SOFTMAX"], [e.addr(ins[0]), e.addr(out), *rc])
    return True


def softmax_grad(e, ins, out, params):
    g, y = ins
    rc = _rows(e, y)
    if rc is None or not _f32(e, g, y) or e.shape(g) != e.shape(y):
        return False
    e.record(OP["SMAX_GRAD"], [e.addr(g), e.addr(y), e.addr(out), *rc])
    return True


def _target(e, x, t):
    """(rows, cols, sparse) when ``t`` is int32 labels (one per row) or float32 rows."""
    rc = _rows(e, x)
    if rc is None or not _f32(e, x):
        return None
    size = int(np.prod(e.shape(t), dtype=np.int64))
    if e.dtype(t) == I32 and size == rc[0]:
        return (*rc, 1)
    return (*rc, 0) if e.dtype(t) == F32 and size == rc[0] * rc[1] else None


def xent(name):
    grad, probs = name.endswith("_grad"), name.startswith("prob")

    def enc(e, ins, out, params):
        x, t = ins[:2]
        rcs = _target(e, x, t)
        if rcs is None or (grad and not _f32(e, ins[2])):
            return False
        rows, cols, sparse = rcs
        g = e.addr(ins[2]) if grad else 0
        head = [e.addr(x), e.addr(t), sparse, rows, cols]
        if probs:
            e.record(OP["PXENT"], [*head, po.f32_bits(params["eps"]), g, e.addr(out)])
        else:
            e.record(OP["SXENT"], [*head, g, e.addr(out)])
        return True

    return enc


def _same(e, p, *xs) -> bool:
    return _f32(e, p, *xs) and all(e.shape(x) == e.shape(p) for x in xs)


def sgd_update(e, ins, out, params):
    p, g, hp = ins[:3]
    mom = params.get("momentum", 0.0)
    buf = ins[3] if len(ins) > 3 else None
    if not _same(e, p, g, *([buf] if mom else [])) or not _f32(e, hp):
        return False
    f = [
        f64
        for k in ("momentum", "dampening", "weight_decay")
        for f64 in po.f64_words(params.get(k, 0.0))
    ]  # noqa: E501
    flags = [int(bool(params.get(k, False))) for k in ("nesterov", "maximize", "first")]
    n = int(np.prod(e.shape(p), dtype=np.int64))
    e.record(
        OP["SGD"], [e.addr(p), e.addr(g), e.addr(hp), e.addr(buf) if mom else 0, n, *f, *flags]
    )
    return True


def sgd_matmul(e, ins, out, params):
    """Plain SGD whose gradient is a 2-D GEMM: one sgemm with alpha = -lr (read from hp at run
    time) and beta = 1 into the weight."""
    p, a, b, hp = ins
    sa, sb = e.shape(a), e.shape(b)
    if not _f32(e, p, a, b, hp) or len(sa) != 2 or len(sb) != 2 or e.shape(p) != (sa[0], sb[1]):
        return False
    (m, k), n = sa, sb[1]
    if 0 in (m, k, n):
        return False
    ta, tb = int(e.transposed(a)), int(e.transposed(b))
    lda, ldb = (m if ta else k), (k if tb else n)
    sign = -1 if params.get("maximize") else 1
    words = [ta, tb, m, n, k, e.addr(a), lda, e.addr(b), ldb, e.addr(p), n, e.addr(hp), sign]
    e.record(OP["SGD_GEMM"], [*words, e.work])
    return True


def sgd_colsum(e, ins, out, params):
    """Plain SGD on a bias from the column sums of a 2-D gradient, one record."""
    p, x, hp = ins
    shape = e.shape(x)
    if not _f32(e, p, x, hp) or len(shape) != 2 or e.shape(p) != (shape[1],) or 0 in shape:
        return False
    sign = -1 if params.get("maximize") else 1
    e.record(OP["SGD_COLSUM"], [shape[0], shape[1], e.addr(x), e.addr(p), e.addr(hp), sign])
    return True


def adam_update(e, ins, out, params):
    p, g, hp, m, v = ins
    if not _same(e, p, g, m, v) or not _f32(e, hp):
        return False
    keys = ("beta1", "beta2", "eps", "weight_decay")
    f = [w for k in keys for w in po.f64_words(params.get(k, 0.0))]
    flags = [int(bool(params.get(k, False))) for k in ("decoupled", "maximize")]
    n = int(np.prod(e.shape(p), dtype=np.int64))
    e.record(OP["ADAM"], [e.addr(p), e.addr(g), e.addr(hp), e.addr(m), e.addr(v), n, *f, *flags])
    return True


ENCODERS = {
    **{n: po.elementwise(n) for n in (*po.UNARY, *po.BINARY, *po.COMPARE)},
    **{n: po.reduce(n) for n in po.REDUCE},
    "where": po.where, "cast": po.cast, "argmax": po.argmax, "permute": po.permute,
    "expand": po.expand, "slice": po.slice_, "slice_grad": po.slice_grad,
    "slice_grad_sum": po.slice_grad_sum, "concat": po.concat,
    "pad": po.pad, "gather": po.gather, "scatter_add": po.scatter_add,
    "matmul": matmul, "dense": dense, "softmax": softmax, "softmax_grad": softmax_grad,
    **{n: conv(n) for n in CONV_MODE}, **{n: pool(n) for n in POOL_MODE},
    **{n: xent(n) for n in ("softmax_cross_entropy", "softmax_cross_entropy_grad",
                            "prob_cross_entropy", "prob_cross_entropy_grad")},
    "sgd_update": sgd_update, "adam_update": adam_update, "sgd_matmul": sgd_matmul,
    "sgd_colsum": sgd_colsum,
}  # fmt: skip
