"""WebGPU vs numpy backend, same page: per-step training times for the paper's 12 MLP
configurations, and the Python->JS crossings and queue submits a step costs (a benchmark, not
a test: it prints numbers and writes JSON).

Run from a checkout (builds/serves the site, drives headless Chromium over CDP)::

    python -m bench.webgpu --out artifacts/bench_webgpu.json --steps 3 --configs d1_w64

Inside a page (Pyodide, ``runPythonAsync``)::

    from bench import webgpu
    result = await webgpu.measure(["d1_w64"], steps=2)

Example (no browser needed for the plan):
    >>> [c.id for c in select("d1_w64,d8_w256")]
    ['d1_w64', 'd8_w256']
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .grid import BATCH, CONFIGS, LEARNING_RATE, config_by_id


def select(ids: str | None):
    """The grid configurations named in ``ids`` (comma-separated), or all 12."""
    return list(CONFIGS) if not ids else [config_by_id(c) for c in ids.split(",")]


async def _time_backend(backend, sizes, steps, warmup):
    import numpy as np

    import wasmdl as wl
    from wasmdl.optim import SGD
    from wasmdl.testing import webgpu_checks as C

    be = wl.backend.get_backend(backend)
    params = C.mlp_model(be, tuple(sizes))
    xn, yn = C.mlp_data(BATCH, tuple(sizes))
    x = wl.Tensor(xn, backend=be)
    onehot = wl.Tensor(np.eye(sizes[-1], dtype=np.float32)[yn], backend=be)
    opt = SGD(params, lr=LEARNING_RATE)
    for _ in range(warmup):  # compiles the pipelines; the step's buffers enter the pool
        await C.mlp_step(params, x, onehot, opt).numpy_async()
    stats = be.stats(reset=True) if backend == "webgpu" else None
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = C.mlp_step(params, x, onehot, opt)
        be.flush()
    final = float((await loss.numpy_async()).reshape(()))  # waits for the GPU to finish
    ms = (time.perf_counter() - t0) / steps * 1e3
    out = {"ms_per_step": round(ms, 3), "final_loss": final}
    if stats is not None:
        s = be.stats(reset=True)
        calls = sum(s["python"].values())
        out["crossings"] = {
            "python_to_js_calls_per_step": calls / steps,
            "submits_per_step": s["shim"]["submits"] / steps,
            "dispatches_per_step": s["shim"]["dispatches"] / steps,
            "note": "calls and submits include the one final readback",
        }
    return out


async def measure(configs=None, steps=3, warmup=1):
    """Time ``steps`` SGD steps (batch 64) per configuration on numpy and webgpu."""
    import wasmdl as wl

    be = wl.backend.get_backend("webgpu")
    rows = []
    for cfg in select(configs) if not isinstance(configs, list) else select(",".join(configs)):
        row = {"config": cfg.id, "sizes": cfg.sizes}
        for backend in ("numpy", "webgpu"):
            row[backend] = await _time_backend(backend, cfg.sizes, steps, warmup)
        row["speedup_webgpu_vs_numpy"] = round(
            row["numpy"]["ms_per_step"] / row["webgpu"]["ms_per_step"], 3
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
    return {"adapter": be.info, "batch": BATCH, "steps": steps, "rows": rows}


PAGE_JS = """(async () => {
  const {loadPyodide} = await import('/pyodide/pyodide.mjs');
  window.pyodide = await loadPyodide({indexURL: '/pyodide/'});
  await pyodide.loadPackage('micropip');
  await pyodide.runPythonAsync(`
import micropip
micropip.set_index_urls([${JSON.stringify(location.origin + "/simple/{package_name}/")}])
await micropip.install("wasmdl")
await micropip.install("wasmdl-bench")
`);
  return 1;
})()"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.webgpu", description=__doc__)
    ap.add_argument("--configs", default=None, help="comma-separated ids (default: all 12)")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out", default="artifacts/bench_webgpu.json")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the site first")
    a = ap.parse_args(argv)
    import os

    from . import driver

    site = os.path.join(driver.repo_root(), "site")
    if a.rebuild or not os.path.exists(os.path.join(site, "pyodide", "pyodide.mjs")):
        driver._script("build_site").build()
    call = (
        "(async () => { const r = await pyodide.runPythonAsync(`\n"
        "from bench import webgpu\nimport json\n"
        f"json.dumps(await webgpu.measure({a.configs!r}, {a.steps}, {a.warmup}))\n`);"
        " return r; })()"
    )
    with driver.serve(site) as url, driver.Chromium() as browser:
        browser.navigate(url + "/")
        time.sleep(1.0)
        browser.evaluate(PAGE_JS, timeout=300)
        result = json.loads(browser.evaluate(call, timeout=3600))
        result["browser"] = browser.version.get("Browser")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    for r in result["rows"]:
        print(
            f"{r['config']:>8}: numpy {r['numpy']['ms_per_step']:9.1f} ms/step   "
            f"webgpu {r['webgpu']['ms_per_step']:9.1f} ms/step   "
            f"crossings/step {r['webgpu']['crossings']['python_to_js_calls_per_step']:.1f}  "
            f"submits/step {r['webgpu']['crossings']['submits_per_step']:.1f}"
        )
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
