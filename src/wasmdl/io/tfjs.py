"""TensorFlow.js layers models: ``model.json`` (Keras topology + weights manifest) and binary
weight shards, read and written.

``load(source, weights=None)``: ``source`` is ``model.json``'s bytes or its path; the shards
come from ``weights`` (``{path in the manifest: bytes}`` or a function ``path -> bytes``), or,
for a path, from the files beside it. Several shards, several manifest groups, float32/int32
weights and quantized ones (``float16``, ``uint8``, ``uint16``, dequantized on load as TF.js
does: ``q * scale + min``) are read. Sequential topologies become ``wasmdl.Sequential``,
functional ones a ``TfjsGraphModel`` (``wasmdl.io.tfjs_graph``).

``save(model, path=None, quantize=None, shard_bytes=4 MiB)`` writes a ``Sequential`` (or a
functional model loaded from TF.js) as ``{file name: bytes}`` (and the files, into directory
``path``); ``tf.loadLayersModel`` reads them.

Every count, size and offset is checked before use; anything wrong raises ``ModelFileError``
naming the part (``weightsManifest[0].weights[3]``, a shard path, a layer); nothing in the
files is executed and no path from a file is opened unless the caller gave a directory (and
then only plain names inside it).

Example:
    >>> import numpy as np, wasmdl
    >>> net = wasmdl.Sequential([wasmdl.nn.Dense(3, "relu", input_shape=(4,))])
    >>> files = save(net)
    >>> sorted(files)
    ['group1-shard1of1.bin', 'model.json']
    >>> again = load(files["model.json"], weights=files)
    >>> bool(np.allclose(again.predict(np.ones((1, 4))), net.predict(np.ones((1, 4)))))
    True
"""

from __future__ import annotations

import json
import os

import numpy as np

from .format import ModelFileError
from .load_guard import bounded_run
from .tfjs_layers import from_keras, to_keras
from .tfjs_weights import QUANT, quantize_array, read_weights

MAX_JSON_BYTES, MAX_WEIGHTS, MAX_RANK = 64 * 1024 * 1024, 100_000, 16
MAX_TOTAL_BYTES = 1 << 31
SHARD_BYTES = 4 * 1024 * 1024
_FAULTS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,
    OverflowError,
    ZeroDivisionError,
    NotImplementedError,
)


def _fail(where, msg):
    raise ModelFileError(f"tfjs: {where}: {msg}")


def sniff(data) -> bool:
    """True for a TF.js layers-model ``model.json`` (JSON with modelTopology and a manifest)."""
    head = bytes(memoryview(data)[:4096]).lstrip()
    return (
        head[:1] == b"{"
        and b'"modelTopology"' in bytes(memoryview(data))
        and (b'"weightsManifest"' in bytes(memoryview(data)))
    )


def _json(source) -> tuple[dict, str | None]:
    base = None
    if isinstance(source, str | os.PathLike):
        base = os.path.dirname(os.fspath(source))
        with open(source, "rb") as f:
            source = f.read(MAX_JSON_BYTES + 1)
    raw = bytes(memoryview(source))
    if len(raw) > MAX_JSON_BYTES:
        _fail("model.json", f"larger than {MAX_JSON_BYTES} bytes")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        _fail("model.json", f"not valid UTF-8 JSON ({type(e).__name__}: {str(e)[:120]})")
    if not isinstance(doc, dict) or not isinstance(doc.get("modelTopology"), dict):
        _fail("model.json", "expected an object with a 'modelTopology' object")
    return doc, base


def _reader(weights, base):
    if callable(weights):
        return weights
    if isinstance(weights, dict):
        return lambda p: weights[p] if p in weights else _fail(f"shard {p[:100]!r}", "not given")
    if base is None:
        raise ValueError(
            "tfjs.load: argument 'weights' expected {path: bytes} or a function when "
            "model.json is given as bytes, received None"
        )

    def read(p):
        if os.path.basename(p) != p or p in ("", ".", ".."):
            _fail(f"shard {p[:100]!r}", "paths other than plain file names are not opened")
        with open(os.path.join(base, p), "rb") as f:
            return f.read(MAX_TOTAL_BYTES + 1)

    return read


def _topology(doc) -> dict:
    topo = doc["modelTopology"]
    topo = topo.get("model_config", topo)  # the Python converter nests it
    if not isinstance(topo, dict) or not isinstance(topo.get("config"), dict | list):
        _fail("modelTopology", "expected {class_name, config}")
    return topo


def keras_weight_name(layer, wname: str) -> str:
    """The Keras/TF.js name of a wasmdl weight (DepthwiseConv2D's ``kernel`` is Keras'
    ``depthwise_kernel``)."""
    if wname == "kernel" and type(layer).__name__ == "DepthwiseConv2D":
        return "depthwise_kernel"
    return wname


def _assign(model, named: list[tuple[str, np.ndarray]]):
    """Give each layer its weights: manifest names ``<layer name>/.../<weight>``."""
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    for name, arr in named:
        parts = name.split("/")
        by_layer.setdefault(parts[0], {})[parts[-1].split(":")[0]] = arr
    new, used = {}, set()
    for i, layer in enumerate(model.layers):
        for wname, w in layer.named_weights():
            key = keras_weight_name(layer, wname)
            got = by_layer.get(layer.name, {}).get(key)
            if got is None:
                _fail(f"layer {layer.name!r}", f"weight {key!r} is missing from the manifest")
            if tuple(got.shape) != w.shape:
                _fail(
                    f"layer {layer.name!r} weight {key!r}",
                    f"expected shape {w.shape}, received {tuple(got.shape)}",
                )
            new[f"layers.{i}.{wname}"] = got.astype(np.float32)
            used.add((layer.name, key))
    extra = [f"{k}/{w}" for k, ws in by_layer.items() for w in ws if (k, w) not in used]
    if extra:
        _fail("weightsManifest", f"weights no layer uses: {extra[:8]}")
    model.load_weights_dict(new, fn="tfjs.load")


def _build(topo):
    from ..models import Sequential

    cfg = topo["config"]
    if topo.get("class_name") == "Sequential":
        layers = cfg if isinstance(cfg, list) else cfg.get("layers")
        if not isinstance(layers, list) or not layers or len(layers) > MAX_WEIGHTS:
            _fail("modelTopology.config.layers", "expected a non-empty list")
        specs = [s for s in layers if isinstance(s, dict) and s.get("class_name") != "InputLayer"]
        first = next((s for s in layers if isinstance(s, dict)), {})
        built = [from_keras(s) for s in specs]
        shape = (first.get("config") or {}).get("batch_input_shape") or (
            first.get("config") or {}
        ).get("batch_shape")
        if built and built[0].input_shape_arg is None and isinstance(shape, list):
            built[0].input_shape_arg = tuple(shape[1:])
        if not built or built[0].input_shape_arg is None:
            _fail("modelTopology", "the first layer has no batch_input_shape")
        return Sequential(built, name=cfg.get("name") if isinstance(cfg, dict) else None)
    if topo.get("class_name") in ("Model", "Functional"):
        from .tfjs_graph import TfjsGraphModel

        return TfjsGraphModel(cfg)
    _fail("modelTopology", f"class {str(topo.get('class_name'))[:40]!r} is not supported")


def load(source, weights=None, **kw):
    """A wasmdl model from a TF.js layers model (see the module docstring)."""
    from ..nn.base import LOAD_BUDGET
    from ..nn.spec import LOADING

    doc, base = _json(source)
    named = read_weights(doc.get("weightsManifest", []), _reader(weights, base))
    LOAD_BUDGET["left"] = sum(a.size for _, a in named)
    LOADING["on"] = True  # shapes are checked against wasmdl.nn.spec.LOAD_LIMITS
    try:
        with bounded_run(where="tfjs.load"):
            model = _build(_topology(doc))
    except ModelFileError:
        raise
    except _FAULTS as e:
        raise ModelFileError(f"tfjs: modelTopology: {type(e).__name__}: {str(e)[:300]}") from e
    finally:
        LOAD_BUDGET["left"], LOADING["on"] = None, False
    _assign(model, named)
    return model


def _weights_blob(model, quantize) -> tuple[bytearray, list]:
    """Every weight's bytes (quantized if asked), in layer order, and their manifest specs."""
    blob, specs = bytearray(), []
    for layer in model.layers:
        for wname, w in layer.named_weights():
            arr = np.ascontiguousarray(w.numpy(), "<f4")
            name = f"{layer.name}/{keras_weight_name(layer, wname)}"
            spec = {"name": name, "shape": list(arr.shape), "dtype": "float32"}
            if quantize:
                raw, spec["quantization"] = quantize_array(arr, quantize)
            else:
                raw = arr.tobytes()
            blob += raw
            specs.append(spec)
    return blob, specs


def _save_topology(model) -> dict:
    """``{class_name, config}`` of a Sequential, or of a functional model loaded from TF.js
    (its layers' configs rewritten from the layers as they are now)."""
    from ..models import Sequential
    from .tfjs_graph import TfjsGraphModel

    if isinstance(model, TfjsGraphModel):
        config = json.loads(json.dumps(model.config))
        current = {layer.name: to_keras(layer) for layer in model.layers}
        for spec in config["layers"]:
            if spec.get("class_name") != "InputLayer":
                spec["config"] = current[spec["config"]["name"]]["config"]
        return {"class_name": "Model", "config": config}
    if not isinstance(model, Sequential) or not model.layers:
        raise TypeError(
            f"tfjs.save: argument 'model' expected a non-empty Sequential (or a functional "
            f"model loaded from TF.js), received {type(model).__name__}"
        )
    layers = [to_keras(layer) for layer in model.layers]
    if "batch_input_shape" not in layers[0]["config"]:
        shapes = model.build_input_shape_json()
        layers[0]["config"]["batch_input_shape"] = [None, *shapes[0][1:]]
    return {"class_name": "Sequential", "config": {"name": model.name, "layers": layers}}


def save(model, path=None, quantize: str | None = None, shard_bytes: int = SHARD_BYTES):
    """``{file name: bytes}`` of a TF.js layers model; written into directory ``path`` too."""
    if quantize not in (None, *QUANT):
        raise ValueError(
            f"tfjs.save: argument 'quantize' expected None or one of "
            f"{sorted(QUANT)}, received {quantize!r}"
        )
    topology = _save_topology(model)
    blob, specs = _weights_blob(model, quantize)
    n = max(1, -(-len(blob) // shard_bytes))
    shards = {
        f"group1-shard{i + 1}of{n}.bin": bytes(blob[i * shard_bytes : (i + 1) * shard_bytes])
        for i in range(n)
    }
    doc = {
        "format": "layers-model",
        "generatedBy": "wasmdl",
        "convertedBy": "wasmdl.io.tfjs",
        "modelTopology": {
            **topology,
            "keras_version": "tfjs-layers 4.22.0",
            "backend": "tensor_flow.js",
        },
        "weightsManifest": [{"paths": list(shards), "weights": specs}],
    }
    files = {"model.json": json.dumps(doc).encode(), **shards}
    if path is not None:
        os.makedirs(path, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(path, name), "wb") as f:
                f.write(data)
    return files
