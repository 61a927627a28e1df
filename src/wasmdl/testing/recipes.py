"""The training recipes of the acceptance tests, defined once for every place that runs them.

``scripts/mnist_recipes.py`` runs them natively beside PyTorch (same initial weights); the
tier-2 tests run them inside Pyodide. Both import these builders, so "the same code reaches
the same numbers" holds by construction.

- ``mlp``: Dense 784-128-10 (ReLU), Adam 1e-3, batch 64, 10 epochs.
- ``cnn``: two blocks of 3x3 conv (16, 32 filters, same padding, ReLU) + 2x2 max pool, then a
  linear classifier; Adam 1e-3, batch 32, 8 epochs.
- ``lstm``: LSTM(16) + Dense(1) on the adding problem (10 steps), Adam 1e-2, batch 32,
  12 epochs. Predicting the mean scores MSE 1/6 ~ 0.167.

Example:
    >>> model = mlp_model()
    >>> model.count_params()
    101770
"""

from __future__ import annotations

import time

import numpy as np

import wasmdl
from wasmdl import nn


def mlp_model():
    wasmdl.manual_seed(0)
    return wasmdl.Sequential([nn.Dense(128, activation="relu", input_shape=(784,)), nn.Dense(10)])


def cnn_model():
    wasmdl.manual_seed(0)
    return wasmdl.Sequential(
        [
            nn.Conv2D(16, 3, padding="same", activation="relu", input_shape=(28, 28, 1)),
            nn.MaxPool2D(),
            nn.Conv2D(32, 3, padding="same", activation="relu"),
            nn.MaxPool2D(),
            nn.Flatten(),
            nn.Dense(10),
        ]
    )


def mnist_data(recipe: str):
    """``(x, y), (x_test, y_test)`` shaped for ``recipe`` ("mlp": flat rows; "cnn": NHWC)."""
    if recipe == "mlp":
        return wasmdl.datasets.mnist.load(flatten=True)
    (x, y), (xt, yt) = wasmdl.datasets.mnist.load()
    return (x[..., None], y), (xt[..., None], yt)


def train_mnist(model, data, epochs: int, batch_size: int):
    """Adam 1e-3 on logits; returns ``(test loss, test accuracy, training seconds)``."""
    (x, y), (xt, yt) = data
    model.compile(
        wasmdl.optim.Adam(lr=1e-3),
        metrics=["accuracy"],
        loss=wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, seed=0)
    loss, acc = model.evaluate(xt, yt, batch_size=500)
    return loss, acc, time.perf_counter() - t0


def adding_problem(n: int, steps: int = 10, seed: int = 0):
    """(value, marker) sequences; the target is the sum of the two marked values."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, steps)).astype(np.float32)
    marks = np.zeros((n, steps), np.float32)
    for i in range(n):
        marks[i, rng.choice(steps, 2, replace=False)] = 1.0
    return np.stack([values, marks], axis=-1), (values * marks).sum(1, keepdims=True)


def lstm_adding():
    """Trains the LSTM recipe; returns ``(test MSE, training seconds)``."""
    x, y = adding_problem(1000)
    xt, yt = adding_problem(500, seed=1)
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.LSTM(16, input_shape=(10, 2)), nn.Dense(1)])
    model.compile(wasmdl.optim.Adam(lr=1e-2), "mse")
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=12, verbose=0, seed=0)
    return model.evaluate(xt, yt), time.perf_counter() - t0
