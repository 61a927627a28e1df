"""Captured programs in Pyodide: ms per training step and per batch-1 predict of the README
model (Flatten 28x28 -> Dense 64 relu -> Dense 10 softmax; Adam; sparse categorical
cross-entropy on probabilities and accuracy; batch 64), replayed as one WASM opcode stream
(``wasmdl/_wasm/program.py``) vs instruction by instruction through the numpy backend's kernel
table (the per-op WASM kernels where installed, numpy otherwise).

Runs inside Pyodide: ``node scripts/bench_program.mjs`` (prints a table and JSON).
"""

import json
import statistics
import time

import numpy as np

import wasmdl
from wasmdl import nn
from wasmdl._wasm import program as wp
from wasmdl.losses import sparse_categorical_crossentropy
from wasmdl.testing.trace import tracing

ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}


def readme_model():
    wasmdl.manual_seed(0)
    return wasmdl.Sequential([
        nn.Flatten(input_shape=(28, 28)),
        nn.Dense(64, activation="relu"),
        nn.Dense(10, activation="softmax"),
    ])  # fmt: skip


def train_program(model, rng, batch=64):
    x = wasmdl.tensor(rng.random((batch, 28, 28), dtype=np.float32))
    y = wasmdl.tensor(rng.integers(0, 10, batch).astype(np.int32))
    model(x)
    hp = np.array([1e-3, 1.0], np.float32)
    with tracing() as tr:
        probs = model(x)
        loss = sparse_categorical_crossentropy(y, probs)
        hits = wasmdl.cast(wasmdl.argmax(probs, axis=-1) == y, "float32")
        acc = wasmdl.mean(hits)
        loss.backward()
        for p in model.trainable_weights:
            state = [np.zeros(p.shape, np.float32) for _ in range(2)]
            tr.update("adam_update", [p._h, p.grad._h, hp, *state], ADAM)
    tr.output(loss)
    tr.output(acc)
    arrays = [np.array(a, copy=True) for a in tr.externals]
    return tr, arrays, tr.index(x._h), tr.index(hp)


def predict_program(model, rng):
    x = wasmdl.tensor(rng.random((1, 28, 28), dtype=np.float32))
    with wasmdl.no_grad(), tracing() as tr:
        out = model(x)
    tr.output(out)
    return tr, [np.array(a, copy=True) for a in tr.externals], tr.index(x._h)


def compare(fns: dict, n, rounds=7, warmup=300) -> dict:
    """ms per call of each ``fn(i)``: warmed up (V8 tiers WASM up in the background), then
    measured in interleaved rounds of ``n`` calls; the median and the best round."""
    for fn in fns.values():
        for i in range(warmup):
            fn(i)
    per = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            for i in range(n):
                fn(i)
            per[name].append((time.perf_counter() - t) * 1e3 / n)
    return {f"{name}_ms": (statistics.median(v), min(v)) for name, v in per.items()}


def run(n_train=50, n_predict=500):
    be, rng = wasmdl.get_backend("numpy"), np.random.default_rng(0)
    model = readme_model()
    tr, arrays, xi, hi = train_program(model, rng)
    batches = [rng.random((64, 28, 28), dtype=np.float32) for _ in range(8)]
    stream = wp.compile(tr.program, be)

    def step(runner):
        def one(i):
            arrays[xi] = batches[i % 8]
            arrays[hi][1] = i + 1
            return runner(arrays)

        return one

    res = {"instructions": len(tr.program.instrs), "stream_calls": stream.calls,
           "cpu_kernels": wasmdl.cpu_kernels()["module"]}  # fmt: skip
    per_op = step(lambda a: wp.loop(tr.program, be.kernels, a))
    res.update(compare({"train_stream": step(stream), "train_per_op": per_op}, n_train))
    ptr, parrays, pxi = predict_program(model, rng)
    pstream = wp.compile(ptr.program, be)
    xs = [rng.random((1, 28, 28), dtype=np.float32) for _ in range(8)]

    def pred(runner):
        def one(i):
            parrays[pxi] = xs[i % 8]
            return runner(parrays)

        return one

    res["predict_instructions"] = len(ptr.program.instrs)
    per_op = pred(lambda a: wp.loop(ptr.program, be.kernels, a))
    res.update(compare({"predict_stream": pred(pstream), "predict_per_op": per_op}, n_predict))
    return res


if __name__ == "__main__":
    r = run()
    for k, v in r.items():
        shown = f"median {v[0]:.4f}, best {v[1]:.4f}" if isinstance(v, tuple) else v
        print(f"{k:24s} {shown}")
    print(json.dumps(r))
