"""``python -m bench``: run the same-page benchmark headless and write its tables.

Serves the built site, opens ``/bench/`` in headless Chromium with the flags that work here,
runs the grid (chosen frameworks x backends x configurations) with a progress bar, runs the
same grid natively (wasmdl on CPython, PyTorch if installed) and writes ``bench.json``,
``bench.csv``, ``bench.md`` and one PNG chart per phase into ``--out``.

    python -m bench                       # CPU rows x all 12 configurations
    python -m bench --fw all --configs d1_w64 --repeats 3
    python -m bench --protocol frames --order config --rounds 3   # the old per-frame mode
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import time

from . import driver, native, report


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--fw", default="cpu", help="cpu | all | comma list (tfjs:wasm,convnetjs)")
    p.add_argument("--configs", default="all", help="all | comma list of ids (d1_w64,...)")
    p.add_argument(
        "--protocol",
        choices=("interleaved", "frames"),
        default="interleaved",
        help="interleaved (default): every framework set up once in a live frame, warmed until "
        "stable, timed in rotated rounds (web/bench/interleave.js); frames: a fresh page per "
        "framework (--repeats, --budget, --order, --rounds apply)",
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--budget", type=int, default=600, help="ms per phase per configuration")
    p.add_argument("--maxcall", type=int, default=10000, help="ms; slower calls timed once")
    p.add_argument("--stall", type=int, default=180, help="s without progress = failed row")
    p.add_argument("--cap", type=int, default=120, help="s per framework x backend (0: none)")
    p.add_argument("--timeout", type=int, default=3600, help="s for the whole browser run")
    p.add_argument(
        "--order",
        choices=("framework", "config"),
        default="framework",
        help="framework: each runs all configurations in turn (one page run per framework); "
        "config: all frameworks on one configuration, then the next (alternating order), so "
        "a drifting clock affects the frameworks compared on a configuration alike",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --order config: rounds per configuration (alternating framework order); "
        "each phase reports its median round",
    )
    p.add_argument("--native", default="wasmdl,torch", help="native frameworks ('' = none)")
    p.add_argument("--site", default=os.path.join(driver.repo_root(), "site"))
    p.add_argument("--out", default=None, help="default: artifacts/bench/<UTC date-time>")
    p.add_argument("--no-build", action="store_true", help="reuse site/ as it is")
    return p.parse_args(argv)


def prepare_site(site: str, rebuild: bool) -> str:
    """Build the site (wheel from this checkout, Pyodide, pages, bench models) unless told not
    to, refresh the bench page and models (cheap: models are cached in .cache/bench), and
    return a private snapshot of it (hard links) that a concurrent site rebuild cannot change
    under a running benchmark. The caller removes the snapshot."""
    if rebuild or not os.path.exists(os.path.join(site, "pyodide", "pyodide.js")):
        driver._script("build_site").build()
    web = os.path.join(driver.repo_root(), "web", "bench")
    runs = os.path.join(driver.repo_root(), ".cache", "bench")
    os.makedirs(runs, exist_ok=True)
    snap = tempfile.mkdtemp(prefix="run-", dir=runs)
    shutil.copytree(site, snap, copy_function=os.link, dirs_exist_ok=True)
    for name in os.listdir(web):  # this checkout's page, even if site/ is older
        src, dst = os.path.join(web, name), os.path.join(snap, "bench", name)
        if os.path.isdir(src):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        else:
            if os.path.exists(dst):
                os.unlink(dst)
            shutil.copyfile(src, dst)
    driver._script("site_steps_bench").publish_bench_wheel(snap)  # this checkout's bench/
    driver._script("build_bench_models").build(snap, quiet=False)
    from . import mind, wgpy

    try:  # Mind's row: its bundle and wasmdl's outputs of the same sigmoid network
        mind.bundle(os.path.join(snap, "vendor", "mind", "mind.js"), os.path.join(runs, "mind"))
        mind.export_reference(os.path.join(snap, "bench", "models"))
    except Exception as e:  # noqa: BLE001 - the row then shows why it could not load
        print(f"bench: Mind bundle not built: {e}", file=sys.stderr)
    try:  # Chainer on WgPy / numpy: WgPy's JS, its wheels, Chainer's (cached)
        errors = wgpy.publish(snap, os.path.join(runs, "wgpy"))["errors"]
        if errors:
            print(f"bench: WgPy build: {errors}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - the rows then show why they could not load
        print(f"bench: WgPy not built: {e}", file=sys.stderr)
    return snap


def progress(done, total, label, t0):
    width = 30
    fill = int(width * done / max(total, 1))
    sys.stderr.write(
        f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} "
        f"{time.time() - t0:5.0f}s {label[:40]:<40}"
    )
    sys.stderr.flush()


def run_browser(a, url: str) -> dict:
    q = {
        "protocol": a.protocol,
        "fw": a.fw,
        "configs": a.configs,
        "repeats": a.repeats,
        "budget": a.budget,
        "maxcall": a.maxcall,
        "stall": a.stall,
        "cap": a.cap,
        "order": a.order,
        "rounds": a.rounds,
    }
    t0 = time.time()
    res = driver.run_page(
        url,
        q,
        a.timeout,
        a.stall,
        on_state=lambda st: progress(st.get("c", 0), st.get("t", 0), st.get("cur") or "", t0),
    )
    sys.stderr.write("\n")
    return res


def write_charts(charts, out: str) -> list[str]:
    paths = []
    for phase, url in charts:
        path = os.path.join(out, f"chart_{phase}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(url.split(",", 1)[1]))
        paths.append(path)
    return paths


def run_all(a, site: str):
    """The browser run, then the native run on the same configurations."""
    with driver.serve(site) as url:
        res = run_browser(a, url)
    configs = sorted(
        {r["config"] for r in res["rows"]},
        key=lambda c: (int(c[1:].split("_")[0]), int(c.split("_w")[1])),
    )
    rows = res["rows"]
    names = [n for n in a.native.split(",") if n]
    if names:
        t0, done = time.time(), []

        def tick(r):
            done.append(r)
            progress(len(done), len(configs) * len(names), f"{r['framework']} {r['config']}", t0)

        models = os.path.join(site, "bench", "models")
        rows += native.run_subprocess(configs, models, names, a.repeats, a.budget / 1000, tick)
        sys.stderr.write("\n")
    return rows, res, configs


def main(argv=None) -> int:
    a = parse(argv)
    start = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = a.out or os.path.join(driver.repo_root(), "artifacts", "bench", stamp)
    load_start = list(os.getloadavg())  # other processes on the machine (stated in tables)
    site = prepare_site(a.site, rebuild=not a.no_build)
    try:
        rows, res, configs = run_all(a, site)
    finally:
        shutil.rmtree(site, ignore_errors=True)
    env = {
        **res["env"],
        "browser": res["browser"],
        "flags": res["flags"],
        "machine": native.machine(),
        "loadavg_start": load_start,
        "loadavg_end": list(os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    run = {
        "env": env,
        "params": vars(a),
        "configs": configs,
        "rows": rows,
        "libraries": res.get("libraries"),
        "protocol": res.get("protocol"),
        "wall_s": time.time() - start,
    }
    paths = report.write_all(run, out)
    pngs = write_charts(res["charts"], out)
    print(
        f"bench: {len(rows)} rows in {run['wall_s']:.0f} s -> "
        f"{', '.join(list(paths.values()) + pngs)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
