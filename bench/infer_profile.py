"""Per-phase profile of one batch-1 inference of the grid MLPs, in Pyodide (Node and Chromium).

What the benchmark page's wasmdl runner pays per sample, peeled layer by layer (best of
rounds, microseconds per call, all in the same runtime and run):

  js_runner      JS: ``predict_into(model, i)`` (a bound PyProxy method), ``out.slice()``:
                 what ``web/bench/runners/wasmdl.js`` does (awaited, as the harness does)
  js_runner_list JS: the runner's earlier way, ``r.predict(model, i)`` returning a Python list,
                 ``toJs()``, ``destroy()`` (for comparison; not in the split below)
  adapter        Python: ``BrowserRunner.predict_into(model, i)`` (slice, predict, write the
                 outputs into the JS Float32Array given once to ``set_output``)
  predict        Python: ``model.predict(x)`` on a (1, 784) float32 array (the public API)
  stream_py      Python: the captured predict step's one ``run_program`` call (the C instruction
                 stream, ``wasmdl._wasm.program``) with its bound arguments (FFI + kernels)
  stream_js      JS: the same export called in a JS loop (the kernels alone)

and the differences between successive rows: JS<->Python call and result conversion, adapter,
``predict`` API and replay overhead (argument binding, output copy), FFI, kernels.

Usage (from a checkout; needs .cache/pyodide/dist)::

    python -m bench.infer_profile                    # Node and Chromium
    python -m bench.infer_profile --runtimes chromium --configs d1_w128,d8_w256

writes ``artifacts/infer_profile.json`` and prints a table. Phases are interleaved (rounds of
one batch of calls per phase; minimum over rounds), the machine being noisy. ``measure_case``
runs inside Pyodide; natively the kernels are not loaded, so it only checks its wiring:

    >>> sorted(measure_case(make_case("d1_w128"), rounds=1, budget_s=0.001))
    ['adapter', 'predict']
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from . import adapter, grid

WIDE = [c.id for c in grid.CONFIGS if c.width >= 128]
PHASES = ["js_runner", "adapter", "predict", "stream_py", "stream_js"]
SPLIT = {  # derived phase -> (outer, inner)
    "js<->py call + conversion": ("js_runner", "adapter"),
    "adapter (slice, assign)": ("adapter", "predict"),
    "predict API + replay": ("predict", "stream_py"),
    "ffi (py->js->wasm)": ("stream_py", "stream_js"),
    "kernels": ("stream_js", None),
}
N_TEST = 100
TIMER_JS = """(f, args, n) => {
  const clock = globalThis.performance ?? Date;  // pytest-pyodide's Node context lacks the first
  const t0 = clock.now();
  for (let i = 0; i < n; i++) f(...args);
  return clock.now() - t0;
}"""


def make_case(cid: str):
    """(config id, BrowserRunner over synthetic MNIST-sized data, the loaded model)."""
    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.integers(0, 256, (64 + N_TEST) * grid.N_IN, np.uint8),
                          rng.integers(0, grid.N_OUT, 64 + N_TEST, np.uint8)])  # fmt: skip
    layout = {"n_train": 64, "n_test": N_TEST, "n_in": grid.N_IN}
    runner = adapter.BrowserRunner("numpy", raw.tobytes(), layout)
    buf = adapter.model_file(grid.make_weights(grid.config_by_id(cid)))
    return cid, runner, runner.load(buf)


def cases(ids=None) -> list:
    """``make_case`` for each id (default: the width >= 128 configurations)."""
    return [make_case(c) for c in (ids or WIDE)]


class _Sink:
    """Stands in for the JS ``Float32Array`` that ``predict_into`` writes (CPython: no JS)."""

    def assign(self, a):
        self.value = a


def _out_array():
    if sys.platform != "emscripten":
        return _Sink()
    from js import Float32Array

    return Float32Array.new(grid.N_OUT)


def calls_for(fn, budget_s, clock=time.perf_counter) -> int:
    """How many calls of ``fn`` take about ``budget_s`` (batches of many calls: Chromium's
    ``performance.now()``, Pyodide's clock, is coarsened)."""
    fn()
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        if clock() - t0 > budget_s / 4 or n > 1 << 20:
            return 4 * n
        n *= 4


def batch_us(fn, n, clock=time.perf_counter) -> float:
    """Time per call of ``fn`` over ``n`` calls, µs."""
    t0 = clock()
    for _ in range(n):
        fn()
    return (clock() - t0) / n * 1e6


def _stream(model, x):
    """``(export, args)`` of the one ``run_program`` call a replay of ``model.predict(x)`` makes,
    or None where predict is not one WASM call (natively: no kernels)."""
    for _ in range(4):  # warm-up, two recordings, one replay
        model.predict(x)
    entry = model.predict_function._last
    run = getattr(entry.replay, "run", None) if entry is not None else None
    if getattr(run, "one", None) is None:
        return None
    return run.k._run_program, run.one  # its arguments stay bound (run.last keeps them alive)


class Profiler:
    """The Python-side phases of one case, each a batch of calls per ``round()``: rounds
    interleave the phases, so the minimum over rounds compares them on the same machine load."""

    def __init__(self, case, budget_s=0.02):
        _, runner, model = case
        x = runner.x_test[3:4]
        if getattr(runner, "out", None) is None:
            runner.set_output(_out_array())
        self.fns = {
            "adapter": lambda: runner.predict_into(model, 3),
            "predict": lambda: model.predict(x),
        }
        self.timer = None
        stream = _stream(model, x)
        if stream is not None:
            call, args = stream
            self.fns["stream_py"] = lambda: call(*args)
            from pyodide.code import run_js
            from pyodide.ffi import to_js

            self.timer, self.call, self.args = run_js(TIMER_JS), call, to_js(list(args))
        self.n = {k: calls_for(f, budget_s) for k, f in self.fns.items()}

    def round(self) -> dict:
        """One batch of each phase: µs per call."""
        out = {k: batch_us(f, self.n[k]) for k, f in self.fns.items()}
        if self.timer is not None:
            n = self.n["stream_py"]
            out["stream_js"] = self.timer(self.call, self.args, n) * 1e3 / n
        return out


def measure_case(case, rounds=7, budget_s=0.02) -> dict:
    """Python-side phases of one case, µs per call, minimum over interleaved rounds (the JS
    phases need a JS host: ``HOST_JS``)."""
    prof, best = Profiler(case, budget_s), {}
    for _ in range(rounds):
        for k, v in prof.round().items():
            best[k] = min(v, best.get(k, v))
    return best


# ----------------------------------------------------------------------------- JS hosts
# Shared by Node and the Chromium page: times the runner call as web/bench/runners/wasmdl.js
# makes it (awaited, as the harness does), then the Python-side phases of the same case.
HOST_JS = """
async function inferProfile(py, ids, rounds, budgetMs) {
  const prof = py.pyimport("bench.infer_profile");
  const res = {};
  for (const id of ids) {
    const c = prof.make_case(id), r = c.get(1), model = c.get(2);
    const into = r.predict_into, list = r.predict, out = new Float32Array(r.n_out);
    r.set_output(out);
    const calls = {  // the runner's way (wasmdl.js), and the earlier list + toJs() way
      js_runner: async (i) => { into(model, i); return out.slice(); },
      js_runner_list: async (i) => { const o = list(model, i); const a = o.toJs(); o.destroy();
                                     return a; },
    };
    const n = {}, best = {};
    for (const [name, one] of Object.entries(calls)) {
      for (n[name] = 1; ; n[name] *= 4) {
        const t0 = performance.now();
        for (let i = 0; i < n[name]; i++) await one(i % 100);
        if (performance.now() - t0 > budgetMs / 4) { n[name] *= 4; break; }
      }
    }
    const pr = prof.Profiler(c, budgetMs / 1000);
    for (let k = 0; k < rounds; k++) {
      for (const [name, one] of Object.entries(calls)) {
        const t0 = performance.now();
        for (let i = 0; i < n[name]; i++) await one(i % 100);
        const us = (performance.now() - t0) / n[name] * 1000;
        best[name] = Math.min(us, best[name] ?? us);
      }
      const p = pr.round();
      for (const [name, us] of Object.entries(p.toJs({ dict_converter: Object.fromEntries }))) {
        best[name] = Math.min(us, best[name] ?? us);
      }
      p.destroy();
    }
    res[id] = best;
    pr.destroy(); into.destroy(); list.destroy(); model.destroy(); r.destroy(); c.destroy();
  }
  return JSON.stringify(res);
}
"""

NODE_JS = """
const fs = require("fs");
HOST
(async () => {
  const [dist, wheels, ids, reps, budget] = process.argv.slice(-5);
  const { loadPyodide } = require(dist + "/pyodide.js");
  const py = await loadPyodide({ indexURL: dist + "/" });
  await py.loadPackage(["numpy", "micropip"], { messageCallback: () => {} });
  for (const wheel of wheels.split(",")) {  // wasmdl, then the bench's own wheel
    const name = wheel.split("/").pop();
    py.FS.writeFile("/tmp/" + name, fs.readFileSync(wheel));
    await py.runPythonAsync(`import micropip; await micropip.install("emfs:/tmp/${name}")`);
  }
  const phases = await inferProfile(py, ids.split(","), +reps, +budget);
  const status = py.runPython("import json, wasmdl; json.dumps(wasmdl.cpu_kernels())");
  console.log("RESULT " + JSON.stringify({ phases: JSON.parse(phases),
    cpu_kernels: JSON.parse(status), runtime: "node " + process.version }));
})().catch((e) => { console.error(e); process.exit(1); });
"""

PAGE_JS = """
(async () => {
  HOST
  // bench.pyodide_page: Pyodide, wasmdl and the bench wheel
  BOOT
  const phases = await inferProfile(py, IDS, ROUNDS, BUDGET);
  const status = py.runPython("import json, wasmdl; json.dumps(wasmdl.cpu_kernels())");
  return JSON.stringify({ phases: JSON.parse(phases), cpu_kernels: JSON.parse(status),
                          runtime: navigator.userAgent });
})()
"""


def run_node(dist, wheels, ids, rounds, budget_ms) -> dict:
    import subprocess

    js = NODE_JS.replace("HOST", HOST_JS)
    argv = ["node", "-e", js, "--", str(dist), ",".join(map(str, wheels)), ",".join(ids),
            str(rounds), str(budget_ms)]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode or not lines:
        raise RuntimeError(
            f"infer_profile (node) failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
        )
    return json.loads(lines[-1][7:])


def run_chromium(dist, wheels, ids, rounds, budget_ms) -> dict:
    import os
    import tempfile
    from pathlib import Path

    from .driver import Chromium, serve
    from .pyodide_page import boot_js

    with tempfile.TemporaryDirectory() as root:
        os.symlink(os.path.abspath(dist), os.path.join(root, "pyodide"))
        for wheel in wheels:
            os.symlink(os.path.abspath(wheel), os.path.join(root, wheel.name))
        Path(root, "index.html").write_text("<!doctype html><meta charset='utf-8'><body>")
        with serve(root) as url, Chromium() as browser:
            browser.navigate(url + "/index.html")
            time.sleep(1.0)
            js = (PAGE_JS.replace("HOST", HOST_JS).replace("IDS", json.dumps(ids))
                  .replace("ROUNDS", str(rounds)).replace("BUDGET", str(budget_ms))
                  .replace("BOOT", boot_js(wheels)))  # fmt: skip
            return json.loads(browser.evaluate(js, timeout=900))


def split(phases: dict) -> dict:
    """The derived per-phase costs (µs) of one case: differences of successive layers."""
    out = {}
    for name, (outer, inner) in SPLIT.items():
        if outer in phases and (inner is None or inner in phases):
            out[name] = phases[outer] - (phases[inner] if inner else 0.0)
    return out


def table(results: dict) -> str:
    names = list(SPLIT)
    lines = []
    for runtime, r in results.items():
        lines.append(
            f"{runtime}: {r.get('runtime', '')[:60]}  kernels: {r['cpu_kernels'].get('reason')}"
        )
        lines.append(f"  {'config':9s} {'total':>7s} " + " ".join(f"{n[:14]:>14s}" for n in names))
        for cid, ph in r["phases"].items():
            d = split(ph)
            cells = " ".join(f"{d[n]:14.1f}" if n in d else f"{'-':>14s}" for n in names)
            lines.append(f"  {cid:9s} {ph.get('js_runner', float('nan')):7.1f} {cells}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    import os
    import tempfile
    from pathlib import Path

    from .driver import repo_root
    from .gemm import _wheels

    p = argparse.ArgumentParser(description="Per-phase profile of one batch-1 inference")
    p.add_argument("--runtimes", default="node,chromium")
    p.add_argument("--configs", default=",".join(WIDE))
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--budget-ms", type=float, default=20.0, help="ms per phase per round")
    p.add_argument("--dist", default=os.path.join(repo_root(), ".cache", "pyodide", "dist"))
    p.add_argument("--out", default=os.path.join(repo_root(), "artifacts", "infer_profile.json"))
    args = p.parse_args(argv)
    ids, results = args.configs.split(","), {}
    with tempfile.TemporaryDirectory() as tmp:
        wheels = _wheels(tmp)
        for runtime in args.runtimes.split(","):
            run = {"node": run_node, "chromium": run_chromium}[runtime]
            results[runtime] = run(args.dist, wheels, ids, args.rounds, args.budget_ms)
            results[runtime]["utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(table(results))
    print("µs per call, min over interleaved rounds; total = what the page's runner pays a sample")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
