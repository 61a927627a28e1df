"""The support matrix: tier files merged (scripts/support_matrix.py) and published as /matrix/
(scripts/site_steps_matrix.py), and the pytest plugin's per-cell bookkeeping (tests/matrix.py)."""

import json
import sys
from types import SimpleNamespace

from _scripts import ROOT, script


def report(nodeid, when="call", outcome="passed", wasxfail=None):
    r = SimpleNamespace(nodeid=nodeid, when=when, passed=outcome == "passed",
                        failed=outcome == "failed", skipped=outcome == "skipped")  # fmt: skip
    if wasxfail:
        r.wasxfail = wasxfail
    return r


def test_cells_tier_files_merge_and_page(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tests"))
    import matrix

    monkeypatch.setattr(matrix, "OUT", tmp_path / "matrix")
    m = matrix.Matrix("firefox")
    m.facts.update(browser="Firefox 153.0", wasm_build="relaxed-simd",
                   wasm_validates=["relaxed-simd", "simd128"])  # fmt: skip
    m.record(report("tests/chrome/test_webgl.py::test_a[firefox]"))
    m.record(report("tests/chrome/test_webgl.py::test_a[firefox]", when="teardown"))
    gap = "empty GPUAdapterInfo"
    m.record(report("tests/chrome/test_gpu_adapters.py::test_webgpu_adapter[firefox]",
                    outcome="skipped", wasxfail=gap))  # fmt: skip
    m.record(report("tests/chrome/test_jupyterlite.py::test_nb[firefox]", outcome="failed"))
    m.record(report("tests/chrome/test_bench.py::test_x[firefox]"))  # no cell: not recorded
    path = m.write()
    cells = {(c["backend"], c["host"]): c for c in json.loads(path.read_text())["cells"]}
    assert cells[("webgl", "Pyodide page")]["status"] == "pass"
    assert cells[("webgl", "Pyodide page")]["tests"] == 1  # teardown not counted
    assert cells[("webgpu", "Pyodide page")]["status"] == "xfail"
    assert gap in cells[("webgpu", "Pyodide page")]["xfail"][0]
    assert cells[("wasm", "JupyterLite")]["status"] == "fail"
    assert len(cells) == 3

    merge = script("support_matrix")
    doc = merge.write(tmp_path)
    md = (tmp_path / "support-matrix.md").read_text()
    assert "| Firefox 153.0 | relaxed-simd (relaxed-simd, simd128) |" in md
    assert "| Firefox 153.0 | wasm | JupyterLite | FAIL |" in md
    site = script("site_steps_matrix")
    monkeypatch.setattr(site, "SOURCE", tmp_path / "support-matrix.json")
    site.build(tmp_path / "site")
    page = (tmp_path / "site" / "matrix" / "index.html").read_text()
    assert "Firefox 153.0" in page and "JupyterLite" in page and gap in page
    assert json.loads((tmp_path / "site" / "matrix" / "support-matrix.json").read_text()) == doc
