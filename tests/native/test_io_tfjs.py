"""TensorFlow.js layers models both ways, with TF.js 4.22 in Node as the oracle
(tests/native/tfjs_oracle.cjs): models TF.js saves (several shards; Sequential and functional;
MLP, CNN with BatchNorm, LSTM, GRU) load and predict what TF.js predicts (1e-5 relative);
quantized copies (uint8, uint16, float16, written with the tensorflowjs converter's affine
scheme) predict what TF.js predicts from the same files; what wasmdl writes (quantized too)
loads in TF.js with wasmdl's predictions."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import ModelFileError, tfjs, tfjs_weights
from wasmdl.io.tfjs_layers import hard_sigmoid_keras2
from wasmdl.nn.recurrent_compat import GRUResetBefore

ORACLE = os.path.join(os.path.dirname(__file__), "tfjs_oracle.cjs")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None
    or not os.path.isdir(os.path.join(ROOT, "node_modules", "@tensorflow", "tfjs")),
    reason="needs Node and node_modules/@tensorflow/tfjs (bash scripts/setup installs them)",
)
KINDS = ["mlp", "cnn", "lstm", "gru", "functional"]


def node(*args):
    subprocess.run(["node", ORACLE, *map(str, args)], check=True, capture_output=True, timeout=300)


def close(got, want, rtol=1e-5):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
    assert err <= rtol, f"relative error {err:.3g} > {rtol}"


def _io(d, kind):
    x, y = (json.loads((d / f).read_text()) for f in ("x.json", "y.json"))
    xs = np.array(x["data"], np.float32).reshape(x["shape"])
    return xs.astype(np.int32) if kind == "gru" else xs, np.array(y["data"]).reshape(y["shape"])


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Each kind saved by TF.js itself (with inputs and TF.js' predictions)."""
    out = {}
    for kind in KINDS:
        d = tmp_path_factory.mktemp(kind)
        node("make", d, kind)
        out[kind] = d
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_tfjs_saved_model_loads_and_predicts(made, kind):
    d = made[kind]
    doc = json.loads((d / "model.json").read_text())
    assert len(doc["weightsManifest"][0]["paths"]) > 1  # several shards
    assert tfjs.sniff((d / "model.json").read_bytes())
    x, want = _io(d, kind)
    close(tfjs.load(d / "model.json").predict(x), want)
    shards = {p: (d / p).read_bytes() for p in doc["weightsManifest"][0]["paths"]}
    close(tfjs.load((d / "model.json").read_bytes(), weights=shards).predict(x), want)


def _quantized_copy(src, dst, dtype):
    """``src`` rewritten with quantized weights (the converter's scheme), for TF.js to read."""
    dst.mkdir()
    doc = json.loads((src / "model.json").read_text())
    named = tfjs_weights.read_weights(doc["weightsManifest"], lambda p: (src / p).read_bytes())
    blob, specs = b"", []
    for spec, (_, arr) in zip(doc["weightsManifest"][0]["weights"], named, strict=True):
        raw, spec["quantization"] = tfjs_weights.quantize_array(arr, dtype)
        blob += raw
        specs.append(spec)
    (dst / "q.bin").write_bytes(blob)
    doc["weightsManifest"] = [{"paths": ["q.bin"], "weights": specs}]
    (dst / "model.json").write_text(json.dumps(doc))
    shutil.copy(src / "x.json", dst / "x.json")


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16"])
@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm", "gru"])
def test_quantized_weights_dequantize_like_tfjs(made, kind, dtype, tmp_path):
    q = tmp_path / "q"
    _quantized_copy(made[kind], q, dtype)
    node("predict", q)
    x, want = _io(q, kind)
    close(tfjs.load(q / "model.json").predict(x), want)


def _randomize(net):
    rng = np.random.default_rng(3)
    net.set_weights([rng.uniform(0.05, 0.6, w.shape).astype(np.float32) for w in net.weights])
    return net


EXPORTS = {
    "mlp": lambda: (
        wasmdl.Sequential([nn.Dense(8, "relu", input_shape=(5,)), nn.Dense(3, "softmax")]),
        (4, 5),
    ),
    "cnn": lambda: (
        wasmdl.Sequential(
            [
                nn.Conv2D(4, 3, padding="same", input_shape=(8, 8, 2)),
                nn.BatchNormalization(),
                nn.Activation("relu"),
                nn.MaxPool2D(2),
                nn.DepthwiseConv2D(3, padding="same", activation="tanh"),
                nn.SeparableConv2D(3, 2),
                nn.GlobalAvgPool2D(),
                nn.Dense(2, "sigmoid"),
            ]
        ),
        (2, 8, 8, 2),
    ),
    "rnn": lambda: (
        wasmdl.Sequential(
            [
                nn.LSTM(5, return_sequences=True, input_shape=(6, 3)),
                GRUResetBefore(4, recurrent_activation=hard_sigmoid_keras2),
                nn.Dense(2),
            ]
        ),
        (3, 6, 3),
    ),
}


@pytest.mark.parametrize("quantize", [None, "uint16"])
@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_wasmdl_model_loads_in_tfjs(kind, quantize, tmp_path):
    net, shape = EXPORTS[kind]()
    _randomize(net)
    tfjs.save(net, tmp_path, quantize=quantize, shard_bytes=256)
    again = tfjs.load(tmp_path / "model.json")  # what TF.js will see, dequantized
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    (tmp_path / "x.json").write_text(json.dumps({"shape": list(shape), "data": x.ravel().tolist()}))
    node("predict", tmp_path)
    _, got = _io(tmp_path, kind)
    close(got, again.predict(x))
    if quantize is None:
        close(got, net.predict(x))


def test_missing_and_extra_weights_are_named(made):
    d = made["mlp"]
    doc = json.loads((d / "model.json").read_text())
    doc["weightsManifest"][0]["weights"][0]["name"] = "nowhere/kernel"
    shards = {p: (d / p).read_bytes() for p in doc["weightsManifest"][0]["paths"]}
    with pytest.raises(ModelFileError, match="'kernel' is missing"):
        tfjs.load(json.dumps(doc).encode(), weights=shards)


def test_shard_paths_outside_the_directory_are_not_opened(made, tmp_path):
    doc = json.loads((made["mlp"] / "model.json").read_text())
    doc["weightsManifest"][0]["paths"] = ["../../etc/passwd"]
    (tmp_path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="plain file names"):
        tfjs.load(tmp_path / "model.json")


@pytest.mark.parametrize(
    "extra, size, k",
    [
        ({}, 1024, 1),  # 512 filters on a 1024x1024 input: 2^29 outputs
        ({"dilation_rate": [10**9, 1], "padding": "same"}, 8, 3),  # pads 10^9 rows each side
    ],
)
def test_tiny_hostile_topology_cannot_make_load_allocate_much(extra, size, k):
    layer = {
        "class_name": "Conv2D",
        "config": {"name": "c", "filters": 512, "kernel_size": [k, k],
                   "batch_input_shape": [None, size, size, 1], **extra},
    }  # fmt: skip
    specs = [
        {"name": "c/kernel", "shape": [k, k, 1, 512], "dtype": "float32"},
        {"name": "c/bias", "shape": [512], "dtype": "float32"},
    ]
    doc = {
        "modelTopology": {"class_name": "Sequential", "config": {"layers": [layer]}},
        "weightsManifest": [{"paths": ["w"], "weights": specs}],
    }
    with pytest.raises(ModelFileError, match="over the limit"):
        tfjs.load(json.dumps(doc).encode(), weights={"w": bytes(4 * 512 * (k * k + 1))})


@pytest.mark.parametrize("kind", ["functional", "gru"])
def test_tfjs_model_round_trips_through_wasmdl(made, kind, tmp_path):
    """TF.js file -> wasmdl -> (weights changed) -> TF.js file -> TF.js predicts as wasmdl."""
    model = tfjs.load(made[kind] / "model.json")
    _randomize(model)
    tfjs.save(model, tmp_path, shard_bytes=100)
    shutil.copy(made[kind] / "x.json", tmp_path / "x.json")
    node("predict", tmp_path)
    x, got = _io(tmp_path, kind)
    close(got, model.predict(x))
