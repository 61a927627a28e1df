"""Spatial reshaping layers, channels-last: ZeroPadding1D/2D, UpSampling1D/2D (nearest).

Example:
    >>> import numpy as np, wasmdl
    >>> x = np.zeros((1, 4, 4, 3), np.float32)
    >>> wasmdl.nn.ZeroPadding2D(1)(x).shape, wasmdl.nn.UpSampling2D(2)(x).shape
    ((1, 6, 6, 3), (1, 8, 8, 3))
"""

from __future__ import annotations

from .. import ops as O
from .base import Layer
from .conv import _tuple


def _pairs(layer, padding, rank):
    """``1``, ``(1, 2)`` (symmetric per axis) or ``((t, b), (l, r))`` -> per-axis pairs."""
    try:
        if isinstance(padding, int):
            pads = ((padding, padding),) * rank
        elif rank == 1 and len(padding) == 2 and all(isinstance(p, int) for p in padding):
            pads = (tuple(padding),)
        else:
            pads = tuple((p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in padding)
    except (TypeError, ValueError, IndexError):
        pads = ()
    if len(pads) != rank or any(a < 0 or b < 0 for a, b in pads):
        raise ValueError(
            f"{layer}: expected padding as an int, {rank} ints or {rank} "
            f"(before, after) pairs >= 0, received padding={padding!r}"
        )
    return pads


class ZeroPadding2D(Layer):
    """Pad height and width with zeros."""

    config_keys = ("padding",)

    def __init__(self, padding=1, **kw):
        super().__init__(**kw)
        self.padding = _pairs("ZeroPadding2D", padding, 2)

    def call(self, x):
        return O.pad(x, [(0, 0), *self.padding, (0, 0)])


class ZeroPadding1D(Layer):
    """Pad the steps axis with zeros."""

    config_keys = ("padding",)

    def __init__(self, padding=1, **kw):
        super().__init__(**kw)
        self.padding = _pairs("ZeroPadding1D", padding, 1)

    def call(self, x):
        return O.pad(x, [(0, 0), *self.padding, (0, 0)])


class UpSampling2D(Layer):
    """Repeat rows and columns ``size`` times (nearest-neighbour upsampling)."""

    config_keys = ("size", "interpolation")

    def __init__(self, size=2, interpolation="nearest", **kw):
        super().__init__(**kw)
        if interpolation != "nearest":
            raise ValueError(
                f"UpSampling2D: expected interpolation 'nearest', received {interpolation!r}"
            )
        self.size, self.interpolation = _tuple("UpSampling2D", "size", size, 2), interpolation

    def call(self, x):
        n, h, w, c = x.shape
        sh, sw = self.size
        y = O.expand(O.reshape(x, (n, h, 1, w, 1, c)), (n, h, sh, w, sw, c))
        return O.reshape(y, (n, h * sh, w * sw, c))


class UpSampling1D(Layer):
    """Repeat every step ``size`` times."""

    config_keys = ("size",)

    def __init__(self, size=2, **kw):
        super().__init__(**kw)
        self.size = _tuple("UpSampling1D", "size", size, 1)[0]

    def call(self, x):
        n, t, c = x.shape
        y = O.expand(O.reshape(x, (n, t, 1, c)), (n, t, self.size, c))
        return O.reshape(y, (n, t * self.size, c))
