"""Save and load models in wasmdl's native single-file format (see ``wasmdl.io.format``).

``save_model(model, path)`` writes the architecture (JSON) and float32 weights; ``load_model``
rebuilds the model from a path, the file's bytes (for example fetched in the browser), a file
object, or a JavaScript ``ArrayBuffer``/``Uint8Array`` proxy in Pyodide. Loading only looks up
layer classes by name in wasmdl's registry (plus ``custom_objects``): it never runs code from
the file.

Example:
    >>> import numpy as np, wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,))])
    >>> blob = wasmdl.io.save_model(model)
    >>> again = wasmdl.io.load_model(blob)
    >>> x = np.ones((2, 4), np.float32)
    >>> bool(np.array_equal(model.predict(x), again.predict(x)))
    True
"""

from __future__ import annotations

import os

from .atomic import atomic_write
from .format import ModelFileError, read_bytes, write_bytes
from .native import load_native

__all__ = ["ModelFileError", "load_model", "load_weights", "save_model", "save_weights"]


def read_source(source, fn: str = "load_model") -> bytes | memoryview:
    """Return the bytes of a path, bytes-like object, file object or Pyodide JS buffer proxy."""
    if isinstance(source, bytes | bytearray | memoryview):
        return source
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            return f.read()
    if hasattr(source, "to_py"):  # pyodide.ffi.JsProxy of a Uint8Array / ArrayBuffer
        return source.to_bytes() if hasattr(source, "to_bytes") else bytes(source.to_py())
    if hasattr(source, "read"):
        return source.read()
    raise TypeError(
        f"{fn}: source must be a path, bytes, a file object or a JS buffer, "
        f"received {type(source).__name__}"
    )


def _write(data: bytes, path) -> bytes | None:
    if path is None:
        return data
    atomic_write(path, data)  # the previous file survives any failure
    return None


def save_model(model, path=None) -> bytes | None:
    """Write ``model`` (architecture + weights) to ``path``, or return the bytes if path is None."""
    from ..nn.serialize import serialize

    config = serialize(model)
    return _write(write_bytes(config, model.weights_dict()), path)


def load_model(source, custom_objects: dict | None = None, compile: bool = False):
    """Rebuild a model saved by ``save_model`` from a path, bytes, file object or JS buffer."""
    return load_native(read_source(source), custom_objects)


def save_weights(model, path=None) -> bytes | None:
    """Write only the weights (same container; the config records the weight names)."""
    return _write(write_bytes({"weights_only": True}, model.weights_dict()), path)


def load_weights(model, source) -> None:
    """Load weights saved by ``save_weights`` or ``save_model`` into an existing ``model``."""
    _, tensors = read_bytes(read_source(source, "load_weights"))
    model.load_weights_dict(tensors, fn="load_weights")
