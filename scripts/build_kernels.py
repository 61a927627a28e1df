"""Build wasmdl's WebAssembly SIMD CPU kernels: kernels/wasm/*.c -> kernels/wasm/cpu.wasm.

The module is standalone: it imports Pyodide's linear memory (``env.memory``) and nothing else,
and works in place on numpy arrays' addresses. The built file is committed (it is small and
clang's output is reproducible), so building the wheel needs no C toolchain;
``tests/native/test_wasm_modules.py`` rebuilds it and checks the committed file is current.

Usage::

    python scripts/build_kernels.py            # rebuild kernels/wasm/cpu.wasm
    python scripts/build_kernels.py --check    # exit 1 if the committed file is stale
    python scripts/build_kernels.py --out /tmp/cpu.wasm
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
OUTPUT = SRC_DIR / "cpu.wasm"

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
    """Return the path of Debian's ``clang`` (it drives ``wasm-ld`` from ``lld``).

    >>> find_clang().endswith(("clang", "clang-14"))
    True
    """
    for name in ("clang", "clang-14"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(
        "build_kernels: expected clang (with lld) on PATH to compile kernels/wasm/*.c, "
        "found none; install Debian's 'clang lld' (scripts/setup installs them)"
    )


def sources() -> list[Path]:
    """The C sources compiled into the module, in a fixed order (reproducible output)."""
    return sorted(SRC_DIR.glob("*.c"))


def build(out: Path) -> Path:
    """Compile every kernels/wasm/*.c into one wasm module at ``out`` and return ``out``."""
    cmd = [find_clang(), *CFLAGS, *LDFLAGS, "-o", str(out), *map(str, sources())]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=SRC_DIR)
    if result.returncode != 0:
        raise RuntimeError(
            f"build_kernels: clang failed (exit {result.returncode}) on {cmd}:\n{result.stderr}"
        )
    # wasm-ld defines a __stack_pointer global even when no code uses it; drop it so the module
    # has no globals at all (if code did use it, the module would no longer validate).
    out.write_bytes(drop_global_section(out.read_bytes()))
    return out


def is_current() -> bool:
    """True when the committed kernels/wasm/cpu.wasm equals a fresh build."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(Path(tmp) / "cpu.wasm").read_bytes()
    return OUTPUT.exists() and OUTPUT.read_bytes() == fresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if cpu.wasm is stale")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="output path")
    args = parser.parse_args(argv)
    if args.check:
        ok = is_current()
        print(f"{OUTPUT.relative_to(ROOT)}: {'current' if ok else 'STALE (run build_kernels.py)'}")
        return 0 if ok else 1
    out = build(args.out)
    print(f"built {out} ({out.stat().st_size} bytes) from {len(sources())} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
