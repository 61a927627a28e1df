"""Captured steps against TensorFlow.js in one Chromium page, interleaved (issue #13's table).

Workloads (same model, same weights in both frameworks; outputs compared before timing):
  readme_mlp_predict   README MLP (Flatten -> Dense 64 relu -> Dense 10 softmax), batch-1 predict
  cnn_predict          MNIST CNN (Conv2D 16, pool, Conv2D 32, pool, Dense 10), batch-1 predict
  lstm_train           LSTM(64) over 28x28 rows -> Dense 10, Adam, batch 64
  readme_mlp_train     README MLP, Adam + accuracy, batch 64
  d{1,2,4,8}_w{64,128,256}_sgd  the paper's MLPs, SGD lr 0.15, categorical cross-entropy on
                       softmax outputs, batch 64 (docs/bench/capture_old_fused.json has them
                       against the hand-written MLP path this replaced, before it was deleted)
  cnn_train            the MNIST CNN, Adam + accuracy, batch 64
  d{1,2,4,8}_w{64,128,256}_predict  the paper's MLPs, batch-1 predict
TF.js 4.22 runs its wasm backend (XNNPACK, SIMD, one thread: the page is not cross-origin
isolated); with ``--gpu webgl`` both frameworks run on WebGL2 instead (wasmdl's webgl backend,
TF.js's webgl backend), and the table adds wasmdl's Python->JS calls, draws and texture uploads
per step. Each contender's first call is reported (after one predict that checks the outputs;
shader compiles included). After each contender is warmed for ``WARMUP_MS`` (>= 20 calls),
every round runs each contender for ~60 ms in rotated order; a cell is the median round's ms per
call and ``ratio`` the median over rounds of wasmdl's time over TF.js's in the same round.

    python -m bench.capture     # writes artifacts/bench_capture.json, prints the table
    python -m bench.capture --rounds 9 --only readme_mlp_predict,cnn_predict
    python -m bench.capture --gpu webgl --out artifacts/bench_capture_webgl.json
    python -m bench.capture --old-fused --only d1_w64_sgd,d8_w256_sgd

``--old-fused [REV]`` adds the hand-written MLP path this mechanism replaced as a contender on
the SGD MLPs: wasmdl is rebuilt from commit ``REV`` (default ``OLD_FUSED_REV``, the last one that
had ``_wasm/mlp.py``) and runs in a second Pyodide in a same-origin frame of the same page, so its
rounds interleave with the others on one thread. It gets the same weights, and its first step's
loss must equal the current wasmdl's loss on the same batch before it is timed.

``page_workloads()`` is what runs inside Pyodide:

    >>> w = page_workloads(["readme_mlp_predict"])
    >>> w["readme_mlp_predict"]["spec"]["layers"][0]["type"], sorted(w["readme_mlp_predict"]["run"])
    ('flatten', ['wasmdl'])
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

GRID = [(d, w) for d in (1, 2, 4, 8) for w in (64, 128, 256)]
OLD_FUSED_REV = "13368dd23250b2eec36c686e65c2c2141075648e"  # parent of the deletion (4f5c4f7)
OLD = "wasmdl old fused"


def _readme(wl, nn):
    return wl.Sequential([nn.Flatten(input_shape=(28, 28)), nn.Dense(64, activation="relu"),
                          nn.Dense(10, activation="softmax")])  # fmt: skip


def _cnn(wl, nn):
    return wl.Sequential([
        nn.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)), nn.MaxPooling2D(2),
        nn.Conv2D(32, 3, activation="relu"), nn.MaxPooling2D(2), nn.Flatten(),
        nn.Dense(10, activation="softmax")])  # fmt: skip


def _lstm(wl, nn):
    return wl.Sequential([nn.LSTM(64, input_shape=(28, 28)), nn.Dense(10, activation="softmax")])


def _mlp(depth, width):
    def build(wl, nn):
        layers = [nn.Dense(width, activation="relu", input_shape=(784,))]
        layers += [nn.Dense(width, activation="relu") for _ in range(depth - 1)]
        return wl.Sequential([*layers, nn.Dense(10, activation="softmax")])

    return build


TFJS_LAYERS = {"Dense": "dense", "Flatten": "flatten", "Conv2D": "conv2d", "LSTM": "lstm",
               "MaxPooling2D": "maxPooling2d", "MaxPool2D": "maxPooling2d"}  # fmt: skip


def _spec(model):
    """The model as TF.js layer configs plus its weights (flat float32 lists, TF.js order)."""
    layers = []
    for layer in model.layers:
        kind = type(layer).__name__
        cfg = {"type": TFJS_LAYERS[kind]}
        for key in ("units", "filters", "activation"):
            if hasattr(layer, key):
                v = getattr(layer, key)
                cfg[key] = v if isinstance(v, int | str) else getattr(v, "__name__", str(v))
        if kind == "LSTM":  # Keras' default (TF.js defaults to hardSigmoid)
            cfg["recurrentActivation"] = "sigmoid"
        if kind == "Conv2D":
            cfg["kernelSize"] = list(layer.kernel_size)
        if kind == "MaxPooling2D":
            cfg["poolSize"] = list(layer.pool_size)
        layers.append(cfg)
    shape = list(model.build_input_shape_json()[0][1:])
    weights = [{"shape": list(w.shape), "data": w.ravel().tolist()} for w in model.get_weights()]
    return {"layers": layers, "inputShape": shape, "weights": weights}


WORKLOADS = {
    "readme_mlp_predict": ("predict", _readme, (1, 28, 28), "adam"),
    "cnn_predict": ("predict", _cnn, (1, 28, 28, 1), "adam"),
    "lstm_train": ("train", _lstm, (64, 28, 28), "adam"),
    "readme_mlp_train": ("train", _readme, (64, 28, 28), "adam"),
    "cnn_train": ("train", _cnn, (64, 28, 28, 1), "adam"),
    **{f"d{d}_w{w}_sgd": ("train", _mlp(d, w), (64, 784), "sgd") for d, w in GRID},
    **{f"d{d}_w{w}_predict": ("predict", _mlp(d, w), (1, 784), "sgd") for d, w in GRID},
}


def _loop(fn):
    def run(n):
        for _ in range(n):
            fn()

    return run


def _workload(name, backend="numpy"):
    import wasmdl as wl
    from wasmdl import nn

    wl.set_backend(backend)
    kind, build, shape, opt = WORKLOADS[name]
    rng = np.random.default_rng(0)
    x = rng.random(shape).astype(np.float32)
    y = rng.integers(0, 10, shape[0])
    sgd = opt == "sgd"
    loss = "categorical_crossentropy" if sgd else "sparse_categorical_crossentropy"
    labels = np.eye(10, dtype=np.float32)[y] if sgd else y
    wl.manual_seed(0)
    m = build(wl, nn)
    m.compile(optimizer=wl.optim.SGD(lr=0.15) if sgd else "adam", loss=loss,
              metrics=[] if sgd else ["accuracy"])  # fmt: skip
    run = {
        "wasmdl": _loop(lambda: m.predict(x) if kind == "predict" else m.train_on_batch(x, labels))
    }
    # the loss of the first step (on the initial weights): the old fused path must agree
    loss0 = None
    if kind == "train":
        loss0 = float(m.evaluate(x, labels, batch_size=shape[0], return_dict=True)["loss"])
    return {"kind": kind, "spec": _spec(m), "x": x.ravel().tolist(), "xShape": list(shape),
            "y": labels.ravel().tolist(), "yShape": list(labels.shape), "loss": loss, "opt": opt,
            "expect": m.predict(x[:1]).ravel().tolist(), "run": run, "model": m,
            "loss0": loss0}  # fmt: skip


def page_workloads(names=None, backend="numpy") -> dict:
    """name -> {kind, spec, x, y, expect, run: {label: run(n)}} for the page (models on
    ``backend``)."""
    return {n: _workload(n, backend) for n in (names or WORKLOADS)}


def gpu_counts(workloads, n=10) -> dict:
    """Per step of each wasmdl workload on the webgl backend: Python->JS calls, and the
    shim's draws, texture uploads and reads ({} on other backends)."""
    import wasmdl

    be = wasmdl.get_backend()
    if be.name != "webgl":
        return {}
    out = {}
    for name, w in workloads.items():
        run = w["run"]["wasmdl"]
        run(1)
        be.stats(reset=True)
        run(n)
        s = be.stats(reset=True)
        shim = s.get("shim", {})
        per = {k: shim[k] / n for k in ("draws", "uploads", "reads") if k in shim}
        out[name] = {"python_to_js": sum(s["python"].values()) / n, **per}
    return out


def calls_per_step(workloads) -> dict:
    """What each wasmdl model's captured step reports (instructions, backend calls)."""
    out = {}
    for name, w in workloads.items():
        info = w["model"].capture_info()
        out[name] = info.get("predict" if w["kind"] == "predict" else "train", {})
    return out


PAGE_JS = r"""
(async () => {
  // bench.pyodide_page: Pyodide, wasmdl and the bench wheel
  BOOT
  await add({ src: "/vendor/@tensorflow/tfjs/dist/tf.min.js" });
  if ("TFBACKEND" === "wasm") {
    await add({ src: "/vendor/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js" });
    tf.wasm.setWasmPaths("/vendor/@tensorflow/tfjs-backend-wasm/dist/");
  }
  if (!(await tf.setBackend("TFBACKEND"))) throw new Error("tf.setBackend('TFBACKEND') failed");
  const TFL = "tfjs TFBACKEND", OLD = "OLDLABEL";
  let OLDFRAME = null;
  if (OLDWHEEL) {  // a same-origin frame with its own Pyodide and the old wasmdl
    const frame = Object.assign(document.createElement("iframe"), { src: "/old/old.html" });
    document.body.append(frame);
    await new Promise((ok) => frame.addEventListener("load", ok, { once: true }));
    OLDFRAME = await frame.contentWindow.ready;
  }
  py.runPython(`from MODULE import capture as bench_capture
W = bench_capture.page_workloads(ONLY, "WLBACKEND")`);
  const names = py.runPython("list(W)").toJs();
  const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];
  const result = { workloads: {}, tfjs: tf.version.tfjs + " " + tf.getBackend() };
  for (const name of names) {
    const w = py.runPython(`W["${name}"]`);
    const spec = w.get("spec").toJs({ dict_converter: Object.fromEntries });
    const kind = w.get("kind"), xShape = w.get("xShape").toJs(), yShape = w.get("yShape").toJs();
    const x = tf.tensor(w.get("x").toJs(), xShape), y = tf.tensor(w.get("y").toJs(), yShape);
    const row = { kind, errors: {} };
    const batches = {};
    const runs = w.get("run");
    for (const label of runs.keys()) {
      const f = runs.get(label);
      batches[label] = async (n) => f(n);
    }
    if (OLDFRAME && w.get("opt") === "sgd" && kind === "train") {
      try {  // the deleted fused path, in the old wheel's Pyodide (same thread, same page)
        const loss = OLDFRAME.setup(JSON.stringify({ ...spec, x: w.get("x").toJs(), xShape,
                                                     y: w.get("y").toJs(), yShape }));
        const want = w.get("loss0");
        row.old_fused_loss = [loss, want];
        if (!(Math.abs(loss - want) <= 1e-4 * Math.max(1, Math.abs(want)))) {
          throw new Error(`first-step loss ${loss} != wasmdl's ${want}`);
        }
        batches[OLD] = async (n) => OLDFRAME.run(n);
      } catch (e) {
        row.errors[OLD] = String(e.message || e);
      }
    }
    try {
      const model = tf.sequential();
      spec.layers.forEach((l, i) => {
        const cfg = { ...l }; delete cfg.type;
        if (i === 0) cfg.inputShape = spec.inputShape;
        model.add(tf.layers[l.type](cfg));
      });
      model.setWeights(spec.weights.map((v) => tf.tensor(v.data, v.shape)));
      const loss = w.get("loss") === "categorical_crossentropy" ? "categoricalCrossentropy"
        : "sparseCategoricalCrossentropy";
      const opt = w.get("opt") === "sgd" ? tf.train.sgd(0.15) : tf.train.adam(1e-3);
      model.compile({ optimizer: opt, loss, metrics: w.get("opt") === "sgd" ? [] : ["accuracy"] });
      const expect = w.get("expect").toJs();
      const got = model.predict(x.slice(0, 1)).dataSync();
      row.max_abs_diff = Math.max(...expect.map((v, i) => Math.abs(v - got[i])));
      if (!(row.max_abs_diff < 1e-4)) throw new Error(`outputs differ: ${row.max_abs_diff}`);
      const x1 = x.slice(0, 1);
      batches[TFL] = kind === "predict"
        ? async (n) => {
          for (let i = 0; i < n; i++) { const o = model.predict(x1); o.dataSync(); o.dispose(); }
        }
        : async (n) => { for (let i = 0; i < n; i++) await model.trainOnBatch(x, y); };
    } catch (e) {
      row.errors[TFL] = String(e.message || e);
    }
    const labels = Object.keys(batches), size = {}, per = {}, first = {};
    for (const label of labels) {  // warm until >= WARMUP_MS and >= 20 calls
      let n = 0; const t0 = performance.now();
      try {
        while (n < 20 || performance.now() - t0 < WARMUP_MS) {
          const c0 = performance.now();
          await batches[label](1);
          if (n === 0) first[label] = +(performance.now() - c0).toFixed(3);
          n++;
        }
      } catch (e) { row.errors[label] = String(e.message || e); delete batches[label]; continue; }
      size[label] = Math.max(1, Math.round(60 * n / (performance.now() - t0)));
      per[label] = [];
    }
    const live = Object.keys(batches);
    for (let r = 0; r < ROUNDS; r++) {
      const order = live.slice(r % live.length).concat(live.slice(0, r % live.length));
      for (const label of order) {
        const t0 = performance.now();
        await batches[label](size[label]);
        per[label].push((performance.now() - t0) / size[label]);
      }
    }
    row.ms = {}, row.rounds = per, row.ratio = {}, row.first_ms = first;
    for (const label of live) row.ms[label] = +median(per[label]).toFixed(4);
    for (const label of live) {
      for (const other of live) {
        if (label === "wasmdl" && other !== label) {
          const r = per[label].map((v, i) => v / per[other][i]);
          row.ratio[`${label} / ${other}`] = +median(r).toFixed(3);
        }
      }
    }
    result.workloads[name] = row;
    x.dispose(); y.dispose(); w.destroy();
  }
  if (OLDFRAME) result.old_fused = OLDFRAME.info;
  const pyJson = (code) => JSON.parse(py.runPython(`import json, wasmdl\njson.dumps(${code})`));
  result.calls = pyJson("bench_capture.calls_per_step(W)");
  result.gpu_counts = pyJson("bench_capture.gpu_counts(W)");
  result.cpu_kernels = pyJson("wasmdl.cpu_kernels(), default=str");
  return JSON.stringify(result);
})()
"""


# The old wasmdl's Python side, in the frame: the SGD MLP from the page's spec (same weights),
# stepped by the fused path (``_wasm.mlp.train_step``) directly, as capture_old_fused.json did.
OLD_PY = r"""
import json
import numpy as np
import wasmdl as wl
from wasmdl import nn
from wasmdl._wasm import mlp

STATE = {}


def setup(args):
    spec = json.loads(args)  # one JSON string: no arrays cross between the two Pyodides
    shape = {"input_shape": tuple(spec["inputShape"])}
    layers = [nn.Dense(l["units"], activation=l["activation"], **(shape if not i else {}))
              for i, l in enumerate(spec["layers"])]  # fmt: skip
    m = wl.Sequential(layers)
    m.compile(optimizer=wl.optim.SGD(lr=0.15), loss="categorical_crossentropy")
    m.set_weights([np.asarray(w["data"], np.float32).reshape(w["shape"]) for w in spec["weights"]])
    m._ensure_optimizer()
    xa = np.asarray(spec["x"], np.float32).reshape(spec["xShape"])
    ya = np.asarray(spec["y"], np.float32).reshape(spec["yShape"])
    loss = mlp.train_step(m, xa, ya)
    if loss is None:
        raise RuntimeError("the old fused path does not take this model (mlp.train_step: None)")
    STATE.update(m=m, x=xa, y=ya)
    return float(loss)


def run(n):
    m, x, y = STATE["m"], STATE["x"], STATE["y"]
    for _ in range(n):
        float(mlp.train_step(m, x, y))


def info():
    return json.dumps({"version": wl.__version__, "cpu_kernels": wl.cpu_kernels()}, default=str)
"""

OLD_HTML = """<!doctype html><meta charset="utf-8"><body><script>
window.ready = (async () => {
  BOOT
  py.runPython(OLDPY);
  const setup = py.globals.get("setup"), run = py.globals.get("run");
  return { setup: (args) => setup(args), run: (n) => { run(n); },
           info: JSON.parse(py.globals.get("info")()) };
})();
</script>"""


def old_wheel(tmp, rev=OLD_FUSED_REV):
    """wasmdl's wheel built from commit ``rev`` of this repository (``git archive``), and that
    commit's capture_memory.js."""
    import subprocess
    from pathlib import Path

    from .driver import repo_root

    src = Path(tmp, "old-src")
    src.mkdir()
    got = subprocess.run(["git", "-C", repo_root(), "archive", rev], capture_output=True)
    if got.returncode != 0:  # a shallow clone, or no git: say what is needed
        raise SystemExit(
            f"bench.capture --old-fused: commit {rev} is not in this checkout "
            f"({got.stderr.decode(errors='replace').strip() or 'git failed'}); it needs the "
            f"repository's history (git fetch --unshallow, or git fetch origin {rev})"
        )
    archive = got.stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    out = Path(tmp, "old-dist")
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
           "--outdir", str(out), str(src)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    capture = Path(src, "kernels", "wasm", "capture_memory.js").read_text()
    return next(out.glob("wasmdl-*.whl")), capture


def _old_page(root, wheel, capture, dist):
    """Serve the old wheel under ``/old/`` with the frame page that boots it."""
    import os
    from pathlib import Path

    from .pyodide_page import CAPTURE_TAG, boot_js

    old = Path(root, "old")
    old.mkdir()
    os.symlink(os.path.abspath(wheel), old / Path(wheel).name)
    boot = boot_js([wheel], base="old/").replace(
        "CAPTURE_TAG", CAPTURE_TAG.replace("CAPTURE", json.dumps(capture))
    )
    html = OLD_HTML.replace("OLDPY", json.dumps(OLD_PY)).replace("BOOT", boot)
    (old / "old.html").write_text(html)


def run_chromium(dist, wheels, module, only=None, rounds=9, warmup_ms=1000, gpu=None,
                 old=None) -> dict:  # fmt: skip
    import os
    import tempfile
    from pathlib import Path

    from .driver import Chromium, repo_root, serve
    from .pyodide_page import boot_js

    with tempfile.TemporaryDirectory() as root:
        os.symlink(os.path.abspath(dist), os.path.join(root, "pyodide"))
        for wheel in wheels:
            os.symlink(os.path.abspath(wheel), os.path.join(root, Path(wheel).name))
        os.symlink(os.path.join(repo_root(), "node_modules"), os.path.join(root, "vendor"))
        Path(root, "index.html").write_text("<!doctype html><meta charset='utf-8'><body>")
        if old is not None:
            _old_page(root, *old, dist)
        with serve(root) as url, Chromium() as browser:
            browser.navigate(url + "/index.html")
            time.sleep(1.0)
            js = PAGE_JS.replace("MODULE", module).replace("ONLY", repr(only))
            js = js.replace("WARMUP_MS", str(warmup_ms)).replace("ROUNDS", str(rounds))
            js = js.replace("TFBACKEND", gpu or "wasm").replace("WLBACKEND", gpu or "numpy")
            js = js.replace("OLDWHEEL", "true" if old else "false").replace("OLDLABEL", OLD)
            js = js.replace("BOOT", boot_js(wheels, capture=True))
            result = json.loads(browser.evaluate(js, timeout=3000))
            result["browser"] = browser.evaluate("navigator.userAgent")
    result["method"] = (
        f"interleaved in one page: each contender warmed >= {warmup_ms} ms and 20 calls, then "
        f"{rounds} rounds of ~60 ms per contender (order rotated); medians of rounds"
    )
    return result


def table(result) -> str:
    """The markdown table: ms per call of each contender, the ratio, first calls, and the
    per-step counts (backend calls; on WebGL also Python->JS calls, draws, uploads)."""
    tfl = "tfjs " + result.get("tfjs", "x wasm").split()[-1]
    gpu = result.get("gpu_counts") or {}
    head = (
        f"| workload | wasmdl ms | TF.js {tfl[5:]} ms | wasmdl / TF.js "
        "| first call ms (wasmdl / TF.js) | backend calls / step |"
    )
    if gpu:
        head += " Python->JS / draws / uploads per step |"
    old = any(OLD in r.get("ms", {}) or OLD in r["errors"] for r in result["workloads"].values())
    if old:
        head += " old fused ms | wasmdl / old fused |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, row in result["workloads"].items():
        ms, ratio, first = row.get("ms", {}), row.get("ratio", {}), row.get("first_ms", {})
        calls = result.get("calls", {}).get(name, {}).get("backend_calls", "-")
        tf_ms = ms.get(tfl, row["errors"].get(tfl, "-"))
        line = (
            f"| {name} | {ms.get('wasmdl', '-')} | {tf_ms} | {ratio.get(f'wasmdl / {tfl}', '-')} | "
            f"{first.get('wasmdl', '-')} / {first.get(tfl, '-')} | {calls} |"
        )
        if gpu:
            g = gpu.get(name, {})
            counts = [g.get(k, "-") for k in ("python_to_js", "draws", "uploads")]
            line += f" {' / '.join(map(str, counts))} |"
        if old:
            old_ms = ms.get(OLD, row["errors"].get(OLD, "-"))
            line += f" {old_ms} | {ratio.get(f'wasmdl / {OLD}', '-')} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    import tempfile
    from pathlib import Path

    from . import gemm
    from .driver import repo_root

    p = argparse.ArgumentParser(prog="python -m bench.capture", description=__doc__)
    p.add_argument("--dist", default=str(Path(repo_root(), ".cache", "pyodide", "dist")))
    p.add_argument("--only", default=None, help="comma-separated workload names")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--out", default="artifacts/bench_capture.json")
    p.add_argument(
        "--gpu",
        choices=["webgl"],
        default=None,
        help="both frameworks on WebGL2 instead of wasmdl numpy/WASM vs TF.js wasm",
    )
    p.add_argument(
        "--old-fused",
        nargs="?",
        const=OLD_FUSED_REV,
        default=None,
        metavar="REV",
        help="add the deleted hand-written MLP path (wasmdl at commit REV) on the SGD MLPs",
    )
    args = p.parse_args(argv)
    only = args.only.split(",") if args.only else None
    with tempfile.TemporaryDirectory() as tmp:
        wheels = gemm._wheels(tmp)
        module = "bench"
        old = old_wheel(tmp, args.old_fused) if args.old_fused else None
        result = run_chromium(args.dist, wheels, module, only, args.rounds, gpu=args.gpu, old=old)
    if old is not None:
        result["old_fused_rev"] = args.old_fused
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(table(result))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
