"""Elementwise primitives: unary math, broadcasting binary arithmetic, comparisons, where, cast.

>>> import wasmdl as wl
>>> x = wl.tensor([[1.0], [2.0]])
>>> (x + wl.tensor([10.0, 20.0])).tolist()
[[11.0, 21.0], [12.0, 22.0]]
>>> wl.where(x > 1.5, x, 0.0).tolist()
[[0.0], [2.0]]
"""

import numbers

import numpy as np

from ..dtypes import FLOATS, NUMERIC, bool_, float32, int32, promote, to_dtype
from ..tensor import Tensor
from ..tracing import made
from . import shape as S
from .core import apply, broadcast_shapes, defop, fail

ALL = (*NUMERIC, bool_)


# ----------------------------------------------------------------------------- coercion
def const(value, dtype, backend):
    """A cached 0-d tensor holding ``value`` (scalars in expressions cost one upload, once).
    The cache is the backend's own (``Backend.constants``): a backend that loses its memory
    clears it without knowing this layer."""
    key = (value, dtype)
    if not value and type(value) is float:  # -0.0 == 0.0 as keys: keep the sign of zero
        key = (str(value), dtype)
    cache = backend.constants
    t = cache.get(key)
    if t is None:
        if len(cache) > 512:
            cache.clear()
        arr = np.array(value, dtype)
        h = made(backend.from_host(arr), arr)
        t = cache[key] = Tensor._wrap(h, (), dtype, backend)
    return t


def _scalar_dtype(s, like):
    t = type(s)
    if t is float:  # the common cases first, without the slow numbers ABC checks
        return like if like in FLOATS else float32
    if t is int:
        return like if like in NUMERIC else int32
    if t is bool or isinstance(s, np.bool_):
        return like
    if isinstance(s, numbers.Integral):
        return like if like in NUMERIC else int32
    return like if like in FLOATS else float32


_SCALAR_TYPES = (float, int, bool)


def as_tensor_like(op, arg, v, like):
    """``v`` (Tensor, Python/numpy scalar, array or list) as a tensor on ``like``'s backend."""
    if isinstance(v, Tensor):
        return v
    if type(v) in _SCALAR_TYPES or isinstance(v, numbers.Number | np.number | np.bool_):
        dtype = _scalar_dtype(v, like.dtype)
        try:
            return const(v, dtype, like.backend)
        except OverflowError:  # an int beyond int32 beside an int32 tensor
            fail(op, arg, f"a number that fits the tensor's {dtype} (or a float tensor)",
                 repr(v), OverflowError)  # fmt: skip
    try:
        return Tensor(v, backend=like.backend)
    except (TypeError, ValueError):
        fail(op, arg, "a Tensor, a number or array-like data", type(v).__name__, TypeError)


def coerce(op, a, b):
    """Two operands as tensors of one dtype (weak scalars: ``x + 1`` keeps x's dtype)."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta:
        if not tb:
            fail(
                op,
                "a",
                "at least one Tensor operand",
                f"{type(a).__name__}, {type(b).__name__}",
                TypeError,
            )
        a = as_tensor_like(op, "a", a, b)
    elif not tb:
        b = as_tensor_like(op, "b", b, a)
    if a.dtype is not b.dtype:
        dt = promote(a.dtype, b.dtype)
        a, b = cast(a, dt), cast(b, dt)
    return a, b


# ----------------------------------------------------------------------------- unary
def _unary_rule(name, allowed, what):
    def rule(xs, p):
        (x,) = xs
        if x.dtype not in allowed:
            fail(name, "x", f"{what} dtype", f"dtype {x.dtype}", TypeError)
        return x.shape, x.dtype

    return rule


def _sign(x):
    return cast(x > 0, x.dtype) - cast(x < 0, x.dtype)


UNARY_VJPS = {  # name -> (allowed dtypes, d out = f(g, out, x))
    "neg": (NUMERIC, lambda g, out, x: -g),
    "abs": (NUMERIC, lambda g, out, x: g * _sign(x)),
    "exp": (FLOATS, lambda g, out, x: g * out),
    "log": (FLOATS, lambda g, out, x: g / x),
    "sqrt": (FLOATS, lambda g, out, x: g / (out * 2.0)),
    "tanh": (FLOATS, lambda g, out, x: g * (1.0 - out * out)),
    "sigmoid": (FLOATS, lambda g, out, x: g * (out * (1.0 - out))),
    "sin": (FLOATS, lambda g, out, x: g * cos(x)),
    "cos": (FLOATS, lambda g, out, x: -(g * sin(x))),
    "erf": (FLOATS, lambda g, out, x: g * (exp(-(x * x)) * 1.1283791670955126)),
}


def _unary_vjp(f):
    return lambda g, out, xs, p: (f(g, out, xs[0]),)


for _name, (_allowed, _f) in UNARY_VJPS.items():
    _what = "a float" if _allowed is FLOATS else "a numeric"
    defop(_name, _unary_rule(_name, _allowed, _what), _unary_vjp(_f))


def _unary(name):
    def f(x):
        if not isinstance(x, Tensor):
            fail(name, "x", "a Tensor", type(x).__name__, TypeError)
        return apply(name, x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (
        f"Elementwise ``{name}(x)``.\n\n>>> import wasmdl as wl\n>>> wl.{name}(wl.tensor("
        f"[0.5])).shape\n(1,)\n"
    )
    return f


neg, abs, exp, log, sqrt = (_unary(n) for n in ("neg", "abs", "exp", "log", "sqrt"))
tanh, sigmoid, sin, cos, erf = (_unary(n) for n in ("tanh", "sigmoid", "sin", "cos", "erf"))


# ----------------------------------------------------------------------------- binary
def _binary_rule(name, allowed, what, out_dtype=None):
    def rule(xs, p):
        a, b = xs
        if a.dtype is not b.dtype:
            fail(name, "b", f"dtype {a.dtype} (same as a)", f"dtype {b.dtype}", TypeError)
        if a.dtype not in allowed:
            fail(name, "a", f"{what} dtype", f"dtype {a.dtype}", TypeError)
        shape = a.shape if a.shape == b.shape else broadcast_shapes(name, a.shape, b.shape)
        return shape, out_dtype or a.dtype

    return rule


def _max_vjp(g, out, xs, p, cmp=None):
    """Gradient to ``a`` where it wins strictly (``cmp``), else to ``b``: at ties ``b`` takes
    it, so ``maximum(x, 0)`` has PyTorch's relu gradient (0 at 0), ``maximum(x, 0.1 * x)``
    its leaky_relu gradient, and clamps are flat at their bounds."""
    a, b = xs
    w = cast(cmp(a, b), g.dtype)
    ga = g * w if a.requires_grad else None
    gb = (g - ga if ga is not None else g * (1.0 - w)) if b.requires_grad else None
    return (
        None if ga is None else S.unbroadcast(ga, a.shape),
        None if gb is None else S.unbroadcast(gb, b.shape),
    )


def _pow_vjp(g, out, xs, p):
    a, b = xs
    ga = S.unbroadcast(g * b * a ** (b - 1.0), a.shape) if a.requires_grad else None
    gb = None
    if b.requires_grad:
        safe = where(a > 0, a, 1.0)  # d/db a**b = a**b log a; 0 where a <= 0 (as torch at a=0)
        gb = S.unbroadcast(g * out * log(safe), b.shape)
    return ga, gb


BINARY_VJPS = {
    "add": lambda g, out, xs, p: (S.unbroadcast(g, xs[0].shape), S.unbroadcast(g, xs[1].shape)),
    "sub": lambda g, out, xs, p: (S.unbroadcast(g, xs[0].shape), S.unbroadcast(-g, xs[1].shape)),
    "mul": lambda g, out, xs, p: (
        S.unbroadcast(g * xs[1], xs[0].shape) if xs[0].requires_grad else None,
        S.unbroadcast(g * xs[0], xs[1].shape) if xs[1].requires_grad else None,
    ),
    "div": lambda g, out, xs, p: (
        S.unbroadcast(g / xs[1], xs[0].shape) if xs[0].requires_grad else None,
        S.unbroadcast(-(g * out) / xs[1], xs[1].shape) if xs[1].requires_grad else None,
    ),
    "pow": _pow_vjp,
    "maximum": lambda g, out, xs, p: _max_vjp(g, out, xs, p, cmp=gt),
    "minimum": lambda g, out, xs, p: _max_vjp(g, out, xs, p, cmp=lt),
}
for _name, _vjp in BINARY_VJPS.items():
    _floats_only = _name in ("div", "pow")
    _allowed, _what = (FLOATS, "a float") if _floats_only else (NUMERIC, "a numeric")
    defop(_name, _binary_rule(_name, _allowed, _what), _vjp)
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    defop(_name, _binary_rule(_name, ALL, "any", bool_))


def _binary(name, promote_int=False):
    ok = FLOATS if promote_int else ALL

    def f(a, b):
        if type(a) is Tensor and type(b) is Tensor and a.dtype is b.dtype and a.dtype in ok:
            return apply(name, a, b)  # the common case, with no coercion calls
        a, b = coerce(name, a, b)
        if promote_int and a.dtype not in FLOATS:
            a, b = cast(a, float32), cast(b, float32)
        return apply(name, a, b)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (
        f"Elementwise ``{name}(a, b)`` with numpy broadcasting.\n\n>>> import wasmdl "
        f"as wl\n>>> wl.{name}(wl.tensor([1.0, 2.0]), 2.0).shape\n(2,)\n"
    )
    return f


add, sub, mul, maximum, minimum = (_binary(n) for n in ("add", "sub", "mul", "maximum", "minimum"))
div, pow = _binary("div", True), _binary("pow", True)
eq, ne, lt, le, gt, ge = (_binary(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))


# ----------------------------------------------------------------------------- where, cast
def _where_rule(xs, p):
    c, a, b = xs
    if c.dtype is not bool_:
        fail("where", "condition", "bool dtype", f"dtype {c.dtype}", TypeError)
    if a.dtype is not b.dtype:
        fail("where", "y", f"dtype {a.dtype} (same as x)", f"dtype {b.dtype}", TypeError)
    return broadcast_shapes("where", broadcast_shapes("where", c.shape, a.shape), b.shape), a.dtype


def _where_vjp(g, out, xs, p):
    c, a, b = xs
    zero = const(0, g.dtype, g.backend)
    return (
        None,
        S.unbroadcast(where(c, g, zero), a.shape) if a.requires_grad else None,
        S.unbroadcast(where(c, zero, g), b.shape) if b.requires_grad else None,
    )


defop("where", _where_rule, _where_vjp, cache=True)


def where(condition, x, y):
    """Elements of ``x`` where ``condition`` else of ``y`` (broadcast together).

    >>> import wasmdl as wl
    >>> wl.where(wl.tensor([True, False]), 1.0, wl.tensor([5.0, 6.0])).tolist()
    [1.0, 6.0]
    """
    if type(x) is Tensor and type(condition) is Tensor and condition.dtype is bool_:
        if type(y) is Tensor and y.dtype is x.dtype:
            return apply("where", condition, x, y)  # the common cases, with few calls
        if type(y) in _SCALAR_TYPES and x.dtype in FLOATS:
            return apply("where", condition, x, const(y, x.dtype, x.backend))
    like = next((t for t in (x, y, condition) if isinstance(t, Tensor)), None)
    if like is None:
        fail("where", "condition", "at least one Tensor argument", "none", TypeError)
    condition = as_tensor_like("where", "condition", condition, like)
    if condition.dtype is not bool_:
        fail("where", "condition", "bool dtype", f"dtype {condition.dtype}", TypeError)
    x, y = (
        coerce("where", x, y)
        if isinstance(x, Tensor) or isinstance(y, Tensor)
        else (as_tensor_like("where", "x", x, like), as_tensor_like("where", "y", y, like))
    )
    return apply("where", condition, x, y)


def _cast_rule(xs, p):
    p["dtype"] = to_dtype(p["dtype"], "cast: argument 'dtype'")
    return xs[0].shape, p["dtype"]


def _cast_vjp(g, out, xs, p):
    return (cast(g, xs[0].dtype) if xs[0].dtype in FLOATS else None,)


defop("cast", _cast_rule, _cast_vjp)


def cast(x, dtype):
    """``x`` converted to ``dtype`` (returns ``x`` itself when it already has it).

    >>> import wasmdl as wl
    >>> wl.cast(wl.tensor([1.7, -1.7]), "int32").tolist()
    [1, -1]
    """
    if not isinstance(x, Tensor):
        fail("cast", "x", "a Tensor", type(x).__name__, TypeError)
    dtype = to_dtype(dtype, "cast: argument 'dtype'")
    return x if x.dtype is dtype else apply("cast", x, dtype=dtype)
