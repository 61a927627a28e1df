"""scripts/serve.py: cross-origin isolation headers on by default, off under /lite/ (JupyterLite)
and with ``isolate=False`` (docs/HOSTING.md)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from _scripts import script

serve = script("serve")


def headers(tmp_path: Path, path: str, isolate: bool = True) -> dict:
    (tmp_path / "lite" / "lab").mkdir(parents=True, exist_ok=True)
    for p in ("index.html", "lite/lab/index.html"):
        (tmp_path / p).write_text("<meta charset='utf-8'>hi")
    with serve.serve_in_thread(tmp_path, isolate=isolate) as server:
        return dict(urllib.request.urlopen(server.url + path).headers)


def test_isolated_by_default(tmp_path):
    h = headers(tmp_path, "/index.html?x=1")
    assert h["Cross-Origin-Opener-Policy"] == "same-origin"
    assert h["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert h["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_jupyterlite_and_no_isolation_are_not_isolated(tmp_path):
    for h in (headers(tmp_path, "/lite/lab/index.html"), headers(tmp_path, "/", isolate=False)):
        assert "Cross-Origin-Embedder-Policy" not in h and "Cross-Origin-Opener-Policy" not in h
        assert h["Cross-Origin-Resource-Policy"] == "cross-origin"  # embeddable either way


def test_prefix_set_is_easy_to_extend():
    assert serve.isolation_headers("/lite/x", unisolated={"/other/"})
    assert not serve.isolation_headers("/other/x", unisolated={"/other/"})
