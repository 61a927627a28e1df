"""The issue's training recipes, natively: wasmdl and PyTorch from the same initial weights.

- MLP 784-128-10 (ReLU), Adam 1e-3, batch 64, 10 epochs.
- CNN: two blocks of 3x3 conv (16 and 32 filters, same padding, ReLU) + 2x2 max pool, then a
  linear classifier; Adam 1e-3, batch 32, 8 epochs.
- LSTM(16) + Dense(1) on the adding problem (10 steps), Adam 1e-2, batch 32, 12 epochs.

Data: wasmdl.datasets.mnist's fixed split (8,000 train / 2,000 test). tests/native imports
these functions (the MLP and the LSTM run there; the CNN takes minutes on 2 cores, so it runs
here and in tier 2, tests/pyodide/test_training.py). The wasmdl side of every recipe is defined
once, in wasmdl.testing.recipes, which both import.

Example:
    python scripts/mnist_recipes.py      # all three: prints, writes artifacts/mnist_recipes.json
    python scripts/mnist_recipes.py cnn  # one of mlp, cnn, lstm
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from wasmdl.testing import recipes


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
    data = recipes.mnist_data("mlp")
    model = recipes.mlp_model()
    ref = T.Sequential(T.Linear(784, 128), T.ReLU(), T.Linear(128, 10))
    copy_dense(model.layers[0], ref[0])
    copy_dense(model.layers[1], ref[2])
    _, acc, secs = recipes.train_mnist(model, data, epochs=10, batch_size=64)
    (x, y), (xt, yt) = data
    ref_acc = accuracy_torch(train_torch(ref, x, y, epochs=10, batch_size=64), xt, yt)
    return {"recipe": "mlp", "wasmdl": acc, "torch": ref_acc, "wasmdl_seconds": secs}


def cnn() -> dict:
    T = _torch().nn
    data = recipes.mnist_data("cnn")
    model = recipes.cnn_model()
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
    _, acc, secs = recipes.train_mnist(model, data, epochs=8, batch_size=32)
    (x, y), (xt, yt) = data  # NHWC; torch wants NCHW
    nchw = (0, 3, 1, 2)
    ref_acc = accuracy_torch(
        train_torch(ref, x.transpose(nchw).copy(), y, epochs=8, batch_size=32),
        xt.transpose(nchw).copy(),
        yt,
    )
    return {"recipe": "cnn", "wasmdl": acc, "torch": ref_acc, "wasmdl_seconds": secs}


def lstm() -> dict:
    """Predicting the mean scores MSE 1/6 ~ 0.167 on this task."""
    mse, secs = recipes.lstm_adding()
    return {"recipe": "lstm", "test_mse": mse, "wasmdl_seconds": secs}


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
