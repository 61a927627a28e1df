"""The WebAssembly SIMD kernel module can only touch the arrays it is given.

It runs inside Pyodide's own memory, so: it imports env.memory and nothing else, has no data
segment, no globals (no C stack pointer), no start function, exports only functions; it
validates in a real engine (Node's V8), which also proves no code reads a global; and the
committed binaries are what scripts/build_kernels.py builds from kernels/wasm/*.c today. Both
builds are checked: cpu.wasm (SIMD128) and cpu_relaxed.wasm (relaxed SIMD, FMA).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wasmdl._wasm import loader
from wasmdl._wasm.module_info import drop_global_section, parse_module, safety_problems

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_kernels  # noqa: E402

WASM_DIR = ROOT / "kernels" / "wasm"
MODULES = list(build_kernels.VARIANTS)  # cpu.wasm, cpu_relaxed.wasm
EXPORTS = {  # what wasmdl/_wasm/cpu.py, cpu_conv.py, cpu_step.py, and program.py call
    "sgemm", "sgemm_work_floats", "dense", "bias_act", "act_grad", "softmax",
    "softmax_xent_labels", "softmax_xent_probs", "sgd_step", "adam_step",
    "conv2d_forward", "conv2d_grad_input", "conv2d_grad_weight", "maxpool2d_forward",
    "maxpool2d_grad", "avgpool2d_forward", "avgpool2d_grad", "col_sum", "prob_xent", "sgd_update",
    "adam_update", "run_program",
}  # fmt: skip


RELAXED_FLAG = "--experimental-wasm-relaxed-simd"  # Node 20; on by default from Node 22


def _node_validates(data: bytes, *flags: str) -> bool:
    node = shutil.which("node")
    if node is None:
        pytest.fail("test_wasm_modules: expected `node` on PATH (Node 20) to validate the module")
    code = "process.stdout.write(String(WebAssembly.validate(require('fs').readFileSync(0))))"
    out = subprocess.run([node, *flags, "-e", code], input=data, capture_output=True, check=True)
    return out.stdout == b"true"


@pytest.mark.parametrize("name", MODULES)
def test_shipped_module_is_safe_and_complete(name):
    info = parse_module((WASM_DIR / name).read_bytes())
    assert safety_problems(info) == []
    assert info.memory_import_limits == (1, None) or info.memory_import_limits[0] <= 1
    assert {name for name, _ in info.exports} == EXPORTS


def test_shipped_modules_validate_in_v8():
    assert _node_validates((WASM_DIR / loader.MODULE_FILE).read_bytes())
    assert _node_validates((WASM_DIR / loader.RELAXED_FILE).read_bytes(), RELAXED_FLAG)


def test_relaxed_build_really_uses_relaxed_madd():
    """f32x4.relaxed_madd is SIMD opcode 0x105 (LEB128 0x85 0x02 after the 0xfd prefix)."""
    madd = bytes([0xFD, 0x85, 0x02])
    assert madd not in (WASM_DIR / loader.MODULE_FILE).read_bytes()
    assert (WASM_DIR / loader.RELAXED_FILE).read_bytes().count(madd) >= 8


@pytest.mark.parametrize("name", MODULES)
def test_package_data_is_the_committed_module(name):
    assert loader.kernel_bytes(name) == (WASM_DIR / name).read_bytes()


def test_committed_modules_match_a_fresh_build(tmp_path):
    try:
        fresh = build_kernels.build(tmp_path)
    except FileNotFoundError as e:
        pytest.fail(f"clang-16 and wasm-ld-16 are needed to rebuild kernels/wasm/*.wasm: {e}")
    for name, path in fresh.items():
        assert path.read_bytes() == (WASM_DIR / name).read_bytes(), (
            f"kernels/wasm/{name} is stale: run scripts/build_kernels.py"
        )


def test_probe_module_is_an_empty_side_module():
    info = parse_module(loader.PROBE_MODULE)
    assert info.custom_sections == ["dylink.0"]
    assert info.imports == [("env", "memory", "memory")] and not info.exports
    assert _node_validates(loader.PROBE_MODULE)


def _compile_c(tmp_path: Path, source: str) -> bytes:
    src = tmp_path / "bad.c"
    src.write_text(source)
    out = build_kernels.compile_and_link([src], tmp_path / "bad.wasm", [], strict=False)
    return out.read_bytes()


def test_checks_catch_stack_and_data_use(tmp_path):
    """The checks are not vacuous: C that needs a stack or static data is caught."""
    stack = _compile_c(
        tmp_path,
        '__attribute__((export_name("f"))) int f(int i) {'
        " volatile int x[64]; x[i & 63] = i; return x[3]; }",
    )
    assert "has 1 globals (a stack pointer?); expected none" in safety_problems(parse_module(stack))
    assert not _node_validates(drop_global_section(stack))  # the build's stripping cannot hide it
    data = _compile_c(
        tmp_path,
        "static int t[4] = {1, 2, 3, 4};"
        '__attribute__((export_name("g"))) int g(int i) { return t[i & 3]; }',
    )
    assert any("data segments" in p for p in safety_problems(parse_module(data)))


def test_parser_rejects_non_wasm():
    with pytest.raises(ValueError, match="parse_module: expected the wasm magic"):
        parse_module(b"not wasm")
