"""Build the wasmdl wheel and assemble the static site in site/ (see docs/ARCHITECTURE.md).

    site/index.html, site/repl/, ...   copied from web/
    site/pyodide/                      the verified Pyodide dist (hard links of .cache/pyodide/dist)
    site/simple/wasmdl/                PEP 503 index: root-absolute links to the fresh wheel
                                       (steps may add projects: wasmdl-bench)
    site/...                           whatever each scripts/site_steps_*.py adds (run_steps):
                                       page folders, /vendor/<npm package>/..., docs, bench

The site is built in a temporary folder and swapped in, so a running server never sees a half
built site. Needs ``python scripts/setup_pyodide.py`` to have run (scripts/setup does both).

Example:
    python scripts/build_site.py          # prints the wheel and the site folder
    python -c "import sys; sys.path.insert(0, 'scripts'); import build_site; build_site.build()"
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
DIST = ROOT / ".cache" / "pyodide" / "dist"
WHEEL_DIR = ROOT / ".cache" / "wheel"  # one sub-folder per build: concurrent builds never clash


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (copy across file systems); never a symlink."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def build_wheel() -> Path:
    """Build the pure-Python wheel with the standard PEP 517 backend; return its path."""
    out = WHEEL_DIR / str(os.getpid())
    if out.exists():
        shutil.rmtree(out)
    # setuptools stages the package in build/lib and never deletes there: a module removed from
    # src/ would still ship. Start from an empty stage.
    shutil.rmtree(ROOT / "build" / "lib", ignore_errors=True)
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check"]
    result = subprocess.run(cmd + ["--outdir", str(out), str(ROOT)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"build_site.build_wheel: wheel build failed:\n{result.stdout}\n{result.stderr}"
        )
    wheels = sorted(out.glob("wasmdl-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"build_site.build_wheel: expected one wheel, found {wheels}")
    return wheels[0]


_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{}</title></head>'
    "<body>\n{}\n</body></html>\n"
)


def write_index(simple: Path, wheel: Path, project: str = "wasmdl") -> None:
    """Publish ``wheel`` as ``project`` in the PEP 503 index ``simple/`` with root-absolute links
    (micropip needs that), and list every project the index holds on its root page."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pkg = simple / project
    link_or_copy(wheel, pkg / wheel.name)
    href = html.escape(f"/simple/{project}/{wheel.name}#sha256={digest}")
    link = f'<a href="{href}">{html.escape(wheel.name)}</a>'
    _write_new(pkg / "index.html", _PAGE.format(f"Links for {project}", link))
    names = sorted(p.name for p in simple.iterdir() if p.is_dir())
    links = [f'<a href="/simple/{name}/">{name}</a>' for name in names]
    _write_new(simple / "index.html", _PAGE.format("Simple index", "\n".join(links)))


def _write_new(path: Path, text: str) -> None:
    """Write a new file (never into an existing one: it may be a hard link into another site)."""
    path.unlink(missing_ok=True)
    path.write_text(text)


def run_steps(site_dir: Path) -> list[str]:
    """Run every ``scripts/site_steps_*.py`` (sorted): each module's ``build(site_dir)``.

    A step publishes its part of the site (pages, vendored npm bundles, docs, the benchmark)
    so that this file never needs to know about them. ``WASMDL_SITE_STEPS=none`` skips them
    (quick iteration on the Pyodide parts only; the test command always runs them).
    """
    names = []
    if os.environ.get("WASMDL_SITE_STEPS") == "none":
        return names
    for path in sorted((ROOT / "scripts").glob("site_steps_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, "build"):
            raise RuntimeError(f"build_site.run_steps: {path.name} has no build(site_dir)")
        try:
            module.build(site_dir)
        except Exception as e:
            raise RuntimeError(f"build_site.run_steps: step {path.name} failed: {e!r}") from e
        names.append(path.stem)
    return names


def assemble(wheel: Path) -> Path:
    """Build the site into a temporary folder, then swap it in place of site/."""
    if not (DIST / "pyodide-lock.json").exists():
        raise FileNotFoundError(
            f"build_site.assemble: {DIST} is missing; run python scripts/setup_pyodide.py"
        )
    tmp = ROOT / ".cache" / f"site-tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        shutil.copytree(ROOT / "web", tmp)
        for f in DIST.iterdir():
            link_or_copy(f, tmp / "pyodide" / f.name)
        write_index(tmp / "simple", wheel)
        run_steps(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = ROOT / ".cache" / f"site-old-{os.getpid()}"
    if SITE.exists():
        SITE.rename(old)
    tmp.rename(SITE)
    shutil.rmtree(old, ignore_errors=True)
    return SITE


def build() -> Path:
    """Build the wheel and the site; return the wheel's path inside site/simple/wasmdl/."""
    wheel = build_wheel()
    try:
        assemble(wheel)
    finally:
        shutil.rmtree(wheel.parent, ignore_errors=True)
    return SITE / "simple" / "wasmdl" / wheel.name


def main() -> int:
    start = time.time()
    try:
        wheel = build()
    except (RuntimeError, FileNotFoundError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    print(
        f"build_site: {wheel.relative_to(ROOT)} and {SITE.relative_to(ROOT)}/ "
        f"in {time.time() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
