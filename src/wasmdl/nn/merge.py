"""Merge layers: combine a list of tensors. ``Add()([a, b])``, ``Concatenate(axis=-1)([a, b])``.

Example:
    >>> import numpy as np, wasmdl
    >>> a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
    >>> wasmdl.nn.Add()([a, b]).tolist()[0], wasmdl.nn.Concatenate()([a, b]).shape
    ([3.0, 3.0, 3.0], (2, 6))
"""

from __future__ import annotations

from functools import reduce

from .. import ops as O
from .base import Layer


class _Merge(Layer):
    combine = None

    def call(self, inputs):
        if not isinstance(inputs, list) or len(inputs) < 2:
            raise ValueError(
                f"{type(self).__name__}: expected a list of at least 2 tensors, "
                f"received {type(inputs).__name__}"
            )
        return self.merge(inputs)

    def merge(self, xs):
        return reduce(type(self).combine, xs)


class Add(_Merge):
    combine = O.add


class Subtract(_Merge):
    def merge(self, xs):
        if len(xs) != 2:
            raise ValueError(f"Subtract: expected exactly 2 inputs, received {len(xs)}")
        return xs[0] - xs[1]


class Multiply(_Merge):
    combine = O.mul


class Maximum(_Merge):
    combine = O.maximum


class Minimum(_Merge):
    combine = O.minimum


class Average(_Merge):
    def merge(self, xs):
        return reduce(O.add, xs) * (1.0 / len(xs))


class Concatenate(_Merge):
    config_keys = ("axis",)

    def __init__(self, axis=-1, **kw):
        super().__init__(**kw)
        self.axis = axis

    def merge(self, xs):
        return O.concat(xs, axis=self.axis)
