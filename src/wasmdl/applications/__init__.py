"""Pretrained networks with Keras's application API: a constructor with ``weights="imagenet"``
(fetched on first use, verified by sha256), ``preprocess_input`` and ``decode_predictions``.

Example (fine-tuning a new head on a frozen backbone):
    >>> import wasmdl
    >>> from wasmdl.applications import EfficientNetLite0
    >>> base = EfficientNetLite0(weights=None, include_top=False, pooling="avg",
    ...                          input_shape=(32, 32, 3))
    >>> base.trainable = False
    >>> model = wasmdl.Sequential([base, wasmdl.nn.Dense(2, activation="softmax")])
    >>> [w.shape for w in model.trainable_weights]  # the new head's only
    [(1280, 2), (2,)]
"""

from .blocks import MBConvBlock
from .efficientnet_lite import (
    WEIGHTS,
    EfficientNetLite,
    EfficientNetLite0,
    EfficientNetLite0_async,
    preprocess_input,
)
from .imagenet import class_names, decode_predictions

__all__ = [
    "WEIGHTS",
    "EfficientNetLite",
    "EfficientNetLite0",
    "EfficientNetLite0_async",
    "MBConvBlock",
    "class_names",
    "decode_predictions",
    "preprocess_input",
]
