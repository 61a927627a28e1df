"""bench.full's tables and bench.readme's README section, on a small synthetic run."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from bench import calibrate, full, readme  # noqa: E402


def stats(median, ratio):
    return {"median": median, "ratio": ratio, "samples": [median], "ratios": [ratio]}


RUN = {
    "full": True,
    "env": {
        "date": "2026-12-06 02:00 UTC",
        "machine": {"cpu_model": "cpu", "cpus": 2},
        "browser": "Chrome/156",
        "crossOriginIsolated": True,
        "loadavg_start": [3.0],
        "loadavg_end": [4.0],
    },
    "configs": ["d1_w64"],
    "rows": [
        {
            "framework": "wasmdl",
            "backend": "numpy",
            "name": "wasmdl",
            "config": "d1_w64",
            "status": "ok",
            "train": stats(1.0, 1.0),
            "infer": stats(0.02, 1.0),
            "info": {"setupMs": 9000},
        },
        {
            "framework": "tfjs",
            "backend": "wasm-mt",
            "name": "TensorFlow.js",
            "config": "d1_w64",
            "status": "ok",
            "train": stats(4.0, 4.2),
            "infer": stats(0.1, 5.0),
            "info": {"setupMs": 500, "threads": 2},
        },
    ],
    "libraries": {"tfjs/wasm-mt": {"bytes": 4096, "gzip_bytes": 2048}},
    "workloads": [
        {
            "framework": "ort",
            "backend": "wasm",
            "workload": "mlp_adam",
            "status": "ok",
            "trainError": "inference only",
            "predict": {"median": 0.02},
            "pageReadyMs": 400,
        },
    ],
    "calibration": {
        **calibrate.verdict({"d1_w64": {"train": 1.1}, "d8_w256": {"train": 0.9}}),
        "ratios": {"d1_w64": {"train": 1.1}},
        "standalone": {"d1_w64": {"train": {"median": 4.0}}},
    },
    "wall_s": 600,
}


def test_conditions_state_calibration_isolation_threads_and_load():
    md = full.markdown(RUN)
    first = md.split("\n\n")[1]
    assert first.startswith("**Calibration passed")
    assert "load average 3.00" in md and "cross-origin isolated (COOP/COEP): True" in md
    assert "| TF.js · wasm threaded | 2 | 2 | 500 |" in md
    assert "| d1_w64 | 1.00 | 4.20 |" in md  # per-round ratio table
    assert "| mlp_adam | ORT Web · wasm |" in md and "inference only" in md


def test_failed_calibration_is_said_at_the_top():
    v = calibrate.verdict({"d1_w64": {"train": 1.3}})
    assert not v["ok"] and "FAILED" in v["line"]


def test_readme_section_has_labels_ratios_and_chart():
    text = readme.section(RUN, "docs/bench/x")
    assert "wasmdl · wasm-simd (Pyodide)" in text
    assert "4.00 (4.20)" in text
    assert "docs/bench/x/chart_train.png" in text and "docs/bench/x/bench.md" in text


def test_compare_pages_groups_each_mode_per_row_and_workload(monkeypatch):
    """``bench.workloads.compare_pages`` runs each row's workloads in one page and in a page
    per workload, ``repeats`` times, and keeps every median per mode (rows that failed have
    none)."""
    from bench import workloads

    calls = []

    def fake(url, rows, log=print, per_workload=False):
        calls.append(per_workload)
        ms = 2.0 if per_workload else 1.0
        return [
            {"framework": fw, "backend": be, "workload": w, "train": {"median": ms * (k + 1)},
             "predict": {"median": ms / 10}} if w != "lstm" else
            {"framework": fw, "backend": be, "workload": w, "status": "failed"}
            for fw, be in rows for k, w in enumerate(workloads.WORKLOADS)
        ]  # fmt: skip

    monkeypatch.setattr(workloads, "run_pages", fake)
    out = workloads.compare_pages("http://x", [("tfjs", "cpu")], repeats=2)
    assert calls == [False, True, False, True]
    by = {r["workload"]: r for r in out}
    assert by["cnn"]["train ms, one page"] == [2.0, 2.0]
    assert by["cnn"]["train ms, page per workload"] == [4.0, 4.0]
    assert by["mlp_adam"]["predict ms, page per workload"] == [0.2, 0.2]
    assert by["lstm"]["train ms, one page"] == []
