"""The primitive-op table and ``apply``: the one path every op takes.

A primitive is one ``OpDef`` row: its name (also the kernel name on every backend), a rule
``rule(xs, params) -> (shape, dtype)`` that checks the inputs and may canonicalise ``params``
in place (so kernels receive e.g. non-negative sorted axes), and a ``vjp(g, out, xs, params)``
written with ops that returns one gradient (or None) per input.

>>> import wasmdl as wl
>>> from wasmdl.ops import apply, OPS
>>> apply("add", wl.tensor([1.0]), wl.tensor([2.0])).tolist()
[3.0]
>>> "matmul" in OPS
True
"""

from ..autograd import GRAD
from ..tensor import Tensor
from ..tracing import ACTIVE


class OpDef:
    """One primitive: ``name``, ``rule`` (shape/dtype + checks), ``vjp`` (None: no gradient)."""

    __slots__ = ("name", "rule", "vjp")

    def __init__(self, name, rule, vjp):
        self.name, self.rule, self.vjp = name, rule, vjp

    def __repr__(self):
        return f"OpDef({self.name!r})"


OPS = {}


def defop(name, rule, vjp=None, cache=False):
    """Register primitive ``name``; returns its OpDef. ``cache=True`` memoises a rule that is
    costly to evaluate (axes, windows, padding): rules are pure functions of the inputs'
    shapes/dtypes and the params, and a training loop repeats the same few."""
    if name in OPS:
        raise ValueError(f"defop: expected a new op name, received {name!r} (already defined)")
    OPS[name] = op = OpDef(name, cached_rule(rule) if cache else rule, vjp)
    return op


def cached_rule(rule):
    """``rule`` memoised on (input shapes and dtypes, raw params) -> (shape, dtype, canonical
    params); unhashable params (lists) skip the cache."""
    memo = {}

    def cached(xs, p):
        try:
            key = (tuple([(x.shape, x.dtype) for x in xs]), tuple(p.items()))
            hit = memo.get(key)
        except TypeError:
            return rule(xs, p)
        if hit is not None:
            p.update(hit[2])
            return hit[0], hit[1]
        shape, dtype = rule(xs, p)
        if len(memo) > 2048:
            memo.clear()
        memo[key] = (shape, dtype, dict(p))
        return shape, dtype

    cached.__wrapped__ = rule
    return cached


def apply(name, *xs, **params):
    """Run op ``name`` (a primitive's name, or an ``OpDef``: the fused ops of ``ops.fused``) on
    tensors ``xs``: check, dispatch to the backend, record for autograd (and for a capture)."""
    op = OPS[name] if type(name) is str else name
    shape, dtype = op.rule(xs, params)
    be = xs[0].backend
    for x in xs:
        if x.backend is not be:
            raise ValueError(
                f"{name}: expected all inputs on backend {be.name!r}, received one on "
                f"{x.backend.name!r}; move it with t.to({be.name!r})"
            )
    out = Tensor._wrap(be.run(op.name, xs, shape, dtype, params), shape, dtype, be)
    if ACTIVE.rec is not None:
        ACTIVE.rec.op(op.name, xs, params, out)
    if GRAD.enabled and op.vjp is not None:
        for x in xs:
            if x.requires_grad:
                out.requires_grad = True
                out._ctx = (op, xs, params)
                break
    return out


def fail(op, arg, expected, received, cls=ValueError):
    """Raise ``cls`` with the house error format: op, argument, expected, received."""
    raise cls(f"{op}: argument '{arg}' expected {expected}, received {received}")


def check_tensor(op, arg, x):
    if not isinstance(x, Tensor):
        fail(op, arg, "a Tensor", f"{type(x).__name__}", TypeError)


def check_tensor_float(op, arg, x, ndim=None):
    """``x`` must be a float Tensor (with ``ndim`` dimensions when given)."""
    check_tensor(op, arg, x)
    if x.dtype.kind != "f":
        fail(op, arg, "a float dtype", f"dtype {x.dtype}", TypeError)
    if ndim is not None and x.ndim != ndim:
        fail(op, arg, f"a {ndim}-D tensor", f"shape {x.shape}")


def check_dtype(op, arg, x, allowed, what):
    if x.dtype not in allowed:
        fail(op, arg, f"{what} dtype", f"dtype {x.dtype}", TypeError)


def norm_axis(op, axis, ndim, arg="axis"):
    """A non-negative axis index, or an error naming the op."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        fail(op, arg, "an int", repr(axis), TypeError)
    if not -ndim <= axis < max(ndim, 1):
        fail(op, arg, f"an axis in [{-ndim}, {ndim})", axis)
    return axis % ndim if ndim else 0


_AXES = {}


def norm_axes(op, axis, ndim):
    """``axis`` (None, int or sequence) as a sorted tuple of distinct non-negative axes
    (cached per (axis, ndim): reductions in a training loop repeat the same few)."""
    if axis is not True and axis is not False:  # True == 1 as a dict key
        try:
            return _AXES[(axis, ndim)]
        except (KeyError, TypeError):
            pass
    if axis is None:
        out = tuple(range(ndim))
    else:
        try:
            axes = (axis,) if isinstance(axis, int) else tuple(axis)
        except TypeError:
            fail(op, "axis", "None, an int or a tuple of ints", repr(axis), TypeError)
        out = tuple(sorted({norm_axis(op, a, ndim) for a in axes}))
        if len(out) != len(axes):
            fail(op, "axis", "distinct axes", repr(axis))
    if isinstance(axis, int | tuple | None) and len(_AXES) < 1024:
        _AXES[(axis, ndim)] = out
    return out


_BCAST = {}


def broadcast_shapes(op, a, b):
    """numpy broadcasting of two shapes (cached: training loops repeat the same pairs)."""
    key = (a, b)
    out = _BCAST.get(key)
    if out is not None:
        return out
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    res = []
    for da, db in zip(pa, pb, strict=True):
        if da != db and da != 1 and db != 1:
            fail(op, "b", f"a shape broadcastable with {a}", f"shape {b}")
        res.append(da if db == 1 else db)
    if len(_BCAST) > 4096:
        _BCAST.clear()
    _BCAST[key] = out = tuple(res)
    return out
