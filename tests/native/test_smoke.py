"""Smoke tests of tier 1: the package imports natively, the wheel and the site are sound."""

import hashlib
import re
import urllib.request
import zipfile

import numpy as np

import wasmdl


def test_import_and_version():
    from wasmdl._version import __version__

    assert wasmdl.__version__ == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc|\.dev)?\d*", __version__), __version__


def test_numpy_computation_natively():
    a = np.array([[4.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(np.linalg.solve(a, [1.0, 2.0]), [0.1, 0.6], rtol=1e-12)


def test_wheel_is_pure_python_and_ships_kernels(wasmdl_wheel):
    assert wasmdl_wheel.name == f"wasmdl-{wasmdl.__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wasmdl_wheel).namelist()
    assert "wasmdl/__init__.py" in names
    assert any(n.startswith("wasmdl/kernels/") for n in names), "kernels/ is not in the wheel"
    metadata = zipfile.ZipFile(wasmdl_wheel).read(f"wasmdl-{wasmdl.__version__}.dist-info/METADATA")
    assert b"Requires-Dist: numpy" in metadata


def test_simple_index_links_are_root_absolute_with_hash(wasmdl_server, wasmdl_wheel):
    with urllib.request.urlopen(wasmdl_server + "/simple/wasmdl/") as r:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        page = r.read().decode()
    digest = hashlib.sha256(wasmdl_wheel.read_bytes()).hexdigest()
    assert f'href="/simple/wasmdl/{wasmdl_wheel.name}#sha256={digest}"' in page, page


def test_server_mime_types(wasmdl_server):
    expected = {
        "/pyodide/pyodide.asm.wasm": "application/wasm",
        "/pyodide/pyodide.mjs": "text/javascript; charset=utf-8",
        "/pyodide/pyodide-lock.json": "application/json; charset=utf-8",
        "/": "text/html; charset=utf-8",
    }
    for path, mime in expected.items():
        with urllib.request.urlopen(wasmdl_server + path) as r:
            assert (path, r.headers["Content-Type"]) == (path, mime)
            assert r.headers["Access-Control-Allow-Origin"] == "*"
