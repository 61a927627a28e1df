"""Layers: the Keras lifecycle with a PyTorch module's feel (see ``wasmdl.nn.base``).

Example:
    >>> import numpy as np, wasmdl
    >>> from wasmdl import nn
    >>> net = wasmdl.Sequential([nn.Conv2D(8, 3, activation="relu"), nn.MaxPool2D(),
    ...                          nn.Flatten(), nn.Dense(10)])
    >>> net.predict(np.zeros((2, 28, 28, 1), np.float32)).shape
    (2, 10)
"""

from . import shape_rules as _shape_rules  # noqa: F401  (fills the shape/input-spec tables)
from .attention import MultiHeadAttention  # noqa: F401
from .base import Layer, register  # noqa: F401
from .conv import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D  # noqa: F401
from .core import Activation, Dense, Dropout, Embedding, Flatten, Permute, Reshape  # noqa: F401
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract  # noqa: F401
from .norm import BatchNormalization, LayerNormalization  # noqa: F401
from .pooling import (  # noqa: F401
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN  # noqa: F401
from .reshaping import UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D  # noqa: F401
from .spec import ShapeSpec  # noqa: F401

__all__ = [name for name in dir() if not name.startswith("_")]
