"""Optimizer state that decays toward zero must not stick in float32's subnormals (the CPU's
slow path): a recipe both test tiers run (numpy natively, the WASM kernels in Pyodide).

>>> r = subnormal_state(steps=60)
>>> r["subnormal"], r["loss_finite"]
(0, True)
"""

from __future__ import annotations

import numpy as np


def subnormal_state(optimizer="adam", steps=1100) -> dict:
    """Train a tiny MLP whose first input feature is 1 for 5 steps, then always 0: its weights'
    gradients become exactly 0 and the optimizer state (Adam's m, SGD's momentum buffer) decays
    by a factor per step, through the subnormal range after ~800 steps. Returns the count of
    subnormal state entries at the end (0 when flushed), the decayed entries' largest value and
    whether the loss stayed finite."""
    import wasmdl
    from wasmdl import nn

    wasmdl.manual_seed(0)
    m = wasmdl.Sequential([nn.Dense(4, input_shape=(3,)), nn.Dense(1)])
    opt = (wasmdl.optim.Adam(m.parameters(), lr=1e-3) if optimizer == "adam"
           else wasmdl.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9))  # fmt: skip
    m.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    loss = 0.0
    for k in range(steps):
        if k == 5:
            x[:, 0] = 0.0
        loss = m.train_on_batch(x, y)
    kernel = m.layers[0].kernel
    state = opt.state[kernel]
    key = "exp_avg" if optimizer == "adam" else "momentum_buffer"
    row = np.asarray(state[key].numpy() if hasattr(state[key], "numpy") else state[key])[0]
    tiny = np.finfo(np.float32).tiny
    sub = int(((row != 0) & (np.abs(row) < tiny)).sum())
    return {
        "subnormal": sub,
        "largest": float(np.abs(row).max()),
        "loss_finite": bool(np.isfinite(loss)),
    }
