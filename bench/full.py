"""``python -m bench.full``: the whole benchmark in one command, written where the README
reads it.

In one headless Chromium session on a cross-origin isolated local server: the paper's grid
(every CPU row x 12 configurations, the interleaved protocol), the user workloads on every
framework (``bench.workloads``), and the calibration against a standalone TF.js page
(``bench.calibrate``). Writes ``bench.json`` (everything, every round), ``bench.csv``,
``bench.md`` (conditions and the calibration verdict at the top, then the tables) and
``chart_*.png`` into ``docs/bench/<UTC date>/``; ``python -m bench.readme`` then rewrites the
README's result section from the latest such run. About 12-15 min on 2 shared cores.

    python -m bench.full                       # then: python -m bench.readme
    python -m bench.full --configs d1_w64,d8_w256 --no-workloads --out /tmp/quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time

from . import calibrate, driver, native, report, workloads
from .__main__ import prepare_site, progress, write_charts

# Honest labels: what each row is (framework, engine, threads).
LABELS = {
    ("wasmdl", "numpy"): "wasmdl · wasm-simd (Pyodide)",
    ("wasmdl", "webgl"): "wasmdl · webgl (Pyodide)",
    ("wasmdl", "webgpu"): "wasmdl · webgpu (Pyodide)",
    ("tfjs", "wasm"): "TF.js · wasm",
    ("tfjs", "wasm-mt"): "TF.js · wasm threaded",
    ("ort", "wasm"): "ORT Web · wasm",
    ("ort", "wasm-mt"): "ORT Web · wasm threaded",
}
# The grid's rows: every CPU row, Chainer on WgPy's GPU backends, and the rows that cannot run
# (they keep their reason). GPU backends of the others (SwiftShader here) are left to --fw all.
DEFAULT_FW = ",".join(
    [
        "wasmdl:numpy",
        "tfjs:cpu",
        "tfjs:wasm",
        "tfjs:wasm-mt",
        "convnetjs",
        "brainjs",
        "synaptic",
        "mind",
        "kerasjs:cpu",
        "webdnn:fallback",
        "ort:wasm",
        "ort:wasm-mt",
        "chainer",
        "paddlejs",
    ]
)
WORKLOAD_TITLES = {
    "mlp_adam": "README MLP (784-64-10), Adam, accuracy",
    "cnn": "MNIST CNN (Conv2D 16, pool, Conv2D 32, pool, Dense 10), Adam",
    "lstm": "LSTM(64) over 28x28 rows, Adam",
}


def label(r: dict) -> str:
    key = (r["framework"], r["backend"])
    if key in LABELS:
        return LABELS[key]
    return f"{r.get('name') or r['framework']} · {r['backend']}"


def threads(r: dict) -> int:
    return int((r.get("info") or {}).get("threads") or 1)


def conditions(run: dict) -> str:
    """The lines stated above every table: machine, load, isolation, threads, sizes, ready."""
    env, cal = run["env"], run.get("calibration")
    m = env.get("machine", {})
    lines = []
    if cal:
        lines.append(f"**{cal['line']}.**")
        lines.append("")
    lines += [
        f"- Run: {env.get('date')}, `python -m bench.full`, wall time "
        f"{run.get('wall_s', 0) / 60:.1f} min; {env.get('browser')} headless.",
        f"- Machine: {m.get('cpu_model')} ({m.get('cpus')} cores, shared with other jobs): load "
        f"average {env.get('loadavg_start', [0])[0]:.2f} at the start, "
        f"{env.get('loadavg_end', [0])[0]:.2f} at the end. Timings are noisy at that load; "
        "ratios come from interleaved rounds, so drift hits all frameworks alike.",
        f"- Page cross-origin isolated (COOP/COEP): {env.get('crossOriginIsolated')} "
        "(5 µs timers, SharedArrayBuffer). wasmdl runs in one thread (Pyodide, WASM SIMD); "
        "rows marked *threaded* use the peer's threaded wasm build with one thread per core.",
        "- Protocol: interleaved (web/bench/interleave.js): for each configuration every "
        "framework set up in a fresh frame of its own (one model per page), warmed until "
        "stable (>= 1 s and 20 calls), then rounds of ~75 ms rotating the order; the median "
        "round is shown, every round is in bench.json.",
    ]
    table = ["| row | threads | download KiB (gzip) | page-ready ms |", "|---|---|---|---|"]
    seen = set()
    libs = run.get("libraries") or {}
    for r in run["rows"]:
        if r.get("native") or label(r) in seen or r.get("status") == "unavailable":
            continue
        seen.add(label(r))
        lib = libs.get(f"{r['framework']}/{r['backend']}") or {}
        ready = (r.get("info") or {}).get("setupMs")
        gz = lib.get("gzip_bytes")
        table.append(
            f"| {label(r)} | {threads(r)} | {gz / 1024:.0f} | {ready:.0f} |"
            if gz and ready
            else f"| {label(r)} | {threads(r)} | {gz / 1024:.0f} |  |"
            if gz
            else f"| {label(r)} | {threads(r)} |  | {ready:.0f} |"
            if ready
            else f"| {label(r)} | {threads(r)} |  |  |"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(table)


def ratio_table(rows: list[dict], phase: str, configs) -> str:
    """Median per-round ratio to wasmdl (> 1: slower than wasmdl) per row and configuration."""
    cols = []
    for r in rows:
        if r.get(phase, {}).get("ratio") is not None and label(r) not in cols:
            cols.append(label(r))
    if not cols:
        return ""
    out = ["| config | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for c in configs:
        cells = []
        for col in cols:
            r = next((x for x in rows if label(x) == col and x["config"] == c), None)
            v = (r or {}).get(phase, {}).get("ratio")
            cells.append(f"{v:.2f}" if v is not None else (r or {}).get("status", ""))
        out.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def workload_table(wl: list[dict]) -> str:
    out = [
        "| workload | row | train ms/step | first step ms | predict ms (batch 1) | "
        "accuracy | page-ready ms | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in workloads.WORKLOADS:
        for r in (x for x in wl if x["workload"] == w):
            t, p = r.get("train") or {}, r.get("predict") or {}
            acc = r.get("accuracy")
            note = r.get("error") or r.get("trainError") or r.get("note") or ""
            if r.get("check"):
                note += f" (outputs vs wasmdl: max abs diff {r['check']['maxDiff']:.1e})"
            if acc is not None:
                note = f"after {r.get('steps')} steps of 64. " + note
            out.append(
                f"| {w} | {label(r)} | {report.fmt(t.get('median'))} | "
                f"{report.fmt(r.get('firstStepMs'))} | {report.fmt(p.get('median'))} | "
                f"{'' if acc is None else f'{acc:.1%}'} | {report.fmt(r.get('pageReadyMs'))} | "
                f"{note.replace('|', '/').strip()} |"
            )
    return "\n".join(out)


def markdown(run: dict) -> str:
    rows, configs = run["rows"], run["configs"]
    short = [
        dict(r, name=label(r).split(" · ")[0], backend=label(r).split(" · ", 1)[-1]) for r in rows
    ]
    parts = [f"# wasmdl benchmark — {run['env'].get('date')}", conditions(run)]
    parts.append(
        "## Training time per batch of 64 (ms, median round)\n\n"
        + report.phase_table(short, "train", configs)
    )
    parts.append(
        "## Training: ratio to wasmdl (median of per-round ratios; > 1 = slower than wasmdl)"
        "\n\n" + ratio_table(rows, "train", configs)
    )
    parts.append(
        "## Inference per sample, batch 1 (ms, median round)\n\n"
        + report.phase_table(short, "infer", configs)
    )
    parts.append("## Inference: ratio to wasmdl\n\n" + ratio_table(rows, "infer", configs))
    for phase in ("load", "warmup"):
        parts.append(f"## {report.PHASES[phase]}\n\n" + report.phase_table(short, phase, configs))
    if run.get("workloads"):
        parts.append(
            "## User workloads (one framework per fresh page, same warm-up rule; batch 64)\n\n"
            + (
                f"Run {run['env']['workloads_date']} (load average "
                f"{run['env'].get('loadavg_workloads', [0])[0]:.2f}).\n\n"
                if run["env"].get("workloads_date")
                else ""
            )
            + "\n".join(f"- `{k}`: {v}" for k, v in WORKLOAD_TITLES.items())
            + "\n\n"
            + workload_table(run["workloads"])
        )
    cal = run.get("calibration")
    if cal:
        lines = ["| config | phase | harness ms | standalone ms | ratio |", "|---|---|---|---|---|"]
        for c, v in cal["ratios"].items():
            for p, ratio in v.items():
                alone = cal["standalone"][c][p]["median"]
                lines.append(
                    f"| {c} | {p} | {report.fmt(alone * ratio) if ratio else ''} | "
                    f"{report.fmt(alone)} | {f'{ratio:.3f}' if ratio else ''} |"
                )
        parts.append(
            "## Calibration: TF.js wasm in the harness vs a standalone page "
            "(web/bench/standalone.html)\n\n" + "\n".join(lines)
        )
    parts.append(
        "## Model file sizes (KiB)\n\n" + report.size_table(rows, configs, run.get("libraries"))
    )
    parts.append("## Notes and failures\n\n" + report.notes(rows))
    return "\n\n".join(parts) + "\n"


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.full", description=__doc__.split("\n")[0])
    p.add_argument("--fw", default=DEFAULT_FW, help="grid rows: a comma list | cpu | all")
    p.add_argument("--configs", default="all")
    p.add_argument("--no-workloads", action="store_true")
    p.add_argument("--no-calibration", action="store_true")
    p.add_argument("--pairs", type=int, default=2, help="calibration: harness runs per config")
    p.add_argument("--site", default=os.path.join(driver.repo_root(), "site"))
    p.add_argument("--no-build", action="store_true", help="reuse site/ as it is")
    p.add_argument("--out", default=None, help="default: docs/bench/<UTC date>/")
    p.add_argument("--timeout", type=int, default=2400, help="s for the grid")
    p.add_argument(
        "--grid-from",
        default=None,
        help="a bench.json of an earlier full run: keep its grid, calibration and charts, "
        "run only the user workloads again and rewrite the run's files in place",
    )
    return p.parse_args(argv)


def prepare_site_with_workloads(a) -> str:
    """The bench site (``bench.__main__.prepare_site``) with the user workloads' files
    (``workloads.export_onnx``: ONNX models, reference outputs) in bench/models/workloads/."""
    site = prepare_site(a.site, rebuild=not a.no_build)
    models = os.path.join(site, "bench", "models")
    with open(os.path.join(models, "manifest.json")) as f:
        manifest = json.load(f)
    workloads.export_onnx(
        os.path.join(models, "workloads"), os.path.join(models, "data.bin"), manifest["data"]
    )
    return site


def write_run(run: dict, out: str) -> dict:
    """The run's files (``report.write_all``), bench.md rewritten by ``markdown``: the paths."""
    paths = report.write_all(run, out)
    with open(paths["md"], "w") as f:
        f.write(markdown(run))
    with contextlib.suppress(FileNotFoundError):  # the pre-calibration copy: the run is whole
        os.remove(os.path.join(out, "partial.json"))
    return paths


def rerun_workloads(a) -> int:
    """--grid-from: the workloads again, the rest of the run as it was."""
    with open(a.grid_from) as f:
        run = json.load(f)
    out = a.out or os.path.dirname(os.path.abspath(a.grid_from))
    site = prepare_site_with_workloads(a)
    try:
        with driver.serve(site) as url:
            run["workloads"] = workloads.run_pages(url, log=lambda s: print(s, file=sys.stderr))
    finally:
        shutil.rmtree(site, ignore_errors=True)
    run["env"]["workloads_date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    run["env"]["loadavg_workloads"] = list(os.getloadavg())
    write_run(run, out)
    print(f"bench.full: {len(run['workloads'])} workload rows rerun -> {out}")
    return 0


def main(argv=None) -> int:
    a = parse(argv)
    if a.grid_from:
        return rerun_workloads(a)
    start = time.time()
    load_start = list(os.getloadavg())
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    out = a.out or os.path.join(driver.repo_root(), "docs", "bench", stamp)
    site = prepare_site_with_workloads(a)
    log = lambda s: print(s, file=sys.stderr)  # noqa: E731
    try:
        with driver.serve(site) as url:
            t0 = time.time()
            q = {"protocol": "interleaved", "fw": a.fw, "configs": a.configs, "stall": 300}
            res = driver.run_page(
                url,
                q,
                a.timeout,
                300,
                on_state=lambda st: progress(
                    st.get("c", 0), st.get("t", 0), st.get("cur") or "", t0
                ),
            )
            sys.stderr.write(f"\ngrid: {len(res['rows'])} rows in {time.time() - t0:.0f} s\n")
            wl = [] if a.no_workloads else workloads.run_pages(url, log=log)
            cal = None
            if not a.no_calibration:
                os.makedirs(out, exist_ok=True)  # grid and workloads kept if calibration fails
                with open(os.path.join(out, "partial.json"), "w") as f:
                    json.dump({"grid": res, "workloads": wl}, f)
                cal = calibrate.run(url, pairs=a.pairs, log=log)
                log(cal["line"])
    finally:
        shutil.rmtree(site, ignore_errors=True)
    configs = sorted(
        {r["config"] for r in res["rows"]},
        key=lambda c: (int(c[1:].split("_")[0]), int(c.split("_w")[1])),
    )
    env = {
        **res["env"],
        "browser": res["browser"],
        "flags": res["flags"],
        "machine": native.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_start": load_start,
        "loadavg_end": list(os.getloadavg()),
    }
    whole = a.fw == DEFAULT_FW and a.configs == "all" and not (a.no_workloads or a.no_calibration)
    run = {
        "full": whole,  # bench.readme takes the latest whole run only
        "env": env,
        "params": vars(a),
        "protocol": res.get("protocol"),
        "configs": configs,
        "rows": res["rows"],
        "workloads": wl,
        "calibration": cal,
        "libraries": res.get("libraries"),
        "wall_s": time.time() - start,
    }
    write_run(run, out)
    pngs = write_charts(res["charts"], out)
    print(
        f"bench.full: {len(run['rows'])} grid rows, {len(wl)} workload rows in "
        f"{run['wall_s']:.0f} s -> {out} ({', '.join(os.path.basename(p) for p in pngs)})"
    )
    if cal:
        print(cal["line"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
