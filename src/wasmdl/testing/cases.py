"""The op case table: every primitive and composite, forward and gradient, over shapes with
broadcasting, scalars, size-1 and zero-size dimensions. Each ``Case`` names a wasmdl function,
an independent float64 numpy reference and (for the native tier) a PyTorch expression; the
checkers in ``wasmdl.testing.check`` run the same rows natively, in Pyodide and on WebGPU.

Input specs: ``F(shape)`` normal floats kept 0.1 away from 0 (no kinks under finite
differences), ``P`` positive, ``U(shape, lo, hi)`` uniform, ``I(shape, lo, hi)`` int32,
``B`` bool.

>>> from wasmdl.testing import CASES
>>> len(CASES) > 200, len({c.name for c in CASES}) == len(CASES)
(True, True)
"""

import numpy as np

import wasmdl as wl

from . import refs

# ----------------------------------------------------------------------------- input specs


def F(*shape):
    return ("f", shape)


def P(*shape):
    return ("p", shape)


def U(shape, lo, hi):
    return ("u", shape, lo, hi)


def I(shape, lo, hi):  # noqa: E743
    return ("i", shape, lo, hi)


def B(*shape):
    return ("b", shape)


def C(shape, values):
    """Floats drawn from ``values`` (to force ties)."""
    return ("c", shape, values)


def make_input(spec, rng):
    """The float64 / int32 / bool host array for an input spec."""
    kind, shape = spec[0], spec[1]
    if kind == "f":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "u":
        return rng.uniform(spec[2], spec[3], shape)
    if kind == "i":
        return rng.integers(spec[2], spec[3], shape).astype(np.int32)
    if kind == "c":
        return rng.choice(np.asarray(spec[2], np.float64), shape)
    return rng.random(shape) < 0.5


class Case:
    """One row: ``fn(*tensors)`` vs ``ref(*arrays)`` (and ``torch(T, *torch_tensors)``).

    ``grad``: whether to check gradients of the float inputs; ``fd``: whether finite
    differences of the reference are meaningful (False for piecewise-constant outputs);
    ``rtol``/``atol``: forward tolerance overrides (float32 defaults in ``check``).
    """

    __slots__ = ("name", "fn", "ref", "inputs", "torch", "grad", "fd", "rtol", "atol", "dtype")

    def __init__(
        self,
        name,
        fn,
        ref,
        inputs,
        torch=None,
        grad=True,
        fd=True,
        rtol=None,
        atol=None,
        dtype=None,
    ):
        self.name, self.fn, self.ref, self.inputs, self.torch = name, fn, ref, inputs, torch
        self.grad, self.fd, self.rtol, self.atol = grad, fd, rtol, atol
        self.dtype = dtype  # expected output dtype; default: float32/int32/bool from the ref

    def __repr__(self):
        return f"Case({self.name!r})"


def _sh(*shapes):
    return "x".join(",".join(map(str, s)) or "()" for s in shapes)


CASES = []


def add(*cases):
    CASES.extend(cases)


# ----------------------------------------------------------------------------- elementwise
UNARY = [  # name, wasmdl fn, numpy ref, torch fn, input kind
    ("neg", wl.neg, np.negative, lambda T, x: -x, F),
    ("abs", wl.abs, np.abs, lambda T, x: x.abs(), F),
    ("exp", wl.exp, np.exp, lambda T, x: x.exp(), F),
    ("log", wl.log, np.log, lambda T, x: x.log(), P),
    ("sqrt", wl.sqrt, np.sqrt, lambda T, x: x.sqrt(), P),
    ("tanh", wl.tanh, np.tanh, lambda T, x: x.tanh(), F),
    ("sigmoid", wl.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda T, x: x.sigmoid(), F),
    ("sin", wl.sin, np.sin, lambda T, x: x.sin(), F),
    ("cos", wl.cos, np.cos, lambda T, x: x.cos(), F),
    ("erf", wl.erf, refs.erf, lambda T, x: T.erf(x), F),
]
for name, fn, ref, tf, kind in UNARY:
    for shape in [(3, 4), (), (1,), (0, 3), (2, 1, 3)]:
        add(Case(f"{name}-{_sh(shape)}", fn, ref, [kind(*shape)], tf))

BINARY = [
    ("add", wl.add, np.add, lambda T, a, b: a + b, F, F),
    ("sub", wl.sub, np.subtract, lambda T, a, b: a - b, F, F),
    ("mul", wl.mul, np.multiply, lambda T, a, b: a * b, F, F),
    ("div", wl.div, np.divide, lambda T, a, b: a / b, F, F),
    ("pow", wl.pow, np.power, lambda T, a, b: a**b, P, F),
    ("maximum", wl.maximum, np.maximum, lambda T, a, b: T.maximum(a, b), F, F),
    ("minimum", wl.minimum, np.minimum, lambda T, a, b: T.minimum(a, b), F, F),
]
PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((), (3,)),
    ((0, 3), (1, 3)),
    ((2, 1), ()),
    ((1,), (1, 1)),
]
for name, fn, ref, tf, ka, kb in BINARY:
    for sa, sb in PAIRS:
        add(Case(f"{name}-{_sh(sa, sb)}", fn, ref, [ka(*sa), kb(*sb)], tf))

add(
    Case("add-scalar", lambda a: a + 2.5, lambda a: a + 2.5, [F(3)], lambda T, a: a + 2.5),
    Case("rsub-scalar", lambda a: 1.0 - a, lambda a: 1.0 - a, [F(3)], lambda T, a: 1.0 - a),
    Case("rdiv-scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, [F(2, 2)], lambda T, a: 2.0 / a),
    Case("pow-scalar", lambda a: a**3, lambda a: a**3, [F(4)], lambda T, a: a**3),
    Case("rpow-scalar", lambda a: 2.0**a, lambda a: 2.0**a, [F(4)], lambda T, a: 2.0**a),
    Case("int-add", lambda a, b: a + b, np.add, [I((3,), -5, 5), I((2, 1), -5, 5)]),
    Case("int-mul-scalar", lambda a: a * 3, lambda a: a * 3, [I((4,), -5, 5)]),
    Case("int-div", lambda a, b: a / b, np.divide, [I((3,), -5, 5), I((3,), 1, 4)]),
    Case(
        "int-float-promote",
        lambda a, b: a * b,
        np.multiply,
        [I((3,), -3, 3), F(3)],
        lambda T, a, b: a * b,
    ),
)

for name in ("eq", "ne", "lt", "le", "gt", "ge"):
    npf = {
        "eq": np.equal,
        "ne": np.not_equal,
        "lt": np.less,
        "le": np.less_equal,
        "gt": np.greater,
        "ge": np.greater_equal,
    }[name]
    add(
        Case(f"{name}-float", getattr(wl, name), npf, [I((3, 4), 0, 3), I((4,), 0, 3)], grad=False),
        Case(
            f"{name}-int-bcast",
            getattr(wl, name),
            npf,
            [I((2, 1), 0, 3), I((3,), 0, 3)],
            grad=False,
        ),
    )
add(
    Case("eq-bool", wl.eq, np.equal, [B(5), B(5)], grad=False),
    Case(
        "where-bcast",
        wl.where,
        np.where,
        [B(3, 1), F(1, 4), F(3, 4)],
        lambda T, c, a, b: T.where(c, a, b),
    ),
    Case(
        "where-scalar",
        lambda c, a: wl.where(c, a, 0.0),
        lambda c, a: np.where(c, a, 0.0),
        [B(2, 3), F(2, 3)],
        lambda T, c, a: T.where(c, a, T.zeros(())),
    ),
    Case("where-zero", wl.where, np.where, [B(0, 2), F(0, 2), F(1, 2)]),
    Case(
        "cast-f2i",
        lambda x: wl.cast(x * 3, "int32"),
        lambda x: np.trunc(x * 3).astype(np.int32),
        [F(2, 3)],
        grad=False,
    ),
    Case(
        "cast-i2f",
        lambda x: wl.cast(x, "float32"),
        lambda x: x.astype(np.float64),
        [I((4,), -9, 9)],
    ),
    Case("cast-b2f", lambda x: wl.cast(x, "float32"), lambda x: x.astype(np.float64), [B(4)]),
    Case(
        "cast-f2f64", lambda x: wl.cast(x, "float64") * 2, lambda x: x * 2, [F(3)], dtype="float64"
    ),
)
