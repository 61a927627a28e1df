"""Chainer on WgPy (webgl, webgpu) and Chainer on numpy in Pyodide, for the benchmark page.

WgPy's source is in ``/work/shared/peers/wgpy/`` (pinned; ``BUILD.md`` there). ``build``
makes, offline from the npm and PyPI registries and cached in ``.cache/bench/wgpy/``:
``dist/wgpy-main.js`` and ``dist/wgpy-worker.js`` (``npm ci`` + ``npx webpack``), the
``wgpy_webgl`` / ``wgpy_webgpu`` wheels (``setup_*.py bdist_wheel``), a Chainer 5.4.0 wheel
(the PyPI sdist with ``lib/chainer_patch`` copied over it), and filelock's wheel (Chainer
imports it; not in Pyodide's dist); both PyPI files are checked against their pinned sha256
whenever they are used (a cached file too). ``publish`` copies them to ``<site>/vendor/wgpy/``.
Every step's failure is recorded in ``build.json`` so the rows can show it.

    python -m bench.wgpy            # build (about 20 s the first time), print what was made
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

SRC = os.environ.get("WASMDL_WGPY_SRC", "/work/shared/peers/wgpy")
# The PyPI files build() downloads: (requirement, pip's binary option, file, PyPI's sha256).
CHAINER_SDIST = (
    "chainer==5.4.0",
    "--no-binary",
    "chainer-5.4.0.tar.gz",
    "bb432e37764d8627a8ed13176a921a6cf35c5af32687268bd9ec31631918a310",
)
FILELOCK_WHEEL = (
    "filelock==4.3.2",
    "--only-binary",
    "filelock-4.3.2-py3-none-any.whl",
    "02a8801bc6b2a80921bf3d7895c63084d53bae2a3c86783adce5ae2b89a1825b",
)


def _run(cmd, cwd, log):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    log.append({"cmd": " ".join(cmd), "rc": r.returncode, "tail": (r.stdout + r.stderr)[-800:]})
    if r.returncode:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({r.returncode}): {(r.stderr or r.stdout)[-300:]}"
        )


def _download(pinned: tuple, dest: str, cache: str, log) -> str:
    """``pip download`` the ``pinned`` file (see ``CHAINER_SDIST``) into ``dest`` unless it is
    there, then check its sha256 (setup_pyodide.verify: a mismatch names the file and both
    hashes); return its path."""
    from .driver import _script

    requirement, binary, name, digest = pinned
    path = os.path.join(dest, name)
    if not os.path.exists(path):
        cmd = [sys.executable, "-m", "pip", "download", requirement, "--no-deps", binary, ":all:"]
        _run([*cmd, "-d", dest, "-q"], cache, log)
    _script("setup_pyodide").verify(Path(path), digest, pinned_by="PyPI, pinned in bench/wgpy.py")
    return path


def build(cache: str) -> dict:
    """Build what is missing in ``cache``; return ``{"files": [...], "errors": {...}}``."""
    os.makedirs(cache, exist_ok=True)
    out = os.path.join(cache, "out")
    os.makedirs(out, exist_ok=True)
    src = os.path.join(cache, "src")
    log, errors = [], {}
    py = sys.executable
    if not os.path.isdir(src):
        shutil.copytree(SRC, src)
    try:  # JS
        if not os.path.exists(os.path.join(src, "dist", "wgpy-worker.js")):
            if not os.path.isdir(os.path.join(src, "node_modules")):
                _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], src, log)
            _run(["npx", "webpack"], src, log)
        for f in ("wgpy-main.js", "wgpy-worker.js"):
            shutil.copy(os.path.join(src, "dist", f), out)
    except Exception as e:  # noqa: BLE001
        errors["js"] = str(e)
    for backend in ("webgl", "webgpu"):  # wheels
        try:
            if not glob.glob(os.path.join(out, f"wgpy_{backend}-*.whl")):
                shutil.rmtree(os.path.join(src, "build"), ignore_errors=True)
                _run([py, f"setup_{backend}.py", "-q", "bdist_wheel", "-d", out], src, log)
        except Exception as e:  # noqa: BLE001
            errors[f"wheel_{backend}"] = str(e)
    try:  # Chainer 5.4.0 with WgPy's patch
        if not glob.glob(os.path.join(out, "chainer-5.4.0-*.whl")):
            dl = os.path.join(cache, "chainer-sdist")
            os.makedirs(dl, exist_ok=True)
            sdist = _download(CHAINER_SDIST, dl, cache, log)
            tree = os.path.join(dl, "chainer-5.4.0")
            shutil.rmtree(tree, ignore_errors=True)
            with tarfile.open(sdist) as t:
                t.extractall(dl)
            patch = os.path.join(src, "lib", "chainer_patch")
            shutil.copytree(patch, tree, dirs_exist_ok=True)
            _run([py, "setup.py", "-q", "bdist_wheel", "-d", out], tree, log)
        _download(FILELOCK_WHEEL, out, cache, log)
    except Exception as e:  # noqa: BLE001
        errors["chainer"] = str(e)
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*")))
    res = {"files": files, "errors": errors, "log": log}
    with open(os.path.join(out, "build.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


def publish(site: str, cache: str) -> dict:
    """Build (cached) and copy the results to ``<site>/vendor/wgpy/``."""
    res = build(cache)
    dst = os.path.join(site, "vendor", "wgpy")
    shutil.copytree(os.path.join(cache, "out"), dst, dirs_exist_ok=True)
    return res


if __name__ == "__main__":
    from . import driver

    r = build(os.path.join(driver.repo_root(), ".cache", "bench", "wgpy"))
    print(json.dumps({"files": r["files"], "errors": r["errors"]}, indent=1))
