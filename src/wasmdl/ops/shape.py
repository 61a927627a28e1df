"""Shape primitives: reshape, permute, expand, slice (+ its VJP slice_grad), concat, pad,
gather (+ its VJP scatter_add); and the view helpers built on them.

>>> import wasmdl as wl
>>> x = wl.arange(6).reshape((2, 3))
>>> x.T.tolist(), x[:, 1:].tolist(), wl.concat([x, x], axis=0).shape
([[0, 3], [1, 4], [2, 5]], [[1, 2], [4, 5]], (4, 3))
"""

import builtins
import math

from .core import apply, check_tensor, defop, fail, norm_axis

_pyslice = builtins.slice  # this module defines its own ``slice`` op


def _shape_arg(op, shape):
    if isinstance(shape, int):
        return (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        fail(op, "shape", "a tuple of ints", repr(shape), TypeError)
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        fail(op, "shape", "a tuple of ints", repr(shape), TypeError)
    return shape


# ----------------------------------------------------------------------------- reshape
def _reshape_rule(xs, p):
    (x,) = xs
    shape = _shape_arg("reshape", p["shape"])
    if shape.count(-1) > 1 or any(d < -1 for d in shape):
        fail("reshape", "shape", "non-negative sizes and at most one -1", repr(shape))
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or x.size % known:
            fail("reshape", "shape", f"a shape with {x.size} elements", repr(shape))
        shape = tuple(x.size // known if d == -1 else d for d in shape)
    if math.prod(shape) != x.size:
        fail("reshape", "shape", f"a shape with {x.size} elements (from {x.shape})", repr(shape))
    p["shape"] = shape
    return shape, x.dtype


defop("reshape", _reshape_rule, lambda g, out, xs, p: (reshape(g, xs[0].shape),), cache=True)


def reshape(x, shape):
    """``x`` with a new shape of the same size (one entry may be -1).

    >>> import wasmdl as wl
    >>> wl.reshape(wl.zeros(6), (2, -1)).shape
    (2, 3)
    """
    check_tensor("reshape", "x", x)
    if isinstance(shape, tuple) and shape == x.shape:
        return x
    return apply("reshape", x, shape=shape)


# ----------------------------------------------------------------------------- permute
def _permute_rule(xs, p):
    (x,) = xs
    axes = p["axes"] = tuple(norm_axis("permute", a, x.ndim, "axes") for a in p["axes"])
    if sorted(axes) != list(range(x.ndim)):
        fail("permute", "axes", f"a permutation of range({x.ndim})", repr(axes))
    return tuple(x.shape[a] for a in axes), x.dtype


def _permute_vjp(g, out, xs, p):
    inv = [0] * len(p["axes"])
    for i, a in enumerate(p["axes"]):
        inv[a] = i
    return (permute(g, tuple(inv)),)


defop("permute", _permute_rule, _permute_vjp, cache=True)


def permute(x, axes):
    """``x`` with its axes reordered (``numpy.transpose(x, axes)``).

    >>> import wasmdl as wl
    >>> wl.permute(wl.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    check_tensor("permute", "x", x)
    return apply("permute", x, axes=tuple(axes))


def transpose(x, axes=None):
    """Axes reversed, or reordered as ``axes`` (numpy's ``transpose``).

    >>> import wasmdl as wl
    >>> wl.transpose(wl.zeros((2, 3))).shape
    (3, 2)
    """
    check_tensor("transpose", "x", x)
    return permute(x, tuple(range(x.ndim - 1, -1, -1)) if axes is None else axes)


def swapaxes(x, a, b):
    """``x`` with axes ``a`` and ``b`` exchanged."""
    axes = list(range(x.ndim))
    a, b = norm_axis("swapaxes", a, x.ndim, "a"), norm_axis("swapaxes", b, x.ndim, "b")
    axes[a], axes[b] = b, a
    return permute(x, tuple(axes))


# ----------------------------------------------------------------------------- expand
def _expand_rule(xs, p):
    (x,) = xs
    shape = p["shape"] = _shape_arg("expand", p["shape"])
    lead = len(shape) - x.ndim
    if lead < 0 or any(d != s and d != 1 for d, s in zip(x.shape, shape[lead:], strict=True)):
        fail("expand", "shape", f"a shape that {x.shape} broadcasts to", repr(shape))
    return shape, x.dtype


defop("expand", _expand_rule, lambda g, out, xs, p: (unbroadcast(g, xs[0].shape),), cache=True)


def expand(x, shape):
    """``x`` broadcast to ``shape`` (numpy's ``broadcast_to``).

    >>> import wasmdl as wl
    >>> wl.expand(wl.ones((3, 1)), (2, 3, 4)).shape
    (2, 3, 4)
    """
    check_tensor("expand", "x", x)
    shape = _shape_arg("expand", shape)
    return x if shape == x.shape else apply("expand", x, shape=shape)


broadcast_to = expand


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (the VJP of broadcasting)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, d in enumerate(shape) if d == 1 and g.shape[i + lead] != 1
    )
    return reshape(apply("sum", g, axis=axes, keepdims=False), shape)  # the op: reduce.py is above


# ----------------------------------------------------------------------------- slice
def _slice_params(op, shape, p):
    """Check canonical slice params (``range(start, stop, step)`` per axis, every index inside
    the axis: no negative-index wrapping) and return the output shape."""
    starts, stops, steps = p["starts"], p["stops"], p["steps"]
    if not len(starts) == len(stops) == len(steps) == len(shape):
        fail(
            op,
            "starts",
            f"{len(shape)} entries per starts/stops/steps",
            f"{len(starts)}/{len(stops)}/{len(steps)}",
        )
    sizes = []
    for i, (b, e, s, n) in enumerate(zip(starts, stops, steps, shape, strict=True)):
        if s == 0:
            fail(op, "steps", "non-zero steps", f"step 0 on axis {i}")
        r = range(b, e, s)
        if len(r) and not (0 <= r[0] < n and 0 <= r[-1] < n):
            fail(op, "starts", f"indices in [0, {n}) on axis {i}", f"range({b}, {e}, {s})")
        sizes.append(len(r))
    return tuple(sizes)


def _slice_rule(xs, p):
    return _slice_params("slice", xs[0].shape, p), xs[0].dtype


def _slice_vjp(g, out, xs, p):
    return (
        apply(
            "slice_grad",
            g,
            shape=xs[0].shape,
            starts=p["starts"],
            stops=p["stops"],
            steps=p["steps"],
        ),
    )


def _slice_grad_rule(xs, p):
    (g,) = xs
    p["shape"] = shape = _shape_arg("slice_grad", p["shape"])
    if _slice_params("slice_grad", shape, p) != g.shape:
        fail("slice_grad", "g", "the shape of the slice", f"shape {g.shape}")
    return shape, g.dtype


def _slice_grad_vjp(g, out, xs, p):
    return (apply("slice", g, starts=p["starts"], stops=p["stops"], steps=p["steps"]),)


defop("slice", _slice_rule, _slice_vjp, cache=True)
defop("slice_grad", _slice_grad_rule, _slice_grad_vjp, cache=True)


def slice(x, starts, stops, steps=None):  # noqa: A001 (numpy-style name, used as wasmdl.slice)
    """``x[starts[0]:stops[0]:steps[0], ...]`` over every axis (Python slice semantics:
    negative values count from the end, out-of-range bounds are clipped).

    >>> import wasmdl as wl
    >>> wl.slice(wl.arange(10), (1,), (8,), (3,)).tolist()
    [1, 4, 7]
    """
    check_tensor("slice", "x", x)
    steps = (1,) * len(starts) if steps is None else tuple(steps)
    if not len(starts) == len(stops) == len(steps) == x.ndim:
        fail(
            "slice",
            "starts",
            f"{x.ndim} entries per starts/stops/steps",
            f"{len(starts)}/{len(stops)}/{len(steps)}",
        )
    if 0 in steps:
        fail("slice", "steps", "non-zero steps", repr(steps))
    bes = zip(starts, stops, steps, strict=True)
    canon = [_pyslice(*t).indices(n) for t, n in zip(bes, x.shape, strict=True)]
    b, e, s = (tuple(c[k] for c in canon) for k in range(3))
    return apply("slice", x, starts=b, stops=e, steps=s)
