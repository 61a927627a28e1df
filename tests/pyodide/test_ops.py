"""Tier 2: the same op case table (wasmdl.testing) inside Pyodide in Node: forward against the
numpy references and gradients against finite differences, on contiguous and strided inputs.
One Pyodide call per check runs every case and reports all failures at once, once with the
WASM SIMD CPU kernels on (the default in Pyodide) and once off (wasmdl.testing.cpu_modes)."""

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.mark.parametrize("kernels", ["on", "off"])
@run_in_pyodide
def test_forward_table_in_pyodide(selenium_wasmdl, kernels):
    """Forward of every case with the WASM CPU kernels on (every installed kernel reached,
    WASM calls counted) and off (no WASM call at all)."""
    from wasmdl.testing import CASES, cpu_modes

    report = cpu_modes.op_table("check_forward", on=kernels == "on")
    print(f"forward, kernels {kernels}: {report['checks']} checks, {report['table_calls']}, "
          f"{report['wasm_calls']} WASM calls")  # fmt: skip
    assert len(CASES) > 200
    cpu_modes.assert_table_passed(report, on=kernels == "on")


@pytest.mark.parametrize("kernels", ["on", "off"])
@run_in_pyodide
def test_grad_table_in_pyodide(selenium_wasmdl, kernels):
    from wasmdl.testing import cpu_modes

    report = cpu_modes.op_table("check_grad", on=kernels == "on")
    print(f"gradients, kernels {kernels}: {report['checks']} checks, {report['table_calls']}, "
          f"{report['wasm_calls']} WASM calls")  # fmt: skip
    cpu_modes.assert_table_passed(report, on=kernels == "on", every_kernel=True)


@run_in_pyodide
def test_op_table_with_the_simd128_build(selenium_wasmdl):
    """Node and Chromium load cpu_relaxed.wasm; engines without relaxed SIMD load cpu.wasm.
    The table (forward and gradients) runs on that build too."""
    from wasmdl.testing import cpu_modes

    for checker in ("check_forward", "check_grad"):
        report = cpu_modes.op_table(checker, on=True, module="cpu.wasm")
        print(f"{checker}, cpu.wasm: {report['table_calls']}, {report['wasm_calls']} WASM calls")
        cpu_modes.assert_table_passed(report, on=True, every_kernel=checker == "check_grad")


@run_in_pyodide
def test_kernel_switch_helper_counts_and_restores(selenium_wasmdl):
    """wasmdl.testing.cpu_modes.switched, which the tables above and the training tests rely
    on: counts calls through the table and into WASM, and leaves everything as it found it."""
    import wasmdl
    from wasmdl import _wasm
    from wasmdl.testing import cpu_modes

    k, table = _wasm.kernels(), wasmdl.get_backend("numpy").kernels
    exports, matmul = k.exports, table["matmul"]
    a = wasmdl.ones((8, 8))
    with cpu_modes.switched(True) as on:
        (a @ a).numpy()
    with cpu_modes.switched(False) as off:
        (a @ a).numpy()
    assert on.table == {"matmul": 1} and on.total >= 1, on.summary()
    assert off.table == {} and off.total == 0, off.summary()
    assert k.exports is exports and "WASM" in table["matmul"].__doc__
    assert table["matmul"] is not matmul  # reinstalled afresh, with the real exports
    with cpu_modes.switched(True, module="cpu.wasm") as other:
        assert wasmdl.cpu_kernels()["module"] == "cpu.wasm" and _wasm.kernels() is not k
        (a @ a).numpy()
    assert other.total >= 1 and _wasm.kernels() is k, other.summary()
    assert wasmdl.cpu_kernels()["module"] == "cpu_relaxed.wasm"
    try:
        wasmdl.set_cpu_kernels(False)
        with cpu_modes.switched(True) as on:
            (a @ a).numpy()
        assert on.total >= 1 and wasmdl.cpu_kernels()["active"] == []
    finally:
        wasmdl.set_cpu_kernels(True)


@run_in_pyodide
def test_matmul_uses_fast_path_when_scipy_is_absent_or_present(selenium_wasmdl):
    """Inside Pyodide the numpy backend's matmul is correct on both of its paths."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.backend import numpy_matmul

    rng = np.random.default_rng(0)
    a = rng.standard_normal((96, 80)).astype(np.float32)
    b = rng.standard_normal((80, 72)).astype(np.float32)
    want = a.astype(np.float64) @ b
    for use in (False, None):
        numpy_matmul.USE_SCIPY = use
        got = (wl.tensor(a) @ wl.tensor(b)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    numpy_matmul.USE_SCIPY = None


@run_in_pyodide
async def test_scipy_sgemm_path_in_pyodide(selenium_wasmdl):
    """With scipy loaded, large float matmuls take scipy's sgemm (transposed views passed
    without copies, batched and broadcast shapes), and agree with a float64 reference."""
    import numpy as np
    import pyodide_js

    import wasmdl as wl
    from wasmdl.backend import numpy_matmul

    await pyodide_js.loadPackage("scipy")
    numpy_matmul._GEMM.clear()
    numpy_matmul.USE_SCIPY = None
    has_switch = hasattr(wl, "set_cpu_kernels")
    if has_switch:
        wl.set_cpu_kernels(False)  # the WASM SIMD kernels would otherwise take matmul
    try:
        rng = np.random.default_rng(0)
        for sa, sb, ta, tb in [
            ((70, 80), (80, 90), False, False),
            ((80, 70), (90, 80), True, True),
            ((3, 70, 80), (80, 64), False, False),
            ((2, 64, 80), (1, 80, 72), False, False),
        ]:
            a = rng.standard_normal(sa).astype(np.float32)
            b = rng.standard_normal(sb).astype(np.float32)
            x, y = wl.tensor(a), wl.tensor(b)
            x, y = (x.T if ta else x), (y.T if tb else y)
            want = np.matmul((a.T if ta else a).astype(np.float64), b.T if tb else b)
            np.testing.assert_allclose((x @ y).numpy(), want, rtol=1e-4, atol=1e-4)
        assert numpy_matmul._GEMM["ok"], "scipy was loaded but the sgemm path was not taken"
    finally:
        if has_switch:
            wl.set_cpu_kernels(True)
