"""Shapes without data: ``ShapeSpec`` (a symbolic input), input specs checked at every layer
call, and the limits that bound a model built from a file.

Calling a layer on a ``ShapeSpec`` builds it and returns the ``ShapeSpec`` of its output from
``compute_output_shape`` (pure shape arithmetic, see ``wasmdl.nn.shape_rules``): no batch runs,
so building a model (``Sequential.add``, ``load_model``) costs nothing per activation value.
Models call their sublayers on the specs; a layer with no shape rule runs once on zeros.

Input specs (Keras' ``InputSpec``): a layer's rank rule and the axes whose sizes its weights fix
are checked before any op runs, so a wrong input names the layer, not the op that trips:

Example:
    >>> import numpy as np, wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(4, input_shape=(8,)), wasmdl.nn.Dense(2)])
    >>> model.layers[1].output_shape
    (None, 2)
    >>> try:
    ...     model.predict(np.zeros((3, 7), np.float32))
    ... except ValueError as e:
    ...     head, tail = str(e).replace(model.layers[0].name, "dense").split(" expected")
    ...     print(head)
    ...     print(tail)
    Input 0 of layer "dense" is incompatible:
     axis -1 to have 8 features, received shape (None, 7)
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor

# Limits on a model built from a file (``load_model``); each is named in the error it raises.
LOAD_LIMITS = {
    "layers": 4096,  # layer entries in the architecture
    "params": 1 << 28,  # weight values (1 GiB of float32)
    "dim": 1 << 24,  # any one declared or inferred dimension
    "values": 1 << 24,  # activation values per sample, declared or inferred
    "steps": 1 << 16,  # sequence length of an input run through a layer with no shape rule
}
# Set while load_model builds a model: shapes are then checked against LOAD_LIMITS.
LOADING = {"on": False}

# type -> (rank rule, axes fixed by the weights); filled by wasmdl.nn.shape_rules.
# A rank rule is an int (exact rank) or ("min", n); axes is a tuple or a callable(layer, ndim).
INPUT_SPECS: dict[type, tuple] = {}
SHAPE_RULES: dict[type, object] = {}  # type -> rule(layer, input_shape) -> output shape(s)
# (Both are filled once at import; ``lookup`` caches per class, so later additions for a class
# already looked up are not seen.)


class ShapeSpec:
    """A symbolic tensor: a shape whose batch axis is ``None``, and a dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype="float32"):
        self.shape, self.dtype = tuple(shape), dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"ShapeSpec({self.shape}, {self.dtype!r})"


def is_symbolic(flat) -> bool:
    for x in flat:
        if type(x) is ShapeSpec:
            return True
    return False


_FOUND: dict = {}  # (table id, class) -> entry: calls look their class up once


def lookup(table: dict, cls: type):
    """The entry for ``cls`` or its nearest registered base class."""
    key = (id(table), cls)
    if key not in _FOUND:
        _FOUND[key] = next((table[k] for k in cls.__mro__ if k in table), None)
    return _FOUND[key]


def _shown(shape) -> tuple:
    return (None, *shape[1:])


def check_inputs(layer, flat) -> None:
    """Raise Keras' 'Input i of layer ... is incompatible' when an input breaks the spec."""
    spec = lookup(INPUT_SPECS, type(layer))
    if spec is None:
        return
    built = layer.__dict__.get("_built_shapes")
    if built is not None and len(flat) == 1 and flat[0].shape[1:] == built[0][1:]:
        return  # the shape the layer was built for (the common case, kept cheap)
    rank, axes = spec
    for i, x in enumerate(flat[:1] if not isinstance(rank, list) else flat):
        shape, want = tuple(x.shape), rank[i] if isinstance(rank, list) else rank
        lo, hi = (want[1], None) if isinstance(want, tuple) else (want, want)
        if len(shape) < lo or (hi is not None and len(shape) != hi):
            expected = f"ndim={hi}" if hi is not None else f"min_ndim={lo}"
            raise ValueError(
                f'Input {i} of layer "{layer.name}" is incompatible: expected {expected}, '
                f"found ndim={len(shape)}. Full shape received: {_shown(shape)}"
            )
        if built is None or i >= len(built) or len(built[i]) != len(shape):
            continue
        for axis in axes(layer, len(shape)) if callable(axes) else axes:
            want_n = built[i][axis]
            if want_n is not None and shape[axis] not in (want_n, None):
                raise ValueError(
                    f'Input {i} of layer "{layer.name}" is incompatible: expected axis {axis} '
                    f"to have {want_n} features, received shape {_shown(shape)}"
                )


def check_limits(layer, shapes) -> None:
    """While loading: refuse an inferred shape beyond ``LOAD_LIMITS`` (dims, values/sample)."""
    for shape in shapes:
        dims = shape[1:]
        if any(d is not None and not 0 < d <= LOAD_LIMITS["dim"] for d in dims):
            raise ValueError(
                f'layer "{layer.name}" ({type(layer).__name__}): output shape {_shown(shape)} '
                f"has a dimension outside [1, {LOAD_LIMITS['dim']}] (limit 'dim')"
            )
        values = math.prod(d for d in dims if d is not None)
        if values > LOAD_LIMITS["values"]:
            raise ValueError(
                f'layer "{layer.name}" ({type(layer).__name__}): output shape {_shown(shape)} '
                f"holds {values} values per sample, over the limit of {LOAD_LIMITS['values']} "
                "(limit 'values')"
            )


def _dims_ok(shape) -> bool:
    return isinstance(shape, list | tuple) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    )


def check_layer_args(layer: str, name, trainable, input_shape, dtype) -> None:
    """The arguments every layer takes (Keras names them in the error: ``Received: ...``)."""
    checks = (
        ("name", name, name is None or isinstance(name, str), "a string"),
        ("trainable", trainable, isinstance(trainable, bool | int), "a bool"),
        ("input_shape", input_shape, input_shape is None or _dims_ok(input_shape),
         "a tuple of positive ints (or None)"),
        ("dtype", dtype, isinstance(dtype, str) and dtype in ("float32", "float64"),
         "'float32' or 'float64'"),
    )  # fmt: skip
    for arg, value, ok, what in checks:
        if not ok:
            raise ValueError(f"{layer}: expected {arg} to be {what}, received {arg}={value!r:.100}")


def call_symbolic(layer, inputs, flat, kwargs):
    """A call on ``ShapeSpec`` inputs: check, infer the output's ``ShapeSpec``, build (the
    shape rule runs first, so a file's impossible shapes fail before any weight exists)."""
    check_inputs(layer, flat)
    shapes = [tuple(x.shape) for x in flat]
    rule = lookup(SHAPE_RULES, type(layer))
    if rule is None:
        layer._ensure_built(flat)
        if layer._children:  # a composite: its call on the specs
            try:
                return layer._call_now(inputs, kwargs, None)
            except (TypeError, AttributeError):  # its call uses ops on the specs
                pass
        out = shape_by_running(layer, inputs)
    else:
        out = layer.compute_output_shape(shapes[0] if len(shapes) == 1 else shapes)
    outs = out if isinstance(out, list) else [out]
    if LOADING["on"]:
        check_limits(layer, outs)
    layer._ensure_built(flat)
    specs = [ShapeSpec((None, *tuple(o)[1:])) for o in outs]
    layer.output_shape = specs[0].shape
    return specs if isinstance(out, list) else specs[0]


def _zeros_for(layer, spec):
    shape = [1, *(1 if d is None else d for d in spec.shape[1:])]
    if LOADING["on"] and len(shape) > 1 and shape[1] > LOAD_LIMITS["steps"]:
        raise ValueError(
            f'layer "{layer.name}" ({type(layer).__name__}): sequence length {shape[1]} is over '
            f"the limit of {LOAD_LIMITS['steps']} (limit 'steps')"
        )
    return Tensor(np.zeros(shape, np.float32))


def shape_by_running(layer, inputs):
    """Output shape(s) of a layer with no shape rule: run it once on zeros of batch 1.
    ``inputs`` is a shape, a list of shapes, or the call's inputs with ``ShapeSpec`` leaves."""
    from ..autograd import no_grad

    if not isinstance(inputs, list) or not inputs or isinstance(inputs[0], int | None):
        inputs = [ShapeSpec(inputs)]  # one shape given to compute_output_shape
    elif all(isinstance(s, tuple | list) and not _has_spec(s) for s in inputs):
        inputs = [[ShapeSpec(s) for s in inputs]]
    xs = [
        [_zeros_for(layer, x) for x in a] if isinstance(a, list) else _zeros_for(layer, a)
        for a in inputs
    ]
    with no_grad():
        out = layer._call_now(xs, {}, False)
    outs = out if isinstance(out, list | tuple) else [out]
    shaped = [(None, *o.shape[1:]) for o in outs]
    return shaped if isinstance(out, list | tuple) else shaped[0]


def _has_spec(seq) -> bool:
    return any(isinstance(x, ShapeSpec) for x in seq)
