"""Keras files both ways, against Keras 3 itself (torch backend) as the oracle.

- Files Keras wrote (.keras and legacy .h5) for an MLP, a CNN with BatchNorm, an LSTM/GRU model
  and a two-input two-output functional model with a shared layer (plus a model of the other
  mapped layers) load in wasmdl and predict within 1e-5 of Keras' own outputs (max |diff| over
  max |output|, per output).
- What wasmdl writes as .keras for the same models built in wasmdl loads in Keras with the
  same predictions, and its training configuration too.
- compile=True restores the training setup: evaluate() on the loaded model matches Keras'.
- An unsupported layer or option fails with a ModelFileError naming the layer and file part.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import ModelFileError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "keras_files"))
from keras_fixture import ACCEPTANCE, ALL, max_rel_err  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (pinned in pyproject's test extras)


def _feed(xs):
    return xs if len(xs) > 1 else xs[0]


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("name", ALL)
def test_keras_written_files_predict_like_keras(keras_files, name, ext):
    case = keras_files[name]
    model = wasmdl.load_model(case[ext])  # format sniffed from the bytes
    assert max_rel_err(model.predict(_feed(case["xs"])), case["ys"]) < 1e-5


@pytest.mark.parametrize("name", ACCEPTANCE)
def test_compile_true_restores_the_training_setup(keras_files, name, tmp_path):
    case = keras_files[name]
    path = tmp_path / f"{name}.keras"
    path.write_bytes(case["keras"])
    kmodel = keras.saving.load_model(path)
    xs, rng = case["xs"], np.random.default_rng(0)
    n = len(xs[0])
    ys = {  # targets unlike the predictions, of each loss' kind
        "mlp": [rng.integers(0, 3, n)],
        "cnn": [rng.normal(size=(n, 4)).astype(np.float32)],
        "rnn": [rng.normal(size=(n, 2)).astype(np.float32)],
        "two_in_two_out": [rng.normal(size=(n, 1)), np.eye(3)[rng.integers(0, 3, n)]],
    }[name]
    ys = [y.astype(np.float32) if y.dtype.kind == "f" else y for y in ys]
    want = kmodel.evaluate(_feed(xs), _feed(ys), verbose=0, return_dict=True)["loss"]
    for ext in ("keras", "h5"):
        model = wasmdl.load_model(case[ext])
        got = model.evaluate(_feed(xs), _feed(ys), return_dict=True)["loss"]
        assert got == pytest.approx(want, rel=1e-5)
    assert wasmdl.load_model(case["keras"], compile=False).compiled_loss is None


def _wasmdl_models():
    rng = np.random.default_rng(7)
    mlp = wasmdl.Sequential(
        [nn.Dense(16, activation="relu", input_shape=(8,)), nn.Dropout(0.2), nn.Dense(3)]
    )
    cnn = wasmdl.Sequential(
        [
            nn.Conv2D(8, 3, padding="same", activation="relu", input_shape=(12, 12, 3)),
            nn.BatchNormalization(),
            nn.MaxPool2D(2),
            nn.Conv2D(6, 3, strides=2),
            nn.BatchNormalization(),
            nn.Flatten(),
            nn.Dense(4),
        ]
    )
    for layer in cnn.layers:  # moving statistics away from their initial values
        if isinstance(layer, nn.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(wasmdl.tensor(rng.normal(size=n).astype(np.float32)))
            layer.moving_variance.assign(wasmdl.tensor(rng.uniform(0.5, 2, n).astype(np.float32)))
    rnn = wasmdl.Sequential(
        [nn.LSTM(6, return_sequences=True, input_shape=(7, 5)), nn.GRU(4), nn.Dense(2)]
    )
    a, b = wasmdl.Input((6,), name="a"), wasmdl.Input((6,), name="b")
    shared = nn.Dense(5, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    y1 = nn.Dense(1, name="y1")(nn.Concatenate()([sa, sb]))
    y2 = nn.Dense(3, activation="softmax", name="y2")(nn.Add()([sa, sb]))
    two = wasmdl.Model([a, b], [y1, y2])
    xs = {
        "mlp": [rng.normal(size=(5, 8))],
        "cnn": [rng.normal(size=(4, 12, 12, 3))],
        "rnn": [rng.normal(size=(3, 7, 5))],
        "two_in_two_out": [rng.normal(size=(4, 6)), rng.normal(size=(4, 6))],
    }
    models = {"mlp": mlp, "cnn": cnn, "rnn": rnn, "two_in_two_out": two}
    return models, {k: [x.astype(np.float32) for x in v] for k, v in xs.items()}


@pytest.mark.parametrize("name", ACCEPTANCE)
def test_wasmdl_written_keras_files_load_in_keras(name, tmp_path):
    models, xs = _wasmdl_models()
    model = models[name]
    model.compile("adam", loss=["mse", "mae"] if name == "two_in_two_out" else "mse")
    path = tmp_path / f"{name}.keras"
    model.save(path)  # the extension picks the format
    kmodel = keras.saving.load_model(path)
    want = model.predict(_feed(xs[name]))
    got = kmodel.predict(_feed(xs[name]), verbose=0)
    got = [np.asarray(g) for g in got] if isinstance(got, list) else np.asarray(got)
    assert max_rel_err(got, want) < 1e-5
    assert type(kmodel.optimizer).__name__ == "Adam"
    again = wasmdl.load_model(path.read_bytes())  # and back into wasmdl, unchanged
    assert max_rel_err(again.predict(_feed(xs[name])), want) < 1e-6


def test_unsupported_layer_names_the_layer_and_the_file_part(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.GaussianNoise(0.1, name="noisy")])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ModelFileError, match=r"config\.json.*'noisy'.*GaussianNoise"):
        wasmdl.load_model(tmp_path / "m.keras")
    dense = keras.layers.Dense(2, kernel_constraint=keras.constraints.NonNeg())
    model = keras.Sequential([keras.Input((4,)), dense])
    model.save(tmp_path / "c.keras")
    with pytest.raises(ModelFileError, match="kernel_constraint"):
        wasmdl.load_model(tmp_path / "c.keras")


def test_lambda_layers_need_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "l.keras")
    with pytest.raises(ModelFileError, match="Lambda layers need custom_objects"):
        wasmdl.load_model(tmp_path / "l.keras")


def test_truncated_and_foreign_files_raise_model_file_error(keras_files):
    blob = keras_files["mlp"]["keras"]
    for cut in (10, len(blob) // 2, len(blob) - 5):
        with pytest.raises(ModelFileError, match="^load_model: "):
            wasmdl.load_model(blob[:cut])
    with pytest.raises(ModelFileError, match="none of the formats"):
        wasmdl.load_model(b"GIF89a" + bytes(100))
    with pytest.raises(ValueError, match="argument 'format'"):
        wasmdl.load_model(blob, format="pickle")


def _keras2_record(record):
    """A Keras 3 model record rewritten the way tf.keras (Keras 2) wrote it: node lists
    ``[[layer, node, tensor, {}]]``, ``batch_input_shape``, plain dtypes, class 'Model'."""
    out = {"class_name": "Model", "config": dict(record["config"])}
    layers = []
    for layer in record["config"]["layers"]:
        config = {k: v for k, v in layer["config"].items() if k != "quantization_config"}
        if layer["class_name"] == "InputLayer":
            config["batch_input_shape"] = config.pop("batch_shape")
            config.pop("optional", None)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"]["config"]["name"]
        for key, value in config.items():
            if isinstance(value, dict) and "class_name" in value:
                config[key] = {"class_name": value["class_name"], "config": value["config"]}
        nodes = []
        for node in layer["inbound_nodes"]:
            args = node["args"][0]
            refs = args if isinstance(args, list) else [args]
            nodes.append([[*r["config"]["keras_history"], {}] for r in refs])
        layers.append({"class_name": layer["class_name"], "config": config,
                       "name": layer["name"], "inbound_nodes": nodes})  # fmt: skip
    out["config"]["layers"] = layers
    return out


def test_keras2_style_h5_with_legacy_nodes_and_byte_names(keras_files):
    """tf.keras' .h5 layout: model_config as bytes, layer_names and weight_names as fixed-length
    byte strings with ':0' suffixes, functional nodes as lists (read by Keras 2's loaders)."""
    import io
    import json
    import zipfile

    import h5py

    case = keras_files["two_in_two_out"]
    record = json.loads(zipfile.ZipFile(io.BytesIO(case["keras"])).read("config.json"))
    reference = wasmdl.load_model(case["keras"])
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(_keras2_record(record)).encode()
        f.attrs["keras_version"] = b"2.13.1"
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([la.name.encode() for la in reference.layers])
        for layer in reference.layers:
            names = [f"{layer.name}/{n}:0" for n, _ in layer.named_weights()]
            sub = group.create_group(layer.name)
            sub.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
            for n, (_, w) in zip(names, layer.named_weights(), strict=True):
                sub.create_dataset(n, data=w.numpy())
    model = wasmdl.load_model(buf.getvalue())
    assert max_rel_err(model.predict(case["xs"]), case["ys"]) < 1e-5


@pytest.mark.parametrize("name", ALL)
def test_keras_to_wasmdl_to_keras_round_trip(keras_files, name, tmp_path):
    """Every mapped layer written back: Keras reads wasmdl's .keras of each Keras model and
    predicts what Keras predicted from the original file."""
    case = keras_files[name]
    path = tmp_path / f"{name}.keras"
    wasmdl.load_model(case["keras"]).save(path, format="keras")
    got = keras.saving.load_model(path).predict(_feed(case["xs"]), verbose=0)
    got = [np.asarray(g) for g in got] if isinstance(got, list) else np.asarray(got)
    assert max_rel_err(got, case["ys"]) < 1e-5


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_sequential_built_without_input_layer(tmp_path, ext):
    """Keras' lazily built Sequential has no InputLayer: its build_config gives the shape."""
    kmodel = keras.Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    kmodel.build((None, 4))
    kmodel.save(tmp_path / f"lazy.{ext}")
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    model = wasmdl.load_model(tmp_path / f"lazy.{ext}")
    assert max_rel_err(model.predict(x), np.asarray(kmodel.predict(x, verbose=0))) < 1e-5
