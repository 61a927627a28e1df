"""Keras layer configs <-> wasmdl layers, and where each weight lives in a Keras file.

``from_keras(record)`` builds the wasmdl layer (or model) for one Keras 2/3 layer record;
``to_keras(layer)`` writes the Keras 3 record of a wasmdl layer. Keras options wasmdl lacks are
accepted only at the value that changes nothing (``data_format="channels_last"``, no
constraints, ...); any other value, and any layer class wasmdl lacks, raises ``ValueError``
naming the layer and the option. Classes come from a fixed table (plus ``custom_objects``):
nothing from the file is imported or evaluated.

``weight_groups(layer)`` lists ``(path in model.weights.h5, [wasmdl weight names])`` in Keras'
order; the legacy ``.h5`` format stores the same weights flattened in that order.

Example:
    >>> rec = {"class_name": "Dense", "config": {"name": "d", "units": 3,
    ...        "kernel_constraint": None, "data_format": None}}
    >>> layer = from_keras(rec)
    >>> type(layer).__name__, layer.units, to_keras(layer)["class_name"]
    ('Dense', 3, 'Dense')
"""

from __future__ import annotations

import re

from .. import initializers, nn
from ..nn import symbolic

# Keras class name -> wasmdl layer class (Keras' long and short names alike).
SUPPORTED = [
    "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "Embedding",
    "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "BatchNormalization", "LayerNormalization", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
    "MultiHeadAttention", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D", "UpSampling2D",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
]  # fmt: skip
CLASSES = {name: getattr(nn, name) for name in SUPPORTED}
CLASSES["InputLayer"] = symbolic.InputLayer
KERAS_NAME = {cls.__name__: cls.__name__ for cls in CLASSES.values()}  # wasmdl -> Keras
KERAS_NAME.update({"MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D"})
KERAS_NAME.update({"AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D"})
KERAS_NAME.update({"GlobalAvgPool1D": "GlobalAveragePooling1D"})
KERAS_NAME.update({"GlobalAvgPool2D": "GlobalAveragePooling2D"})
KERAS_NAME.update(
    {"GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}
)

# Sequential/Functional records: wasmdl.io.keras_models registers its reader and writer here.
MODELS = {"from_keras": None, "to_keras": None}

# Keras option -> wasmdl option, per class.
RENAME = {
    "DepthwiseConv2D": {"depthwise_initializer": "kernel_initializer",
                        "depthwise_regularizer": "kernel_regularizer"},
    "SeparableConv2D": {"depthwise_initializer": "kernel_initializer",
                        "depthwise_regularizer": "kernel_regularizer"},
    "MultiHeadAttention": {"output_shape": "output_shape_arg"},
    "InputLayer": {"batch_input_shape": "batch_shape"},
}  # fmt: skip

_none = lambda v: v is None  # noqa: E731
_any = lambda v: True  # noqa: E731
_false = lambda v: v is False or v is None  # noqa: E731
# Keras options wasmdl lacks: accepted only where the value changes nothing wasmdl computes.
NEUTRAL = {
    "data_format": lambda v: v in (None, "channels_last"),
    "groups": lambda v: v in (None, 1),
    "activity_regularizer": _none, "quantization_config": _none, "lora_rank": lambda v: not v,
    "lora_alpha": _any, "seed": _any, "input_length": _any, "unroll": _any,
    "zero_output_for_mask": _any, "implementation": _any, "fused": _any, "renorm_momentum": _any,
    "sparse": _false, "ragged": _false, "optional": _false, "mask_zero": _false,
    "stateful": _false, "time_major": _false, "synchronized": _false, "renorm": _false,
    "rms_scaling": _false, "use_gate": _false, "renorm_clipping": _none,
    "virtual_batch_size": _none, "adjustment": _none, "noise_shape": _none,
    "output_padding": _none, "flash_attention": _false, "reset_after": lambda v: v is True,
    "attention_axes": lambda v: v in (None, [1], (1,), 1),
    "dropout": _any, "recurrent_dropout": _any,  # training-time only in recurrent layers
    "backward_layer": _any,  # Bidirectional rebuilds it from the forward layer
    "pointwise_initializer": _any, "query_shape": _any, "key_shape": _any, "value_shape": _any,
    "beta_regularizer": _none, "gamma_regularizer": _none, "bias_regularizer": _none,
    "kernel_regularizer": _none, "embeddings_regularizer": _none,
    "recurrent_regularizer": _none, "pointwise_regularizer": _none,
    "embeddings_constraint": _none, "build_input_shape": _any, "sliding_window": _none,
}  # fmt: skip
for _key in ("kernel", "bias", "recurrent", "depthwise", "pointwise", "beta", "gamma"):
    NEUTRAL[f"{_key}_constraint"] = _none
BASE_KEYS = {"name", "trainable", "dtype", "input_shape"}


def _snake(name: str) -> str:
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _initializer(value):
    """A Keras initializer as a wasmdl name (weights are loaded anyway; unknown -> default)."""
    name = value.get("class_name") if isinstance(value, dict) else value
    name = _snake(name) if isinstance(name, str) else None
    return name if name in initializers.REGISTRY else None


def _regularizer(value, where):
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        raise ValueError(f"{where}: expected a regularizer record, received {str(value)[:100]}")
    name = {"L1": "l1", "L2": "l2", "L1L2": "l1_l2"}.get(value.get("class_name"))
    if name is None:
        raise ValueError(f"{where}: regularizer {str(value.get('class_name'))[:50]!r} unsupported")
    return {"class_name": name, "config": dict(value["config"])}


def _dtype(value, where):
    if isinstance(value, dict):  # Keras 3 DTypePolicy record
        value = (value.get("config") or {}).get("name")
    if value not in (None, "float32", "int32", "int64"):
        raise ValueError(f"{where}: dtype {str(value)[:50]!r} is not supported (float32 only)")
    return value or "float32"


def _activation(value, where):
    if isinstance(value, dict):
        value = (
            value.get("config") if isinstance(value.get("config"), str) else value.get("class_name")
        )
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}: activation {str(value)[:50]!r} is not supported")
    return value


def _translate(key, value, where):
    if key.endswith("_initializer"):
        return _initializer(value)
    if key.endswith("_regularizer"):
        return _regularizer(value, where)
    if key == "dtype":
        return _dtype(value, where)
    if key in ("activation", "recurrent_activation"):
        return _activation(value, where)
    return value


def _accepted(cls) -> set:
    return set(cls.config_keys) | BASE_KEYS


def wasmdl_config(class_name, cls, config, where) -> dict:
    """A Keras layer config as the wasmdl constructor's keyword arguments."""
    renames, accepted, out = RENAME.get(class_name, {}), _accepted(cls), {}
    if class_name == "InputLayer":
        accepted = {"batch_shape", "dtype", "name", "shape", "batch_size"}
    for key, value in config.items():
        key = renames.get(key, key)
        if key == "batch_input_shape" and isinstance(value, list):  # Keras 2 first layers
            out["input_shape"] = value[1:]
        elif key in accepted:
            value = _translate(key, value, f"{where} option {key!r}")
            if value is not None or not key.endswith("_initializer"):
                out[key] = value
        elif key in NEUTRAL:
            if not NEUTRAL[key](value):
                raise ValueError(f"{where}: option {key}={str(value)[:80]} is not supported")
        else:
            raise ValueError(f"{where}: option {key!r} is not supported")
    return out


def from_keras(record, custom_objects=None):
    """The wasmdl layer (or model) of one Keras layer record."""
    if not isinstance(record, dict):
        raise ValueError(f"layer record: expected a dict, received {type(record).__name__}")
    name, config = record.get("class_name"), record.get("config")
    label = config.get("name") if isinstance(config, dict) else "?"
    where = f"layer {str(label)[:80]!r} ({str(name)[:50]})"
    if custom_objects and name in custom_objects:
        return custom_objects[name].from_config(config)
    if name in ("Sequential", "Functional", "Model"):
        return MODELS["from_keras"](record, custom_objects)
    if not isinstance(config, dict):
        raise ValueError(f"{where}: expected a config dict")
    if name == "Bidirectional":
        return _bidirectional(config, where, custom_objects)
    cls = CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"{where}: layer class {str(name)[:50]!r} is not supported by wasmdl"
            + (" (Lambda layers need custom_objects)" if name == "Lambda" else "")
        )
    return cls.from_config(wasmdl_config(name, cls, config, where))


def _bidirectional(config, where, custom_objects):
    config = dict(config)
    inner = from_keras(config.pop("layer", None), custom_objects)
    kwargs = wasmdl_config("Bidirectional", nn.Bidirectional, config, where)
    return nn.Bidirectional(inner, **kwargs)


# ---------------------------------------------------------------------------- writing
WRITE_RENAME = {
    "DepthwiseConv2D": {"kernel_initializer": "depthwise_initializer",
                        "kernel_regularizer": "depthwise_regularizer"},
    "SeparableConv2D": {"kernel_initializer": "depthwise_initializer",
                        "kernel_regularizer": "depthwise_regularizer"},
    "MultiHeadAttention": {"output_shape_arg": "output_shape"},
}  # fmt: skip
EXTRA = {"GRU": {"reset_after": True}}


def _keras_value(key, value):
    if key.endswith("_initializer"):
        return value if isinstance(value, str) else value.get("class_name")
    if key.endswith("_regularizer") and isinstance(value, dict):
        name = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2"}[value["class_name"]]
        return {"module": "keras.regularizers", "class_name": name,
                "config": value["config"], "registered_name": None}  # fmt: skip
    return value


def to_keras(layer) -> dict:
    """The Keras 3 record of a wasmdl layer (models: see ``keras_models``)."""
    if hasattr(layer, "layers"):
        return MODELS["to_keras"](layer)
    own = type(layer).__name__
    name = KERAS_NAME.get(own)
    if name is None:
        raise ValueError(f"save: layer {layer.name!r} ({own}) has no Keras equivalent")
    config = layer.get_config()
    config.pop("input_shape", None)
    renames = WRITE_RENAME.get(own, {})
    config = {renames.get(k, k): _keras_value(k, v) for k, v in config.items()}
    config.update(EXTRA.get(own, {}))
    if own == "Bidirectional":
        config["layer"] = to_keras(layer.forward_layer)
    return {"module": "keras.layers", "class_name": name, "config": config,
            "registered_name": None}  # fmt: skip


# ---------------------------------------------------------------------------- weights
_RNN = ["kernel", "recurrent_kernel", "bias"]
LAYOUT = {
    "LSTM": [("cell/vars", _RNN)],
    "GRU": [("cell/vars", _RNN)],
    "SimpleRNN": [("cell/vars", _RNN)],
    "Bidirectional": [
        ("forward_layer/cell/vars", [f"forward_layer.{n}" for n in _RNN]),
        ("backward_layer/cell/vars", [f"backward_layer.{n}" for n in _RNN]),
    ],
    "MultiHeadAttention": [
        (f"{part}_dense/vars", [f"{part}_kernel", f"{part}_bias"])
        for part in ("query", "key", "value", "output")
    ],
}


def weight_groups(layer) -> list:
    """``[(group path, [(wasmdl weight name, tensor)])]`` of a non-model layer, Keras' order."""
    named = dict(layer.named_weights())
    spec = LAYOUT.get(type(layer).__name__, [("vars", list(layer._weights))])
    return [(path, [(n, named[n]) for n in names if n in named]) for path, names in spec]
