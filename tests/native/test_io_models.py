"""save_model/load_model on real models: identical predictions, subclassed models, weights-only
files, and hostile architectures (unknown classes, bad configs, mismatched weights)."""

import json
import struct

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import ModelFileError
from wasmdl.io.format import read_bytes, write_bytes


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _cnn():
    return wasmdl.Sequential(
        [
            nn.Conv2D(4, 3, activation="relu", padding="same", input_shape=(8, 8, 2)),
            nn.BatchNormalization(),
            nn.MaxPool2D(),
            nn.SeparableConv2D(3, 3, padding="same"),
            nn.DepthwiseConv2D(3, padding="same"),
            nn.Conv2DTranspose(2, 3, strides=2),
            nn.UpSampling2D(),
            nn.ZeroPadding2D(1),
            nn.GlobalMaxPool2D(),
            nn.Dropout(0.3),
            nn.Dense(5, activation="gelu", kernel_regularizer="l2"),
            nn.LayerNormalization(),
            nn.Dense(3, activation="softmax"),
        ]
    )


def _rnn():
    return wasmdl.Sequential(
        [
            nn.Embedding(20, 6, input_shape=(7,)),
            nn.Bidirectional(nn.LSTM(4, return_sequences=True)),
            nn.GRU(5, return_sequences=True),
            nn.Conv1D(3, 2, padding="causal"),
            nn.MaxPool1D(),
            nn.SimpleRNN(4),
            nn.Reshape((2, 2)),
            nn.Permute((2, 1)),
            nn.Flatten(),
            nn.Dense(2),
        ]
    )


@pytest.mark.parametrize(
    ("make", "x"),
    [
        (_cnn, rand(3, 8, 8, 2)),
        (_rnn, np.random.default_rng(1).integers(0, 20, (3, 7))),
    ],
    ids=["cnn", "rnn"],
)
def test_round_trip_identical_predictions(tmp_path, make, x):
    model = make()
    model.compile("adam", "mse")
    model.fit(x, rand(3, *model.predict(x).shape[1:]), epochs=1, verbose=0)  # moves BN stats
    path = tmp_path / "m.wasmdl"
    model.save(path)
    again = wasmdl.load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert [n for n, _ in again.named_weights()] == [n for n, _ in model.named_weights()]
    assert again.count_params() == model.count_params()
    assert wasmdl.load_model(path.read_bytes()).summary(print_fn=None) == again.summary(
        print_fn=None
    )


@wasmdl.nn.register
class TwoTower(wasmdl.Model):
    def __init__(self, units=4, **kw):
        super().__init__(**kw)
        self.units = units
        self.left, self.right = nn.Dense(units, activation="relu"), nn.Dense(units)
        self.merge, self.head = nn.Concatenate(), nn.Dense(1)

    def call(self, x):
        return self.head(self.merge([self.left(x), self.right(x)]))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_round_trip_and_weights_only():
    model = TwoTower(units=6)
    x = rand(5, 3)
    y = model.predict(x)
    again = wasmdl.load_model(wasmdl.save_model(model))
    assert isinstance(again, TwoTower) and again.units == 6
    np.testing.assert_array_equal(again.predict(x), y)
    fresh = TwoTower(units=6)
    fresh(x)
    fresh.load_weights(model.save_weights())
    np.testing.assert_array_equal(fresh.predict(x), y)
    with pytest.raises(ValueError, match="load_weights: weight 'left.kernel' expected shape"):
        bigger = TwoTower(units=7)
        bigger(x)
        bigger.load_weights(model.save_weights())


def _model_file(config, weights=None):
    return write_bytes(config, weights or {})


_FLATTEN = {"class_name": "Flatten", "config": {}}
_HUGE_DENSE = {
    "class_name": "Dense",
    "config": {"units": 10**9, "kernel_initializer": "orthogonal"},
}
_HUGE_UPSAMPLING = {"class_name": "UpSampling2D", "config": {"size": [10**6, 10**6]}}
HOSTILE_CONFIGS = {
    "unknown class": {"model": {"class_name": "os.system", "config": {}}},
    "dunder class": {"model": {"class_name": "__import__", "config": {"name": "os"}}},
    "config not dict": {"model": {"class_name": "Dense", "config": [1, 2]}},
    "bad layer arg": {
        "model": {
            "class_name": "Sequential",
            "config": {"layers": [{"class_name": "Dense", "config": {"units": -5}}]},
        }
    },
    "unexpected kwarg": {
        "model": {
            "class_name": "Sequential",
            "config": {
                "layers": [{"class_name": "Dense", "config": {"units": 2, "evil": "rm -rf"}}]
            },
        }
    },
    "layers not list": {"model": {"class_name": "Sequential", "config": {"layers": "Dense"}}},
    "weights only": {"weights_only": True},
    "bad build shape": {
        "model": {"class_name": "Sequential", "config": {"layers": []}},
        "build_input_shape": "huge",
    },
    "huge build shape": {
        "model": {"class_name": "Sequential", "config": {"layers": [_FLATTEN]}},
        "build_input_shape": [[None, 10**6, 10**6]],
    },
    "huge layer": {  # would allocate 4 GB and QR-factorise it if the file's budget did not stop it
        "model": {"class_name": "Sequential", "config": {"layers": [_HUGE_DENSE]}},
        "build_input_shape": [[None, 4]],
    },
    "huge upsampling": {
        "model": {"class_name": "Sequential", "config": {"layers": [_HUGE_UPSAMPLING]}},
        "build_input_shape": [[None, 28, 28, 1]],
    },
}


@pytest.mark.parametrize("name", list(HOSTILE_CONFIGS))
def test_hostile_architecture_raises_model_file_error(name):
    with pytest.raises(ModelFileError, match="^load_model: "):
        wasmdl.load_model(_model_file(HOSTILE_CONFIGS[name]))


def test_weights_that_do_not_match_the_architecture():
    model = wasmdl.Sequential([nn.Dense(3, input_shape=(4,))])
    config, tensors = read_bytes(model.save())
    wrong = dict(tensors, **{"layers.0.kernel": np.zeros((5, 3), np.float32)})
    with pytest.raises(ModelFileError, match="weight 'layers.0.kernel' expected shape"):
        wasmdl.load_model(write_bytes(config, wrong))
    missing = {k: v for k, v in tensors.items() if k != "layers.0.bias"}
    with pytest.raises(ModelFileError, match="exceeds the weight values the file holds"):
        wasmdl.load_model(write_bytes(config, missing))


def test_truncated_real_model_file():
    blob = _cnn().save()
    for cut in (0, 7, 8, 100, len(blob) // 2, len(blob) - 1):
        with pytest.raises(ModelFileError):
            wasmdl.load_model(blob[:cut])
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    header["__metadata__"]["config"] = "{" * 5000  # deep/invalid JSON inside the metadata
    text = json.dumps(header).encode()
    with pytest.raises(ModelFileError, match="architecture config"):
        wasmdl.load_model(struct.pack("<Q", len(text)) + text + blob[8 + n :])
