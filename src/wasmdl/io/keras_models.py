"""Keras Sequential/Functional records <-> wasmdl models, and the weights' places in the files.

``model_from_keras`` rebuilds (and builds) a model from a Keras 2/3 model record, using
``keras_layers.from_keras`` for every layer; ``model_to_keras`` writes the Keras 3 record.
``keras_groups`` names each weight's group in a ``.keras`` weights file the way Keras'
``saving_lib`` does (``layers/<snake class name>[_n]/...``, in the model's layer order);
``legacy_weights`` gives a layer's weights in the flat order of a legacy ``.h5`` file.

Example:
    >>> import wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,)), wasmdl.nn.Dense(2)])
    >>> [path for path, _ in keras_groups(model)]
    ['layers/dense/vars', 'layers/dense_1/vars']
    >>> again = model_from_keras(model_to_keras(model))
    >>> [w.shape for w in again.weights]
    [(4, 3), (3,), (3, 2), (2,)]
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..autograd import no_grad
from ..graph import Functional
from ..models import Model, Sequential
from ..nn.symbolic import InputLayer
from . import keras_layers
from .keras_layers import from_keras, to_keras, weight_groups

MAX_INPUT_VALUES = 1 << 22  # per sample, for the zeros that build a loaded model


def _batch_shape(record, where):
    config = record.get("config") if isinstance(record, dict) else None
    shape = (config or {}).get("batch_shape") or (config or {}).get("batch_input_shape")
    if not isinstance(shape, list) or not all(d is None or isinstance(d, int) for d in shape):
        raise ValueError(f"{where}: expected a batch_shape list, received {str(shape)[:100]}")
    return shape


def _check_inputs(shapes, where):
    for shape in shapes:
        if math.prod(d or 1 for d in shape[1:]) > MAX_INPUT_VALUES:
            raise ValueError(f"{where}: input shape {shape} exceeds {MAX_INPUT_VALUES} values")


def _deserialize(record, custom_objects=None):
    layer = from_keras(record, custom_objects)
    if isinstance(layer, InputLayer):
        _check_inputs([layer.batch_shape], f"InputLayer {layer.name!r}")
    return layer


def build_with(model, shapes, dtypes=None):
    """Create a model's weights by running zeros (batch 1, unknown axes 1) in inference mode."""
    _check_inputs(shapes, "build")
    dtypes = dtypes or ["float32"] * len(shapes)
    xs = [np.zeros([1, *(d or 1 for d in s[1:])], t) for s, t in zip(shapes, dtypes, strict=True)]
    with no_grad():
        model(*xs, training=False)


def _sequential(config, custom_objects, build_config=None):
    records = config.get("layers") if isinstance(config, dict) else config
    if not isinstance(records, list) or not records:
        raise ValueError("Sequential: expected a non-empty 'layers' list")
    shape, dtype = None, "float32"
    if isinstance(records[0], dict) and records[0].get("class_name") == "InputLayer":
        shape = _batch_shape(records[0], "Sequential's InputLayer")
        dtype = str(records[0]["config"].get("dtype") or "float32")
        records = records[1:]
    elif isinstance(records[0], dict) and isinstance(records[0].get("config"), dict):
        first = records[0]["config"].get("batch_input_shape")  # Keras 2
        shape = first if isinstance(first, list) else None
    layers = [_deserialize(r, custom_objects) for r in records]
    for layer in layers:  # build lazily below (unknown axes allowed)
        layer.input_shape_arg = None
    name = config.get("name") if isinstance(config, dict) else None
    model = Sequential(layers, name=name if isinstance(name, str) else None)
    if shape is None:  # a Sequential built without an InputLayer: its build_config
        build = build_config if isinstance(build_config, dict) else {}
        shape = build.get("input_shape") or (
            config.get("build_input_shape") if isinstance(config, dict) else None
        )
        shape = (
            shape
            if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape)
            else None
        )
    if shape is None:
        raise ValueError("Sequential: the record gives no input shape to build the model with")
    build_with(model, [shape], [dtype if dtype in ("float32", "int32", "int64") else "float32"])
    model._build_shapes = [list(shape)]
    return model


def model_from_keras(record, custom_objects=None):
    """A wasmdl Sequential or Functional model from a Keras model record."""
    name, config = record.get("class_name"), record.get("config")
    if name == "Sequential":
        return _sequential(config, custom_objects, record.get("build_config"))
    if not isinstance(config, dict):
        raise ValueError(f"{str(name)[:50]}: expected a config dict")
    return Functional.from_config(config, custom_objects, deserialize=_deserialize)


def _input_record(name, shape, dtype="float32"):
    config = {"batch_shape": list(shape), "dtype": dtype, "sparse": False, "ragged": False,
              "name": name}  # fmt: skip
    return {"module": "keras.layers", "class_name": "InputLayer", "config": config,
            "registered_name": None}  # fmt: skip


def model_to_keras(model) -> dict:
    """The Keras 3 record of a wasmdl Sequential or Functional model."""
    if isinstance(model, Functional):
        config = model.get_config(serialize=to_keras)
        return {"module": "keras.src.models.functional", "class_name": "Functional",
                "config": config, "registered_name": "Functional",
                "build_config": {"input_shape": None}}  # fmt: skip
    if not isinstance(model, Sequential):
        raise ValueError(f"save: model {model.name!r} ({type(model).__name__}) has no Keras "
                         "equivalent (Sequential and functional models do)")  # fmt: skip
    shapes = model.build_input_shape_json()
    if not shapes:
        raise ValueError(f"save: model {model.name!r} is not built; call it or build it first")
    layers = [_input_record(f"{model.name}_input", shapes[0])]
    layers += [to_keras(layer) for layer in model.layers]
    config = {"name": model.name, "trainable": model.trainable, "layers": layers}
    return {"module": "keras", "class_name": "Sequential", "config": config,
            "registered_name": None, "build_config": {"input_shape": list(shapes[0])}}  # fmt: skip


keras_layers.MODELS.update(from_keras=model_from_keras, to_keras=model_to_keras)


# ---------------------------------------------------------------------------- weights
def keras_snake(name: str) -> str:
    """Keras' ``naming.to_snake_case``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras_class(layer) -> str:
    if isinstance(layer, Functional):
        return "Functional"
    return keras_layers.KERAS_NAME.get(type(layer).__name__, type(layer).__name__)


def keras_groups(model, prefix=""):
    """``[(group path, [(name, tensor)])]`` for every weight group of ``model``, Keras' order."""
    used, out = {}, []
    for layer in model.layers:
        base = keras_snake(_keras_class(layer))
        if base in used:
            used[base] += 1
            base = f"{base}_{used[base]}"
        else:
            used[base] = 0
        path = f"{prefix}layers/{base}"
        if isinstance(layer, Model) and hasattr(layer, "layers"):
            out += keras_groups(layer, path + "/")
        else:
            out += [(f"{path}/{sub}", ws) for sub, ws in weight_groups(layer)]
    return out


def legacy_weights(layer) -> list:
    """A top-level layer's weights in a legacy ``.h5`` file's flat order."""
    if isinstance(layer, Model) and hasattr(layer, "layers"):
        return [w for _, ws in keras_groups(layer) for w in ws]
    return [w for _, ws in weight_groups(layer) for w in ws]
