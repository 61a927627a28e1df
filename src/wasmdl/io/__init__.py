"""Save and load models: wasmdl's native single-file format (see ``wasmdl.io.format``), and
through one entry point every format in ``FORMATS`` (Keras ``.keras``/``.h5``, TensorFlow.js
layers models, ONNX, PyTorch weights as safetensors).

``load_model`` sniffs the format from the bytes (or takes ``format=``); ``save_model`` picks it
from ``format=`` or the path's extension (``EXTENSIONS``), native by default. A format is one
row ``name: (sniff(data) -> bool, load(data, compile=, custom_objects=, **kw),
save(model, path, **kw))``; further keyword arguments of ``load_model``/``save_model`` go to the
format's own ``load``/``save`` (``wasmdl.io.tfjs``, ``onnx``, ``safetensors``).

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


def _load_tfjs(data, compile=True, custom_objects=None, source=None, **kw):
    from . import tfjs

    # a path keeps its folder: the weight shards named in model.json are read beside it
    return tfjs.load(source if isinstance(source, str | os.PathLike) else data, **kw)


def _load_onnx(data, compile=True, custom_objects=None, source=None, **kw):
    from . import onnx

    return onnx.load(data, **kw)


def _load_safetensors(data, compile=True, custom_objects=None, source=None, model=None, **kw):
    from . import safetensors

    if model is None:  # a ModelFileError (a ValueError): the file alone makes no model
        raise ModelFileError(
            "load_model: argument 'model' expected the wasmdl model to load a safetensors file "
            "into (it holds weights only, a PyTorch state_dict: build the matching model, then "
            "load_model(path, model=model)), received None"
        )
    return safetensors.load(data, model, **kw)


def _saver(module):
    def save(model, path=None, **kw):
        from importlib import import_module

        return import_module(f"{__name__}.{module}").save(model, path, **kw)

    return save


def _sniff(module):
    def sniff(data) -> bool:
        from importlib import import_module

        return import_module(f"{__name__}.{module}").sniff(data)

    return sniff


# name: (sniff, load, save); the first whose sniff accepts the bytes loads them (wasmdl's own
# file is a safetensors file too: it comes first)
FORMATS = {
    "wasmdl": (sniff_native, load_native, save_native),
    "keras": (keras_file.sniff_keras, keras_file.load_keras, keras_file.save_keras),
    "h5": (keras_file.sniff_h5, keras_file.load_h5, keras_file.save_h5),
    "tfjs": (_sniff("tfjs"), _load_tfjs, _saver("tfjs")),
    "onnx": (_sniff("onnx"), _load_onnx, _saver("onnx")),
    "safetensors": (_sniff("safetensors"), _load_safetensors, _saver("safetensors")),
}
# save_model's default format by extension (TF.js writes a folder: ask with format="tfjs")
EXTENSIONS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5", ".wasmdl": "wasmdl",
              ".onnx": "onnx", ".safetensors": "safetensors"}  # fmt: skip


def _format(fmt, fn):
    if fmt not in FORMATS:
        raise ValueError(
            f"{fn}: argument 'format' expected one of {sorted(FORMATS)}, received {fmt!r}"
        )
    return FORMATS[fmt]


def load_model(source, format=None, compile=True, custom_objects: dict | None = None, **kw):
    """A model from a path, bytes, file object or JS buffer, in any format of ``FORMATS``
    (sniffed from the bytes unless ``format`` names one); ``compile`` restores the training
    configuration where the file has one; other keyword arguments go to the format's loader
    (``weights=`` for TF.js shards, ``layout=`` for ONNX, ``model=`` for safetensors). A
    folder holding a ``model.json`` (what TF.js saves) loads that file."""
    if isinstance(source, str | os.PathLike) and os.path.isdir(source):
        source = os.path.join(source, "model.json")
    data = read_source(source)
    if format is None:
        format = next((name for name, (sniff, _, _) in FORMATS.items() if sniff(data)), None)
        if format is None:
            raise ModelFileError(
                f"load_model: the file's header matches none of the formats "
                f"{sorted(FORMATS)} (first bytes {bytes(data[:16])!r})"
            )
    load = _format(format, "load_model")[1]
    if _takes_kw(load):  # the format's loader also sees the source (a path keeps its folder)
        kw["source"] = source
    elif kw:
        raise TypeError(
            f"load_model: unexpected keyword arguments {sorted(kw)} for format {format!r}"
        )
    return load(data, compile=compile, custom_objects=custom_objects, **kw)


def _takes_kw(fn) -> bool:
    import inspect

    params = inspect.signature(fn).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def save_model(model, path=None, format=None, **kw) -> bytes | None:
    """Write ``model`` to ``path`` (or return the bytes) in ``format``: by default the one of
    the path's extension (``EXTENSIONS``), else wasmdl's native format."""
    if format is None:
        ext = os.path.splitext(str(path))[1].lower() if path is not None else ""
        format = EXTENSIONS.get(ext, "wasmdl")
    save = _format(format, "save_model")[2]
    if kw and not _takes_kw(save):
        raise TypeError(
            f"save_model: unexpected keyword arguments {sorted(kw)} for format {format!r}"
        )
    return save(model, path, **kw)


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
