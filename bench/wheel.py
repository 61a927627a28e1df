"""The benchmark's Python side as its own small wheel, ``wasmdl_bench``, for Pyodide.

The benchmark is not part of wasmdl's wheel (a page that installs wasmdl downloads only what
runs), but its pages run some of it inside Pyodide (``adapter.BrowserRunner``, the GEMM, profile
and WebGPU measurements). The site serves this wheel from its package index beside wasmdl's
(``/simple/wasmdl-bench/``), so a page installs it by name after wasmdl::

    await micropip.install("wasmdl")
    await micropip.install("wasmdl-bench")      # then: from bench import adapter

A wheel is a zip of the package plus three metadata files (PEP 427); writing it here takes a few
milliseconds and needs no build backend. Its version is wasmdl's.

>>> import zipfile, tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     names = zipfile.ZipFile(build(d)).namelist()
>>> "bench/adapter.py" in names, any(n.endswith(".dist-info/RECORD") for n in names)
(True, True)
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zipfile

NAME = "wasmdl_bench"  # the distribution name as wheels spell it (the index: wasmdl-bench)
HERE = os.path.dirname(os.path.abspath(__file__))


def version() -> str:
    """wasmdl's version, read from its source (src/wasmdl/_version.py), not from an install."""
    path = os.path.join(os.path.dirname(HERE), "src", "wasmdl", "_version.py")
    with open(path) as f:
        return re.search(r"__version__\s*=\s*\"([^\"]+)\"", f.read()).group(1)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(out_dir: str) -> str:
    """Write ``wasmdl_bench-<version>-py3-none-any.whl`` into ``out_dir``; return its path."""
    ver = version()
    info = f"{NAME}-{ver}.dist-info"
    files = {}
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".py"):
            with open(os.path.join(HERE, name), "rb") as f:
                files[f"bench/{name}"] = f.read()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: wasmdl-bench\nVersion: {ver}\n"
        "Summary: wasmdl's benchmark harness (runs inside Pyodide pages)\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: bench.wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{NAME}-{ver}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))  # reproducible bytes
            entry.external_attr = 0o644 << 16
            z.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return path
