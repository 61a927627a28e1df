"""The issue's training recipes, natively: wasmdl and PyTorch from the same initial weights.

- MLP 784-128-10 (ReLU), Adam 1e-3, batch 64, 10 epochs.
- CNN: two blocks of 3x3 conv (16 and 32 filters, same padding, ReLU) + 2x2 max pool, then a
  linear classifier; Adam 1e-3, batch 32, 8 epochs.
- LSTM(16) + Dense(1) on the adding problem (10 steps), Adam 1e-2, batch 32, 12 epochs.

Data: wasmdl.datasets.mnist's fixed split (8,000 train / 2,000 test). tests/native imports
these functions (the MLP and the LSTM run there; the CNN takes minutes on 2 cores, so it runs
here and in tier 2, tests/pyodide/test_training.py, which uses the same wasmdl code).

Example:
    python scripts/mnist_recipes.py      # all three: prints, writes artifacts/mnist_recipes.json
    python scripts/mnist_recipes.py cnn  # one of mlp, cnn, lstm
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

import wasmdl
from wasmdl import nn


def _torch():
    import torch

    return torch


def train_torch(model, x, y, epochs, batch_size, seed=0):
    torch = _torch()
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = torch.tensor(x), torch.tensor(y.astype(np.int64))
    for _ in range(epochs):
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), batch_size):
            idx = perm[i : i + batch_size]
            loss = torch.nn.functional.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def accuracy_torch(model, x, y) -> float:
    torch = _torch()
    with torch.no_grad():
        return float((model(torch.tensor(x)).argmax(1).numpy() == y).mean())


def train_wasmdl(model, x, y, xt, yt, epochs, batch_size):
    """Returns (test accuracy, training seconds)."""
    model.compile(
        wasmdl.optim.Adam(lr=1e-3),
        metrics=["accuracy"],
        loss=wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, seed=0)
    return model.evaluate(xt, yt, batch_size=500)[1], time.perf_counter() - t0


def copy_dense(layer, linear, chw=None):
    """wasmdl Dense -> torch Linear; ``chw`` reorders rows from NHWC- to NCHW-flatten order."""
    torch = _torch()
    k = layer.kernel.numpy()
    if chw is not None:
        c, h, w = chw
        k = k.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)
    linear.weight.data = torch.tensor(k.T.copy())
    linear.bias.data = torch.tensor(layer.bias.numpy())


def mlp() -> dict:
    T = _torch().nn
    (x, y), (xt, yt) = wasmdl.datasets.mnist.load(flatten=True)
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.Dense(128, activation="relu", input_shape=(784,)), nn.Dense(10)])
    ref = T.Sequential(T.Linear(784, 128), T.ReLU(), T.Linear(128, 10))
    copy_dense(model.layers[0], ref[0])
    copy_dense(model.layers[1], ref[2])
    acc, secs = train_wasmdl(model, x, y, xt, yt, epochs=10, batch_size=64)
    ref_acc = accuracy_torch(train_torch(ref, x, y, epochs=10, batch_size=64), xt, yt)
    return {"recipe": "mlp", "wasmdl": acc, "torch": ref_acc, "wasmdl_seconds": secs}


def cnn() -> dict:
    T = _torch().nn
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
    torch = _torch()
    for layer, conv in ((model.layers[0], ref[0]), (model.layers[2], ref[3])):
        conv.weight.data = torch.tensor(layer.kernel.numpy().transpose(3, 2, 0, 1).copy())
        conv.bias.data = torch.tensor(layer.bias.numpy())
    copy_dense(model.layers[5], ref[7], chw=(32, 7, 7))
    acc, secs = train_wasmdl(model, x[..., None], y, xt[..., None], yt, epochs=8, batch_size=32)
    ref_acc = accuracy_torch(
        train_torch(ref, x[:, None], y, epochs=8, batch_size=32), xt[:, None], yt
    )
    return {"recipe": "cnn", "wasmdl": acc, "torch": ref_acc, "wasmdl_seconds": secs}


def adding_problem(n, steps=10, seed=0):
    """(value, marker) sequences; the target is the sum of the two marked values."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, steps)).astype(np.float32)
    marks = np.zeros((n, steps), np.float32)
    for i in range(n):
        marks[i, rng.choice(steps, 2, replace=False)] = 1.0
    return np.stack([values, marks], axis=-1), (values * marks).sum(1, keepdims=True)


def lstm() -> dict:
    """Predicting the mean scores MSE 1/6 ~ 0.167 on this task."""
    x, y = adding_problem(1000)
    xt, yt = adding_problem(500, seed=1)
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.LSTM(16, input_shape=(10, 2)), nn.Dense(1)])
    model.compile(wasmdl.optim.Adam(lr=1e-2), "mse")
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=12, verbose=0, seed=0)
    return {
        "recipe": "lstm",
        "test_mse": model.evaluate(xt, yt),
        "wasmdl_seconds": time.perf_counter() - t0,
    }


RECIPES = {"mlp": mlp, "cnn": cnn, "lstm": lstm}


def main(argv: list[str]) -> int:
    results = [RECIPES[name]() for name in (argv or list(RECIPES))]
    for r in results:
        print(json.dumps(r))
    out = Path(__file__).resolve().parent.parent / "artifacts" / "mnist_recipes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
