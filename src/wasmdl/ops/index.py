"""Joining, padding and indexing: concat, pad, gather (+ scatter_add, its VJP), and the
composites stack, getitem, squeeze, expand_dims, flatten, one_hot.

>>> import wasmdl as wl
>>> x = wl.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> wl.stack([x, x]).shape, wl.pad(x, ((1, 0), (0, 1))).tolist()
((2, 2, 2), [[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [3.0, 4.0, 0.0]])
>>> x[wl.tensor([1, 1, 0])].tolist(), wl.one_hot(wl.tensor([2, 0]), 3).tolist()
([[3.0, 4.0], [3.0, 4.0], [1.0, 2.0]], [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
"""

import numpy as np

from ..dtypes import bool_, float32, int32
from ..tensor import Tensor
from ..tracing import made
from . import elementwise as E
from . import shape as S
from .core import apply, check_tensor, defop, fail, norm_axis


# ----------------------------------------------------------------------------- concat
def _concat_rule(xs, p):
    x0 = xs[0]
    ax = p["axis"] = norm_axis("concat", p["axis"], x0.ndim)
    for i, x in enumerate(xs):
        if x.dtype is not x0.dtype:
            fail("concat", f"tensors[{i}]", f"dtype {x0.dtype}", f"dtype {x.dtype}", TypeError)
        if x.ndim != x0.ndim or any(
            a != b for j, (a, b) in enumerate(zip(x.shape, x0.shape, strict=False)) if j != ax
        ):
            fail(
                "concat",
                f"tensors[{i}]",
                f"shape {x0.shape} except on axis {ax}",
                f"shape {x.shape}",
            )
    n = 0
    for x in xs:
        n += x.shape[ax]
    return x0.shape[:ax] + (n,) + x0.shape[ax + 1 :], x0.dtype


def _concat_vjp(g, out, xs, p):
    ax, start, grads = p["axis"], 0, []
    for x in xs:
        stop = start + x.shape[ax]
        starts = tuple(start if i == ax else 0 for i in range(g.ndim))
        stops = tuple(stop if i == ax else d for i, d in enumerate(g.shape))
        grads.append(S.slice(g, starts, stops) if x.requires_grad else None)
        start = stop
    return grads


defop("concat", _concat_rule, _concat_vjp, cache=True)


def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not tensors:
        fail(op, "tensors", "a non-empty list of Tensors", repr(type(tensors).__name__), TypeError)
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    if like is None:
        fail(op, "tensors", "at least one Tensor", "none", TypeError)
    ts = [E.as_tensor_like(op, f"tensors[{i}]", t, like) for i, t in enumerate(tensors)]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = E.promote(dt, t.dtype)
    return [E.cast(t, dt) for t in ts]


def concat(tensors, axis=0):
    """Join tensors along an existing axis.

    >>> import wasmdl as wl
    >>> wl.concat([wl.zeros((2, 1)), wl.ones((2, 2))], axis=1).shape
    (2, 3)
    """
    ts = _tensor_list("concat", tensors)
    return ts[0] if len(ts) == 1 else apply("concat", *ts, axis=axis)


def stack(tensors, axis=0):
    """Join same-shape tensors along a new axis (a composite of reshape and concat).

    >>> import wasmdl as wl
    >>> wl.stack([wl.zeros(3), wl.ones(3)], axis=1).shape
    (3, 2)
    """
    ts = _tensor_list("stack", tensors)
    ax = norm_axis("stack", axis, ts[0].ndim + 1)
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            fail("stack", f"tensors[{i}]", f"shape {ts[0].shape}", f"shape {t.shape}")
    return concat([expand_dims(t, ax) for t in ts], axis=ax)


# ----------------------------------------------------------------------------- pad
def _pad_rule(xs, p):
    (x,) = xs
    try:
        pads = tuple((int(b), int(a)) for b, a in p["pads"])
    except (TypeError, ValueError):
        fail("pad", "pads", "a (before, after) pair per axis", repr(p["pads"]), TypeError)
    if len(pads) != x.ndim or any(b < 0 or a < 0 for b, a in pads):
        fail("pad", "pads", f"{x.ndim} non-negative (before, after) pairs", repr(p["pads"]))
    p["pads"] = pads
    p["value"] = float(p["value"]) if x.dtype.kind == "f" else int(p["value"])
    return tuple(d + b + a for d, (b, a) in zip(x.shape, pads, strict=True)), x.dtype


def _pad_vjp(g, out, xs, p):
    starts = tuple(b for b, _ in p["pads"])
    return (S.slice(g, starts, tuple(b + d for b, d in zip(starts, xs[0].shape, strict=True))),)


defop("pad", _pad_rule, _pad_vjp, cache=True)


def pad(x, pads, value=0.0):
    """``x`` padded with the constant ``value``; ``pads`` is one (before, after) per axis.

    >>> import wasmdl as wl
    >>> wl.pad(wl.ones(2), [(1, 2)]).tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    """
    check_tensor("pad", "x", x)
    return apply("pad", x, pads=pads, value=value)


# ----------------------------------------------------------------------------- gather
def _gather_rule(xs, p):
    x, idx = xs
    if idx.dtype is not int32:
        fail("gather", "indices", "int32 dtype", f"dtype {idx.dtype}", TypeError)
    ax = p["axis"] = norm_axis("gather", p["axis"], x.ndim)
    return x.shape[:ax] + idx.shape + x.shape[ax + 1 :], x.dtype


def _gather_vjp(g, out, xs, p):
    x, idx = xs
    return apply("scatter_add", g, idx, shape=x.shape, axis=p["axis"]), None


def _scatter_add_rule(xs, p):
    g, idx = xs
    if idx.dtype is not int32:
        fail("scatter_add", "indices", "int32 dtype", f"dtype {idx.dtype}", TypeError)
    shape = p["shape"] = S._shape_arg("scatter_add", p["shape"])
    ax = p["axis"] = norm_axis("scatter_add", p["axis"], len(shape))
    want = shape[:ax] + idx.shape + shape[ax + 1 :]
    if g.shape != want:
        fail("scatter_add", "updates", f"shape {want}", f"shape {g.shape}")
    return shape, g.dtype


defop("gather", _gather_rule, _gather_vjp, cache=True)
defop(
    "scatter_add",
    _scatter_add_rule,
    lambda g, out, xs, p: (apply("gather", g, xs[1], axis=p["axis"]), None),
    cache=True,
)


def gather(x, indices, axis=0):
    """``numpy.take(x, indices, axis)``: whole slices of ``x`` picked by int32 ``indices``.

    >>> import wasmdl as wl
    >>> wl.gather(wl.tensor([[1, 2], [3, 4]]), wl.tensor([1, 0]), axis=1).tolist()
    [[2, 1], [4, 3]]
    """
    check_tensor("gather", "x", x)
    indices = E.as_tensor_like("gather", "indices", indices, x)
    return apply("gather", x, indices, axis=axis)


take = gather


def one_hot(indices, depth, dtype=float32):
    """One-hot rows for int ``indices`` (a composite: ``indices[..., None] == arange(depth)``).

    >>> import wasmdl as wl
    >>> wl.one_hot(wl.tensor([1]), 2).tolist()
    [[0.0, 1.0]]
    """
    check_tensor("one_hot", "indices", indices)
    if indices.dtype is not int32:
        fail("one_hot", "indices", "int32 dtype", f"dtype {indices.dtype}", TypeError)
    if not isinstance(depth, int) or depth < 0:
        fail("one_hot", "depth", "a non-negative int", repr(depth))
    arange = np.arange(depth, dtype=np.int32)
    rng = Tensor._wrap(
        made(indices.backend.from_host(arange), arange), (depth,), int32, indices.backend
    )
    return E.cast(E.eq(expand_dims(indices, -1), rng), dtype)


# ----------------------------------------------------------------------------- views
def expand_dims(x, axis):
    """``x`` with a new size-1 axis at ``axis``."""
    ax = norm_axis("expand_dims", axis, x.ndim + 1)
    return S.reshape(x, x.shape[:ax] + (1,) + x.shape[ax:])


def squeeze(x, axis=None):
    """``x`` without size-1 axes (all, or those in ``axis``)."""
    from .core import norm_axes

    axes = norm_axes("squeeze", axis, x.ndim)
    if axis is not None and any(x.shape[a] != 1 for a in axes):
        fail("squeeze", "axis", "axes of size 1", f"axis {axis} of shape {x.shape}")
    return S.reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes or d != 1))


def flatten(x, start_axis=0):
    """``x`` with the axes from ``start_axis`` on merged (``flatten(x, 1)`` keeps the batch)."""
    ax = norm_axis("flatten", start_axis, x.ndim)
    return S.reshape(x, x.shape[:ax] + (-1,))


_ADVANCED = (Tensor, np.ndarray, list)


def getitem(x, key):
    """``x[key]`` for ints, slices, None, Ellipsis, one int index tensor/array/list at any
    position (a gather along that axis) or a bool mask of x's shape (read on the host: its
    size is data-dependent)."""
    if isinstance(key, _ADVANCED):
        idx = E.as_tensor_like("getitem", "key", key, x)
        if idx.dtype is bool_:
            return _mask_select(x, idx)
        return gather(x, E.cast(idx, int32) if idx.dtype is not int32 else idx, axis=0)
    key = key if isinstance(key, tuple) else (key,)
    n_real = sum(k is not None and k is not Ellipsis for k in key)
    if n_real > x.ndim:
        fail("getitem", "key", f"at most {x.ndim} indices", f"{n_real} in {key!r}", IndexError)
    fill = (S._pyslice(None),) * (x.ndim - n_real)
    dots = [i for i, k in enumerate(key) if k is Ellipsis]  # identity: Tensor == is elementwise
    key = key[: dots[0]] + fill + key[dots[0] + 1 :] if dots else key + fill
    adv = [i for i, k in enumerate(key) if isinstance(k, _ADVANCED)]
    if not adv:
        return _basic_index(x, key)
    if len(adv) > 1:
        fail(
            "getitem",
            "key",
            "at most one index tensor (use gather for more)",
            f"{len(adv)}",
            IndexError,
        )
    i = adv[0]
    y = _basic_index(x, key[:i] + (S._pyslice(None),) + key[i + 1 :])
    axis = sum(1 for k in key[:i] if k is None or isinstance(k, S._pyslice))
    idx = E.as_tensor_like("getitem", "key", key[i], x)
    if idx.dtype is not int32:
        fail(
            "getitem",
            "key",
            "an int index tensor inside a tuple key",
            f"dtype {idx.dtype}",
            TypeError,
        )
    return gather(y, idx, axis=axis)


def _basic_index(x, key):
    starts, stops, steps, shape, ax = [], [], [], [], 0
    for k in key:
        if k is None:
            shape.append(1)
            continue
        n = x.shape[ax]
        if isinstance(k, S._pyslice):
            b, e, s = k.indices(n)
            shape.append(len(range(b, e, s)))
        elif isinstance(k, int | np.integer):
            if not -n <= k < n:
                fail("getitem", "key", f"an index in [{-n}, {n}) for axis {ax}", int(k), IndexError)
            b, e, s = int(k) % n, int(k) % n + 1, 1
        else:
            fail(
                "getitem",
                "key",
                "ints, slices, None, Ellipsis or an index tensor",
                type(k).__name__,
                TypeError,
            )
        starts.append(b), stops.append(e), steps.append(s)
        ax += 1
    out = x
    if any(
        b != 0 or e != n or s != 1
        for b, e, s, n in zip(starts, stops, steps, x.shape, strict=False)
    ):
        out = apply("slice", x, starts=tuple(starts), stops=tuple(stops), steps=tuple(steps))
    return S.reshape(out, tuple(shape))


def _mask_select(x, mask):
    if mask.shape != x.shape:
        fail("getitem", "key", f"a bool mask of shape {x.shape}", f"shape {mask.shape}")
    flat = np.flatnonzero(mask.numpy()).astype(np.int32)
    return gather(S.reshape(x, (-1,)), Tensor(flat, backend=x.backend), axis=0)
