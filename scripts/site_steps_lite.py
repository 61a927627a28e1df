"""Site build step: JupyterLite at ``/lite/`` (``/lite/lab/``, ``/lite/notebooks/``), offline.

Built with ``jupyter lite build`` (jupyterlite-core 0.6.4, the Pyodide kernel 0.6.1: the
releases made for Pyodide 0.27) from ``lite/``:
- ``lite/jupyter-lite.json`` points the kernel at this site's own Pyodide dist (``/pyodide/``)
  and at this site's package index (``/simple/all.json``, written here beside the PEP 503 pages),
  with no PyPI fallback, so ``%pip install wasmdl`` installs the site's wheel by name;
- ``lite/content/wasmdl_mnist.ipynb``: install wasmdl, train the README model with a live
  progress bar, plot the loss with matplotlib, print the test accuracy
  (tests/chrome/test_jupyterlite.py runs every cell and reads it).
The kernel needs ``comm`` at start-up, published as a piplite wheel (pinned by hash).

The build (~10 s) is cached in ``.cache/lite/<key>/`` and keyed by the sources and the versions;
the site gets hard links. JupyterLite runs without cross-origin isolation: serve ``/lite/``
without COOP/COEP headers (with them a cell's reply can be lost).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITE = ROOT / "lite"
CACHE = ROOT / ".cache" / "lite"
VERSIONS = {"jupyterlite-core": "0.6.4", "jupyterlite-pyodide-kernel": "0.6.1"}
COMM = "comm==0.2.3"
COMM_FILE = "comm-0.2.3-py3-none-any.whl"
COMM_SHA256 = "c615d91d75f7f04f095b30d1c1711babd43bdc6419c1be9886a85f2f4e489417"


def comm_wheel() -> Path:
    """The ``comm`` wheel (downloaded once with pip, hash-checked)."""
    dest = ROOT / ".cache" / "downloads"
    whl = dest / COMM_FILE
    if not whl.exists():
        dest.mkdir(parents=True, exist_ok=True)
        req = dest / "lite-requirements.txt"
        req.write_text(f"{COMM} --hash=sha256:{COMM_SHA256}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "-q"]
        subprocess.run([*cmd, "-d", str(dest), "-r", str(req)], check=True)
    digest = hashlib.sha256(whl.read_bytes()).hexdigest()
    if digest != COMM_SHA256:
        raise RuntimeError(f"site_steps_lite: {whl} has sha256 {digest}, expected {COMM_SHA256}")
    return whl


def key() -> str:
    h = hashlib.sha256(json.dumps(VERSIONS).encode())
    for path in sorted(LITE.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            h.update(str(path.relative_to(LITE)).encode() + path.read_bytes())
    return h.hexdigest()[:16]


def build_lite() -> Path:
    """``jupyter lite build`` into the cache (once per key); return the output folder."""
    out = CACHE / key()
    if (out / "index.html").exists():
        return out
    tmp, src = out.with_suffix(".tmp"), out.with_suffix(".src")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)
    # a copy of lite/: the build leaves its task database (.jupyterlite.doit.db) in the lite dir
    shutil.copytree(LITE, src, ignore=shutil.ignore_patterns(".*"))
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [str(jupyter), "lite", "build", "--lite-dir", str(src), "--output-dir", str(tmp)]
    cmd += ["--contents", str(src / "content"), "--piplite-wheels", str(comm_wheel())]
    cmd += ["--apps", "lab", "--apps", "notebooks", "--no-sourcemaps"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=src)
    if result.returncode != 0:
        raise RuntimeError(
            f"jupyter lite build failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    shutil.rmtree(src, ignore_errors=True)
    return out


def write_all_json(simple: Path) -> Path:
    """``simple/all.json``: the index in piplite's aggregate form (name -> releases)."""
    projects = {}
    for wheel in sorted(simple.glob("*/*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        release = {
            "filename": wheel.name,
            "url": f"./{wheel.parent.name}/{wheel.name}",
            "digests": {"sha256": digest},
            "packagetype": "bdist_wheel",
            "requires_python": ">=3.11",
        }
        projects.setdefault(wheel.parent.name, {"releases": {}})["releases"][version] = [release]
    path = simple / "all.json"
    path.unlink(missing_ok=True)
    path.write_text(json.dumps(projects, indent=1) + "\n")
    return path


def build(site_dir: Path) -> None:
    out = build_lite()
    dst = site_dir / "lite"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(out, dst, copy_function=_link)
    write_all_json(site_dir / "simple")


def _link(src, dst):
    try:
        Path(dst).hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


if __name__ == "__main__":
    build(ROOT / "site")
    print(f"site_steps_lite: {ROOT / 'site' / 'lite'}")
