"""Build wasmdl's WebAssembly SIMD CPU kernels: kernels/wasm/*.c -> two modules.

- ``kernels/wasm/cpu.wasm``: SIMD128 only (every engine with WebAssembly SIMD: Chrome 91+,
  Firefox 89+, Safari 16.4+, Node 16.4+);
- ``kernels/wasm/cpu_relaxed.wasm``: the same sources with relaxed SIMD (``-mrelaxed-simd``,
  ``WASMDL_RELAXED``), whose ``f32x4.relaxed_madd`` becomes one fused multiply-add on CPUs with
  FMA (Chrome 114+, Node 22; Node 20 with ``--experimental-wasm-relaxed-simd``). The loader
  takes it where the engine validates it and falls back to ``cpu.wasm`` otherwise.

Each module is standalone: it imports Pyodide's linear memory (``env.memory``) and nothing
else, and works in place on numpy arrays' addresses. The built files are committed (small, and
clang's output is reproducible), so building the wheel needs no C toolchain;
``tests/native/test_wasm_modules.py`` rebuilds them and checks the committed files are current.
The compiler is Debian's clang 16 (``clang-16`` + ``lld-16``; clang 14 knows only a
pre-standard encoding of relaxed SIMD). clang runs with a PATH of its own directory only: it
would otherwise pass its output through any ``wasm-opt`` (binaryen) it finds on PATH, and the
build would depend on what else the machine has installed.

Usage::

    python scripts/build_kernels.py            # rebuild both modules in kernels/wasm/
    python scripts/build_kernels.py --check    # exit 1 if a committed module is stale
    python scripts/build_kernels.py --out /tmp/dir
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from wasmdl._wasm.module_info import drop_global_section  # noqa: E402

SRC_DIR = ROOT / "kernels" / "wasm"
VARIANTS = {  # module file -> extra compiler flags
    "cpu.wasm": [],
    "cpu_relaxed.wasm": ["-mrelaxed-simd", "-DWASMDL_RELAXED"],
}
CLANG = "clang-16"

CFLAGS = [
    "--target=wasm32",
    "-O3",
    "-msimd128",
    "-nostdlib",
    "-fno-builtin",
    "-ffp-contract=off",
    "-Wall",
    "-Werror",
]
LDFLAGS = [
    "-Wl,--no-entry",
    "-Wl,--import-memory",
    "-Wl,--gc-sections",
    "-Wl,--strip-all",
    # No stack is used (a test checks there is no stack-pointer global); keep its reservation 0
    # so the module's declared minimum memory stays tiny.
    "-Wl,-z,stack-size=0",
]


def find_clang() -> str:
    """Return the path of Debian's ``clang-16`` (it drives ``wasm-ld`` from ``lld-16``).

    >>> Path(find_clang()).name
    'clang-16'
    """
    path = shutil.which(CLANG)
    if path:
        return path
    raise FileNotFoundError(
        f"build_kernels: expected {CLANG} (with lld-16) on PATH to compile kernels/wasm/*.c, "
        "found none; install Debian's 'clang-16 lld-16' (scripts/setup installs them)"
    )


def clang_env() -> dict:
    """The environment clang runs in: PATH is clang's own directory (wasm-ld is there too), so
    no ``wasm-opt`` found elsewhere on PATH can rewrite the output."""
    bindir = Path(os.path.realpath(find_clang())).parent
    return {**os.environ, "PATH": str(bindir)}


def sources() -> list[Path]:
    """The C sources compiled into the module, in a fixed order (reproducible output)."""
    return sorted(SRC_DIR.glob("*.c"))


def build_one(out: Path, flags: list[str]) -> Path:
    """Compile every kernels/wasm/*.c with ``flags`` into one wasm module at ``out``."""
    cmd = [find_clang(), *CFLAGS, *flags, *LDFLAGS, "-o", str(out), *map(str, sources())]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=SRC_DIR, env=clang_env())
    if result.returncode != 0:
        raise RuntimeError(
            f"build_kernels: clang failed (exit {result.returncode}) on {cmd}:\n{result.stderr}"
        )
    # wasm-ld defines a __stack_pointer global even when no code uses it; drop it so the module
    # has no globals at all (if code did use it, the module would no longer validate).
    out.write_bytes(drop_global_section(out.read_bytes()))
    return out


def build(out_dir: Path = SRC_DIR) -> dict[str, Path]:
    """Build every variant into ``out_dir``; returns {module file: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {name: build_one(out_dir / name, flags) for name, flags in VARIANTS.items()}


def stale() -> list[str]:
    """The committed modules in kernels/wasm/ that differ from a fresh build (empty: current)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(Path(tmp))
        return [
            name
            for name, path in fresh.items()
            if not (SRC_DIR / name).exists() or (SRC_DIR / name).read_bytes() != path.read_bytes()
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed module is stale")
    parser.add_argument("--out", type=Path, default=SRC_DIR, help="output directory")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        print("kernels/wasm: " + (f"STALE {bad} (run build_kernels.py)" if bad else "current"))
        return 1 if bad else 0
    for path in build(args.out).values():
        print(f"built {path} ({path.stat().st_size} bytes) from {len(sources())} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
