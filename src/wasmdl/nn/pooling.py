"""Pooling layers, channels-last: MaxPool1D/2D, AvgPool1D/2D, global average/max pooling.

Example:
    >>> import numpy as np, wasmdl
    >>> wasmdl.nn.MaxPool2D(2)(np.zeros((1, 28, 28, 8), np.float32)).shape
    (1, 14, 14, 8)
    >>> wasmdl.nn.GlobalAvgPool2D()(np.zeros((1, 7, 7, 8), np.float32)).shape
    (1, 8)
"""

from __future__ import annotations

from .. import ops as O
from .base import Layer
from .conv import _tuple


class _Pool(Layer):
    rank, fn = 2, None
    config_keys = ("pool_size", "strides", "padding")

    def __init__(self, pool_size=2, strides=None, padding="valid", **kw):
        super().__init__(**kw)
        name = type(self).__name__
        self.pool_size = _tuple(name, "pool_size", pool_size, self.rank)
        self.strides = (
            self.pool_size if strides is None else _tuple(name, "strides", strides, self.rank)
        )
        if padding not in ("valid", "same"):
            raise ValueError(f"{name}: expected padding 'valid' or 'same', received {padding!r}")
        self.padding = padding

    def call(self, x):
        if self.rank == 2:
            return type(self).fn(x, self.pool_size, self.strides, self.padding)
        x4 = O.reshape(x, (x.shape[0], 1, *x.shape[1:]))
        y = type(self).fn(x4, (1, *self.pool_size), (1, *self.strides), self.padding)
        return O.reshape(y, (y.shape[0], *y.shape[2:]))


class MaxPool2D(_Pool):
    """Max over windows of ``(batch, height, width, channels)``."""

    fn = O.max_pool2d


class AvgPool2D(_Pool):
    """Mean over windows of ``(batch, height, width, channels)`` ('same' counts real cells)."""

    fn = O.avg_pool2d


class MaxPool1D(_Pool):
    """Max over windows of ``(batch, steps, channels)``."""

    rank, fn = 1, O.max_pool2d


class AvgPool1D(_Pool):
    """Mean over windows of ``(batch, steps, channels)``."""

    rank, fn = 1, O.avg_pool2d


class _Global(Layer):
    reduce, rank = None, 2
    config_keys = ("keepdims",)

    def __init__(self, keepdims=False, **kw):
        super().__init__(**kw)
        self.keepdims = keepdims

    def call(self, x):
        return type(self).reduce(x, axis=tuple(range(1, x.ndim - 1)), keepdims=self.keepdims)


class GlobalAvgPool2D(_Global):
    """Mean over height and width: ``(batch, h, w, c) -> (batch, c)``."""

    reduce = O.mean


class GlobalMaxPool2D(_Global):
    """Max over height and width: ``(batch, h, w, c) -> (batch, c)``."""

    reduce = O.max


class GlobalAvgPool1D(_Global):
    """Mean over steps: ``(batch, steps, c) -> (batch, c)``."""

    reduce = O.mean


class GlobalMaxPool1D(_Global):
    """Max over steps: ``(batch, steps, c) -> (batch, c)``."""

    reduce = O.max


# Keras' long names.
MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D = (
    MaxPool1D,
    MaxPool2D,
    AvgPool1D,
    AvgPool2D,
)
GlobalAveragePooling1D, GlobalAveragePooling2D = GlobalAvgPool1D, GlobalAvgPool2D
GlobalMaxPooling1D, GlobalMaxPooling2D = GlobalMaxPool1D, GlobalMaxPool2D
