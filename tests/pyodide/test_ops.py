"""Tier 2: the same op case table (wasmdl.testing) inside Pyodide in Node: forward against the
numpy references and gradients against finite differences, on contiguous and strided inputs.
One Pyodide call per check runs every case and reports all failures at once."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_forward_table_in_pyodide(selenium_wasmdl):
    from wasmdl.testing import CASES, check

    failures = []
    for case in CASES:
        for noncontig in (False, True):
            try:
                check.check_forward(case, noncontig=noncontig)
            except Exception as e:  # noqa: BLE001 (collect every failing row)
                failures.append(f"{case.name} noncontig={noncontig}: {type(e).__name__}: {e}")
    assert len(CASES) > 200
    assert not failures, "\n".join(failures)


@run_in_pyodide
def test_grad_table_in_pyodide(selenium_wasmdl):
    from wasmdl.testing import CASES, check

    failures = []
    for case in CASES:
        for noncontig in (False, True):
            try:
                check.check_grad(case, noncontig=noncontig)
            except Exception as e:  # noqa: BLE001
                failures.append(f"{case.name} noncontig={noncontig}: {type(e).__name__}: {e}")
    assert not failures, "\n".join(failures)


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
