"""``python -m bench.calibrate``: is the harness measuring the frameworks or itself?

TF.js wasm (one thread) is timed on two grid configurations in a plain standalone page
(``web/bench/standalone.html``: no harness, no frames, the same model file, data and warm-up
rule) and in the benchmark page (interleaved protocol, its live frame and messages). The
ratio harness / standalone of the training time per batch must lie within 0.8-1.25;
``bench.full`` states the verdict at the top of its tables. Standalone and harness runs
alternate (S H S H S), each harness figure compared with the standalone runs on either side,
so the drift of a shared machine's load affects both sides alike.

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


def harness(url: str, config: str) -> dict:
    """The tfjs:wasm row of ``config`` from the benchmark page (interleaved protocol)."""
    q = {"protocol": "interleaved", "fw": "tfjs:wasm", "configs": config}
    rows = driver.run_page(url, q, timeout=600)["rows"]
    row = next((r for r in rows if r["framework"] == "tfjs" and r["backend"] == "wasm"), {})
    if row.get("status") != "ok":
        raise RuntimeError(f"calibrate: harness row {config}: {row.get('error', row)}")
    return row


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


def run(url: str, configs=CONFIGS, pairs: int = 2, log=print) -> dict:
    """Per configuration, alternate standalone and harness runs (S H S H S for 2 pairs): each
    harness figure is divided by the mean of the standalone figures on either side of it, so
    load drift on a shared machine cancels; the ratio is the median over pairs."""
    from statistics import median

    alone, harn, ratios = {}, {}, {}
    for c in configs:
        s = [standalone(url, c)]
        h = []
        for _ in range(pairs):
            h.append(harness(url, c))
            s.append(standalone(url, c))
        alone[c] = {"readyMs": s[0]["readyMs"], "runs": s}
        harn[c] = [{p: r.get(p) for p in PHASES} for r in h]
        ratios[c] = {}
        for p in PHASES:
            per = [
                h[i][p]["median"] / ((s[i][p]["median"] + s[i + 1][p]["median"]) / 2)
                for i in range(pairs)
            ]
            ratios[c][p] = median(per)
            alone[c][p] = {"median": median(x[p]["median"] for x in s)}
            alone[c][p + "_pair_ratios"] = per
        log(
            f"calibrate {c}: train standalone "
            f"{[round(x['train']['median'], 2) for x in s]} ms, harness "
            f"{[round(x['train']['median'], 2) for x in h]} ms -> {ratios[c]['train']:.3f}"
        )
    return {"standalone": alone, "harness": harn, "ratios": ratios, **verdict(ratios)}


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
