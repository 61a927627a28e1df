"""Shape inference (``compute_output_shape``, ``ShapeSpec`` calls) against real outputs for every
built-in layer, input specs naming the layer, and ``Sequential.add`` building only the new layer."""

import time

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.nn.spec import ShapeSpec

CASES = [
    (lambda: nn.Dense(5), (2, 3)),
    (lambda: nn.Dense(5), (2, 4, 3)),
    (lambda: nn.Activation("relu"), (2, 3)),
    (lambda: nn.Dropout(0.5), (2, 3)),
    (lambda: nn.Flatten(), (2, 3, 4, 2)),
    (lambda: nn.Reshape((-1, 2)), (2, 3, 4)),
    (lambda: nn.Reshape((4, 3)), (2, 3, 4)),
    (lambda: nn.Permute((2, 1)), (2, 3, 4)),
    (lambda: nn.Embedding(10, 4), (2, 5)),
    (lambda: nn.Conv2D(4, 3), (2, 9, 8, 2)),
    (lambda: nn.Conv2D(4, (3, 2), strides=2, padding="same"), (2, 9, 8, 2)),
    (lambda: nn.Conv2D(4, 3, dilation_rate=2), (2, 9, 8, 2)),
    (lambda: nn.Conv1D(3, 3, padding="causal", strides=2), (2, 9, 2)),
    (lambda: nn.Conv1D(3, 3), (2, 9, 2)),
    (lambda: nn.DepthwiseConv2D(3, depth_multiplier=2), (2, 7, 7, 3)),
    (lambda: nn.SeparableConv2D(5, 3, padding="same", strides=2), (2, 7, 7, 3)),
    (lambda: nn.Conv2DTranspose(4, 3, strides=2), (2, 5, 4, 3)),
    (lambda: nn.Conv2DTranspose(4, 3, strides=2, padding="same"), (2, 5, 4, 3)),
    (lambda: nn.Conv2DTranspose(4, 2, strides=3), (2, 5, 4, 3)),
    (lambda: nn.BatchNormalization(), (4, 3)),
    (lambda: nn.BatchNormalization(axis=1), (4, 3, 5)),
    (lambda: nn.LayerNormalization(), (4, 3, 5)),
    (lambda: nn.MaxPool2D(), (2, 9, 8, 3)),
    (lambda: nn.AvgPool2D(3, strides=2, padding="same"), (2, 9, 8, 3)),
    (lambda: nn.MaxPool1D(2), (2, 9, 3)),
    (lambda: nn.AvgPool1D(3, padding="same"), (2, 9, 3)),
    (lambda: nn.GlobalAvgPool2D(), (2, 5, 4, 3)),
    (lambda: nn.GlobalMaxPool2D(keepdims=True), (2, 5, 4, 3)),
    (lambda: nn.GlobalAvgPool1D(), (2, 5, 3)),
    (lambda: nn.SimpleRNN(4), (2, 5, 3)),
    (lambda: nn.LSTM(4, return_sequences=True), (2, 5, 3)),
    (lambda: nn.GRU(4, return_state=True), (2, 5, 3)),
    (lambda: nn.Bidirectional(nn.LSTM(4, return_sequences=True)), (2, 5, 3)),
    (lambda: nn.Bidirectional(nn.GRU(4), merge_mode="sum"), (2, 5, 3)),
    (lambda: nn.ZeroPadding2D(((1, 2), (0, 3))), (2, 5, 4, 3)),
    (lambda: nn.ZeroPadding1D((2, 1)), (2, 5, 3)),
    (lambda: nn.UpSampling2D((2, 3)), (2, 5, 4, 3)),
    (lambda: nn.UpSampling1D(3), (2, 5, 3)),
]


def _shapes(out):
    outs = out if isinstance(out, list | tuple) else [out]
    return [tuple(o.shape[1:]) for o in outs]


@pytest.mark.parametrize("make, shape", CASES, ids=[str(i) for i in range(len(CASES))])
def test_shape_rule_matches_the_real_output(make, shape):
    x = np.random.default_rng(0).integers(0, 9, shape).astype(np.float32)
    real = _shapes(make()(x))
    assert _shapes(make()(ShapeSpec((None, *shape[1:])))) == real
    inferred = _listed(make().compute_output_shape((None, *shape[1:])))
    assert [tuple(s[1:]) for s in inferred] == real


def _listed(out):
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda: nn.MultiHeadAttention(2, 3), [(2, 5, 4), (2, 6, 4)]),
        (lambda: nn.MultiHeadAttention(2, 3, output_shape=7), [(2, 5, 4), (2, 6, 3), (2, 6, 2)]),
    ],
)
def test_attention_shape_rule(make, shapes):
    xs = [np.ones(s, np.float32) for s in shapes]
    real = _shapes(make()(*xs))
    assert _shapes(make()(*[ShapeSpec((None, *s[1:])) for s in shapes])) == real


@pytest.mark.parametrize("layer", [nn.Add(), nn.Multiply(), nn.Average(), nn.Concatenate(axis=1)])
def test_merge_shape_rules(layer):
    a, b = np.ones((2, 3, 4), np.float32), np.ones((2, 3, 4), np.float32)
    real = _shapes(layer([a, b]))
    assert _shapes(layer([ShapeSpec((None, 3, 4)), ShapeSpec((None, 3, 4))])) == real


def test_input_spec_names_the_layer_and_axis():
    model = wasmdl.Sequential([nn.Dense(4, input_shape=(8,), name="dense_in"), nn.Dense(2)])
    with pytest.raises(ValueError) as info:
        model.predict(np.zeros((3, 7), np.float32))
    assert str(info.value) == (
        'Input 0 of layer "dense_in" is incompatible: expected axis -1 to have 8 features, '
        "received shape (None, 7)"
    )
    conv = nn.Conv2D(2, 3, name="c")
    with pytest.raises(
        ValueError, match='layer "c" is incompatible: expected ndim=4, found ndim=3'
    ):
        conv(np.zeros((1, 5, 5), np.float32))


def test_sequential_add_is_linear_in_layers():
    def build(n):
        start = time.perf_counter()
        model = wasmdl.Sequential([nn.Dense(4, input_shape=(4,))])
        for _ in range(n):
            model.add(nn.Dense(4))
        return time.perf_counter() - start, model

    _, model = build(300)
    assert all(layer.built for layer in model.layers) and model.layers[-1].output_shape == (None, 4)
    assert model.predict(np.ones((2, 4), np.float32)).shape == (2, 4)
    # each add builds one layer: the build calls no layer more than once
    calls = []
    model = wasmdl.Sequential([nn.Dense(4, input_shape=(4,))])
    for _ in range(50):
        layer = nn.Dense(4)
        original = layer.build
        layer.build = lambda shape, original=original: (calls.append(1), original(shape))
        model.add(layer)
    assert len(calls) == 50


@wasmdl.nn.register
class Shifted(wasmdl.Model):
    """A subclassed model whose call uses ops on its input (not only layers)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.dense = nn.Dense(3)

    def call(self, x):
        return self.dense(x * 2.0 + 1.0)


@wasmdl.nn.register
class Doubler(nn.Layer):
    """A custom layer with no shape rule: its output shape comes from one run on zeros."""

    def call(self, x):
        return wasmdl.concat([x, x], axis=-1)


def test_models_and_layers_without_shape_rules_still_build_and_load():
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    model = Shifted()
    want = model.predict(x)
    again = wasmdl.load_model(model.save())
    np.testing.assert_array_equal(again.predict(x), want)
    seq = wasmdl.Sequential([nn.Dense(4, input_shape=(5,)), Doubler(), nn.Dense(2)])
    assert seq.layers[1].output_shape == (None, 8) and seq.layers[2].kernel.shape == (8, 2)
    np.testing.assert_array_equal(wasmdl.load_model(seq.save()).predict(x), seq.predict(x))
