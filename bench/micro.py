"""Micro-benchmark (not a test): per-op Python overhead of wasmdl over raw numpy, and matmul
GFLOP/s, natively or inside Pyodide (``node scripts/bench_pyodide.mjs micro``).

    python -m bench.micro [--quick] [--json artifacts/bench_micro_native.json]

Overhead = (wasmdl op time) - (the same numpy call's time) on small (8x8) float32 inputs, the
minimum over repeats; matmul rows time n x n float32 products on every path available here.

>>> rows = overhead(quick=True)
>>> {"add", "sum", "matmul"} <= {r["op"] for r in rows}
True
"""

import json
import os
import platform
import sys
import time

import numpy as np

import wasmdl as wl
from wasmdl.backend import numpy_matmul

IN_PYODIDE = sys.platform == "emscripten"


def per_call_us(f, quick=False, clock=time.perf_counter):
    """Minimum time per call of ``f`` over repeats, in microseconds."""
    f()
    number, budget = 1, 0.002 if quick else 0.02
    while True:
        t0 = clock()
        for _ in range(number):
            f()
        dt = clock() - t0
        if dt > budget:
            break
        number *= 4
    best = dt / number
    for _ in range(2 if quick or dt > 0.5 else 7):  # slow calls (naive GEMMs): fewer repeats
        t0 = clock()
        for _ in range(number):
            f()
        best = min(best, (clock() - t0) / number)
    return best * 1e6


# Per-op overhead is single-threaded Python: natively, count this process's CPU time so a busy
# machine does not inflate it (Pyodide's clocks are wall clocks anyway). GEMMs use wall time.
CPU_CLOCK = time.perf_counter if IN_PYODIDE else time.process_time


def _op_table():
    a = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)
    t = wl.tensor(a)
    return [  # op, wasmdl call, numpy equivalent
        ("add", lambda: t + t, lambda: a + a),
        ("mul_scalar", lambda: t * 2.0, lambda: a * np.float32(2.0)),
        ("exp", lambda: wl.exp(t), lambda: np.exp(a)),
        ("sum", lambda: t.sum(axis=1), lambda: a.sum(axis=1)),
        ("max", lambda: t.max(axis=-1, keepdims=True), lambda: a.max(axis=-1, keepdims=True)),
        ("matmul", lambda: t @ t, lambda: a @ a),
        ("reshape", lambda: t.reshape((64,)), lambda: a.reshape(64)),
        ("transpose", lambda: t.T, lambda: a.T),
        ("getitem", lambda: t[1:3], lambda: a[1:3]),
        ("relu", lambda: wl.relu(t), lambda: np.maximum(a, np.float32(0))),
        ("softmax", lambda: wl.softmax(t), lambda: _np_softmax(a)),
    ]


def _np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def overhead(quick=False):
    """Rows {op, wasmdl_us, numpy_us, overhead_us} on 8x8 float32 inputs (no grad)."""
    rows = []
    for name, wl_f, np_f in _op_table():
        w, n = per_call_us(wl_f, quick, CPU_CLOCK), per_call_us(np_f, quick, CPU_CLOCK)
        rows.append({"op": name, "wasmdl_us": w, "numpy_us": n, "overhead_us": w - n})
    return rows


def grad_step_us(quick=False):
    """One forward+backward of ``sum(relu(x @ w + b))`` (8x8): the autograd path's cost."""
    rng = np.random.default_rng(1)
    x = wl.tensor(rng.standard_normal((8, 8)))
    w = wl.tensor(rng.standard_normal((8, 8)), requires_grad=True)
    b = wl.tensor(rng.standard_normal(8), requires_grad=True)

    def step():
        w.grad = b.grad = None
        wl.relu(x @ w + b).sum().backward()

    return per_call_us(step, quick, CPU_CLOCK)


def _set_path(use_scipy, cpu_kernels):
    numpy_matmul.USE_SCIPY = use_scipy
    if hasattr(wl, "set_cpu_kernels"):
        wl.set_cpu_kernels(cpu_kernels)


def _paths():
    """(name, setup or None, raw fn or None) for every matmul path available here."""
    paths = [("numpy np.matmul", None, np.matmul)]
    try:
        from scipy.linalg.blas import sgemm

        paths.append(("scipy sgemm (raw)", None, lambda a, b: sgemm(1.0, a, b)))
    except ImportError:
        sgemm = None
    if IN_PYODIDE:
        paths.append(("wasmdl np.matmul path", (False, False), None))
        if sgemm is not None:
            paths.append(("wasmdl sgemm path", (None, False), None))
    paths.append(("wasmdl (default table)", (None, True), None))
    return paths


def matmul_gflops(sizes, quick=False):
    """Rows {n, path, ms, gflops} for n x n float32 matmuls on every path available here."""
    rows = []
    for name, setup, raw in _paths():
        if setup is not None:
            _set_path(*setup)
        kernel = getattr(wl.get_backend("numpy").kernels["matmul"], "__module__", "?")
        for n in sizes:
            rng = np.random.default_rng(n)
            a = rng.standard_normal((n, n)).astype(np.float32)
            b = rng.standard_normal((n, n)).astype(np.float32)
            ta, tb = wl.tensor(a), wl.tensor(b)
            f = (
                (lambda ta=ta, tb=tb: ta @ tb)
                if raw is None
                else (lambda a=a, b=b, raw=raw: raw(a, b))
            )
            us = per_call_us(f, quick)
            row = {"n": n, "path": name, "ms": us / 1e3, "gflops": 2 * n**3 / us / 1e3}
            rows.append(row if raw is not None else {**row, "kernel": kernel})
    _set_path(None, True)
    return rows


def run(quick=False, sizes=None):
    """All measurements as one dict (what the JSON file holds)."""
    if sizes is None:
        # 1024^2 through Pyodide's BLAS-less np.matmul takes ~20 s a call: stop at 512 there
        sizes = [64, 128, 256] if quick else [64, 128, 256, 512] + ([] if IN_PYODIDE else [1024])
    return {
        "runtime": "pyodide" if IN_PYODIDE else "cpython",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "wasmdl": wl.__version__,
        "machine": platform.machine(),
        "cpu_kernels": wl.cpu_kernels() if hasattr(wl, "cpu_kernels") else None,
        "overhead": overhead(quick),
        "grad_step_us": grad_step_us(quick),
        "matmul": matmul_gflops(sizes, quick),
    }


def report(res):
    """The human-readable table."""
    lines = [
        f"wasmdl micro-benchmark on {res['runtime']} (python {res['python']}, "
        f"numpy {res['numpy']})",
        f"{'op':12s} {'wasmdl us':>10s} {'numpy us':>10s} {'overhead us':>12s}",
    ]
    for r in res["overhead"]:
        lines.append(
            f"{r['op']:12s} {r['wasmdl_us']:10.2f} {r['numpy_us']:10.2f} {r['overhead_us']:12.2f}"
        )
    lines.append(f"forward+backward sum(relu(x@w+b)) 8x8: {res['grad_step_us']:.1f} us")
    lines.append(f"{'n':>6s} {'path':24s} {'ms':>9s} {'GFLOP/s':>8s}")
    for r in res["matmul"]:
        lines.append(f"{r['n']:6d} {r['path']:24s} {r['ms']:9.3f} {r['gflops']:8.2f}")
    return "\n".join(lines)


def cli(run, report, native_json: str, argv=None):
    """The command line of a bench module: ``[--quick] [--json PATH]``; prints ``report`` of
    ``run`` and writes its JSON (natively to ``native_json`` unless told; inside Pyodide only
    with ``--json``, the Node runner scripts/bench_pyodide.mjs writes it)."""
    args = sys.argv[1:] if argv is None else argv
    default = None if IN_PYODIDE else native_json
    path = args[args.index("--json") + 1] if "--json" in args else default
    res = run("--quick" in args)
    print(report(res))
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            json.dump(res, f, indent=1)
        print(f"wrote {path}")
    return res


def main(argv=None):
    return cli(run, report, "artifacts/bench_micro_native.json", argv)


if __name__ == "__main__":
    main()
