"""Convolution layers, channels-last (Keras layouts): Conv1D, Conv2D, DepthwiseConv2D,
SeparableConv2D, Conv2DTranspose. All run on the engine's one ``conv2d`` primitive.

Kernels: Conv2D ``(kh, kw, in, filters)``, Conv1D ``(k, in, filters)``, DepthwiseConv2D
``(kh, kw, in, depth_multiplier)``, Conv2DTranspose ``(kh, kw, filters, in)`` (Keras).

Example:
    >>> import numpy as np, wasmdl
    >>> conv = wasmdl.nn.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(np.zeros((2, 28, 28, 1), np.float32)).shape
    (2, 28, 28, 8)
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import activations
from .. import ops as O
from ..tensor import Tensor
from .base import Layer
from .core import check_positive_int


def _tuple(layer, arg, value, n):
    """``n`` positive ints from one int or a sequence (numpy integers too, as in Keras)."""
    t = (value,) * n if isinstance(value, numbers.Integral) else value
    ok = isinstance(t, list | tuple) and len(t) == n
    if not ok or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                         for v in t):  # fmt: skip
        raise ValueError(
            f"{layer}: expected {arg} to be a positive int or {n} of them, received {arg}={value!r}"
        )
    return tuple(int(v) for v in t)


class _Conv(Layer):
    """Shared arguments and bias/activation handling of the convolution layers."""

    rank = 2
    paddings = ("valid", "same")
    config_keys = (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "dilation_rate",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
    )

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kw,
    ):
        super().__init__(**kw)
        name = type(self).__name__
        self.filters = check_positive_int(name, "filters", filters)
        self.kernel_size = _tuple(name, "kernel_size", kernel_size, self.rank)
        self.strides = _tuple(name, "strides", strides, self.rank)
        self.dilation_rate = _tuple(name, "dilation_rate", dilation_rate, self.rank)
        if padding not in self.paddings:
            raise ValueError(f"{name}: expected padding in {self.paddings}, received {padding!r}")
        self.padding = padding
        self.activation, self._act = activation, activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer

    def _add_kernel(self, shape, name="kernel"):
        return self.add_weight(
            name, shape, self.kernel_initializer, regularizer=self.kernel_regularizer
        )

    def _add_bias(self):
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer
            )

    def _finish(self, y):
        return self._act(y + self.bias if self.use_bias else y)


class Conv2D(_Conv):
    """2-D convolution over ``(batch, height, width, channels)``."""

    def build(self, input_shape):
        self.kernel = self._add_kernel((*self.kernel_size, input_shape[-1], self.filters))
        self._add_bias()

    def call(self, x):
        y = O.conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate)
        return self._finish(y)


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)``; padding also 'causal'."""

    rank = 1
    paddings = ("valid", "same", "causal")

    def build(self, input_shape):
        self.kernel = self._add_kernel((*self.kernel_size, input_shape[-1], self.filters))
        self._add_bias()

    def call(self, x):
        padding = self.padding
        if padding == "causal":
            x = O.pad(x, [(0, 0), ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0), (0, 0)])
            padding = "valid"
        x4 = O.reshape(x, (x.shape[0], 1, *x.shape[1:]))
        k4 = O.reshape(self.kernel, (1, *self.kernel.shape))
        y = O.conv2d(x4, k4, (1, *self.strides), padding, (1, *self.dilation_rate))
        return self._finish(O.reshape(y, (y.shape[0], *y.shape[2:])))


class DepthwiseConv2D(_Conv):
    """Per-channel 2-D convolution; ``depth_multiplier`` outputs per input channel."""

    config_keys = tuple(k for k in _Conv.config_keys if k != "filters") + ("depth_multiplier",)

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, **kw):
        self.depth_multiplier = check_positive_int(
            "DepthwiseConv2D", "depth_multiplier", depth_multiplier
        )
        super().__init__(1, kernel_size, strides, padding, **kw)

    def build(self, input_shape):
        c = input_shape[-1]
        self.filters = c * self.depth_multiplier
        self.kernel = self._add_kernel((*self.kernel_size, c, self.depth_multiplier))
        self._add_bias()

    def call(self, x):
        c = x.shape[-1]
        k = O.reshape(self.kernel, (*self.kernel_size, 1, c * self.depth_multiplier))
        y = O.conv2d(x, k, self.strides, self.padding, self.dilation_rate, groups=c)
        return self._finish(y)


class SeparableConv2D(_Conv):
    """Depthwise convolution then a 1x1 pointwise convolution to ``filters`` channels."""

    config_keys = _Conv.config_keys + ("depth_multiplier",)

    def __init__(self, filters, kernel_size, depth_multiplier=1, **kw):
        self.depth_multiplier = check_positive_int(
            "SeparableConv2D", "depth_multiplier", depth_multiplier
        )
        super().__init__(filters, kernel_size, **kw)

    def build(self, input_shape):
        c = input_shape[-1]
        self.depthwise_kernel = self._add_kernel(
            (*self.kernel_size, c, self.depth_multiplier), "depthwise_kernel"
        )
        self.pointwise_kernel = self._add_kernel(
            (1, 1, c * self.depth_multiplier, self.filters), "pointwise_kernel"
        )
        self._add_bias()

    def call(self, x):
        c = x.shape[-1]
        dk = O.reshape(self.depthwise_kernel, (*self.kernel_size, 1, c * self.depth_multiplier))
        y = O.conv2d(x, dk, self.strides, self.padding, self.dilation_rate, groups=c)
        return self._finish(O.conv2d(y, self.pointwise_kernel))


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (the gradient of Conv2D with respect to its input).

    Output size: ``(n - 1) * stride + k`` for 'valid', ``n * stride`` for 'same'. Computed as a
    convolution of the zero-upsampled input with the flipped kernel.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", **kw):
        super().__init__(filters, kernel_size, strides, padding, **kw)
        if self.dilation_rate != (1, 1):
            raise ValueError(
                f"Conv2DTranspose: expected dilation_rate 1, received {self.dilation_rate}"
            )

    def build(self, input_shape):
        self.kernel = self._add_kernel((*self.kernel_size, self.filters, input_shape[-1]))
        self._add_bias()

    def _pads(self, n, k, s):
        """(before, after) padding of the zero-upsampled input (length n * s) for one axis."""
        if self.padding == "valid":
            return k - 1, k - s
        crop = max(k - s, 0) // 2  # the 'same' forward conv's padding before
        return k - 1 - crop, crop

    def call(self, x):
        n, h, w, c = x.shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        if sh > 1 or sw > 1:  # insert s - 1 zeros after every row/column
            x = O.reshape(x, (n, h, 1, w, 1, c))
            x = O.pad(x, [(0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1), (0, 0)])
            x = O.reshape(x, (n, h * sh, w * sw, c))
        pads = [self._pads(h, kh, sh), self._pads(w, kw, sw)]
        if min(a for _, a in pads) < 0:  # stride > kernel: drop trailing zeros instead
            x = x[:, : h * sh + min(pads[0][1], 0), : w * sw + min(pads[1][1], 0), :]
            pads = [(b, max(a, 0)) for b, a in pads]
        k = O.gather(self.kernel, _flip_index(kh, x.backend), axis=0)
        k = O.gather(k, _flip_index(kw, x.backend), axis=1)
        y = O.conv2d(x, O.permute(k, (0, 1, 3, 2)), 1, tuple(pads))
        return self._finish(y)


def _flip_index(n, backend):
    return Tensor(np.arange(n - 1, -1, -1, dtype=np.int32), backend=backend)
