"""Whole training steps as programs: trace one step of a model (forward, loss, backward, then
an in-place optimizer update per parameter), then run the program for ``steps`` batches
through a compiled runner and through the numpy oracle (``trace.reference``) on separate
copies of the parameters and optimizer state, comparing losses and final weights.

>>> r = train_check("mlp", "sgd", compile=None, steps=2)
>>> r["steps"], r["max_loss_diff"], r["max_weight_diff"]
(2, 0.0, 0.0)
"""

from __future__ import annotations

import numpy as np

import wasmdl
from wasmdl import nn

from .trace import reference, tracing

SGD = {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.001, "nesterov": False}
ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}
MODELS = {  # name -> (layers, batch shape, classes)
    "mlp": (lambda: [nn.Flatten(), nn.Dense(16, activation="relu"), nn.Dense(10)], (8, 3, 7), 10),
    "cnn": (lambda: [nn.Conv2D(4, 3, activation="relu"), nn.MaxPool2D(2), nn.Flatten(),
                     nn.Dense(5)], (6, 9, 9, 2), 5),
    "lstm": (lambda: [nn.LSTM(8), nn.Dense(4)], (4, 5, 3), 4),
}  # fmt: skip


def _data(rng, shape, classes):
    x = rng.standard_normal(shape).astype(np.float32)
    return x, rng.integers(0, classes, shape[0]).astype(np.int32)


def trace_step(model_name, opt, seed=0):
    """``(trace, roles)``: the traced step and, for the externals, which are the batch
    (``x``, ``y``), the hyper-parameters (``hp``) and the written state (``state``)."""
    layers, shape, classes = MODELS[model_name]
    rng = np.random.default_rng(seed)
    wasmdl.manual_seed(seed)  # the same initial weights whatever ran before
    model = wasmdl.Sequential(layers())
    x, y = _data(rng, shape, classes)
    xt, yt = wasmdl.tensor(x), wasmdl.tensor(y)
    model(xt)  # build
    params = list(model.trainable_weights)
    hp = np.array([0.05, 1.0] if opt == "adam" else [0.05], np.float32)
    with tracing() as tr:
        loss = wasmdl.functional.cross_entropy(model(xt), yt)
        loss.backward()
        state = []
        for p in params:
            extra = [np.zeros(p.shape, np.float32) for _ in range(2 if opt == "adam" else 1)]
            args = [p._h, p.grad._h, hp, *extra]
            if opt == "adam":
                tr.update("adam_update", args, ADAM)
            else:
                tr.update("sgd_update", args, {**SGD, "first": False})
            state += [p._h, *extra]
    tr.output(loss)
    roles = {"x": tr.index(xt._h), "y": tr.index(yt._h), "hp": tr.index(hp),
             "state": [tr.index(a) for a in state]}  # fmt: skip
    return tr, roles


def train_check(model_name, opt, compile, steps=20, seed=0) -> dict:
    """Run ``steps`` batches through ``compile(program)`` (None: the oracle twice) and the
    oracle; returns the largest differences of the losses and the final state."""
    tr, roles = trace_step(model_name, opt, seed)
    _, shape, classes = MODELS[model_name]
    mine = [np.array(a, copy=True) for a in tr.externals]
    ref = [np.array(a, copy=True) for a in tr.externals]
    run = (lambda arrays: reference(tr.program, arrays)) if compile is None else compile(tr.program)
    rng, dl, calls = np.random.default_rng(seed + 1), 0.0, []
    for step in range(steps):
        x, y = _data(rng, shape, classes)
        for arrays in (mine, ref):
            arrays[roles["x"]], arrays[roles["y"]] = x, y
            if opt == "adam":
                arrays[roles["hp"]][1] = step + 1  # the step count, read by the kernel
        got, want = run(mine), reference(tr.program, ref)
        dl = max(dl, float(np.abs(got[0] - want[0])))
        calls.append((getattr(run, "wasm_calls", 0), getattr(run, "numpy_calls", 0)))
    dw = max(float(np.max(np.abs(mine[i] - ref[i]))) for i in roles["state"])
    return {"steps": steps, "max_loss_diff": dl, "max_weight_diff": dw, "calls": calls[-1],
            "instrs": len(tr.program.instrs), "loss": float(want[0])}  # fmt: skip
