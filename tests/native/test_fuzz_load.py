"""Hostile model files: mutants of saved MLP, CNN (with BatchNorm), LSTM and attention models,
loaded in child processes under limits (2 s a case, 200 MiB of address space above the warmed-up
process). Only ``ModelFileError`` may escape ``load_model``, no case may time out or run out of
memory. ``WASMDL_FUZZ_CASES`` (default 20000, split over two children) runs more."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
CASES = int(os.environ.get("WASMDL_FUZZ_CASES", "20000"))
CHILDREN = 2


def _child(seed, cases):
    cmd = [sys.executable, str(HERE / "fuzz_load.py"), "--cases", str(cases), "--seed", str(seed),
           "--memory-mb", "200"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_only_model_file_error_escapes_and_no_case_runs_away():
    per_child = -(-CASES // CHILDREN)
    with ThreadPoolExecutor(CHILDREN) as pool:
        results = list(pool.map(_child, range(1, CHILDREN + 1), [per_child] * CHILDREN))
    total = sum(r["cases"] for r in results)
    summary = {
        "cases": total,
        "loaded": sum(r["loaded"] for r in results),
        "escapes": [e for r in results for e in r["escapes"]],
        "timeouts": sum(r["timeouts"] for r in results),
        "over_memory": sum(r["over_memory"] for r in results),
        "max_seconds": max(r["max_seconds"] for r in results),
        "slowest": max(results, key=lambda r: r["max_seconds"])["slowest"],
        "max_rss_growth_mb": max(r["max_rss_growth_mb"] for r in results),
    }
    print("fuzz:", json.dumps(summary))
    assert total >= min(CASES, 10_000)
    assert summary["escapes"] == []
    assert summary["timeouts"] == 0 and summary["max_seconds"] < 2.0
    assert summary["over_memory"] == 0 and summary["max_rss_growth_mb"] < 200
