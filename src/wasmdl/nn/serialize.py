"""Architecture <-> JSON: ``{"class_name": ..., "config": {...}}`` for layers and models.

Deserialising only looks classes up by name in the layer registry (built-in layers register
themselves; user classes through ``wasmdl.nn.register`` or ``custom_objects``) and passes the
JSON config to ``from_config``: nothing from the file is executed or imported.

Example:
    >>> import wasmdl
    >>> spec = serialize_layer(wasmdl.nn.Dense(3, activation="relu"))
    >>> spec["class_name"], spec["config"]["units"]
    ('Dense', 3)
    >>> type(deserialize_layer(spec)).__name__
    'Dense'
"""

from __future__ import annotations

from .base import _REGISTRY


def serialize_layer(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(spec, custom_objects: dict | None = None):
    """Rebuild a layer or model from ``serialize_layer``'s output."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError(
            f"deserialize: expected {{'class_name': str, 'config': dict}}, "
            f"received {str(spec)[:200]}"
        )
    name = spec.get("class_name")
    if not isinstance(name, str):
        raise ValueError(
            f"deserialize: expected 'class_name' to be a string, received {name!r:.100}"
        )
    cls = (custom_objects or {}).get(name) or _REGISTRY.get(name)
    if cls is None:
        raise ValueError(
            f"deserialize: unknown layer class {str(name)[:100]!r}; pass it in "
            "custom_objects or decorate it with @wasmdl.nn.register"
        )
    config = spec["config"]
    if any(not isinstance(k, str) for k in config):
        raise ValueError(f"deserialize: {name} config keys must be strings")
    try:
        if _takes_custom(cls):
            return cls.from_config(config, custom_objects)
        return cls.from_config(config)
    except LayerConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - name the layer whose config failed
        what = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise LayerConfigError(f"layer {config.get('name')!r:.80} ({name}): {what}") from e


class LayerConfigError(ValueError):
    """A saved layer's config cannot rebuild it (the message names the layer)."""


def _takes_custom(cls) -> bool:
    import inspect

    return "custom_objects" in inspect.signature(cls.from_config).parameters


def serialize(model) -> dict:
    """The file's architecture record: the model spec plus its built input shape."""
    return {"model": serialize_layer(model), "build_input_shape": model.build_input_shape_json()}


def deserialize(config: dict, custom_objects: dict | None = None):
    """Rebuild (and build, so weights exist) a model from ``serialize``'s output."""
    if "model" not in config:
        raise ValueError("deserialize: the config has no 'model' entry (a weights-only file?)")
    model = deserialize_layer(config["model"], custom_objects)
    if not hasattr(model, "build_from_json"):
        raise ValueError(
            f"deserialize: the file's top-level entry must be a model (Sequential or a Model "
            f"subclass), received the layer {type(model).__name__}"
        )
    model.build_from_json(config.get("build_input_shape"))
    return model
