"""Reductions (sum, max, min, argmax) and matmul.

>>> import wasmdl as wl
>>> x = wl.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> x.sum(axis=0).tolist(), x.max(axis=1, keepdims=True).tolist(), x.argmax(axis=1).tolist()
([4.0, 7.0], [[5.0], [3.0]], [1, 0])
>>> (x @ x).tolist()
[[16.0, 15.0], [9.0, 19.0]]
"""

import math

from ..dtypes import FLOATS, NUMERIC, bool_, float32, int32
from . import elementwise as E
from . import shape as S
from .core import apply, broadcast_shapes, check_tensor, defop, fail, norm_axes, norm_axis


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _reduce_rule(name, nonempty):
    def rule(xs, p):
        (x,) = xs
        if x.dtype not in NUMERIC:
            fail(name, "x", "a numeric dtype", f"dtype {x.dtype}", TypeError)
        axes = p["axis"] = norm_axes(name, p["axis"], x.ndim)
        if nonempty and any(x.shape[a] == 0 for a in axes):
            fail(name, "x", "non-zero size along the reduced axes", f"shape {x.shape}")
        return _reduced_shape(x.shape, axes, p["keepdims"]), x.dtype

    return rule


def _keep(g, xs, p):
    """``g`` reshaped to the keepdims shape of the reduction (so it broadcasts against x)."""
    if p["keepdims"]:
        return g
    return S.reshape(g, _reduced_shape(xs[0].shape, p["axis"], True))


def _sum_vjp(g, out, xs, p):
    return (S.expand(_keep(g, xs, p), xs[0].shape),)


def _max_vjp(g, out, xs, p):
    x = xs[0]
    mask = E.cast(x == S.expand(_keep(out, xs, p), x.shape), g.dtype)  # ties share the gradient
    count = sum(mask, axis=p["axis"], keepdims=True)
    return (mask * (_keep(g, xs, p) / count),)


defop("sum", _reduce_rule("sum", False), _sum_vjp, cache=True)
defop("max", _reduce_rule("max", True), _max_vjp, cache=True)
defop("min", _reduce_rule("min", True), _max_vjp, cache=True)


def _argmax_rule(xs, p):
    (x,) = xs
    if x.dtype not in NUMERIC:
        fail("argmax", "x", "a numeric dtype", f"dtype {x.dtype}", TypeError)
    if p["axis"] is None:
        if x.size == 0:
            fail("argmax", "x", "a non-empty tensor", f"shape {x.shape}")
        return ((1,) * x.ndim if p["keepdims"] else ()), int32
    ax = p["axis"] = norm_axis("argmax", p["axis"], x.ndim)
    if x.shape[ax] == 0:
        fail("argmax", "x", "non-zero size along the reduced axis", f"shape {x.shape}")
    return _reduced_shape(x.shape, (ax,), p["keepdims"]), int32


defop("argmax", _argmax_rule, cache=True)


def _reduction(name):
    def f(x, axis=None, keepdims=False):
        check_tensor(name, "x", x)
        if x.dtype is bool_:
            x = E.cast(x, int32)
        return apply(name, x, axis=axis, keepdims=bool(keepdims))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (
        f"``{name}`` of ``x`` over ``axis`` (None: all; int or tuple).\n\n>>> import "
        f"wasmdl as wl\n>>> wl.{name}(wl.ones((2, 3)), axis=1).shape\n(2,)\n"
    )
    return f


sum, max, min = _reduction("sum"), _reduction("max"), _reduction("min")


def argmax(x, axis=None, keepdims=False):
    """Index (int32) of the first maximum along ``axis`` (None: of the flattened tensor).

    >>> import wasmdl as wl
    >>> wl.argmax(wl.tensor([[1, 9], [7, 3]]), axis=0).tolist()
    [1, 0]
    """
    check_tensor("argmax", "x", x)
    return apply("argmax", x, axis=axis, keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis`` (a composite: sum / count; ints give float32).

    >>> import wasmdl as wl
    >>> wl.mean(wl.tensor([[1.0, 2.0], [3.0, 6.0]]), axis=1).tolist()
    [1.5, 4.5]
    """
    check_tensor("mean", "x", x)
    if x.dtype not in FLOATS:
        x = E.cast(x, float32)
    axes = norm_axes("mean", axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    return sum(x, axes, keepdims) * (1.0 / n if n else float("nan"))


# ----------------------------------------------------------------------------- matmul
def _matmul_rule(xs, p):
    a, b = xs
    if a.dtype is not b.dtype:
        fail("matmul", "b", f"dtype {a.dtype} (same as a)", f"dtype {b.dtype}", TypeError)
    if a.dtype not in NUMERIC:
        fail("matmul", "a", "a numeric dtype", f"dtype {a.dtype}", TypeError)
    if a.ndim < 2 or b.ndim < 2:
        fail(
            "matmul",
            "a" if a.ndim < 2 else "b",
            "at least 2 dimensions",
            f"shape {a.shape if a.ndim < 2 else b.shape}",
        )
    if a.shape[-1] != b.shape[-2]:
        fail(
            "matmul",
            "b",
            f"shape (..., {a.shape[-1]}, n) to match a's {a.shape}",
            f"shape {b.shape}",
        )
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    return (*batch, a.shape[-2], b.shape[-1]), a.dtype


def _mT(x):
    n = x.ndim
    return S.permute(x, (*range(n - 2), n - 1, n - 2))


def _matmul_vjp(g, out, xs, p):
    a, b = xs
    ga = S.unbroadcast(apply("matmul", g, _mT(b)), a.shape) if a.requires_grad else None
    gb = None
    if b.requires_grad and b.ndim == 2 and a.ndim > 2:
        # a matrix applied over a's batch dims (a Dense layer on a sequence, an input
        # projection over time steps): the sum over the batch of a_i^T g_i is one product
        # over the flattened rows, without the batch of products to sum
        K, N = b.shape
        rows = math.prod(a.shape[:-1])
        gb = apply("matmul", _mT(S.reshape(a, (rows, K))), S.reshape(g, (rows, N)))
    elif b.requires_grad:
        gb = S.unbroadcast(apply("matmul", _mT(a), g), b.shape)
    return ga, gb


defop("matmul", _matmul_rule, _matmul_vjp, cache=True)


def matmul(a, b):
    """Matrix product with numpy semantics (1-D operands are vectors; batch dims broadcast).

    >>> import wasmdl as wl
    >>> wl.matmul(wl.ones((2, 3)), wl.ones(3)).tolist()
    [3.0, 3.0]
    """
    a, b = E.coerce("matmul", a, b)
    na, nb = len(a.shape), len(b.shape)
    if na == 0 or nb == 0:
        fail("matmul", "a" if na == 0 else "b", "at least 1 dimension", "a scalar (0-d)")
    va, vb = na == 1, nb == 1
    if va:
        a = S.reshape(a, (1, a.shape[0]))
    if vb:
        b = S.reshape(b, (b.shape[0], 1))
    out = apply("matmul", a, b)
    if va or vb:
        keep = out.shape[:-2] + (() if va else out.shape[-2:-1]) + (() if vb else out.shape[-1:])
        out = S.reshape(out, keep)
    return out
