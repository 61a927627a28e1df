"""Keras 3 ``.keras`` files (read and write) and legacy Keras 2 ``.h5`` files (read).

A ``.keras`` file is a zip of ``config.json`` (the model record, plus ``compile_config``),
``metadata.json`` and ``model.weights.h5`` (groups ``layers/<name>/vars/<i>``). A legacy
``.h5`` file holds the record in the root attribute ``model_config``, the training setup in
``training_config`` and the weights under ``model_weights/<layer name>/`` listed by each
group's ``weight_names``. HDF5 is read and written in pure Python (``hdf5``, ``hdf5_write``),
so both work in Pyodide. Every failure is a ``ModelFileError`` naming the file part.

Example:
    >>> import numpy as np, wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(2, input_shape=(3,))])
    >>> blob = save_keras(model)
    >>> sniff_keras(blob), sniff_h5(blob)
    (True, False)
    >>> x = np.ones((1, 3), np.float32)
    >>> bool(np.allclose(load_keras(blob).predict(x), model.predict(x)))
    True
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import numpy as np

from .._version import __version__
from ..nn.base import LOAD_BUDGET, _set_data
from .atomic import atomic_write
from .format import ModelFileError
from .hdf5 import SIGNATURE, H5Dataset, H5File, H5Group
from .hdf5_write import write_hdf5
from .keras_compile import compile_from_keras, compile_to_keras
from .keras_models import keras_groups, legacy_weights, model_from_keras, model_to_keras

MAX_MEMBERS, MAX_CONFIG_BYTES, MAX_WEIGHT_BYTES = 64, 64 << 20, 2 << 30


def _fail(part, msg):
    raise ModelFileError(f"load_model: {part}: {msg}")


def sniff_keras(data) -> bool:
    head = bytes(data[:4])
    return head == b"PK\x03\x04" and b"config.json" in bytes(data[:4096])


def sniff_h5(data) -> bool:
    return any(bytes(data[o : o + 8]) == SIGNATURE for o in (0, 512, 1024, 2048))


def _member(archive, name, limit):
    try:
        info = archive.getinfo(name)
    except KeyError:
        _fail(name, "the .keras archive has no such member")
    if info.file_size > limit:
        _fail(name, f"declares {info.file_size} bytes, limit {limit}")
    try:
        return archive.read(info)
    except Exception as e:  # zlib.error, BadZipFile, EOFError, NotImplementedError...
        _fail(name, f"cannot be read from the archive ({type(e).__name__}: {str(e)[:200]})")


def _json(raw, part):
    try:
        value = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        _fail(part, f"not valid JSON ({type(e).__name__}: {str(e)[:200]})")
    if not isinstance(value, dict):
        _fail(part, f"expected a JSON object, received {type(value).__name__}")
    return value


def _build(record, part, custom_objects, budget):
    """The model of a Keras record; any malformed record becomes a ModelFileError."""
    if not isinstance(record, dict):
        _fail(part, f"expected a model record, received {type(record).__name__}")
    LOAD_BUDGET["left"] = budget
    try:
        return model_from_keras(record, custom_objects)
    except ModelFileError:
        raise
    except RecursionError:
        _fail(part, "the model record is nested too deeply")
    except Exception as e:  # a hostile record: any layer constructor may refuse it
        _fail(part, f"{type(e).__name__}: {str(e)[:300]}")
    finally:
        LOAD_BUDGET["left"] = None


def _weight_count(group, depth=0) -> int:
    """Values held by every dataset under ``group`` (the budget for building the model)."""
    if depth > 32:
        return 0
    total = 0
    for name in group.keys():
        child = group[name]
        if isinstance(child, H5Dataset):
            total += int(np.prod(child.shape or ()))
        elif isinstance(child, H5Group):
            total += _weight_count(child, depth + 1)
    return total


def _assign(tensors, arrays, part):
    if len(arrays) != len(tensors):
        _fail(part, f"holds {len(arrays)} weights, the layer has {len(tensors)}")
    for (name, w), a in zip(tensors, arrays, strict=True):
        if tuple(a.shape) != tuple(w.shape) or a.dtype.kind not in "fiu":
            _fail(
                part, f"weight {name!r}: expected {w.shape} numbers, received {a.shape} {a.dtype}"
            )
        _set_data(w, a.astype(w.dtype))


def _group_at(root, path, part):
    node = root
    for name in path.split("/"):
        if not isinstance(node, H5Group) or name not in node:
            return None
        node = node[name]
    return node


def load_keras(data, compile=True, custom_objects=None):
    """A wasmdl model from a Keras 3 ``.keras`` file's bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        infos = archive.infolist()
    except Exception as e:  # BadZipFile, EOFError, ValueError, OverflowError...
        _fail(".keras archive", f"not a readable zip ({type(e).__name__}: {str(e)[:200]})")
    if len(infos) > MAX_MEMBERS:
        _fail(".keras archive", f"{len(infos)} members exceed the limit {MAX_MEMBERS}")
    config = _json(_member(archive, "config.json", MAX_CONFIG_BYTES), "config.json")
    weights = H5File(_member(archive, "model.weights.h5", MAX_WEIGHT_BYTES), "model.weights.h5")
    model = _build(config, "config.json", custom_objects, _weight_count(weights.root))
    for path, tensors in keras_groups(model):
        group = _group_at(weights.root, path, "model.weights.h5")
        if group is None:
            if tensors:
                _fail(f"model.weights.h5: /{path}", "missing (the layer has weights)")
            continue
        part = f"model.weights.h5: /{path}"
        names = sorted((k for k in group.keys()), key=lambda k: (len(k), k))
        arrays = [_dataset(group, k, part) for k in names]
        _assign(tensors, arrays, part)
    if compile and isinstance(config.get("compile_config"), dict):
        compile_from_keras(model, config["compile_config"], "config.json compile_config")
    return model


def _dataset(group, name, part):
    child = group[name]
    if not isinstance(child, H5Dataset):
        _fail(f"{part}/{name}", "expected a dataset")
    return child.read()


def save_keras(model, path=None):
    """The ``.keras`` file of a wasmdl Sequential or functional model (bytes, or written)."""
    record = model_to_keras(model)
    compiled = compile_to_keras(model)
    if compiled is not None:
        record["compile_config"] = compiled
    tree = {}
    for group_path, tensors in keras_groups(model):
        node = tree
        for name in group_path.split("/"):
            node = node.setdefault(name, {})
        node.update({str(i): w.numpy() for i, (_, w) in enumerate(tensors)})
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d@%H:%M:%S")
    # keras_version: the Keras release whose format this writes (the tests load it in 3.15.1)
    meta = {"keras_version": "3.15.1", "date_saved": date, "producer": f"wasmdl {__version__}"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata.json", json.dumps(meta))
        z.writestr("config.json", json.dumps(record))
        z.writestr("model.weights.h5", write_hdf5(tree))
    if path is None:
        return buf.getvalue()
    atomic_write(path, buf.getvalue())  # the previous file survives any failure
    return None


def load_h5(data, compile=True, custom_objects=None):
    """A wasmdl model from a legacy Keras ``.h5`` file's bytes (Keras 2, or Keras 3's h5)."""
    root = H5File(data, ".h5 file").root
    attrs = root.attrs
    if not isinstance(attrs.get("model_config"), str):
        _fail(".h5 attribute model_config", "missing: a weights-only file, not a saved model")
    record = _json(attrs["model_config"].encode(), ".h5 attribute model_config")
    if "model_weights" not in root or not isinstance(root["model_weights"], H5Group):
        _fail(".h5 /model_weights", "missing")
    groups = root["model_weights"]
    model = _build(record, ".h5 attribute model_config", custom_objects, _weight_count(groups))
    for layer in model.layers:
        tensors = legacy_weights(layer)
        part = f".h5 /model_weights/{layer.name}"
        if not tensors:
            continue
        group = groups[layer.name] if layer.name in groups else _fail(part, "missing")
        names = group.attrs.get("weight_names")
        if not isinstance(names, np.ndarray) or names.dtype.kind not in "OS":
            _fail(part, "expected a 'weight_names' attribute of strings")
        arrays = [_legacy_dataset(group, _text(n), part) for n in names.tolist()]
        _assign(tensors, arrays, part)
    training = attrs.get("training_config")
    if compile and isinstance(training, str):
        config = _json(training.encode(), ".h5 attribute training_config")
        config.setdefault("optimizer", config.get("optimizer_config"))
        compile_from_keras(model, config, ".h5 attribute training_config")
    return model


def _text(value) -> str:
    """Keras 2 stores names as fixed-length bytes, Keras 3 as variable-length strings."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _legacy_dataset(group, path, part):
    node = _group_at(group, path, part)
    if not isinstance(node, H5Dataset):
        _fail(f"{part}/{path[:100]}", "the weight named in weight_names is missing")
    return node.read()


def save_h5(model, path=None):
    raise ValueError(
        "save_model: argument 'format' expected 'keras' or 'wasmdl' for writing (legacy .h5 "
        "files are read only), received 'h5'"
    )
