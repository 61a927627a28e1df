"""Keras layer configs as TensorFlow.js writes them (``modelTopology``) <-> wasmdl layers.

``LAYERS`` maps a Keras class name to the wasmdl class and the config keys carried over
(initializers, regularizers and constraints are dropped: the weights come from the file).
Activations map by name, except TF.js' ``hard_sigmoid`` (Keras 2's ``clip(0.2 x + 0.5, 0, 1)``,
not wasmdl's ``x / 6 + 0.5``), which becomes ``hard_sigmoid_keras2``.

Example:
    >>> layer = from_keras({"class_name": "Dense", "config": {"units": 3, "name": "d",
    ...                     "activation": "relu", "batch_input_shape": [None, 4]}})
    >>> type(layer).__name__, layer.units, layer.input_shape_arg
    ('Dense', 3, (4,))
    >>> to_keras(layer)["config"]["units"]
    3
"""

from __future__ import annotations

from .. import nn
from .. import ops as O
from ..nn.recurrent_compat import GRUResetBefore

CONV = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation", "use_bias")
POOL = ("pool_size", "strides", "padding")
RNN = ("units", "activation", "use_bias", "return_sequences", "return_state", "go_backwards")
NORM = ("axis", "epsilon", "center", "scale")
# Keras class name -> (wasmdl class, config keys kept)
LAYERS = {
    "Dense": (nn.Dense, ("units", "activation", "use_bias")),
    "Conv1D": (nn.Conv1D, CONV),
    "Conv2D": (nn.Conv2D, CONV),
    "Conv2DTranspose": (nn.Conv2DTranspose, CONV[:4] + CONV[5:]),
    "DepthwiseConv2D": (
        nn.DepthwiseConv2D,
        ("kernel_size", "strides", "padding", "depth_multiplier", "activation", "use_bias"),
    ),
    "SeparableConv2D": (nn.SeparableConv2D, CONV + ("depth_multiplier",)),
    "MaxPooling1D": (nn.MaxPool1D, POOL),
    "MaxPooling2D": (nn.MaxPool2D, POOL),
    "AveragePooling1D": (nn.AvgPool1D, POOL),
    "AveragePooling2D": (nn.AvgPool2D, POOL),
    "GlobalAveragePooling1D": (nn.GlobalAvgPool1D, ()),
    "GlobalAveragePooling2D": (nn.GlobalAvgPool2D, ()),
    "GlobalMaxPooling1D": (nn.GlobalMaxPool1D, ()),
    "GlobalMaxPooling2D": (nn.GlobalMaxPool2D, ()),
    "BatchNormalization": (nn.BatchNormalization, NORM + ("momentum",)),
    "LayerNormalization": (nn.LayerNormalization, NORM),
    "Activation": (nn.Activation, ("activation",)),
    "Dropout": (nn.Dropout, ("rate",)),
    "Flatten": (nn.Flatten, ()),
    "Reshape": (nn.Reshape, ("target_shape",)),
    "Permute": (nn.Permute, ("dims",)),
    "Embedding": (nn.Embedding, ("input_dim", "output_dim")),
    "SimpleRNN": (nn.SimpleRNN, RNN),
    "LSTM": (nn.LSTM, RNN + ("recurrent_activation", "unit_forget_bias")),
    "GRU": (nn.GRU, RNN + ("recurrent_activation",)),
    "ZeroPadding2D": (nn.ZeroPadding2D, ("padding",)),
    "UpSampling2D": (nn.UpSampling2D, ("size",)),
    "Add": (nn.Add, ()),
    "Subtract": (nn.Subtract, ()),
    "Multiply": (nn.Multiply, ()),
    "Average": (nn.Average, ()),
    "Maximum": (nn.Maximum, ()),
    "Minimum": (nn.Minimum, ()),
    "Concatenate": (nn.Concatenate, ("axis",)),
}
_NAMES = {cls: name for name, (cls, _) in LAYERS.items()}
_NAMES[GRUResetBefore] = "GRU"


def hard_sigmoid_keras2(x):
    """TF.js' and Keras 2's hard sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    return O.minimum(O.maximum(x * 0.2 + 0.5, 0.0), 1.0)


_ACT_IN = {"hard_sigmoid": hard_sigmoid_keras2, "linear": None}
_ACT_OUT = {hard_sigmoid_keras2: "hard_sigmoid", None: "linear"}


def _bad(where, msg):
    from .format import ModelFileError

    raise ModelFileError(f"tfjs: {where}: {msg}")


def from_keras(spec: dict):
    """A wasmdl layer for one ``{"class_name", "config"}`` entry of a Keras topology."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        _bad("modelTopology layer", f"expected {{class_name, config}}, received {str(spec)[:120]}")
    name, cfg = spec.get("class_name"), spec["config"]
    where = f"layer {str(cfg.get('name'))[:80]!r} ({str(name)[:40]})"
    if name not in LAYERS:
        _bad(where, f"class {str(name)[:40]!r} is not supported (supported: {', '.join(LAYERS)})")
    if cfg.get("data_format", "channels_last") != "channels_last":
        _bad(where, "only data_format 'channels_last' is supported")
    cls, keys = LAYERS[name]
    kw = {k: cfg[k] for k in keys if k in cfg and cfg[k] is not None}
    for k in ("activation", "recurrent_activation"):
        if k in kw:
            kw[k] = _ACT_IN.get(kw[k], kw[k])
    if name == "GRU" and not cfg.get("reset_after", False):
        cls = GRUResetBefore
    if isinstance(cfg.get("name"), str):
        kw["name"] = cfg["name"]
    shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
    if isinstance(shape, list) and len(shape) > 1:
        kw["input_shape"] = tuple(shape[1:])
    return cls(**kw)


def to_keras(layer) -> dict:
    """The Keras (TF.js-readable) ``{"class_name", "config"}`` of a wasmdl layer."""
    name = _NAMES.get(type(layer))
    if name is None or (type(layer) is nn.GRU):
        raise ValueError(
            f"tfjs export: layer {layer.name!r} ({type(layer).__name__}) has no TF.js "
            "equivalent (TF.js has no reset_after=True GRU)"
            if type(layer) is nn.GRU
            else f"tfjs export: layer {layer.name!r} ({type(layer).__name__}) is not supported"
        )
    cfg = {"name": layer.name, "trainable": layer.trainable, "dtype": "float32"}
    for key in LAYERS[name][1]:
        value = getattr(layer, key)
        if key.endswith("activation"):
            if value == "hard_sigmoid":  # TF.js would read Keras 2's 0.2 x + 0.5
                raise ValueError(
                    f"tfjs export: layer {layer.name!r}: wasmdl's hard_sigmoid (x / 6 + 0.5) "
                    "has no TF.js equivalent; use tfjs_layers.hard_sigmoid_keras2"
                )
            value = _ACT_OUT.get(value, value)
            if callable(value):
                raise ValueError(f"tfjs export: layer {layer.name!r}: custom activation")
        cfg[key] = list(value) if isinstance(value, tuple) else value
    if name == "GRU":
        cfg["reset_after"] = False
    if layer.input_shape_arg is not None:
        cfg["batch_input_shape"] = [None, *layer.input_shape_arg]
    return {"class_name": name, "config": cfg}
