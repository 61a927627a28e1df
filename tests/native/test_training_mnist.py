"""The issue's MNIST recipes natively, each trained twice from the same initial weights: with
wasmdl and with PyTorch (same architecture, Adam 1e-3, batch 64, same epochs). wasmdl must reach
the accuracy floors on the 2,000 held-out digits and land within 1.5 points of PyTorch.

The Pyodide twin of these recipes is tests/pyodide/test_training.py.
"""

import time

import numpy as np
import pytest
import torch

import wasmdl
from wasmdl import nn

T = torch.nn


def _train_torch(model, x, y, epochs, batch_size=64, seed=0):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = torch.tensor(x), torch.tensor(y.astype(np.int64))
    for _ in range(epochs):
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), batch_size):
            idx = perm[i : i + batch_size]
            loss = T.functional.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def _accuracy_torch(model, x, y):
    with torch.no_grad():
        return float((model(torch.tensor(x)).argmax(1).numpy() == y).mean())


def _train_wasmdl(model, x, y, xt, yt, epochs, batch_size=64):
    model.compile(
        wasmdl.optim.Adam(lr=1e-3),
        metrics=["accuracy"],
        loss=wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, seed=0)
    return model.evaluate(xt, yt, batch_size=500)[1], time.perf_counter() - t0


def _dense_to_torch(layer, linear, chw=None):
    k = layer.kernel.numpy()
    if chw is not None:  # rows in NHWC-flatten order -> torch's NCHW-flatten order
        c, h, w = chw
        k = k.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)
    linear.weight.data = torch.tensor(k.T.copy())
    linear.bias.data = torch.tensor(layer.bias.numpy())


def test_mlp_784_128_10(capsys):
    (x, y), (xt, yt) = wasmdl.datasets.mnist.load(flatten=True)
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.Dense(128, activation="relu", input_shape=(784,)), nn.Dense(10)])
    ref = T.Sequential(T.Linear(784, 128), T.ReLU(), T.Linear(128, 10))
    _dense_to_torch(model.layers[0], ref[0])
    _dense_to_torch(model.layers[1], ref[2])
    acc, secs = _train_wasmdl(model, x, y, xt, yt, epochs=10)
    _train_torch(ref, x, y, epochs=10)
    ref_acc = _accuracy_torch(ref, xt, yt)
    with capsys.disabled():
        print(f"\nMLP 784-128-10, 10 epochs: wasmdl {acc:.4f} ({secs:.1f} s), torch {ref_acc:.4f}")
    assert acc >= 0.92
    assert abs(acc - ref_acc) <= 0.015


@pytest.mark.parametrize("epochs", [8])
def test_small_cnn(capsys, epochs):
    (x, y), (xt, yt) = wasmdl.datasets.mnist.load()
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential(
        [
            nn.Conv2D(16, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
            nn.MaxPool2D(),
            nn.Conv2D(32, 3, padding="same", activation="relu"),
            nn.MaxPool2D(),
            nn.Flatten(),
            nn.Dense(10),
        ]
    )
    ref = T.Sequential(
        T.Conv2d(1, 16, 3, padding=1),
        T.ReLU(),
        T.MaxPool2d(2),
        T.Conv2d(16, 32, 3, padding=1),
        T.ReLU(),
        T.MaxPool2d(2),
        T.Flatten(),
        T.Linear(1568, 10),
    )
    for layer, conv in ((model.layers[0], ref[0]), (model.layers[2], ref[3])):
        conv.weight.data = torch.tensor(layer.kernel.numpy().transpose(3, 2, 0, 1).copy())
        conv.bias.data = torch.tensor(layer.bias.numpy())
    _dense_to_torch(model.layers[5], ref[7], chw=(32, 7, 7))
    acc, secs = _train_wasmdl(model, x[..., None], y, xt[..., None], yt, epochs, batch_size=32)
    _train_torch(ref, x[:, None], y, epochs, batch_size=32)
    ref_acc = _accuracy_torch(ref, xt[:, None], yt)
    with capsys.disabled():
        print(f"\nCNN 16/32, {epochs} epochs: wasmdl {acc:.4f} ({secs:.1f} s), torch {ref_acc:.4f}")
    assert acc >= 0.965
    assert abs(acc - ref_acc) <= 0.015


def adding_problem(n, steps=10, seed=0):
    """(value, marker) sequences; the target is the sum of the two marked values."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, steps)).astype(np.float32)
    marks = np.zeros((n, steps), np.float32)
    for i in range(n):
        marks[i, rng.choice(steps, 2, replace=False)] = 1.0
    return np.stack([values, marks], axis=-1), (values * marks).sum(1, keepdims=True)


def test_lstm_adding_problem(capsys):
    """The tier-2 LSTM recipe natively: predicting the mean scores MSE 1/6; must reach < 0.01."""
    x, y = adding_problem(1000)
    xt, yt = adding_problem(500, seed=1)
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.LSTM(16, input_shape=(10, 2)), nn.Dense(1)])
    model.compile(wasmdl.optim.Adam(lr=1e-2), "mse")
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=12, verbose=0, seed=0)
    mse = model.evaluate(xt, yt)
    with capsys.disabled():
        print(f"\nLSTM adding problem: test MSE {mse:.5f} ({time.perf_counter() - t0:.1f} s)")
    assert mse < 0.01
