"""The building block of MobileNetV2 and EfficientNet-Lite: the inverted-residual (MBConv) block.

``MBConvBlock(filters_in, filters_out, kernel_size, strides, expand_ratio)``: a 1x1 expansion
convolution (skipped when ``expand_ratio == 1``), a depthwise ``kernel_size`` convolution with
``strides``, and a 1x1 linear projection, each followed by BatchNormalization, with ReLU6 after
the first two; the input is added back when the shapes allow it (stride 1, same channels).
Convolutions have no bias (the BatchNormalization after them shifts) and pad like TensorFlow's
'same'. Child names follow the PyTorch EfficientNet ports (``_expand_conv``, ``_bn0``, ...), so a
PyTorch ``state_dict`` maps onto it by name (``wasmdl.io.torch_state``).

Example:
    >>> import numpy as np
    >>> block = MBConvBlock(8, 8, 3, 1, 6)
    >>> block(np.zeros((1, 5, 5, 8), np.float32)).shape
    (1, 5, 5, 8)
"""

from __future__ import annotations

from .. import functional as F
from ..nn import BatchNormalization, Conv2D, DepthwiseConv2D
from ..nn.base import Layer


def conv_bn(filters, kernel_size, strides=1, epsilon=1e-3, momentum=0.99):
    """A bias-free 'same' ``Conv2D`` and the ``BatchNormalization`` that follows it."""
    conv = Conv2D(filters, kernel_size, strides, padding="same", use_bias=False)
    return conv, BatchNormalization(epsilon=epsilon, momentum=momentum)


class MBConvBlock(Layer):
    """Inverted residual: expand (1x1) -> depthwise (k x k, strides) -> project (1x1)."""

    config_keys = ("filters_in", "filters_out", "kernel_size", "strides", "expand_ratio")

    def __init__(self, filters_in, filters_out, kernel_size, strides, expand_ratio, **kw):
        super().__init__(**kw)
        self.filters_in, self.filters_out = filters_in, filters_out
        self.kernel_size, self.strides, self.expand_ratio = kernel_size, strides, expand_ratio
        hidden = filters_in * expand_ratio
        if expand_ratio != 1:
            self._expand_conv, self._bn0 = conv_bn(hidden, 1)
        self._depthwise_conv = DepthwiseConv2D(kernel_size, strides, padding="same", use_bias=False)
        self._bn1 = BatchNormalization(epsilon=1e-3, momentum=0.99)
        self._project_conv, self._bn2 = conv_bn(filters_out, 1)

    @property
    def residual(self) -> bool:
        return self.strides == 1 and self.filters_in == self.filters_out

    def call(self, inputs, training=None):
        x = inputs
        if self.expand_ratio != 1:
            x = F.relu6(self._bn0(self._expand_conv(x), training=training))
        x = F.relu6(self._bn1(self._depthwise_conv(x), training=training))
        x = self._bn2(self._project_conv(x), training=training)
        return x + inputs if self.residual else x
