"""The support matrix (browser x backend x host), written by the test run itself.

A pytest plugin (loaded by tests/conftest.py). Each browser tier records, per cell, the outcome of
the tests that exercise it, and at the end of the session writes
``artifacts/matrix/<runtime>.json``; ``scripts/support_matrix.py`` merges the tiers' files into
``artifacts/support-matrix.{json,md}`` (``bash scripts/test`` runs it) and the site publishes
that as ``/matrix/`` (scripts/site_steps_matrix.py). Nothing in the matrix is written by hand.

``CELLS`` maps a test module to the cell it exercises: (backend, host). Facts about the engine
(browser name and version, which WASM kernel build it validates) come from
``tests/chrome/test_engine.py`` through the ``support_matrix`` fixture.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "artifacts" / "matrix"
PAGE = "Pyodide page"

# test module -> (backend, host)
CELLS: dict[str, tuple[str, str]] = {
    "test_smoke.py": ("numpy", PAGE),
    "test_datasets.py": ("numpy", PAGE),
    "test_engine.py": ("wasm", PAGE),
    "test_numpy_backend.py": ("wasm", PAGE),
    "test_wasm_kernels.py": ("wasm", PAGE),
    "test_webgpu.py": ("webgpu", PAGE),
    "test_webgpu_warmup.py": ("webgpu", PAGE),
    "test_webgpu_faults.py": ("webgpu", PAGE),
    "test_webgl.py": ("webgl", PAGE),
    "test_site_repl.py": ("wasm", "site REPL (worker)"),
    "test_site_landing.py": ("wasm", "site landing page"),
    "test_site_mnist.py": ("wasm", "site MNIST demo (worker)"),
    "test_jupyterlite.py": ("wasm", "JupyterLite"),
    "test_pyscript.py": ("wasm", "PyScript (worker)"),
}
_ADAPTER_MODULES = {"test_gpu_adapters.py"}  # webgl2 / webgpu by test name


class Matrix:
    """What one session saw: engine facts and per-cell outcomes."""

    def __init__(self, runtime: str):
        self.runtime = runtime
        self.facts: dict = {}
        self.cells: dict[tuple[str, str], dict] = {}

    def cell_of(self, nodeid: str) -> tuple[str, str] | None:
        module = nodeid.split("::")[0].rsplit("/", 1)[-1]
        if module in _ADAPTER_MODULES:
            return ("webgpu" if "webgpu" in nodeid else "webgl", PAGE)
        return CELLS.get(module)

    def record(self, report: pytest.TestReport) -> None:
        cell = self.cell_of(report.nodeid)
        if cell is None:
            return
        xfail = hasattr(report, "wasxfail")
        if report.when == "call" or (report.when == "setup" and not report.passed) or xfail:
            c = self.cells.setdefault(cell, {"passed": 0, "failed": 0, "xfail": [], "tests": 0})
            c["tests"] += 1
            if xfail and report.skipped:
                c["xfail"].append(f"{report.nodeid.split('::')[-1]}: {report.wasxfail}")
            elif report.passed:
                c["passed"] += 1
            elif report.failed or report.skipped:
                c["failed"] += 1

    def write(self) -> Path | None:
        if not self.cells:
            return None
        OUT.mkdir(parents=True, exist_ok=True)
        rows = []
        for (backend, host), c in sorted(self.cells.items()):
            status = "fail" if c["failed"] else ("xfail" if c["xfail"] else "pass")
            if c["xfail"] and c["passed"]:
                status = "partial"
            rows.append({"backend": backend, "host": host, "status": status, **c})
        data = {
            "runtime": self.runtime,
            "browser": self.facts.get("browser", self.runtime),
            "facts": self.facts,
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cells": rows,
        }
        path = OUT / f"{self.runtime}.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        return path


_MATRIX: Matrix | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _MATRIX
    runtime = (getattr(config.option, "runtime", "") or "").strip()
    if runtime in ("chrome", "firefox"):
        _MATRIX = Matrix(runtime)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _MATRIX is not None:
        _MATRIX.record(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _MATRIX is not None and not session.config.option.collectonly:
        _MATRIX.write()


@pytest.fixture(scope="session")
def support_matrix() -> dict:
    """Engine facts for this tier's matrix file (``support_matrix["browser"] = ...``)."""
    return _MATRIX.facts if _MATRIX is not None else {}
