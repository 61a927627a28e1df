"""The 'pretrained' benchmark: EfficientNet-Lite0 (ImageNet weights) in one Chromium page and
natively, with one command.

Contenders, all on the same network and weights (``scripts/build_pretrained.py`` builds the
wasmdl weights file and the ONNX export from the same PyTorch state_dict):
  wasmdl numpy/webgpu/webgl   ``EfficientNetLite0_async(weights="imagenet")`` (the CPU backend
                              runs its WASM SIMD kernels); ``predict`` reads the result back
  ORT wasm 1 thread           ONNX Runtime Web 1.30 on the exported ONNX model (NCHW input)
  ORT webgpu                  the same session on ORT's WebGPU execution provider
  ORT wasm threaded           a second page (ORT fixes its thread count per page), with
                              ``numThreads = navigator.hardwareConcurrency``; the page is served
                              cross-origin isolated (COOP/COEP) so that threads exist
  PyTorch (native, 1 thread)  the PyPI port, ``torch.set_num_threads(1)``, ``no_grad``
Columns: load (fetch the weights/model file + build, ms), warm-up (the first image, batch 1),
then ms per image at batch 1 and batch 8 (median of rounds, after 3 untimed calls at each
batch size; a contender whose first image took over 3 s, the GPU backends on SwiftShader's CPU
rasteriser here, gets one untimed call and one round). wasmdl's CPU backend and ORT
wasm (one thread) are measured interleaved in the same page, round by round; ``vs ORT`` is the
median of the per-round ratios. ``browser / native`` divides batch-1 latency by PyTorch's.
All inputs are the same random image(s); the outputs of every contender are compared with
wasmdl's CPU result before timing.

    python -m bench.pretrained                 # writes docs/bench/pretrained.{json,md}
    python -m bench.pretrained --rounds 3 --contenders "wasmdl numpy,ORT wasm 1 thread"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .driver import Chromium, _script, repo_root
from .pyodide_page import boot_js

B1, B8 = 1, 8
ONNX = "efficientnet_lite0.onnx"

PAGE_PY = r"""
import json, os, time
import js
import numpy as np
import wasmdl
from wasmdl.applications import EfficientNetLite0_async, WEIGHTS
wasmdl.datasets.set_base_url(js.location.origin + "/models/", kind="models")
X8 = np.random.default_rng(0).normal(size=(8, 224, 224, 3)).astype(np.float32)
NETS, OUT = {}, {}

async def load(backend):
    if backend == "webgpu":
        from wasmdl.backend import webgpu
        await webgpu.init_async()
    wasmdl.set_backend(backend)
    cached = wasmdl.datasets.files.folders("models")[0] / WEIGHTS["imagenet"][0]
    cached.unlink(missing_ok=True)  # every backend's load time includes the download
    t0 = time.perf_counter()
    net = await EfficientNetLite0_async(weights="imagenet")
    load_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    OUT[backend] = net.predict(X8[:1])
    warm_ms = (time.perf_counter() - t0) * 1000
    NETS[backend] = net
    OUT[backend + "8"] = net.predict(X8)  # batch 8 once: checks its readback too
    ref = OUT.get("numpy", OUT[backend])
    diff = float(np.abs(OUT[backend] - ref).max())
    return json.dumps({"load_ms": load_ms, "warm_ms": warm_ms, "max_abs_diff": diff})

def run(backend, batch, n):
    wasmdl.set_backend(backend)  # inputs go to the net's backend
    net = NETS[backend]
    x = X8[:batch]
    for _ in range(n):
        net.predict(x)

def nchw(batch):
    return X8[:batch].transpose(0, 3, 1, 2).copy().ravel()

def diff_to(probs):
    if "numpy" not in OUT:  # no wasmdl contender in this page
        return None
    return float(np.abs(np.asarray(probs.to_py(), np.float32) - OUT["numpy"].ravel()).max())
"""

PAGE_JS = r"""
(async () => {
  // bench.pyodide_page: Pyodide, wasmdl and the bench wheel
  BOOT
  await add({ src: "/vendor/onnxruntime-web/dist/ort.all.min.js" });
  ort.env.wasm.wasmPaths = "/vendor/onnxruntime-web/dist/";
  ort.env.wasm.numThreads = THREADS;
  await py.runPythonAsync(PAGE_PY);
  const load = py.globals.get("load"), run = py.globals.get("run");
  const nchw = py.globals.get("nchw"), diffTo = py.globals.get("diff_to");
  const result = { isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency,
    ort: ort.env.versions.web, rows: {}, errors: {} };
  const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];
  const contenders = {};
  for (const label of CONTENDERS) {
    const t0 = performance.now();
    try {
      if (label.startsWith("wasmdl")) {
        const backend = label.split(" ")[1];
        const info = JSON.parse(await load.callPromising(backend));
        result.rows[label] = { load_ms: info.load_ms, warm_ms: info.warm_ms,
          max_abs_diff: info.max_abs_diff };
        contenders[label] = (batch, n) => run.callPromising(backend, batch, n);
      } else {
        const ep = label.includes("webgpu") ? "webgpu" : "wasm";
        const bytes = new Uint8Array(await (await fetch("/models/ONNX")).arrayBuffer());
        const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
        const load_ms = performance.now() - t0;
        const inputs = {};
        for (const b of [1, 8]) {
          inputs[b] = new ort.Tensor("float32", nchw(b).toJs(), [b, 3, 224, 224]);
        }
        const once = async (b) => {
          const out = await session.run({ input: inputs[b] });
          return await out.probs.getData();
        };
        const w0 = performance.now();
        const probs = await once(1);
        const warm_ms = performance.now() - w0;
        await once(8);
        result.rows[label] = { load_ms, warm_ms, max_abs_diff: diffTo(Array.from(probs)) };
        contenders[label] = async (b, n) => { for (let i = 0; i < n; i++) await once(b); };
      }
    } catch (e) {
      result.errors[label] = String(e.message || e).slice(0, 500);
    }
  }
  const live = Object.keys(contenders);
  for (const b of [1, 8]) {
    const per = Object.fromEntries(live.map((l) => [l, []]));
    for (const label of live) {  // warm each at this batch size (wasmdl captures per shape)
      try {
        const slow = result.rows[label].warm_ms > 3000;  // SwiftShader: load ran batch 8 once
        if (!(slow && b === 8)) await contenders[label](b, slow ? 1 : 3);
      } catch (e) { /* reported by the timed rounds */ }
    }
    for (let r = 0; r < ROUNDS; r++) {
      const order = live.slice(r % live.length).concat(live.slice(0, r % live.length));
      for (const label of order) {
        const slow = result.rows[label].warm_ms > 3000;
        if (slow && r >= 1) continue;  // SwiftShader (seconds per image): one round
        const n = b === 1 && !slow ? 3 : 1;
        const t0 = performance.now();
        try {
          await contenders[label](b, n);
        } catch (e) {
          result.errors[`${label} batch ${b}`] = String(e.message || e).slice(0, 500);
          continue;
        }
        per[label].push((performance.now() - t0) / n / b);
      }
    }
    for (const label of live) {
      if (per[label].length) result.rows[label][`b${b}_ms`] = median(per[label]);
      result.rows[label][`b${b}_rounds`] = per[label];
    }
  }
  return JSON.stringify(result);
})()
"""


class _Isolated:
    """scripts/serve.py's handler plus COOP/COEP: a cross-origin isolated page (threads)."""

    @staticmethod
    @contextlib.contextmanager
    def serve(root):
        import functools

        serve = _script("serve")

        class Handler(serve.SiteHandler):
            def end_headers(self):
                self.send_header("Cross-Origin-Opener-Policy", "same-origin")
                self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
                super().end_headers()

        server = serve.ThreadingServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def run_page(root, wheels, contenders, rounds, threads) -> dict:
    js = PAGE_JS.replace("PAGE_PY", json.dumps(PAGE_PY)).replace("ONNX", ONNX)
    js = js.replace("CONTENDERS", json.dumps(contenders)).replace("ROUNDS", str(rounds))
    js = js.replace("THREADS", str(threads)).replace("BOOT", boot_js(wheels, capture=True))
    with _Isolated.serve(root) as url, Chromium() as browser:
        browser.navigate(url + "/index.html")
        time.sleep(1.0)
        result = json.loads(browser.evaluate(js, timeout=3600))
        result["browser"] = browser.evaluate("navigator.userAgent")
    return result


def run_native(rounds) -> dict:
    """PyTorch on one thread: load (build + the .pth), warm-up, batch 1 and 8 per image."""
    import torch

    sys.path.insert(0, str(Path(repo_root(), "scripts")))
    import build_pretrained

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    net = build_pretrained.torch_model()
    row = {"load_ms": (time.perf_counter() - t0) * 1000}
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(8, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        t0 = time.perf_counter()
        net(x[:1])
        row["warm_ms"] = (time.perf_counter() - t0) * 1000
        for b in (B1, B8):
            per = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                net(x[:b])
                per.append((time.perf_counter() - t0) * 1000 / b)
            row[f"b{b}_ms"], row[f"b{b}_rounds"] = float(np.median(per)), per
    row["threads"] = torch.get_num_threads()
    return row


def _site_root(tmp, wheels):
    """A folder served for the pages: Pyodide, the wheels, npm bundles, /models/."""
    root = Path(tmp, "root")
    root.mkdir()
    os.symlink(Path(repo_root(), ".cache", "pyodide", "dist"), root / "pyodide")
    os.symlink(Path(repo_root(), "node_modules"), root / "vendor")
    os.symlink(_script("site_steps_pretrained").MODELS, root / "models")
    for wheel in wheels:
        os.symlink(Path(wheel).resolve(), root / Path(wheel).name)
    (root / "index.html").write_text("<!doctype html><meta charset='utf-8'><body>")
    return root


def table(result) -> str:
    rows = result["rows"]
    native = rows.get("PyTorch (native, 1 thread)", {}).get("b1_ms")
    ratio = result.get("wasmdl_vs_ort", {})
    head = ("| contender | load ms | warm-up (first image) ms | batch 1 ms/image | "
            "batch 8 ms/image | browser / native (batch 1) | max abs diff |")  # fmt: skip
    lines = [head, "|" + "---|" * 7]
    fmt = lambda v: "-" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.1f}"  # noqa: E731
    for label, r in rows.items():
        rel = "-" if not (native and r.get("b1_ms")) else f"{r['b1_ms'] / native:.2f}x"
        diff = r.get("max_abs_diff")
        lines.append(
            f"| {label} | {fmt(r.get('load_ms'))} | {fmt(r.get('warm_ms'))} | "
            f"{fmt(r.get('b1_ms'))} | {fmt(r.get('b8_ms'))} | {rel} | "
            f"{'-' if diff is None else f'{diff:.1e}'} |"
        )
    for b in ("1", "8"):
        if f"b{b}" in ratio:
            lines.append(
                f"\nwasmdl CPU / ORT wasm (1 thread), batch {b}, interleaved in one page, "
                f"median of per-round ratios: **{ratio[f'b{b}']:.2f}x**"
            )
    for label, err in result.get("errors", {}).items():
        lines.append(f"\n{label}: not measured ({err})")
    return "\n".join(lines)


def _ratios(page) -> dict:
    rows, out = page["rows"], {}
    a, b = rows.get("wasmdl numpy", {}), rows.get("ORT wasm 1 thread", {})
    for n in ("1", "8"):
        ra, rb = a.get(f"b{n}_rounds") or [], b.get(f"b{n}_rounds") or []
        if ra and rb:
            out[f"b{n}"] = float(np.median([x / y for x, y in zip(ra, rb, strict=False)]))
    return out


def main(argv=None) -> int:
    from . import gemm

    p = argparse.ArgumentParser(prog="python -m bench.pretrained", description=__doc__)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument(
        "--contenders",
        default="wasmdl numpy,ORT wasm 1 thread,ORT webgpu,wasmdl webgpu,wasmdl webgl",
        help="comma list of the first page's contenders",
    )
    p.add_argument("--no-threaded", action="store_true", help="skip ORT wasm threaded")
    p.add_argument("--out", default=str(Path(repo_root(), "docs", "bench", "pretrained")))
    args = p.parse_args(argv)
    _script("site_steps_pretrained").build(tempfile.mkdtemp())  # web/models built if missing
    with tempfile.TemporaryDirectory() as tmp:
        wheels = gemm._wheels(tmp)
        root = _site_root(tmp, wheels)
        page = run_page(root, wheels, args.contenders.split(","), args.rounds, threads=1)
        result = {"rows": page.pop("rows"), "errors": page.pop("errors"), "page": page}
        result["wasmdl_vs_ort"] = _ratios({"rows": result["rows"]})
        if not args.no_threaded:
            threaded = run_page(root, wheels, ["ORT wasm threaded"], args.rounds, threads=0)
            result["rows"]["ORT wasm threaded"] = threaded["rows"].get("ORT wasm threaded", {})
            result["rows"]["ORT wasm threaded"]["threads"] = threaded["cores"]
            result["rows"]["ORT wasm threaded"]["isolated"] = threaded["isolated"]
            result["errors"].update(threaded["errors"])
    result["rows"]["PyTorch (native, 1 thread)"] = run_native(args.rounds)
    result["method"] = __doc__.split("\n\n")[1]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    md = table(result)
    out.with_suffix(".md").write_text(md + "\n")
    print(md)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
