"""User workloads beside the paper's grid (BENCHMARK.md "Beyond the paper"): the README's MLP
with Adam and accuracy, an MNIST CNN (Conv2D 16, pool, Conv2D 32, pool, Dense 10) with Adam,
LSTM(64) over the 28 rows of a digit; training steps of 64, batch-1 predict, first-step and
page-ready times. Each framework's page side is in ``web/bench/workloads.js``; this module is
wasmdl's side (run in Pyodide through the ``wasmdl-bench`` wheel) and writes the ONNX files that
inference-only peers (ONNX Runtime Web) load, with wasmdl's outputs to check them against.

>>> import numpy as np
>>> m = build("lstm", seed=0)
>>> m.predict(np.zeros((1, 28, 28), np.float32)).shape
(1, 10)
"""

from __future__ import annotations

import json
import os

import numpy as np

WORKLOADS = ("mlp_adam", "cnn", "lstm")
INPUT = {"mlp_adam": (784,), "cnn": (28, 28, 1), "lstm": (28, 28)}


def build(name: str, seed: int = 0):
    """The workload's model, compiled with Adam, sparse categorical cross-entropy, accuracy."""
    import wasmdl
    from wasmdl import nn

    np.random.seed(seed)
    layers = {
        "mlp_adam": lambda: [
            nn.Dense(64, activation="relu", input_shape=(784,)),
            nn.Dense(10, activation="softmax"),
        ],
        "cnn": lambda: [
            nn.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)),
            nn.MaxPool2D(),
            nn.Conv2D(32, 3, activation="relu"),
            nn.MaxPool2D(),
            nn.Flatten(),
            nn.Dense(10, activation="softmax"),
        ],
        "lstm": lambda: [nn.LSTM(64, input_shape=(28, 28)), nn.Dense(10, activation="softmax")],
    }[name]()
    model = wasmdl.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class WorkloadRunner:
    """wasmdl's column of the workloads page: the data handed over once, one model at a time."""

    def __init__(self, raw, layout):
        layout = dict(layout)
        n_tr, n_te, d = layout["n_train"], layout["n_test"], layout["n_in"]
        u8 = np.frombuffer(bytes(raw), np.uint8)
        self.x_train = u8[: n_tr * d].reshape(n_tr, d).astype(np.float32) / 255
        self.x_test = u8[n_tr * d : (n_tr + n_te) * d].reshape(n_te, d).astype(np.float32) / 255
        off = (n_tr + n_te) * d
        self.y_train = u8[off : off + n_tr].astype(np.int64)
        self.y_test = u8[off + n_tr : off + n_tr + n_te].astype(np.int64)
        self.model = self.name = None

    def build(self, name: str) -> None:
        self.model, self.name = build(name), name

    def _x(self, x):
        return x.reshape((len(x), *INPUT[self.name]))

    def train_step(self, i: int, n: int = 64) -> float:
        s = (i * n) % len(self.x_train)
        return self.model.train_on_batch(self._x(self.x_train[s : s + n]), self.y_train[s : s + n])

    def predict1(self, i: int) -> None:
        i %= len(self.x_test)
        self.model.predict(self._x(self.x_test[i : i + 1]))

    def accuracy(self) -> float:
        p = np.asarray(self.model.predict(self._x(self.x_test), batch_size=250))
        return float((p.argmax(1) == self.y_test).mean())


def export_onnx(out_dir: str, data_file: str, layout: dict) -> dict:
    """Write ``<workload>.onnx`` (seeded weights), ``reference.json`` (wasmdl's outputs on the
    first 4 test digits) and the Paddle.js models (``paddlejs_<workload>/``, with
    ``paddlejs.json``: "ok" or why not per workload) into ``out_dir``; return the reference."""
    import wasmdl.io

    os.makedirs(out_dir, exist_ok=True)
    runner = WorkloadRunner(open(data_file, "rb").read(), layout)
    ref, paddle = {}, {}
    for name in WORKLOADS:
        runner.build(name)
        model = runner.model
        model.predict(runner._x(runner.x_test[:1]))  # built
        with open(os.path.join(out_dir, f"{name}.onnx"), "wb") as f:
            f.write(wasmdl.io.save_model(model, format="onnx"))
        ref[name] = np.asarray(model.predict(runner._x(runner.x_test[:4]))).tolist()
        paddle[name] = _paddlejs(model, runner.x_test[:4], np.asarray(ref[name]), out_dir, name)
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f)
    with open(os.path.join(out_dir, "paddlejs.json"), "w") as f:
        json.dump(paddle, f)
    return ref


def _paddlejs(model, x, y, out_dir: str, name: str) -> str:
    """The workload as a Paddle.js model in ``paddlejs_<name>/`` (bench.paddle_export): "ok",
    or why there is none (the page's row shows it)."""
    from . import paddle_export

    try:
        paddle_export.export_network(model, x, y, os.path.join(out_dir, f"paddlejs_{name}"))
    except Exception as e:  # noqa: BLE001 - the reason goes into the row
        return str(e)
    return "ok"


# framework x backend rows of the workloads page (web/bench/workloads.js ADAPTERS / REASONS)
PAGE_ROWS = (
    ("wasmdl", "numpy"),
    ("tfjs", "wasm"),
    ("tfjs", "cpu"),
    ("ort", "wasm"),
    ("ort", "wasm-mt"),
    ("convnetjs", "cpu"),
    ("brainjs", "cpu"),
    ("chainer", "numpy"),
    ("chainer", "webgl"),
    ("chainer", "webgpu"),
    ("mind", "cpu"),
    ("paddlejs", "webgl"),
    ("synaptic", "cpu"),
    ("kerasjs", "cpu"),
    ("webdnn", "fallback"),
)


def run_pages(url: str, rows=PAGE_ROWS, timeout: float = 300, log=print,
              per_workload: bool = False) -> list[dict]:  # fmt: skip
    """Open ``workloads.html`` once per framework x backend (a fresh Chromium each, so page-ready
    is a first visit) and collect its rows; with ``per_workload``, once per framework x backend
    x workload (one model per page). A page that fails or hangs keeps its rows with the
    error."""
    import time

    out = []
    for fw, backend in rows:
        t0 = time.time()
        for names in [(w,) for w in WORKLOADS] if per_workload else [WORKLOADS]:
            out += _page_rows(url, fw, backend, names, per_workload, timeout)
        log(f"workloads: {fw}:{backend} {time.time() - t0:.0f} s")
    return out


def _page_rows(url, fw, backend, names, pick, timeout) -> list[dict]:
    """The rows of one workloads page for ``names`` (``pick``: name them in the query)."""
    import time

    from . import driver

    t0 = time.time()
    query = f"fw={fw}&backend={backend}" + (f"&workloads={','.join(names)}" if pick else "")
    try:
        with driver.Chromium() as browser:
            browser.navigate(f"{url}/bench/workloads.html?{query}")
            state = {}
            while time.time() - t0 < timeout:
                time.sleep(1)
                try:
                    raw = browser.evaluate(
                        "window.workloads ? JSON.stringify(window.workloads) : null", 120
                    )
                except Exception:  # noqa: BLE001 - a page busy in a long call
                    continue
                state = json.loads(raw) if raw else {}
                if state.get("done"):
                    break
        got = state.get("rows", [])
        if state.get("error") or not state.get("done"):
            why = state.get("error") or f"no result in {timeout} s"
            done = {r["workload"] for r in got}
            got += [_failed(fw, backend, w, why.splitlines()[0]) for w in names if w not in done]
    except Exception as e:  # noqa: BLE001 - keep the row with the error
        got = [_failed(fw, backend, w, str(e)) for w in names]
    return got


def _failed(fw, backend, w, error):
    return {"framework": fw, "backend": backend, "workload": w, "status": "failed",
            "error": error}  # fmt: skip


def compare_pages(url, rows, repeats=2, log=print) -> list[dict]:
    """Each row's workloads in one page (as ``bench.full`` runs them) and one page per
    workload, ``repeats`` times in turn: does a model trained earlier in the same page (JIT
    state, caches) change a framework's times? Median train ms per step and predict ms per
    sample of each mode."""
    runs = {"one page": [], "page per workload": []}
    for _ in range(repeats):
        for mode, per in (("one page", False), ("page per workload", True)):
            runs[mode] += run_pages(url, rows, log=log, per_workload=per)
    out = []
    for fw, backend in rows:
        for w in WORKLOADS:
            row = {"framework": fw, "backend": backend, "workload": w}
            for mode, got in runs.items():
                mine = [r for r in got if (r["framework"], r["backend"], r["workload"])
                        == (fw, backend, w)]  # fmt: skip
                for k in ("train", "predict"):
                    vals = [r[k]["median"] for r in mine if isinstance(r.get(k), dict)]
                    row[f"{k} ms, {mode}"] = [round(v, 3) for v in vals]
            out.append(row)
    return out


def main(argv=None) -> int:
    """``python -m bench.workloads --compare-pages tfjs:cpu,tfjs:wasm,convnetjs:cpu``."""
    import argparse
    import shutil
    import sys

    from . import driver, full

    p = argparse.ArgumentParser(prog="python -m bench.workloads", description=compare_pages.__doc__)
    p.add_argument("--compare-pages", required=True, help="fw:backend rows, comma-separated")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", default="artifacts/workloads_pages.json")
    a = p.parse_args(argv)
    rows = [tuple(r.split(":")) for r in a.compare_pages.split(",")]
    site = full.prepare_site_with_workloads(full.parse(["--no-build"]))
    try:
        with driver.serve(site) as url:
            result = compare_pages(url, rows, a.repeats, log=lambda s: print(s, file=sys.stderr))
    finally:
        shutil.rmtree(site, ignore_errors=True)
    lines = ["| row | workload | train ms: one page | page per workload | predict ms: one page |"
             " page per workload |", "|---|---|---|---|---|---|"]  # fmt: skip
    for r in result:
        cells = [", ".join(map(str, r[f"{k} ms, {m}"])) or "-" for k in ("train", "predict")
                 for m in ("one page", "page per workload")]  # fmt: skip
        lines.append(f"| {r['framework']} · {r['backend']} | {r['workload']} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    print("\n".join(lines))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"rows": result, "loadavg": list(os.getloadavg())}, f, indent=1)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
