"""The functional API: Input, layer calls on symbolic tensors, Model(inputs, outputs).

Oracles: the same computation written by hand with numpy float64 from the model's weights
(forward), numpy sums of the per-output losses (per-output losses and loss_weights), and the
model itself (config round trips, save/load in both formats).
"""

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.graph import Functional


def _dense(layer, x, act=None):
    y = np.float64(x) @ layer.kernel.numpy() + layer.bias.numpy()
    return {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, None: lambda v: v}[act](y)


def _two_in_two_out():
    a, b = wasmdl.Input((4,), name="a"), wasmdl.Input((3,), name="b")
    shared = nn.Dense(5, activation="tanh", name="shared")
    proj = nn.Dense(4, name="proj")
    h1, h2 = shared(a), shared(proj(b))  # one layer, two calls
    y1 = nn.Dense(1, name="y1")(nn.Concatenate(name="cat")([h1, h2]))
    y2 = nn.Dense(2, name="y2")(nn.Add(name="sum")([h1, h2]))
    return wasmdl.Model(inputs=[a, b], outputs=[y1, y2], name="two"), (shared, proj)


def test_model_dispatches_to_functional_and_predicts_like_numpy():
    model, (shared, proj) = _two_in_two_out()
    assert type(model) is Functional and isinstance(model, wasmdl.Model)
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    y1, y2 = model.predict([xa, xb])
    h1 = _dense(shared, xa, "tanh")
    h2 = _dense(shared, _dense(proj, xb), "tanh")
    L = {layer.name: layer for layer in model.layers}
    np.testing.assert_allclose(y1, _dense(L["y1"], np.concatenate([h1, h2], 1)), rtol=1e-5)
    np.testing.assert_allclose(y2, _dense(L["y2"], h1 + h2), rtol=1e-5, atol=1e-6)
    out = model.predict({"a": xa, "b": xb})  # inputs by name, as Keras
    np.testing.assert_array_equal(out[0], y1)
    assert [w.shape for w in model.weights].count((4, 5)) == 1  # the shared layer counts once


def test_get_config_round_trip_and_summary_connections():
    model, _ = _two_in_two_out()
    config = model.get_config()
    again = wasmdl.Model.from_config(config)
    assert again.get_config() == config
    again.set_weights(model.get_weights())
    x = [np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)]
    for p, q in zip(model.predict(x), again.predict(x), strict=True):
        np.testing.assert_array_equal(p, q)
    text = model.summary(print_fn=None)
    assert "shared (Dense)" in text and "a[0][0], proj[0][0]" in text
    assert "cat (Concatenate)" in text and "shared[0][0], shared[1][0]" in text


@pytest.mark.parametrize("fmt", ["wasmdl", "keras"])
def test_nested_models_save_and_load(fmt):
    i = wasmdl.Input((4,))
    inner = wasmdl.Model(i, nn.Dense(3, activation="relu")(i), name="inner")
    seq = wasmdl.Sequential([nn.Dense(2, input_shape=(3,))], name="head")
    x = wasmdl.Input((4,), name="x")
    outer = wasmdl.Model(x, seq(inner(x)))
    xs = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    want = _dense(seq.layers[0], _dense(inner.layers[1], xs, "relu"))
    np.testing.assert_allclose(outer.predict(xs), want, rtol=1e-5, atol=1e-6)
    again = wasmdl.load_model(outer.save(format=fmt))
    np.testing.assert_array_equal(again.predict(xs), outer.predict(xs))


def test_per_output_losses_and_loss_weights_match_numpy():
    model, _ = _two_in_two_out()
    model.compile("sgd", loss={"y1": "mse", "y2": "mae"}, loss_weights={"y1": 2.0, "y2": 0.25})
    rng = np.random.default_rng(2)
    x = [rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)]
    t = [rng.normal(size=(8, 1)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)]
    p1, p2 = model.predict(x)
    want = 2.0 * np.mean((p1 - t[0]) ** 2) + 0.25 * np.mean(np.abs(p2 - t[1]))
    assert model.evaluate(x, t, batch_size=8) == pytest.approx(want, rel=1e-5)
    history = model.fit(x, t, epochs=8, batch_size=4, verbose=0, validation_split=0.25)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "val_loss" in history.history


def test_one_loss_applies_to_every_output_and_counts_must_match():
    model, _ = _two_in_two_out()
    model.compile("sgd", loss="mse")
    x = [np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)]
    t = [np.zeros((2, 1), np.float32), np.zeros((2, 2), np.float32)]
    p1, p2 = model.predict(x)
    want = np.mean(p1**2) + np.mean(p2**2)
    assert model.evaluate(x, t) == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError, match="arguments 'loss' and 'loss_weights' expected 2"):
        model.compile("sgd", loss=["mse"])


def test_symbolic_shapes_and_errors():
    x = wasmdl.Input((None, 3), name="steps")  # unknown number of steps
    y = nn.LSTM(4, return_sequences=True)(x)
    assert y.shape == (None, None, 4) and x.shape == (None, None, 3)
    seq, h, c = nn.LSTM(2, return_state=True, return_sequences=True)(y)  # several outputs
    assert (seq.shape, h.shape, c.shape) == ((None, None, 2), (None, 2), (None, 2))
    model = wasmdl.Model(x, [h, c])
    assert [o.shape for o in model.predict(np.zeros((2, 6, 3), np.float32))] == [(2, 2), (2, 2)]
    with pytest.raises(TypeError, match="argument 'inputs' expected KerasTensors"):
        wasmdl.Model(np.zeros(3), y)
    z = nn.Dense(1, name="d")(wasmdl.Input((2,)))
    with pytest.raises(ValueError, match="unique layer names"):
        wasmdl.Model(wasmdl.Input((2,)), [nn.Dense(1, name="d")(wasmdl.Input((2,))), z])


def test_merge_layers_in_graphs():
    a, b = wasmdl.Input((3,)), wasmdl.Input((3,))
    merges = [nn.Add(), nn.Subtract(), nn.Multiply(), nn.Average(), nn.Maximum(), nn.Minimum()]
    model = wasmdl.Model([a, b], [m([a, b]) for m in merges])
    xa, xb = np.array([[1.0, -2.0, 3.0]], np.float32), np.array([[0.5, 4.0, -1.0]], np.float32)
    want = [xa + xb, xa - xb, xa * xb, (xa + xb) / 2, np.maximum(xa, xb), np.minimum(xa, xb)]
    for got, w in zip(model.predict([xa, xb]), want, strict=True):
        np.testing.assert_allclose(got, w, rtol=1e-6)


def test_per_output_metrics_are_named_after_their_output():
    model, _ = _two_in_two_out()
    model.compile("sgd", loss=["mse", "mse"], metrics={"y1": ["mae"], "y2": ["mse"]})
    rng = np.random.default_rng(3)
    x = [rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)]
    t = [rng.normal(size=(8, 1)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)]
    p1, p2 = model.predict(x)
    logs = model.evaluate(x, t, batch_size=8, return_dict=True)
    assert sorted(logs) == ["loss", "y1_mae", "y2_mse"]
    assert logs["y1_mae"] == pytest.approx(np.mean(np.abs(p1 - t[0])), rel=1e-5)
    assert logs["y2_mse"] == pytest.approx(np.mean((p2 - t[1]) ** 2), rel=1e-5)
    history = model.fit(x, t, epochs=1, batch_size=4, verbose=0)
    assert set(history.history) == {"loss", "y1_mae", "y2_mse"}
