"""The same protocol natively (paper §3): wasmdl on CPython (numpy backend), and PyTorch.

Mirrors ``web/bench/harness.js``: load (the model file from disk into a ready model) with
warm-up (the first inference after each load), a check against the reference outputs, then
``repeats`` repeats of k calls for inference per sample (batch 1) and training per batch of 64
(SGD 0.15, mean cross-entropy), k calibrated to the time budget. PyTorch loads ``weights.npz``
(the one set of weights every format is converted from) into ``torch.nn.Sequential``.

Example:
    >>> rows = run_native(["d1_w64"], models_dir, frameworks=["wasmdl"])  # doctest: +SKIP
    >>> rows[0]["status"]  # doctest: +SKIP
    'ok'
"""

from __future__ import annotations

import json
import os
import platform
import time

import numpy as np

from . import adapter, grid

now = time.perf_counter


def stats(samples_s) -> dict:
    ms = np.asarray(samples_s, np.float64) * 1e3
    q1, med, q3 = np.percentile(ms, [25, 50, 75])
    return {
        "median": float(med),
        "min": float(ms.min()),
        "max": float(ms.max()),
        "q1": float(q1),
        "q3": float(q3),
        "n": len(ms),
        "samples": ms.tolist(),
    }


def time_calls(fn, repeats: int, budget_s: float, warm: int = 2, kmax: int = 2000) -> dict:
    t0 = now()
    fn(0)
    single, c = now() - t0, 1
    if single <= budget_s:  # else: a slow call; the first one was the warm-up
        for c in range(1, warm):
            fn(c)
        t0 = now()
        fn(warm)
        single, c = max(now() - t0, 1e-6), warm + 1
    reps = max(1, min(repeats, int(budget_s / single)))
    k = max(1, min(kmax, round(budget_s / reps / single)))
    per = []
    for _ in range(reps):
        t0 = now()
        for _ in range(k):
            fn(c)
            c += 1
        per.append((now() - t0) / k)
    return {**stats(per), "k": k}


class WasmdlNative:
    name, backend, variant = "wasmdl", "numpy (CPython)", "softmax"

    def load(self, folder):
        import wasmdl.io

        with open(os.path.join(folder, "model.wasmdl"), "rb") as f:
            return adapter.compile_for_training(wasmdl.io.load_model(f.read()))

    predict = staticmethod(adapter.predict)
    train_step = staticmethod(adapter.train_step)


class TorchNative:
    name, backend, variant = "PyTorch", "cpu (CPython)", "softmax"

    def __init__(self):
        import torch

        self.torch = torch
        torch.set_num_threads(1)  # one core, like one browser tab's main thread

    def load(self, folder):
        torch = self.torch
        with np.load(os.path.join(folder, "weights.npz")) as f:
            n = len(f.files) // 2
            layers = []
            for i in range(n):
                w, b = torch.from_numpy(f[f"w{i}"]), torch.from_numpy(f[f"b{i}"])
                lin = torch.nn.Linear(w.shape[0], w.shape[1])
                with torch.no_grad():
                    lin.weight.copy_(w.T)
                    lin.bias.copy_(b)
                layers += [lin] + ([torch.nn.ReLU()] if i < n - 1 else [])
        model = torch.nn.Sequential(*layers)
        model.opt = torch.optim.SGD(model.parameters(), lr=grid.LEARNING_RATE)
        return model

    def predict(self, model, x):
        with self.torch.no_grad():
            return self.torch.softmax(model(self.torch.from_numpy(x)), 1).numpy()

    def train_step(self, model, x, y_onehot):
        torch = self.torch
        model.opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            model(torch.from_numpy(x)), torch.from_numpy(y_onehot.argmax(1))
        )
        loss.backward()
        model.opt.step()
        return float(loss.detach())


def run_config(fw, folder, data, repeats=5, budget_s=1.0, tol=2e-4) -> dict:
    xtr, ytr, xte, _ = data
    xf, xt, yt = grid.to_float(xte), grid.to_float(xtr), np.eye(10, dtype=np.float32)[ytr]
    with open(os.path.join(folder, "reference.json")) as f:
        ref = np.asarray(json.load(f)[fw.variant])
    loads, warms, model = [], [], None
    for r in range(repeats):
        t0 = now()
        model = fw.load(folder)
        t1 = now()
        fw.predict(model, xf[:1])
        warms.append(now() - t1)
        loads.append(t1 - t0)
        if r >= 2 and sum(loads) + sum(warms) > budget_s:
            break
    got = np.concatenate([fw.predict(model, xf[i : i + 1]) for i in range(len(ref))])
    diff = float(np.abs(got - ref).max())
    row = {
        "load": {**stats(loads), "first": loads[0] * 1e3},
        "warmup": {**stats(warms), "first": warms[0] * 1e3},
        "check": {"ok": diff <= tol, "maxDiff": diff, "n": len(ref), "tol": tol},
    }
    if diff > tol:
        return {
            "status": "mismatch",
            "check": row["check"],
            "error": f"predictions disagree with wasmdl's: max |diff| {diff:.2e} > {tol}",
        }
    n = len(xf)
    row["infer"] = time_calls(lambda i: fw.predict(model, xf[i % n : i % n + 1]), repeats, budget_s)
    b = grid.BATCH

    def step(i):
        s = ((i + 1) * b) % len(xt)
        fw.train_step(model, xt[s : s + b], yt[s : s + b])

    row["train"] = time_calls(step, repeats, budget_s, kmax=500)
    return {"status": "ok", **row}


def run_native(
    config_ids, models_dir, frameworks=("wasmdl", "torch"), repeats=5, budget_s=1.0, progress=None
) -> list[dict]:
    """Rows (same fields as the page's) for each framework x configuration."""
    data = grid.load_data()
    rows = []
    for name in frameworks:
        try:
            fw = WasmdlNative() if name == "wasmdl" else TorchNative()
        except ImportError as e:
            fw, err = None, f"not installed: {e}"
        for cid in config_ids:
            cfg = grid.config_by_id(cid)
            row = {
                "framework": f"{name}-native",
                "name": f"{name} (native)",
                "config": cid,
                "depth": cfg.depth,
                "width": cfg.width,
                "params": cfg.n_params,
                "backend": getattr(fw, "backend", "cpu"),
                "native": True,
            }
            try:
                if fw is None:
                    raise RuntimeError(err)
                row.update(run_config(fw, os.path.join(models_dir, cid), data, repeats, budget_s))
            except Exception as e:  # noqa: BLE001 - the failure goes into the row
                row.update(status="failed", error=f"{type(e).__name__}: {e}")
            rows.append(row)
            if progress:
                progress(row)
    return rows


def machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        info["cpu_model"] = names[0] if names else None
        with open("/proc/meminfo") as f:
            info["mem_total_kb"] = int(f.readline().split()[1])
    except OSError:
        pass
    return info


SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_subprocess(config_ids, models_dir, frameworks, repeats, budget_s, progress=None):
    """``run_native`` in a child process with BLAS pinned to one thread (set before numpy is
    imported): a browser tab computes on one core, and a multi-threaded BLAS spinning on a
    busy 2-core machine is 10-100x slower than one thread."""
    import subprocess
    import sys
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "bench.native",
            "--models",
            models_dir,
            "--configs",
            ",".join(config_ids),
            "--frameworks",
            ",".join(frameworks),
            "--repeats",
            str(repeats),
            "--budget",
            str(budget_s),
            "--json",
            tmp.name,
        ]
        env = {**os.environ, **SINGLE_THREAD}
        with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True) as proc:
            for line in proc.stderr:
                if line.startswith("row ") and progress:
                    progress(json.loads(line[4:]))
                elif not line.startswith("row "):
                    sys.stderr.write(line)
        if proc.returncode:
            raise RuntimeError(f"run_subprocess: {cmd} exited with {proc.returncode}")
        with open(tmp.name) as f:
            return json.load(f)


def main(argv=None) -> None:
    import argparse
    import sys

    p = argparse.ArgumentParser(description="the benchmark grid on native CPython")
    p.add_argument("--models", required=True)
    p.add_argument("--configs", default=",".join(c.id for c in grid.CONFIGS))
    p.add_argument("--frameworks", default="wasmdl,torch")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--budget", type=float, default=1.0, help="seconds per phase")
    p.add_argument("--json", required=True)
    a = p.parse_args(argv)

    def report(row):
        brief = {"framework": row["framework"], "config": row["config"]}
        sys.stderr.write("row " + json.dumps(brief) + "\n")

    rows = run_native(
        a.configs.split(","),
        a.models,
        a.frameworks.split(","),
        a.repeats,
        a.budget,
        progress=report,
    )
    with open(a.json, "w") as f:
        json.dump(rows, f)


if __name__ == "__main__":
    main()
