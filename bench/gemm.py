"""GEMM GFLOP/s of the MLP's three products in Pyodide (Node and Chromium) and natively.

The shapes are a dense layer 784 -> 256 on a batch of 64, forward and both backward products,
written as numpy code writes them (the backward operands are transposed views, no copies):
  forward      x @ W        (64x784 @ 784x256)
  grad input   g @ W.T      (64x256 @ 256x784)
  grad weight  x.T @ g      (784x64 @ 64x256)
In each runtime, in the same run: wasmdl's WASM SIMD sgemm called directly (addresses looked up
once), the numpy backend's ``matmul`` kernel (what a model pays: addresses, output allocation,
fallback checks), ``np.matmul``, and scipy's OpenBLAS ``sgemm`` (Pyodide's scipy). In Chromium
the same page also times TensorFlow.js 4.22's wasm backend (XNNPACK, SIMD, one thread: the page
is not cross-origin isolated) on the same shapes, the JS peer to compare with, and it times
every contender interleaved: 15 rounds in which each one runs one ~20 ms batch, so all see the
same clock and load. It reports each one's best round and ``vs_tfjs``, the median over rounds
of its GFLOP/s over TF.js's in the same round (Node and native time each contender in turn).

Usage (from a checkout; needs .cache/pyodide/dist from scripts/setup_pyodide.py)::

    python -m bench.gemm                 # Node and Chromium, writes artifacts/gemm.json
    python -m bench.gemm --runtimes chromium --runs 3

Each run is a fresh page (or process); ``--runs N`` keeps every run in the JSON and reports the
best per cell over the runs. On a shared or frequency-scaling machine one run's figures move by
up to 1.6x with the clock (here: 20 to 34 GFLOP/s for the same kernel within minutes); every
contender of a runtime is timed in the same run, so compare within a run.

``measure()`` is the part that runs inside each runtime:

    >>> r = measure(repeats=1, budget_s=0.01, warmup_s=0.0)
    >>> sorted(r["shapes"]), "np.matmul" in r["shapes"]["forward"]
    (['forward', 'grad_input', 'grad_weight'], True)
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

SHAPES = {"forward": (64, 784, 256), "grad_input": (64, 256, 784), "grad_weight": (784, 64, 256)}


def _operands(name, m, k, n, rng):
    x = rng.standard_normal((64, 784), dtype=np.float32)
    w = rng.standard_normal((784, 256), dtype=np.float32)
    g = rng.standard_normal((64, 256), dtype=np.float32)
    return {"forward": (x, w), "grad_input": (g, w.T), "grad_weight": (x.T, g)}[name]


def _best_time(fn, repeats, budget_s, warmup_s=0.6) -> float:
    """Best seconds per call over ``repeats`` timed batches, after ``warmup_s`` of calls.

    The warm-up is timed, not counted: V8 first runs a wasm function in its baseline compiler
    (Liftoff, several times slower) and swaps in optimized code compiled in the background
    (~0.1-0.2 s for sgemm); a few calls of the first shape can finish before that.
    """
    t0 = time.perf_counter()
    calls = 0
    while calls == 0 or time.perf_counter() - t0 < warmup_s:
        fn()
        calls += 1
    once = max((time.perf_counter() - t0) / calls, 1e-7)
    calls = max(1, int(budget_s / repeats / once))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def _contenders(a, b):
    """name -> zero-argument callable computing a @ b, for what this runtime has."""
    out = {"np.matmul": lambda: np.matmul(a, b)}
    from wasmdl import _wasm

    k = _wasm.kernels()
    if k is not None:
        from wasmdl._wasm.cpu import addr, gemm_operand

        (ta, lda, pa), (tb, ldb, pb) = gemm_operand(a), gemm_operand(b)
        m, n, kk = a.shape[0], b.shape[1], a.shape[1]
        c = np.empty((m, n), np.float32)
        pc, f, w = addr(c), k.exports.sgemm, k._work
        # the lambda must hold c (and a, b): the kernel writes through the raw address pc
        out["wasm sgemm"] = lambda c=c, a=a, b=b: f(ta, tb, m, n, kk, 1.0, pa, lda, pb, ldb, 0.0,
                                                    pc, n, w)  # fmt: skip
        out["wasmdl matmul kernel"] = lambda: k.matmul(a, b)
    try:
        from scipy.linalg.blas import sgemm
    except ImportError:
        return out
    # scipy wants Fortran order: C = A @ B  <=>  C^T = B^T @ A^T, fed as transposed views
    out["scipy sgemm"] = lambda: sgemm(1.0, b.T, a.T).T
    return out


def _checked(rng):
    """shape -> (flops, {label: callable}), each contender first checked against float64."""
    out = {}
    for name, (m, k, n) in SHAPES.items():
        a, b = _operands(name, m, k, n, rng)
        ref = a.astype(np.float64) @ b
        row = _contenders(a, b)
        for label, fn in row.items():
            got = np.asarray(fn()) if label != "wasm sgemm" else None
            if got is not None and not np.allclose(got, ref, rtol=1e-4, atol=1e-3):
                raise AssertionError(f"gemm bench: {label} on {name} disagrees with float64")
        out[name] = (2 * m * n * k, row)
    return out


def measure(repeats: int = 15, budget_s: float = 0.6, warmup_s: float = 0.6) -> dict:
    """GFLOP/s (best of ``repeats``) of each contender on the three shapes, in this runtime."""
    shapes = {}
    for name, (flops, row) in _checked(np.random.default_rng(0)).items():
        shapes[name] = {
            label: round(flops / _best_time(fn, repeats, budget_s, warmup_s) / 1e9, 2)
            for label, fn in row.items()
        }
    return {**_header(), "shapes": shapes}


def page_contenders() -> dict:
    """For the Chromium page, which times them from JS interleaved with TensorFlow.js:
    shape -> {"flops": ..., "calls": {label: zero-argument callable returning None}}.

    >>> sorted(page_contenders()["forward"]["calls"])[:1]
    ['np.matmul']
    """
    return {
        name: {"flops": flops, "calls": {k: (lambda f=f: (f(), None)[1]) for k, f in row.items()}}
        for name, (flops, row) in _checked(np.random.default_rng(0)).items()
    }


def _header() -> dict:
    from wasmdl import _wasm

    return {"platform": sys.platform, "cpu_kernels": _wasm.status()}


def status() -> str:
    """``measure()``'s header fields as JSON (the page fills in the shapes itself)."""
    return json.dumps(_header())


# ----------------------------------------------------------------------------- runners (native)
NODE_JS = """
const fs = require("fs");
(async () => {
  const [dist, wheels] = process.argv.slice(-2);
  const { loadPyodide } = require(dist + "/pyodide.js");
  const py = await loadPyodide({ indexURL: dist + "/" });
  const pkgs = ["numpy", "micropip"].concat(  // scipy when the dist has it
    fs.readdirSync(dist).some((f) => f.startsWith("scipy-")) ? ["scipy"] : []);
  await py.loadPackage(pkgs, { messageCallback: () => {} });
  for (const wheel of wheels.split(",")) {  // wasmdl, then the bench's own wheel
    const name = wheel.split("/").pop();
    py.FS.writeFile("/tmp/" + name, fs.readFileSync(wheel));
    await py.runPythonAsync(`import micropip; await micropip.install("emfs:/tmp/${name}")`);
  }
  const out = await py.runPythonAsync(
    "import json; from bench.gemm import measure; json.dumps(measure())");
  console.log("RESULT " + out);
})().catch((e) => { console.error(e); process.exit(1); });
"""

PAGE_JS = """
(async () => {
  // bench.pyodide_page: Pyodide (with scipy), wasmdl and the bench wheel
  BOOT
  const result = JSON.parse(py.runPython("from bench import gemm; gemm.status()"));
  const proxy = py.runPython("gemm.page_contenders()");
  const contenders = proxy.toJs({ dict_converter: Object.fromEntries });
  await add({ src: "/vendor/@tensorflow/tfjs/dist/tf.min.js" });
  await add({ src: "/vendor/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js" });
  tf.wasm.setWasmPaths("/vendor/@tensorflow/tfjs-backend-wasm/dist/");
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
  const tfShapes = {  // [a shape, b shape, transposeA, transposeB]: as numpy writes them
    forward: [[64, 784], [784, 256], false, false],
    grad_input: [[64, 256], [784, 256], false, true],
    grad_weight: [[64, 784], [64, 256], true, false],
  };
  const TF = "tfjs wasm matMul";
  result.shapes = {}, result.vs_tfjs = {};
  for (const [name, { flops, calls }] of Object.entries(contenders)) {
    const [sa, sb, ta, tb] = tfShapes[name];
    const a = tf.randomNormal(sa), b = tf.randomNormal(sb);
    const batches = {}, perRound = {};
    for (const [label, f] of Object.entries(calls)) {
      batches[label] = (n) => { for (let i = 0; i < n; i++) f(); };
    }
    batches[TF] = (n) => {  // the last call of a batch is read back
      for (let i = 0; i < n - 1; i++) tf.matMul(a, b, ta, tb).dispose();
      const c = tf.matMul(a, b, ta, tb); c.dataSync(); c.dispose();
    };
    const size = {};  // calls per timed batch: about 20 ms each, after WARMUP_MS of calls
    for (const [label, run] of Object.entries(batches)) {
      let n = 0; const t0 = performance.now();
      while (n === 0 || performance.now() - t0 < WARMUP_MS) { run(1); n++; }
      size[label] = Math.max(1, Math.round(20 * n / (performance.now() - t0)));
      perRound[label] = [];
    }
    for (let r = 0; r < REPEATS; r++) {  // every contender once per round: same clock, same load
      for (const [label, run] of Object.entries(batches)) {
        const t0 = performance.now();
        run(size[label]);
        perRound[label].push(flops * size[label] / ((performance.now() - t0) / 1e3) / 1e9);
      }
    }
    const median = (v) => v.slice().sort((x, y) => x - y)[v.length >> 1];
    result.shapes[name] = {}, result.vs_tfjs[name] = {};
    for (const [label, v] of Object.entries(perRound)) {
      result.shapes[name][label] = +Math.max(...v).toFixed(2);
      result.vs_tfjs[name][label] = +median(v.map((g, i) => g / perRound[TF][i])).toFixed(3);
    }
    a.dispose(); b.dispose();
  }
  proxy.destroy();
  result.tfjs = tf.version.tfjs + " " + tf.getBackend();
  result.method = "interleaved: REPEATS rounds, each contender one ~20 ms batch per round";
  return JSON.stringify(result);
})()
"""


def _wheels(tmp) -> list:
    """wasmdl's wheel built from this checkout, then the benchmark's (``bench.wheel``): the
    runners install both, in this order."""
    import subprocess
    from pathlib import Path

    from . import wheel
    from .driver import repo_root

    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
           "--outdir", tmp, repo_root()]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return [next(Path(tmp).glob("wasmdl-*.whl")), Path(wheel.build(tmp))]


def run_node(dist, wheels) -> dict:
    import subprocess

    # relaxed SIMD is on by default in Chromium and Node 22; Node 20 needs the flag
    cmd = ["node", "--experimental-wasm-relaxed-simd", "-e", NODE_JS, "--", str(dist),
           ",".join(map(str, wheels))]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode or not lines:
        raise RuntimeError(f"gemm bench (node) failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][7:])


def run_chromium(dist, wheels) -> dict:
    import os
    import tempfile
    from pathlib import Path

    from .driver import Chromium, repo_root, serve
    from .pyodide_page import boot_js

    with tempfile.TemporaryDirectory() as root:
        os.symlink(os.path.abspath(dist), os.path.join(root, "pyodide"))
        for wheel in wheels:
            os.symlink(os.path.abspath(wheel), os.path.join(root, wheel.name))
        os.symlink(os.path.join(repo_root(), "node_modules"), os.path.join(root, "vendor"))
        Path(root, "index.html").write_text("<!doctype html><meta charset='utf-8'><body>")
        with serve(root) as url, Chromium() as browser:
            browser.navigate(url + "/index.html")
            time.sleep(1.0)
            js = PAGE_JS.replace("WARMUP_MS", "600").replace("REPEATS", "15")
            js = js.replace("BOOT", boot_js(wheels, ["numpy", "scipy", "micropip"], capture=True))
            result = json.loads(browser.evaluate(js, timeout=300))
            result["browser"] = browser.evaluate("navigator.userAgent")
            return result


def best_of(runs: list[dict]) -> dict:
    """The first run with each GFLOP/s cell replaced by its maximum over ``runs``.

    >>> a = {"shapes": {"forward": {"x": 1.0, "y": 5.0}}}
    >>> best_of([a, {"shapes": {"forward": {"x": 3.0, "y": 2.0}}}])["shapes"]
    {'forward': {'x': 3.0, 'y': 5.0}}
    """
    out = json.loads(json.dumps(runs[0]))
    for r in runs[1:]:
        for shape, row in r["shapes"].items():
            for label, v in row.items():
                out["shapes"][shape][label] = max(out["shapes"][shape].get(label, 0.0), v)
    return out


def _table(results: dict) -> str:
    lines = []
    for runtime, r in results.items():
        st = r["cpu_kernels"]
        lines.append(f"{runtime}: CPU kernels {st.get('module')} (memory: {st.get('memory')})")
        for shape, row in r["shapes"].items():
            cells = ", ".join(f"{k} {v:.1f}" for k, v in row.items())
            lines.append(f"  {shape:12s} {SHAPES[shape]} GFLOP/s: {cells}")
        for i, run in enumerate(r.get("runs", [])):
            for shape, row in run.get("vs_tfjs", {}).items():
                cells = ", ".join(f"{k} {v:.2f}" for k, v in row.items() if "tfjs" not in k)
                lines.append(f"  run {i + 1} {shape:12s} x TF.js wasm (median per round): {cells}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    import os
    import tempfile
    from pathlib import Path

    from .driver import repo_root

    p = argparse.ArgumentParser(description="GEMM GFLOP/s in Pyodide (Node, Chromium), natively")
    p.add_argument("--runtimes", default="native,node,chromium")
    p.add_argument("--dist", default=os.path.join(repo_root(), ".cache", "pyodide", "dist"))
    p.add_argument("--out", default=os.path.join(repo_root(), "artifacts", "gemm.json"))
    p.add_argument("--runs", type=int, default=1, help="fresh runs per runtime; best per cell")
    args = p.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        wheels = _wheels(tmp)
        for runtime in args.runtimes.split(","):
            runs = []
            for _ in range(max(1, args.runs)):
                if runtime == "native":
                    runs.append(measure())
                else:
                    run = {"node": run_node, "chromium": run_chromium}[runtime]
                    runs.append(run(args.dist, wheels))
            results[runtime] = {**best_of(runs), "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(_table(results))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
