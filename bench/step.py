"""Training-step benchmark (not a test): ms per training step and the per-op cost of the fused
step kernels (``wasmdl.ops.fused``, ``Optimizer`` fused updates), natively or inside Pyodide
(``node scripts/bench_pyodide.mjs step``).

    python -m bench.step [--quick] [--json artifacts/bench_step_native.json]

Modes of the numpy backend's kernel table, measured interleaved (best of several rounds):

=============  ===============================================================================
mode           table
=============  ===============================================================================
before         WASM GEMM/conv (in Pyodide), no fused step kernels: the op-by-op path
numpy-step     WASM GEMM/conv, the fused step kernels in numpy (``backend/numpy_step.py``)
wasm-step      everything WASM (the default in Pyodide)
off            ``set_cpu_kernels(False)``: plain numpy, numpy fused step kernels
=============  ===============================================================================

Natively only ``before`` and ``numpy-step`` exist (numpy's BLAS does the GEMMs).

>>> rows = op_costs(quick=True, modes=("before", "numpy-step"))
>>> len(rows), rows[0]["op"], sorted({r["mode"] for r in rows})
(12, 'adam step 784x128', ['before', 'numpy-step'])
"""

from __future__ import annotations

import time

import numpy as np

import wasmdl as wl
from bench.micro import CPU_CLOCK, IN_PYODIDE, per_call_us
from wasmdl.backend import numpy_step, register_kernels
from wasmdl.ops.fused import FUSED

STEP = (*FUSED, "sgd_update", "adam_update")
MODES = ("before", "numpy-step", "wasm-step", "off") if IN_PYODIDE else ("before", "numpy-step")


def set_mode(mode):
    """Put the numpy backend's table in ``mode``; returns the entries to restore."""
    wl.set_cpu_kernels(mode != "off")
    if mode == "before":
        return register_kernels("numpy", dict.fromkeys(STEP))
    if mode == "numpy-step":
        return register_kernels("numpy", {n: numpy_step.KERNELS[n] for n in STEP})
    return {}


def restore(saved):
    register_kernels("numpy", {k: v for k, v in saved.items() if v is not None})
    wl.set_cpu_kernels(True)


def _model(kind, batches=8):
    """(model, train_step): a recipe model with Adam at lr=0 and a cycle of random batches of
    64. lr=0 runs the same arithmetic but keeps the weights still: a model that fits its
    batches drifts into denormal-heavy softmax gradients that slow every path, and a faster
    mode, running more steps in the same time, would drift further and look slower."""
    from wasmdl.testing import recipes

    model = recipes.cnn_model() if kind == "cnn" else recipes.mlp_model()
    if kind == "mlp-softmax":  # the README's form: probabilities out, from_logits=False
        last = model.layers[-1]
        last.activation, last._act = "softmax", wl.activations.get("softmax")
    loss = wl.losses.SparseCategoricalCrossentropy(from_logits=kind != "mlp-softmax")
    model.compile(wl.optim.Adam(lr=0.0), loss=loss)
    model._ensure_optimizer()
    rng = np.random.default_rng(0)
    shape = (64, 28, 28, 1) if kind == "cnn" else (64, 784)
    data = [
        (wl.tensor(rng.random(shape, dtype=np.float32)), wl.tensor(rng.integers(0, 10, 64)))
        for _ in range(batches)
    ]
    state = {"i": 0}

    def step():
        state["i"] += 1
        return model.train_step(*data[state["i"] % batches])

    return model, step


def warm(fn, mode, seconds):
    """Call ``fn`` in ``mode`` for ``seconds``: V8 tiers WASM and JS up only after a while, so
    the first calls measure baseline-compiled code."""
    saved = set_mode(mode)
    try:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            fn()
    finally:
        restore(saved)


def step_ms(kinds=("mlp", "mlp-softmax", "cnn"), modes=MODES, rounds=7, steps=10, warmup=1.0):
    """Rows {model, mode, ms}: best over ``rounds`` of the mean of ``steps`` train_steps
    (Adam at lr=0, batch 64, sparse cross-entropy from logits), modes interleaved per round.
    Natively the clock is this process's CPU time (a busy machine does not inflate it), as in
    ``bench.micro``; Pyodide has wall clocks only."""
    rows = []
    for kind in kinds:
        steppers = {m: _model(kind)[1] for m in modes}
        for mode, train_step in steppers.items():
            warm(lambda f=train_step: float(f()), mode, warmup)
        best = dict.fromkeys(modes, float("inf"))
        for _ in range(rounds):
            for mode in modes:
                train_step = steppers[mode]
                saved = set_mode(mode)
                try:
                    float(train_step())  # a step outside the timing (first-use copies, plans)
                    t0 = CPU_CLOCK()
                    for _ in range(steps):
                        loss = train_step()
                    float(loss)
                    best[mode] = min(best[mode], (CPU_CLOCK() - t0) / steps * 1e3)
                finally:
                    restore(saved)
        rows += [{"model": kind, "mode": m, "ms": best[m]} for m in modes]
    return rows


def _op_table():
    """(name, fn) pairs measured under each mode: the user-level call that the kernels serve."""
    rng = np.random.default_rng(1)
    f32 = np.float32
    w = wl.tensor(rng.standard_normal((784, 128)).astype(f32) * 0.05, requires_grad=True)
    w.grad = wl.tensor(rng.standard_normal((784, 128)).astype(f32) * 1e-3)
    b = wl.tensor(np.zeros(128, f32), requires_grad=True)
    b.grad = wl.tensor(rng.standard_normal(128).astype(f32) * 1e-3)
    adam_w, adam_b = wl.optim.Adam([w], lr=1e-4), wl.optim.Adam([b], lr=1e-4)
    sgd = wl.optim.SGD([w], lr=1e-4, momentum=0.9)
    logits = wl.tensor(rng.standard_normal((64, 10)).astype(f32), requires_grad=True)
    labels = wl.tensor(rng.integers(0, 10, 64).astype(np.int32))
    h = wl.tensor(rng.standard_normal((64, 128)).astype(f32), requires_grad=True)
    gh = wl.tensor(rng.standard_normal((64, 128)).astype(f32))

    def xent():
        logits.grad = None
        wl.functional.cross_entropy(logits, labels).backward()

    def relu():
        h.grad = None
        wl.functional.relu(h).backward(gh)

    def softmax_xent():
        logits.grad = None
        wl.losses.sparse_categorical_crossentropy(labels, wl.functional.softmax(logits)).backward()

    return [
        ("adam step 784x128", adam_w.step),
        ("adam step 128", adam_b.step),
        ("sgd momentum step 784x128", sgd.step),
        ("cross_entropy fwd+bwd 64x10", xent),
        ("relu fwd+bwd 64x128", relu),
        ("softmax + prob xent fwd+bwd 64x10", softmax_xent),
    ]


def op_costs(quick=False, modes=MODES):
    """Rows {op, mode, us}: each user-level call of ``_op_table`` under each mode."""
    rows = []
    for name, fn in _op_table():
        for mode in modes:
            warm(fn, mode, 0.05 if quick else 0.3)
            saved = set_mode(mode)
            try:
                rows.append({"op": name, "mode": mode, "us": per_call_us(fn, quick, CPU_CLOCK)})
            finally:
                restore(saved)
    return rows


def kernel_costs(quick=False):
    """Rows {kernel, impl, us}: the raw update kernels on 784x128 arrays, WASM vs numpy."""
    be = wl.get_backend("numpy")
    rng = np.random.default_rng(2)
    p, g = (rng.standard_normal(100352).astype(np.float32).reshape(784, 128) for _ in "pg")
    m, v = np.zeros_like(p), np.zeros_like(p)
    impls = {"numpy": numpy_step.KERNELS}
    if "WASM" in (be.kernels["adam_update"].__doc__ or ""):
        impls["wasm"] = be.kernels
    rows = []
    for impl, table in impls.items():
        calls = {
            "adam_update": lambda t=table: t["adam_update"](p, g, m, v, 1e-9, 0.9, 0.999, 1e-8, 1),
            "sgd_update": lambda t=table: t["sgd_update"](p, g, m, 1e-9, momentum=0.9),
        }
        for kernel, fn in calls.items():
            warm(fn, "wasm-step" if IN_PYODIDE else "numpy-step", 0.05 if quick else 0.3)
            us = per_call_us(fn, quick, CPU_CLOCK)
            rows.append({"kernel": f"{kernel} 784x128", "impl": impl, "us": us})
    return rows


def run(quick=False):
    """All measurements as one dict (what the JSON file holds)."""
    return {
        "runtime": "pyodide" if IN_PYODIDE else "cpython",
        "numpy": np.__version__,
        "wasmdl": wl.__version__,
        "cpu_kernels": wl.cpu_kernels(),
        "modes": list(MODES),
        "step_ms": step_ms(
            rounds=2 if quick else 7, steps=3 if quick else 10, warmup=0.2 if quick else 1.0
        ),
        "ops": op_costs(quick),
        "kernels": kernel_costs(quick),
    }


def report(res):
    """The human-readable tables (modes as columns)."""
    modes = res["modes"]
    head = "".join(f"{m:>12s}" for m in modes)
    lines = [f"wasmdl training-step benchmark on {res['runtime']} (numpy {res['numpy']})"]
    lines.append(f"{'ms per train_step (Adam, batch 64)':36s}{head}")
    for kind in dict.fromkeys(r["model"] for r in res["step_ms"]):
        ms = {r["mode"]: r["ms"] for r in res["step_ms"] if r["model"] == kind}
        lines.append(f"{kind:36s}" + "".join(f"{ms[m]:12.2f}" for m in modes))
    lines.append(f"{'us per call':36s}{head}")
    for op in dict.fromkeys(r["op"] for r in res["ops"]):
        us = {r["mode"]: r["us"] for r in res["ops"] if r["op"] == op}
        lines.append(f"{op:36s}" + "".join(f"{us[m]:12.1f}" for m in modes))
    for r in res["kernels"]:
        lines.append(f"kernel {r['kernel']:20s} {r['impl']:6s} {r['us']:10.1f} us")
    return "\n".join(lines)


def main(argv=None):
    from .micro import cli

    return cli(run, report, "artifacts/bench_step_native.json", argv)


if __name__ == "__main__":
    main()
