"""Loading a native model file so that no file can run away: limits on layers, weight values and
shapes (``wasmdl.nn.spec.LOAD_LIMITS``, each named in its error), the model built by shape
inference (no batch runs), every weight's dtype checked against the file, and every failure a
``ModelFileError`` whose message names the layer and what was wrong.

Example:
    >>> import wasmdl
    >>> blob = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,))]).save()
    >>> load_native(blob).count_params()
    15
    >>> try:
    ...     load_native(blob[:40])
    ... except ModelFileError as e:
    ...     print(str(e)[:31])
    load_model: the header declares
"""

from __future__ import annotations

import numpy as np

from .format import ModelFileError, read_bytes


def _count_layers(config) -> int:
    """Layer entries (dicts with a 'class_name') anywhere in the architecture, without recursion."""
    count, todo = 0, [config]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            count += "class_name" in node
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return count


def _check_limits(config: dict, tensors: dict) -> int:
    from ..nn.spec import LOAD_LIMITS

    layers, values = _count_layers(config), sum(t.size for t in tensors.values())
    if layers > LOAD_LIMITS["layers"]:
        raise ModelFileError(
            f"load_model: the architecture has {layers} layers, over the limit of "
            f"{LOAD_LIMITS['layers']} (wasmdl.nn.spec.LOAD_LIMITS['layers'])"
        )
    if values > LOAD_LIMITS["params"]:
        raise ModelFileError(
            f"load_model: the file holds {values} weight values, over the limit of "
            f"{LOAD_LIMITS['params']} (wasmdl.nn.spec.LOAD_LIMITS['params'])"
        )
    return values


def _check_dtypes(model, tensors: dict) -> None:
    for name, w in model.named_weights():
        t = tensors.get(name)
        if t is not None and t.dtype != np.dtype(w.dtype):
            raise ModelFileError(
                f"load_model: weight {name!r} is stored as {t.dtype} but the layer's weight is "
                f"{np.dtype(w.dtype)} (a corrupted or mislabelled tensor)"
            )


def _describe(e: Exception) -> str:
    if isinstance(e, ValueError | KeyError) and not isinstance(e, ModelFileError):
        return str(e)
    return f"{type(e).__name__}: {e}"


def load_native(data, custom_objects: dict | None = None):
    """Rebuild a model from a native file's bytes (see ``wasmdl.io.format``)."""
    from ..nn.base import LOAD_BUDGET
    from ..nn.serialize import deserialize
    from ..nn.spec import LOADING

    config, tensors = read_bytes(data)
    LOAD_BUDGET["left"] = _check_limits(config, tensors)
    LOADING["on"] = True
    try:
        model = deserialize(config, custom_objects)
    except Exception as e:  # noqa: BLE001 - a file is data: any failure is the file's fault
        raise ModelFileError(
            f"load_model: the file's architecture is invalid: {_describe(e)}"
        ) from e
    finally:
        LOAD_BUDGET["left"], LOADING["on"] = None, False
    _check_dtypes(model, tensors)
    try:
        model.load_weights_dict(tensors, fn="load_model")
    except Exception as e:  # noqa: BLE001
        raise ModelFileError(_describe(e)) from e
    return model
