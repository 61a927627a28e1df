"""The per-step WASM kernels (``kernels/wasm/step.c``) with the numpy backend's signatures:
the fused ops' kernels (``relu`` and ``relu_grad``, ``softmax``, ``softmax_cross_entropy``,
``prob_cross_entropy`` and their gradients) and the in-place optimizer updates
``sgd_update(p, g, hp, [buf], ...)`` and ``adam_update(p, g, hp, m, v, ...)`` (``hp``: the
float32 host values ``[lr]`` / ``[lr, step]``, read by the kernel) that ``wasmdl/_wasm.install``
puts over ``wasmdl/backend/numpy_step.py``'s.

Each function returns None for what it does not handle (not float32, not C-contiguous, a label
outside [0, C), an empty batch), and the numpy kernel runs instead. In a small model these
replace chains of 3 to 15 numpy calls (8-20 us each in Pyodide) with one WASM call.

>>> table(None)["relu_grad"].__name__
'relu_grad'
"""

from __future__ import annotations

import weakref

import numpy as np

from .cpu import F32, addr


def _rows(x):
    """``x`` as a C-contiguous float32 (rows, classes) view, else None."""
    if x.dtype != F32 or not x.flags.c_contiguous or x.ndim < 1 or x.size == 0:
        return None
    return x.reshape(-1, x.shape[-1])


def _target(t, rows):
    """Int labels as one int array per row, or float32 target rows; None if not handled."""
    if t.dtype.kind in "iu":
        return t.reshape(-1) if t.size == rows.shape[0] else None
    if t.dtype != F32 or not t.flags.c_contiguous or t.size != rows.size:
        return None
    return t.reshape(rows.shape)


class Addresses:
    """Addresses of long-lived writable float32 arrays (parameters, optimizer state), looked
    up once: ``addr`` costs ~9 us in Pyodide, as much as the update of a small tensor. Keyed by
    ``id`` and checked with a weak reference, so a new array at a reused id is looked up anew.
    Calling returns the address, or None for an array the kernels cannot write in place."""

    def __init__(self, limit=4096):
        self.memo, self.limit = {}, limit

    def __call__(self, a):
        hit = self.memo.get(id(a))
        if hit is not None and hit[0]() is a:
            return hit[1]
        if a.dtype != F32 or not a.flags.c_contiguous or not a.flags.writeable or not a.size:
            return None
        if len(self.memo) >= self.limit:
            self.memo.clear()
        self.memo[id(a)] = (weakref.ref(a), addr(a))
        return self.memo[id(a)][1]


def _grad(g, p):
    """The address of gradient ``g`` (a fresh array each step) if it fits ``p``, else None."""
    if g.dtype != F32 or not g.flags.c_contiguous or g.shape != p.shape:
        return None
    return addr(g)


def _state(cached, a):
    """The address of an array updated in place, or None (not an ndarray the kernels write)."""
    return cached(a) if isinstance(a, np.ndarray) else None


def _hp(hp, n):
    """The address of the float32 host values ``[lr, step, ...]`` (at least ``n``), or None."""
    if not isinstance(hp, np.ndarray) or hp.dtype != F32 or hp.size < n or hp.ndim != 1:
        return None
    return addr(hp) if hp.flags.c_contiguous else None


def table(k) -> dict:
    """Kernel name -> WASM implementation for the kernels object ``k`` (``CpuKernels``)."""

    def relu(x):  # copy, then max(y, 0) in place: ~9x np.maximum on large arrays in Pyodide
        if x.dtype != F32 or not x.flags.c_contiguous or x.ndim == 0 or x.size == 0:
            return None
        return k.bias_act(x.copy(), None, "relu")

    def softmax(x):
        return k.softmax(x) if x.size else None

    def relu_grad(g, y):
        return k.act_grad(g, y, "relu") if g.shape == y.shape else None

    def softmax_cross_entropy(x, t):
        rows = _rows(x)
        tt = None if rows is None else _target(t, rows)
        out = None if tt is None else k.softmax_xent(rows, tt)
        return None if out is None else np.array(out[0] / rows.shape[0], F32)

    def softmax_cross_entropy_grad(x, t, g):
        rows = _rows(x)
        tt = None if rows is None else _target(t, rows)
        if tt is None or g.dtype != F32:
            return None
        out = k.softmax_xent(rows, tt, grad_scale=float(g) / rows.shape[0])
        return None if out is None else out[1].reshape(x.shape)

    def _prob_xent(p, t, eps, g=None):
        rows = _rows(p)
        tt = None if rows is None else _target(t, rows)
        if tt is None or (g is not None and g.dtype != F32):
            return None
        n, cols = rows.shape
        sparse = tt.ndim == 1
        if sparse and (tt.min() < 0 or tt.max() >= cols):
            return None  # numpy's zero rows; also keeps int64 labels from wrapping in int32
        tt = np.ascontiguousarray(tt, np.int32) if sparse else tt
        grad = None if g is None else np.empty_like(rows)
        scale = 0.0 if g is None else float(g) / n
        pg = 0 if grad is None else addr(grad)
        total = k.exports.prob_xent(addr(rows), addr(tt), int(sparse), n, cols, float(eps), pg,
                                    scale)  # fmt: skip
        return np.array(total / n, F32) if grad is None else grad.reshape(p.shape)

    def prob_cross_entropy(p, t, eps):
        return _prob_xent(p, t, eps)

    def prob_cross_entropy_grad(p, t, g, eps):
        return _prob_xent(p, t, eps, g)

    cached = Addresses()
    sgd, adam = (None, None) if k is None else (k.exports.sgd_update, k.exports.adam_update)

    def sgd_update(p, g, hp, buf=None, momentum=0.0, dampening=0.0, weight_decay=0.0,
                   nesterov=False, maximize=False, first=False):  # fmt: skip
        pp, ph = _state(cached, p), _hp(hp, 1)
        pb = (_state(cached, buf) if momentum else 0) if ph is not None else None
        pg = _grad(g, p) if pp is not None else None
        if pb is None or pg is None or (momentum and buf.shape != p.shape):
            return None  # also: a caller of the old (p, g, buf, lr) signature
        sgd(pp, pg, ph, pb, p.size, momentum, dampening, weight_decay, int(nesterov),
            int(maximize), int(first))  # fmt: skip
        return p

    def adam_update(p, g, hp, m, v, beta1, beta2, eps, weight_decay=0.0, decoupled=False,
                    maximize=False):  # fmt: skip
        ph = _hp(hp, 2)
        pp, pm, pv = (_state(cached, a) for a in (p, m, v))
        if ph is None or None in (pp, pm, pv) or not m.shape == v.shape == p.shape:
            return None
        pg = _grad(g, p)
        if pg is None:
            return None
        adam(pp, pg, ph, pm, pv, p.size, beta1, beta2, eps, weight_decay, int(decoupled),
             int(maximize))  # fmt: skip
        return p

    return {
        f.__name__: f
        for f in (relu, relu_grad, softmax, softmax_cross_entropy, softmax_cross_entropy_grad,
                  prob_cross_entropy, prob_cross_entropy_grad, sgd_update, adam_update)
    }  # fmt: skip
