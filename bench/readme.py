"""``python -m bench.readme``: rewrite the README's result section from the latest full run.

Finds the newest ``docs/bench/<date>/bench.json`` written by ``python -m bench.full`` and
replaces the text between ``<!-- bench:results:start -->`` and ``<!-- bench:results:end -->``
in README.md with: the conditions (calibration verdict, threads, isolation, download sizes,
page-ready times, machine load), one short table, the training chart, and a link to the full
tables (``docs/bench/<date>/bench.md``).

    python -m bench.readme [--run docs/bench/2026-12-06/bench.json] [--check]

>>> section({"env": {}, "rows": [], "configs": [], "workloads": []}, "docs/bench/x").count("|")
0
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

from . import driver, report
from .full import conditions, label

START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
SHORT_CONFIGS = ("d1_w64", "d4_w128", "d8_w256")


def latest_run(root: str) -> str:
    runs = []
    for p in glob.glob(os.path.join(root, "docs", "bench", "*", "bench.json")):
        with open(p) as f:
            if json.load(f).get("full"):
                runs.append(p)
    if not runs:
        raise FileNotFoundError("bench.readme: no docs/bench/*/bench.json from bench.full; run it")
    return max(runs, key=os.path.getmtime)


def short_table(run: dict) -> str:
    """Rows x (train ms and ratio to wasmdl on three configurations, infer ms on two)."""
    rows = [r for r in run["rows"] if r.get("status") in ("ok", "train-mismatch")]
    cols = [c for c in SHORT_CONFIGS if c in run["configs"]]
    head = [f"train {c} ms (× wasmdl)" for c in cols] + [
        f"predict {c} ms" for c in cols[:: max(1, len(cols) - 1)]
    ]
    out = ["| row | threads | " + " | ".join(head) + " |", "|---" * (len(head) + 2) + "|"]
    seen = []
    for r in rows:
        if label(r) not in seen:
            seen.append(label(r))
    for lab in seen:
        mine = {r["config"]: r for r in rows if label(r) == lab}
        any_row = next(iter(mine.values()))
        cells = []
        for c in cols:
            t = (mine.get(c) or {}).get("train") or {}
            ratio = t.get("ratio")
            cells.append(
                f"{report.fmt(t['median'])} ({ratio:.2f})"
                if t.get("median") is not None and ratio is not None
                else report.fmt(t.get("median"))
                if t.get("median") is not None
                else "–"
            )
        for c in cols[:: max(1, len(cols) - 1)]:
            i = (mine.get(c) or {}).get("infer") or {}
            cells.append(report.fmt(i.get("median")) if i.get("median") is not None else "–")
        threads = int((any_row.get("info") or {}).get("threads") or 1)
        out.append(f"| {lab} | {threads} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def section(run: dict, rel: str) -> str:
    if not run["rows"]:
        return "No full run yet: `python -m bench.full`, then `python -m bench.readme`.\n"
    parts = [
        conditions(run),
        "Training time per batch of 64 (median round, in ms; in brackets the median per-round "
        "ratio to wasmdl, > 1 = slower) and batch-1 predict, interleaved in one page. "
        '"–": the framework cannot train (inference only) or the row failed; the reasons are '
        f"in the [full tables]({rel}/bench.md), with every configuration, load and warm-up "
        "times, the user workloads (MLP + Adam, CNN, LSTM) and the calibration.",
        short_table(run),
        f"![training time per batch, all rows and configurations]({rel}/chart_train.png)",
        "Regenerate: `python -m bench.full && python -m bench.readme`.",
    ]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.readme", description=__doc__.split("\n")[0])
    p.add_argument("--run", default=None, help="a bench.json (default: the latest full run)")
    p.add_argument("--readme", default=os.path.join(driver.repo_root(), "README.md"))
    p.add_argument("--check", action="store_true", help="exit 1 if README is out of date")
    a = p.parse_args(argv)
    root = driver.repo_root()
    path = a.run or latest_run(root)
    with open(path) as f:
        run = json.load(f)
    rel = os.path.relpath(os.path.dirname(os.path.abspath(path)), root)
    with open(a.readme) as f:
        text = f.read()
    if START not in text or END not in text:
        raise SystemExit(f"bench.readme: {a.readme} has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + START + "\n" + section(run, rel) + END + tail
    if a.check:
        return 0 if new == text else 1
    with open(a.readme, "w") as f:
        f.write(new)
    print(f"bench.readme: README.md result section from {os.path.relpath(path, root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
