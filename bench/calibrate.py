"""``python -m bench.calibrate``: is the harness measuring the frameworks or itself?

TF.js wasm (one thread) is timed on two grid configurations in a plain standalone page
(``web/bench/standalone.html``: no harness, no frames, the same model file, data and warm-up
rule) and in the benchmark page (interleaved protocol, beside wasmdl). The ratio
harness / standalone of the training time per batch must lie within 0.8-1.25; ``bench.full``
states the verdict at the top of its tables. The standalone page runs before and after the
harness and its figure is the mean of the two medians, so slow drift of a shared machine
affects both sides alike.

    python -m bench.calibrate [--configs d1_w64,d8_w256] [--no-build]

>>> verdict({"d1_w64": {"train": 1.1}, "d8_w256": {"train": 0.7}})["ok"]
False
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from . import driver

CONFIGS = ("d1_w64", "d8_w256")
RANGE = (0.8, 1.25)
PHASES = ("train", "infer")


def standalone(url: str, config: str, rounds: int = 15, timeout: float = 120) -> dict:
    """TF.js wasm on ``config`` in the standalone page (a fresh Chromium): per-call stats."""
    with driver.Chromium() as browser:
        browser.navigate(f"{url}/bench/standalone.html?config={config}&rounds={rounds}")
        t0 = time.time()
        while time.time() - t0 < timeout:
            time.sleep(0.5)
            raw = browser.evaluate("window.standalone ? JSON.stringify(window.standalone) : null")
            if raw:
                res = json.loads(raw)
                if "error" in res:
                    raise RuntimeError(f"standalone page {config}: {res['error']}")
                return res
    raise RuntimeError(f"standalone page {config}: no result in {timeout} s")


def harness_rows(url: str, configs) -> list[dict]:
    """tfjs:wasm beside wasmdl:numpy on ``configs`` in the benchmark page (interleaved)."""
    q = {"protocol": "interleaved", "fw": "wasmdl:numpy,tfjs:wasm", "configs": ",".join(configs)}
    return driver.run_page(url, q, timeout=1200)["rows"]


def ratios(rows: list[dict], alone: dict) -> dict:
    """{config: {phase: harness / standalone}} for the tfjs:wasm rows in ``rows``."""
    out = {}
    for cfg, res in alone.items():
        row = next(
            (
                r
                for r in rows
                if r["framework"] == "tfjs" and r["backend"] == "wasm" and r["config"] == cfg
            ),
            None,
        )
        out[cfg] = {
            p: (row[p]["median"] / res[p]["median"]) if row and row.get(p) and res.get(p) else None
            for p in PHASES
        }
    return out


def verdict(r: dict) -> dict:
    """Pass when every configuration's training ratio lies within RANGE."""
    lo, hi = RANGE
    train = {c: v.get("train") for c, v in r.items()}
    ok = all(v is not None and lo <= v <= hi for v in train.values())
    text = ", ".join(f"{c} {v:.3f}" if v else f"{c} n/a" for c, v in train.items())
    line = (
        f"Calibration {'passed' if ok else 'FAILED'}: TF.js wasm training, harness / standalone "
        f"page = {text} (must lie within {lo}-{hi})"
    )
    if not ok:
        line += ": the harness figures below may measure the harness, not the frameworks"
    return {"ok": ok, "line": line, "range": list(RANGE)}


def run(url: str, rows: list[dict] | None = None, configs=CONFIGS, log=print) -> dict:
    """Standalone before and after the harness (``rows`` from a run already made, or a new
    harness run of the two configurations), the ratios and the verdict."""
    first = {c: standalone(url, c) for c in configs}
    log(f"calibrate: standalone (before) {_fmt(first)}")
    if rows is None:
        rows = harness_rows(url, configs)
    second = {c: standalone(url, c) for c in configs}
    log(f"calibrate: standalone (after) {_fmt(second)}")
    alone = {}
    for c in configs:
        alone[c] = {"readyMs": first[c]["readyMs"], "runs": [first[c], second[c]]}
        for p in PHASES:
            alone[c][p] = {"median": (first[c][p]["median"] + second[c][p]["median"]) / 2}
    r = ratios(rows, alone)
    return {"standalone": alone, "ratios": r, **verdict(r)}


def _fmt(res: dict) -> str:
    return ", ".join(f"{c} train {v['train']['median']:.2f} ms" for c, v in res.items())


def main(argv=None) -> int:
    from .__main__ import prepare_site

    p = argparse.ArgumentParser(
        prog="python -m bench.calibrate", description=__doc__.split("\n")[0]
    )
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--site", default=os.path.join(driver.repo_root(), "site"))
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--out", default=None, help="write the result as JSON here")
    a = p.parse_args(argv)
    site = prepare_site(a.site, rebuild=not a.no_build)
    try:
        with driver.serve(site) as url:
            res = run(url, configs=a.configs.split(","))
    finally:
        shutil.rmtree(site, ignore_errors=True)
    res["loadavg"] = list(os.getloadavg())
    print(res["line"])
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
