"""Save and load models: wasmdl's native single-file format (see ``wasmdl.io.format``), and
through one entry point every format in ``FORMATS`` (Keras ``.keras``/``.h5``, ...).

``load_model`` sniffs the format from the bytes (or takes ``format=``); ``save_model`` picks it
from ``format=`` or the path's extension (``EXTENSIONS``), native by default. A format is one
row ``name: (sniff(data) -> bool, load(data, compile=, custom_objects=), save(model, path))``.

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

from . import keras_file
from .atomic import atomic_write
from .format import FORMAT, ModelFileError, read_bytes, write_bytes
from .native import load_native as _load_native

__all__ = ["FORMATS", "ModelFileError", "load_model", "load_weights", "save_model", "save_weights"]


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


def save_native(model, path=None) -> bytes | None:
    """Write ``model`` (architecture + weights) to ``path``, or return the bytes if path is None."""
    from ..nn.serialize import serialize

    config = serialize(model)
    return _write(write_bytes(config, model.weights_dict()), path)


def sniff_native(data) -> bool:
    """A safetensors-style header (8-byte length, then JSON) that names wasmdl's format."""
    head = bytes(data[8:4096])
    return head.startswith(b"{") and f'"{FORMAT}"'.encode() in head


def load_native(data, compile=True, custom_objects: dict | None = None):
    """Rebuild a model saved by ``save_native`` from its bytes (limits, shape inference and
    named errors: ``wasmdl.io.native``)."""
    return _load_native(data, custom_objects)


FORMATS = {  # name: (sniff, load, save); the first whose sniff accepts the bytes loads them
    "wasmdl": (sniff_native, load_native, save_native),
    "keras": (keras_file.sniff_keras, keras_file.load_keras, keras_file.save_keras),
    "h5": (keras_file.sniff_h5, keras_file.load_h5, keras_file.save_h5),
}
EXTENSIONS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5", ".wasmdl": "wasmdl"}


def _format(fmt, fn):
    if fmt not in FORMATS:
        raise ValueError(
            f"{fn}: argument 'format' expected one of {sorted(FORMATS)}, received {fmt!r}"
        )
    return FORMATS[fmt]


def load_model(source, format=None, compile=True, custom_objects: dict | None = None):
    """A model from a path, bytes, file object or JS buffer, in any format of ``FORMATS``
    (sniffed from the bytes unless ``format`` names one); ``compile`` restores the training
    configuration where the file has one."""
    data = read_source(source)
    if format is None:
        format = next((name for name, (sniff, _, _) in FORMATS.items() if sniff(data)), None)
        if format is None:
            raise ModelFileError(
                f"load_model: the file's header matches none of the formats "
                f"{sorted(FORMATS)} (first bytes {bytes(data[:16])!r})"
            )
    return _format(format, "load_model")[1](data, compile=compile, custom_objects=custom_objects)


def save_model(model, path=None, format=None) -> bytes | None:
    """Write ``model`` to ``path`` (or return the bytes) in ``format``: by default the one of
    the path's extension (``EXTENSIONS``), else wasmdl's native format."""
    if format is None:
        ext = os.path.splitext(str(path))[1].lower() if path is not None else ""
        format = EXTENSIONS.get(ext, "wasmdl")
    return _format(format, "save_model")[2](model, path)


def save_weights(model, path=None) -> bytes | None:
    """Write only the weights (same container; the config records the weight names)."""
    return _write(write_bytes({"weights_only": True}, model.weights_dict()), path)


def load_weights(model, source) -> None:
    """Load weights saved by ``save_weights`` or ``save_model`` into an existing ``model``."""
    _, tensors = read_bytes(read_source(source, "load_weights"))
    model.load_weights_dict(tensors, fn="load_weights")


def _register() -> None:
    from .. import models

    models._IO.update(save_model=save_model, save_weights=save_weights, load_weights=load_weights)


_register()
