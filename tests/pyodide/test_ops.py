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
