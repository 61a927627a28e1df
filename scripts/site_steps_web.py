"""Site build step for the pages: REPL, demos, shared assets, vendored browser bundles, API docs.

The main site build (``scripts/build_site.py``, which assembles Pyodide and the package index)
calls ``build(site_dir)``; it also runs alone:
``python scripts/site_steps_web.py site/ [--pyodide-cdn] [--no-docs]``.

Pyodide's CDN for public hosting: ``WASMDL_PYODIDE_CDN=1 python scripts/build_site.py`` (or
``--pyodide-cdn`` here) makes every page load Pyodide and its packages from
``https://cdn.jsdelivr.net/pyodide/v0.27.7/full/``; wasmdl itself still comes from the site's own
``simple/`` index. The default serves everything from the site (works offline).

What it writes into ``site_dir``:
- ``assets/``, ``repl/``, ``demos/`` copied from ``web/`` (``index.html`` too, if the main build
  has not copied it), and ``assets/config.js`` telling pages where Pyodide is: ``pyodide/`` on
  this site (the default, works offline) or Pyodide's CDN with ``pyodide_cdn=True``.
- ``vendor/<npm package>/...``: only the browser files the pages load, plus each LICENSE.
- ``docs/``: API reference generated from wasmdl's docstrings with pdoc.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> build(out, docs=False)  # doctest: +ELLIPSIS
    [...]
    >>> (out / "repl" / "index.html").exists(), (out / "vendor" / "jquery").is_dir()
    (True, True)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
NODE_MODULES = ROOT / "node_modules"
PYODIDE_VERSION = "0.27.7"
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"

# web/ folders this step publishes (web/bench/ is published by the benchmark's own step).
PAGES = ("assets", "repl", "demos")

# npm package -> the files pages load (relative to the package folder). LICENSE is added.
VENDOR = {
    "jquery": ["dist/jquery.min.js"],
    "jquery.terminal": [
        "js/jquery.terminal.min.js",
        "js/unix_formatting.js",
        "css/jquery.terminal.min.css",
    ],
    "chart.js": ["dist/chart.umd.min.js"],
    "prismjs": [
        "components/prism-core.min.js",
        "components/prism-python.min.js",
        "themes/prism-tomorrow.min.css",
    ],
}


def copy_pages(site_dir: Path) -> list[str]:
    """Copy the page folders (and index.html when absent) from web/ into ``site_dir``."""
    for name in PAGES:
        shutil.copytree(
            WEB / name,
            site_dir / name,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    if not (site_dir / "index.html").exists():
        shutil.copy2(WEB / "index.html", site_dir / "index.html")
    return [f"{name}/" for name in PAGES]


def write_config(site_dir: Path, pyodide_cdn: bool) -> str:
    """Rewrite ``assets/config.js`` so pages load Pyodide locally or from the CDN."""
    path = site_dir / "assets" / "config.js"
    text = (WEB / "assets" / "config.js").read_text()
    local = 'pyodide: "pyodide/",'
    if local not in text:
        raise ValueError(f"write_config: expected {local!r} in {path}, received a file without it")
    if pyodide_cdn:
        text = text.replace(local, f"pyodide: {json.dumps(PYODIDE_CDN)},")
    path.write_text(text)
    return f"assets/config.js (pyodide: {PYODIDE_CDN if pyodide_cdn else 'pyodide/'})"


def copy_vendor(site_dir: Path) -> list[str]:
    """Copy the browser bundles listed in ``VENDOR`` (and licenses) to ``vendor/``."""
    written = []
    for package, files in VENDOR.items():
        src = NODE_MODULES / package
        if not src.is_dir():
            raise FileNotFoundError(
                f"copy_vendor: expected npm package {package!r} in {NODE_MODULES}, received "
                "nothing there; run `npm ci --ignore-scripts`"
            )
        licenses = [p.name for p in src.iterdir() if p.name.upper().startswith("LICENSE")]
        for rel in [*files, *licenses]:
            dest = site_dir / "vendor" / package / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, dest)
            written.append(f"vendor/{package}/{rel}")
    return written


def build_docs(site_dir: Path) -> str:
    """Generate the API reference from docstrings with pdoc into ``docs/``."""
    out = site_dir / "docs"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "pdoc",
        "wasmdl",
        "!wasmdl\\._.*",  # private modules (_js, _wasm, _version) stay out of the reference
        "-o",
        str(out),
        "--docformat",
        "google",
        "--footer-text",
        "wasmdl API reference",
        "--no-show-source",
    ]
    subprocess.run(cmd, check=True, cwd=ROOT, env=_docs_env())
    return "docs/ (pdoc)"


def _docs_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def build(site_dir, *, pyodide_cdn: bool = False, docs: bool = True) -> list[str]:
    """Write the pages, config, vendored bundles and (``docs=True``) API docs into ``site_dir``.

    Returns the list of what was written (paths relative to ``site_dir``).
    """
    site_dir = Path(site_dir)
    site_dir.mkdir(parents=True, exist_ok=True)
    pyodide_cdn = pyodide_cdn or os.environ.get("WASMDL_PYODIDE_CDN", "") not in ("", "0")
    written = copy_pages(site_dir)
    written.append(write_config(site_dir, pyodide_cdn))
    written += copy_vendor(site_dir)
    if docs:
        written.append(build_docs(site_dir))
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site_dir", type=Path)
    parser.add_argument(
        "--pyodide-cdn",
        action="store_true",
        help=f"load Pyodide from {PYODIDE_CDN} instead of the site's pyodide/",
    )
    parser.add_argument("--no-docs", action="store_true", help="skip the API docs")
    args = parser.parse_args(argv)
    for line in build(args.site_dir, pyodide_cdn=args.pyodide_cdn, docs=not args.no_docs):
        print(line)


if __name__ == "__main__":
    main()
