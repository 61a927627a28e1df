"""The training recipes of the acceptance tests, defined once for every place that runs them.

``scripts/mnist_recipes.py`` runs them natively beside PyTorch (same initial weights); the
tier-2 tests run them inside Pyodide. Both import these builders, so "the same code reaches
the same numbers" holds by construction.

- ``mlp``: Dense 784-128-10 (ReLU), Adam 1e-3, batch 64, 10 epochs.
- ``cnn``: two blocks of 3x3 conv (16, 32 filters, same padding, ReLU) + 2x2 max pool, then a
  linear classifier; Adam 1e-3, batch 32, 8 epochs.
- ``lstm``: LSTM(16) + Dense(1) on the adding problem (10 steps), Adam 1e-2, batch 32,
  12 epochs. Predicting the mean scores MSE 1/6 ~ 0.167.

``kernels_on_off`` trains the first batches of the MLP or CNN recipe twice from the same
initial weights, with the WASM CPU kernels on and off (issue #8), and checks that the two loss
curves agree and fall.

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
from wasmdl.data import DataLoader, TensorDataset

from . import cpu_modes

EARLY, RTOL_EARLY, RTOL = 10, 1e-5, 1e-3  # kernels_on_off's agreement of the loss curves


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


def _compile_mnist(model):
    model.compile(
        wasmdl.optim.Adam(lr=1e-3),
        metrics=["accuracy"],
        loss=wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def train_mnist(model, data, epochs: int, batch_size: int):
    """Adam 1e-3 on logits; returns ``(test loss, test accuracy, training seconds)``."""
    *_, result = train_mnist_by_epoch(model, data, epochs, batch_size)
    return result


def train_mnist_by_epoch(model, data, epochs: int, batch_size: int):
    """``train_mnist`` as a generator: yields None after each epoch, then the result. A browser
    test can so train over several calls (Selenium gives up on one script after 120 s)."""
    (x, y), (xt, yt) = data
    _compile_mnist(model)
    loader = DataLoader(TensorDataset(x, y), batch_size, shuffle=True, seed=0)  # fit's, seed=0
    t0, secs = time.perf_counter(), 0.0
    for _ in range(epochs):
        model.fit(loader, epochs=1, verbose=0)
        secs += time.perf_counter() - t0
        yield None
        t0 = time.perf_counter()
    loss, acc = model.evaluate(xt, yt, batch_size=500)
    yield loss, acc, secs + time.perf_counter() - t0


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


def check_mlp_recipe(on: bool, tier: str) -> float:
    """The full MLP recipe with the WASM CPU kernels ``on`` or off: asserts >= 92% test
    accuracy and that WASM was reached exactly when on; prints a line for ``tier``'s log.
    Returns the accuracy (the Node and Chrome tiers both call this)."""
    with cpu_modes.switched(on) as calls:
        loss, acc, secs = train_mnist(mlp_model(), mnist_data("mlp"), epochs=10, batch_size=64)
    state = "on" if on else "off"
    print(f"{tier} MLP, kernels {state}: test accuracy {acc:.4f}, loss {loss:.4f}, "
          f"{secs:.1f} s, {calls.summary()}")  # fmt: skip
    assert acc >= 0.92, acc
    assert (calls.total > 0) == on, calls.summary()
    return acc


def check_lstm_recipe(on: bool, tier: str) -> float:
    """The LSTM adding-problem recipe with the kernels ``on`` or off: asserts test MSE < 0.01
    (predicting the mean scores 1/6) and that WASM was reached exactly when on."""
    with cpu_modes.switched(on) as calls:
        mse, secs = lstm_adding()
    state = "on" if on else "off"
    print(f"{tier} LSTM adding problem, kernels {state}: test MSE {mse:.5f}, {secs:.1f} s, "
          f"{calls.summary()}")  # fmt: skip
    assert mse < 0.01, mse
    assert (calls.total > 0) == on, calls.summary()
    return mse


def first_losses(recipe: str, steps: int, batch_size: int, on: bool):
    """The losses of the first ``steps`` batches (in data order) of the ``recipe`` ("mlp",
    "cnn") from its seeded initial weights, compiled as ``train_mnist`` compiles it, with the
    WASM CPU kernels ``on`` or off. Returns ``(losses, calls that reached WASM, seconds)``.

    >>> losses, wasm_calls, _ = first_losses("mlp", 2, 16, on=False)  # natively: off only
    >>> losses.shape, wasm_calls
    ((2,), 0)
    """
    build = {"mlp": mlp_model, "cnn": cnn_model}[recipe]
    (x, y), _ = mnist_data(recipe)
    with cpu_modes.switched(on) as calls:
        model = build()
        _compile_mnist(model)
        t0 = time.perf_counter()
        losses = [
            model.train_on_batch(x[i : i + batch_size], y[i : i + batch_size])
            for i in range(0, steps * batch_size, batch_size)
        ]
    return np.array(losses), calls.total, time.perf_counter() - t0


def kernels_on_off(recipe: str, steps: int, batch_size: int) -> dict:
    """Train the first ``steps`` batches of ``recipe`` with the kernels on, then off, from the
    same weights; assert that WASM ran only when on, that the loss curves agree and that the
    loss fell by a third. Returns a summary.

    Agreement: the first ``EARLY`` losses within rtol ``RTOL_EARLY`` (float32 sums taken in
    another order: ~1e-6 is typical), every loss within ``RTOL`` (those rounding differences
    compound through the Adam updates: up to ~3e-4 seen by the CNN's 40th step).
    Runs only inside Pyodide (natively no kernels load): tests/pyodide/test_training.py and
    tests/chrome/test_numpy_backend.py call it, e.g. ``kernels_on_off("mlp", 60, 64)``.
    """
    on, calls_on, secs_on = first_losses(recipe, steps, batch_size, True)
    off, calls_off, secs_off = first_losses(recipe, steps, batch_size, False)
    assert calls_on > 0 and calls_off == 0, (calls_on, calls_off)
    msg = f"{recipe}: losses with the kernels on (actual) vs off (desired)"
    np.testing.assert_allclose(on[:EARLY], off[:EARLY], rtol=RTOL_EARLY, err_msg=msg)
    np.testing.assert_allclose(on, off, rtol=RTOL, err_msg=msg)
    head, tail = on[:3].mean(), on[-3:].mean()
    assert tail < head * 2 / 3, f"{recipe}: loss fell only from {head:.4f} to {tail:.4f}"
    return {
        "recipe": recipe,
        "loss": (round(float(head), 4), round(float(tail), 4)),
        "max_rel_diff": float(np.max(np.abs(on - off) / np.abs(off))),
        "wasm_calls": calls_on,
        "seconds on/off": (round(secs_on, 2), round(secs_off, 2)),
    }
