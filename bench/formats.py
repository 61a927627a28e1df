"""Writers for the peer frameworks' own saved formats, from one set of grid weights.

Each writer returns ``{relative file name: bytes}``; ``scripts/build_bench_models.py`` writes
them under ``site/bench/models/<config>/``. Formats:

- TensorFlow.js layers model: ``model.json`` (Keras topology + weights manifest) and
  ``group1-shard<i>of<n>.bin`` shards of at most 4 MiB (the converter's default).
- ConvNetJS ``Net.toJSON()``: input, then fc (+ relu) layers, then a softmax layer.
- brain.js 1.6.1 ``NeuralNetwork.toJSON()``: one activation for every layer (relu).
- synaptic 1.1.4 ``Network.toJSON()``: neuron list + connection list (relu hidden, identity out).
- ONNX and Keras.js: see ``bench.protobuf``; WebDNN: ``bench.webdnn_export``.

Example:
    >>> from bench.grid import CONFIGS, make_weights
    >>> files = tfjs_layers(make_weights(CONFIGS[0]))
    >>> sorted(files)
    ['group1-shard1of1.bin', 'model.json']
"""

from __future__ import annotations

import json

import numpy as np

from . import protobuf

SHARD_BYTES = 4 * 1024 * 1024


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _floats(arr: np.ndarray) -> list[float]:
    # float32 values written as the shortest decimal that round-trips through float32.
    return [float(str(v)) for v in np.ravel(np.asarray(arr, np.float32))]


def tfjs_layers(weights) -> dict[str, bytes]:
    """TF.js layers-model files: ``model.json`` + binary weight shards."""
    names = [f"dense_{i + 1}" for i in range(len(weights))]
    layers = []
    for layer in protobuf.keras_config(weights, names)["config"]:
        cfg = dict(layer["config"], kernel_initializer={"class_name": "Zeros", "config": {}})
        layers.append({"class_name": "Dense", "config": cfg})
    blob, specs = bytearray(), []
    for (w, b), name in zip(weights, names, strict=True):
        for wname, arr in (("kernel", w), ("bias", b)):
            specs.append({"name": f"{name}/{wname}", "shape": list(arr.shape), "dtype": "float32"})
            blob += np.ascontiguousarray(arr, "<f4").tobytes()
    n = max(1, -(-len(blob) // SHARD_BYTES))
    shards = {
        f"group1-shard{i + 1}of{n}.bin": bytes(blob[i * SHARD_BYTES : (i + 1) * SHARD_BYTES])
        for i in range(n)
    }
    model = {
        "format": "layers-model",
        "generatedBy": "bench (Keras 2 Sequential of Dense layers)",
        "convertedBy": "bench.formats.tfjs_layers",
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": "mlp", "layers": layers},
            "keras_version": "tfjs-layers 4.22.0",
            "backend": "tensor_flow.js",
        },
        "weightsManifest": [{"paths": list(shards), "weights": specs}],
    }
    return {"model.json": _dumps(model), **shards}


def _vol(arr: np.ndarray) -> dict:
    return {"sx": 1, "sy": 1, "depth": int(arr.size), "w": _floats(arr)}


def convnetjs(weights) -> dict[str, bytes]:
    """ConvNetJS ``Net.toJSON()``: fc filters are the kernel's columns (one per output unit)."""
    n_in = int(weights[0][0].shape[0])
    layers = [{"out_depth": n_in, "out_sx": 1, "out_sy": 1, "layer_type": "input"}]
    for i, (w, b) in enumerate(weights):
        n_out = int(w.shape[1])
        layers.append(
            {
                "out_depth": n_out,
                "out_sx": 1,
                "out_sy": 1,
                "layer_type": "fc",
                "num_inputs": int(w.shape[0]),
                "l1_decay_mul": 0.0,
                "l2_decay_mul": 1.0,
                "filters": [_vol(w[:, j]) for j in range(n_out)],
                "biases": _vol(b),
            }
        )
        kind = "softmax" if i == len(weights) - 1 else "relu"
        extra = {"num_inputs": n_out} if kind == "softmax" else {}
        layers.append({"out_depth": n_out, "out_sx": 1, "out_sy": 1, "layer_type": kind, **extra})
    return {"convnetjs.json": _dumps({"layers": layers})}


def brainjs(weights) -> dict[str, bytes]:
    """brain.js ``NeuralNetwork.toJSON()`` with ``activation: "relu"`` (every layer, output too)."""
    sizes = [int(weights[0][0].shape[0])] + [int(w.shape[1]) for w, _ in weights]
    layers = [{str(k): {} for k in range(sizes[0])}]
    for w, b in weights:
        layer = {}
        for j in range(w.shape[1]):
            col = _floats(w[:, j])
            layer[str(j)] = {
                "bias": _floats(b[j : j + 1])[0],
                "weights": {str(k): v for k, v in enumerate(col)},
            }
        layers.append(layer)
    net = {
        "sizes": sizes,
        "layers": layers,
        "outputLookup": False,
        "inputLookup": False,
        "activation": "relu",
        "trainOpts": {"iterations": 1, "learningRate": 0.15},
    }
    return {"brainjs.json": _dumps(net)}


def synaptic(weights) -> dict[str, bytes]:
    """synaptic ``Network.toJSON()``: ReLU hidden neurons, identity output neurons."""
    sizes = [int(weights[0][0].shape[0])] + [int(w.shape[1]) for w, _ in weights]
    neurons, starts = [], []
    for li, size in enumerate(sizes):
        starts.append(len(neurons))
        layer = "input" if li == 0 else "output" if li == len(sizes) - 1 else str(li - 1)
        squash = "IDENTITY" if layer in ("input", "output") else "RELU"
        biases = [0.0] * size if li == 0 else _floats(weights[li - 1][1])
        for j in range(size):
            neurons.append(
                {
                    "trace": {"elegibility": {}, "extended": {}},
                    "state": 0,
                    "old": 0,
                    "activation": 0,
                    "bias": biases[j],
                    "layer": layer,
                    "squash": squash,
                }
            )
    connections = []
    for li, (w, _) in enumerate(weights):
        vals = np.asarray(_floats(w)).reshape(w.shape)
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                connections.append(
                    {
                        "from": starts[li] + i,
                        "to": starts[li + 1] + j,
                        "weight": vals[i, j].item(),
                        "gater": None,
                    }
                )
    return {"synaptic.json": _dumps({"neurons": neurons, "connections": connections})}


def onnx(weights) -> dict[str, bytes]:
    return {"model.onnx": protobuf.onnx_model(weights)}


def kerasjs(weights) -> dict[str, bytes]:
    return {"model.bin": protobuf.kerasjs_model(weights)}
