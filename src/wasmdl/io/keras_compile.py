"""Keras' training configuration (``compile_config`` / legacy ``training_config``) <-> compile.

Reading maps the optimizer (class and learning rate), the loss (one, a list or a dict, as
names or Keras loss records), ``loss_weights`` and the metrics onto ``model.compile``. A part
wasmdl lacks (an optimizer or loss it does not have) leaves the model uncompiled with a
warning, as Keras does when it cannot restore a training setup; weights load regardless.

Example:
    >>> import wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(1, input_shape=(2,))])
    >>> model.compile("adam", "mse")
    >>> config = compile_to_keras(model)
    >>> config["loss"], config["optimizer"]["class_name"]
    ('mse', 'Adam')
    >>> compile_from_keras(model, config, "example")
    >>> model._optimizer_spec, model._loss_spec
    ('adam', 'mse')
"""

from __future__ import annotations

import re
import warnings

from .. import losses, metrics, optim

KERAS_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                    "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax",
                    "nadam": "Nadam"}  # fmt: skip


def _snake(name: str) -> str:
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _loss_name(spec):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        config = spec.get("config")
        name = config.get("name") if isinstance(config, dict) else None
        name = name if name in losses.REGISTRY else _snake(str(spec.get("class_name")))
        if name in losses.REGISTRY:
            return name
    raise ValueError(f"loss {str(spec)[:80]} is not supported")


def _losses(spec):
    if isinstance(spec, list):
        return [_loss_name(s) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {str(k): _loss_name(v) for k, v in spec.items()}
    return _loss_name(spec)


def _optimizer(model, spec):
    if isinstance(spec, str):
        return spec
    if not isinstance(spec, dict):
        raise ValueError(f"optimizer {str(spec)[:80]} is not supported")
    name = str(spec.get("class_name", "")).lower()
    config = spec.get("config") if isinstance(spec.get("config"), dict) else {}
    if name not in optim.REGISTRY:
        raise ValueError(f"optimizer {name[:50]!r} is not supported")
    lr = config.get("learning_rate")
    if isinstance(lr, int | float) and not isinstance(lr, bool) and 0 < lr < 1e3:
        return optim.get(name, model.parameters(), lr=float(lr))
    return name


def _metrics(spec, several_outputs):
    if several_outputs or not isinstance(spec, list):
        return None
    flat = [m for m in spec if isinstance(m, str)]
    for m in flat:
        metrics.get(m, None)  # raises for one wasmdl lacks
    return flat


def compile_from_keras(model, config: dict, part: str) -> None:
    """``model.compile(...)`` from a Keras training configuration (warns if it cannot)."""
    try:
        loss = _losses(config.get("loss"))
        if loss is None:
            return
        weights = config.get("loss_weights")
        several = len(getattr(model, "outputs", None) or [None]) > 1
        model.compile(
            optimizer=_optimizer(model, config.get("optimizer")),
            loss=loss,
            metrics=_metrics(config.get("metrics"), several),
            loss_weights=weights if isinstance(weights, list | dict) else None,
        )
    except (ValueError, TypeError, KeyError) as e:
        warnings.warn(f"load_model: {part}: the model is left uncompiled: {e}", stacklevel=3)


def compile_to_keras(model):
    """Keras 3's ``compile_config`` of a compiled model, or None."""
    spec = getattr(model, "_loss_spec", None)
    if getattr(model, "compiled_loss", None) is None or not _plain(spec):
        return None
    opt = getattr(model, "_optimizer_spec", None)
    name = type(opt).__name__.lower() if isinstance(opt, optim.Optimizer) else str(opt).lower()
    if name not in KERAS_OPTIMIZERS:
        return None
    inst = model.optimizer if model.optimizer is not None else None
    lr = inst.param_groups[0]["lr"] if inst is not None else None
    opt_config = {"name": name} | ({"learning_rate": float(lr)} if lr is not None else {})
    return {
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": KERAS_OPTIMIZERS[name],
            "config": opt_config,
            "registered_name": None,
        },  # fmt: skip
        "loss": spec,
        "loss_weights": getattr(model, "_loss_weights", None),
        "metrics": _plain_metrics(getattr(model, "_metric_specs", None)),
    }


def _plain(spec) -> bool:
    if isinstance(spec, str):
        return True
    if isinstance(spec, list):
        return all(isinstance(s, str) for s in spec)
    if isinstance(spec, dict):
        return all(isinstance(s, str) for s in spec.values())
    return False


def _plain_metrics(specs):
    """Metric names of a single-output model (other forms are not written)."""
    if isinstance(specs, list) and specs and all(isinstance(m, str) for m in specs):
        return specs
    return None
