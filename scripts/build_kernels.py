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
The compiler is Debian's clang 16 (``clang-16`` + ``wasm-ld-16`` from ``lld-16``; clang 14
knows only a pre-standard encoding of relaxed SIMD). Sources are compiled with ``-c`` and linked
by calling ``wasm-ld-16`` directly: clang's driver, when it links, passes its output through any
``wasm-opt`` (binaryen) it finds, so the build would depend on what else the machine has.

Usage::

    python scripts/build_kernels.py            # rebuild both modules in kernels/wasm/
    python scripts/build_kernels.py --check    # exit 1 if a committed module is stale
    python scripts/build_kernels.py --out /tmp/dir
"""

from __future__ import annotations

import argparse
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
CLANG, WASM_LD = "clang-16", "wasm-ld-16"

CFLAGS = [
    "--target=wasm32",
    "-O3",
    "-msimd128",
    "-fno-builtin",
    "-ffp-contract=off",
    "-Wall",
    "-Werror",
]
LDFLAGS = [  # wasm-ld's own flags
    "--no-entry",
    "--import-memory",
    "--gc-sections",
    "--strip-all",
    # No stack is used (a test checks there is no stack-pointer global); keep its reservation 0
    # so the module's declared minimum memory stays tiny.
    "-z",
    "stack-size=0",
]


def find_tool(name: str = CLANG) -> str:
    """The path of a Debian LLVM 16 tool (``clang-16``, ``wasm-ld-16``).

    >>> Path(find_tool()).name, Path(find_tool(WASM_LD)).name
    ('clang-16', 'wasm-ld-16')
    """
    path = shutil.which(name)
    if path:
        return path
    raise FileNotFoundError(
        f"build_kernels: expected {name} on PATH to build kernels/wasm/*.c, found none; "
        "install Debian's 'clang-16 lld-16' (scripts/setup installs them)"
    )


def _run(cmd: list[str], cwd: Path) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(
            f"build_kernels: {Path(cmd[0]).name} failed (exit {result.returncode}) on {cmd}:\n"
            f"{result.stderr}"
        )


def compile_and_link(srcs: list[Path], out: Path, flags: list[str], strict: bool = True) -> Path:
    """Compile ``srcs`` to objects (clang -c) and link them into the module ``out`` (wasm-ld);
    returns ``out``. ``strict`` (the build) turns warnings into errors and drops the
    stack-pointer global; the tests' negative cases turn it off."""
    cflags = [f for f in CFLAGS if strict or f != "-Werror"]
    with tempfile.TemporaryDirectory() as tmp:
        objs = []
        for src in srcs:
            obj = Path(tmp) / (src.stem + ".o")
            _run([find_tool(), *cflags, *flags, "-c", "-o", str(obj), str(src)], SRC_DIR)
            objs.append(str(obj))
        _run([find_tool(WASM_LD), *LDFLAGS, "-o", str(out), *objs], SRC_DIR)
    # wasm-ld defines a __stack_pointer global even when no code uses it; drop it so the module
    # has no globals at all (if code did use it, the module would no longer validate).
    if strict:
        out.write_bytes(drop_global_section(out.read_bytes()))
    return out


def sources() -> list[Path]:
    """The C sources compiled into the module, in a fixed order (reproducible output)."""
    return sorted(SRC_DIR.glob("*.c"))


def build(out_dir: Path = SRC_DIR) -> dict[str, Path]:
    """Build every variant into ``out_dir``; returns {module file: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        name: compile_and_link(sources(), out_dir / name, flags) for name, flags in VARIANTS.items()
    }


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
