"""Symbolic tensors for the functional API: ``Input``, ``KerasTensor`` and graph nodes.

Calling a layer on a ``KerasTensor`` records a ``Node`` (the layer, its call arguments with the
symbolic tensors in place, and its symbolic outputs) instead of computing. The layer is built
and its output shapes found by running it once on zeros (batch 1, unknown steps 1 and 2), so
every layer works symbolically without a shape rule of its own. ``wasmdl.graph.Functional``
walks the recorded nodes from a model's outputs back to its inputs.

Example:
    >>> import wasmdl
    >>> x = wasmdl.Input((4,), name="features")
    >>> y = wasmdl.nn.Dense(3, name="hidden")(x)
    >>> y.shape, y.keras_history[0].name, x.name
    ((None, 3), 'hidden', 'features')
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from . import base
from .base import Layer, Symbolic, register

MAX_RANK = 8


class KerasTensor(Symbolic):
    """A placeholder of known shape (``None`` for the batch and unknown axes) and dtype."""

    def __init__(self, shape, dtype="float32", history=None, name=None):
        self.shape, self.dtype = tuple(shape), str(np.dtype(dtype))
        self.keras_history = history  # (layer, node index, tensor index)
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        layer = self.keras_history[0].name if self.keras_history else None
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, from={layer!r}>"


class Node:
    """One call of ``layer``: ``args``/``kwargs`` hold KerasTensors; ``outputs`` is flat."""

    def __init__(self, layer, args, kwargs, outputs, structure):
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.outputs, self.structure = outputs, structure  # structure: 'single' | 'list'

    @property
    def inputs(self):
        return [t for t in flatten((self.args, self.kwargs)) if isinstance(t, KerasTensor)]

    @property
    def is_input(self) -> bool:
        return not self.inputs


def flatten(struct):
    """The leaves of nested lists, tuples and dicts, in order."""
    if isinstance(struct, list | tuple):
        return [leaf for s in struct for leaf in flatten(s)]
    if isinstance(struct, dict):
        return [leaf for v in struct.values() for leaf in flatten(v)]
    return [struct]


def map_structure(fn, struct):
    """``struct`` with every leaf replaced by ``fn(leaf)`` (lists, tuples and dicts kept)."""
    if isinstance(struct, list | tuple):
        return type(struct)(map_structure(fn, s) for s in struct)
    if isinstance(struct, dict):
        return {k: map_structure(fn, v) for k, v in struct.items()}
    return fn(struct)


def inbound_nodes(layer) -> list:
    nodes = layer.__dict__.get("_inbound_nodes")
    if nodes is None:
        nodes = []
        object.__setattr__(layer, "_inbound_nodes", nodes)
    return nodes


INPUT_DTYPES = ("float32", "float64", "int32", "int64", "bool")


@register
class InputLayer(Layer):
    """The source of a graph: ``Input(shape)`` makes one and returns its tensor."""

    def __init__(self, shape=None, batch_size=None, dtype="float32", batch_shape=None, **kw):
        for key in ("sparse", "ragged", "optional"):  # Keras options; only False is supported
            if kw.pop(key, False):
                raise ValueError(f"InputLayer: expected {key}=False, received {key}=True")
        if dtype not in INPUT_DTYPES:  # inputs may be integers (ids for an Embedding)
            raise ValueError(f"InputLayer: expected dtype to be one of {INPUT_DTYPES}, "
                             f"received dtype={dtype!r:.60}")  # fmt: skip
        super().__init__(**kw)
        self.dtype = dtype
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: expected shape or batch_shape, received neither")
            batch_shape = (batch_size, *((shape,) if isinstance(shape, int) else shape))
        batch_shape = tuple(batch_shape)
        ok = all(d is None or (isinstance(d, int) and d > 0) for d in batch_shape)
        if not ok or not 1 <= len(batch_shape) <= MAX_RANK:
            raise ValueError(
                f"InputLayer: expected a shape of positive ints or None (rank <= {MAX_RANK}), "
                f"received batch_shape={batch_shape!r}"
            )
        self.batch_shape, self.built = batch_shape, True
        tensor = KerasTensor(batch_shape, dtype, None, self.name)
        tensor.keras_history = (self, 0, 0)
        inbound_nodes(self).append(Node(self, (), {}, [tensor], "single"))
        self.output = tensor

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}

    def call(self, x):
        return x


def Input(shape=None, dtype="float32", name=None, batch_size=None, batch_shape=None):
    """A symbolic input of per-sample ``shape`` (Keras' ``keras.Input``)."""
    layer = InputLayer(shape, batch_size, dtype, batch_shape, name=name)
    return layer.output


def _probe_value(t: KerasTensor, unknown: int):
    shape = [1, *(unknown if d is None else d for d in t.shape[1:])]
    return np.zeros(shape, t.dtype)


def _probe(layer, args, kwargs, unknown):
    concrete = lambda v: _probe_value(v, unknown) if isinstance(v, KerasTensor) else v  # noqa: E731
    with no_grad():
        out = layer(
            *map_structure(concrete, args), training=False, **map_structure(concrete, kwargs)
        )
    return out if isinstance(out, list | tuple) else [out]


def symbolic_call(layer, args, kwargs):
    """Record ``layer(*args, **kwargs)`` on KerasTensors as a graph node; return its outputs."""
    kwargs.pop("training", None)  # the mode is chosen when the graph runs
    tensors = [t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
    outs = _probe(layer, args, kwargs, 1)
    varies = any(d is None for t in tensors for d in t.shape[1:])
    outs2 = _probe(layer, args, kwargs, 2) if varies else outs
    node_index = len(inbound_nodes(layer))
    results = []
    for i, (a, b) in enumerate(zip(outs, outs2, strict=True)):
        shape = [None] + [
            d if d == e else None for d, e in zip(a.shape[1:], b.shape[1:], strict=True)
        ]
        results.append(KerasTensor(shape, a.dtype, (layer, node_index, i)))
    structure = "list" if len(results) > 1 else "single"
    inbound_nodes(layer).append(Node(layer, args, kwargs, results, structure))
    return results if len(results) > 1 else results[0]


base.SYMBOLIC["call"] = symbolic_call
