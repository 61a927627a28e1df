"""Tier 3: the WASM SIMD CPU kernels in Chromium (``--runtime chrome``): Chromium's V8 and its
main-thread compile limits, every kernel against float64 references, after memory growth, and
captured training and batch-1 predict steps (the C instruction stream) against the general
path. (tests/pyodide/test_wasm_kernels.py has the full set, and passes with ``--runtime chrome``
too; this is the part CI runs in Chromium.)"""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_kernels_active_and_exact_in_chromium(selenium_wasmdl):
    import numpy as np
    from pyodide_js import _module

    import wasmdl
    from wasmdl._wasm import kernels
    from wasmdl.testing import wasm_checks as checks

    st = wasmdl.cpu_kernels()
    assert "matmul" in st["active"] and st["memory"] in ("host", "side-module"), st
    assert st["module"] == "cpu_relaxed.wasm", st  # Chromium has relaxed SIMD (FMA) on
    k = kernels()
    names = checks.CHECKS
    assert all(getattr(checks, n)(k) < 2e-6 for n in names)
    before = _module.HEAPU8.buffer.byteLength
    big = np.ones(before // 4 + (64 << 20), np.float32)  # grow Pyodide's heap
    assert _module.HEAPU8.buffer.byteLength > before and big[-1] == 1.0
    assert all(getattr(checks, n)(k, seed=7) < 2e-6 for n in names)


@run_in_pyodide
def test_captured_mlp_step_in_chromium(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl import nn, optim

    rng = np.random.default_rng(1)
    x, y = rng.random((33, 20), dtype=np.float32), rng.integers(0, 5, 33)

    def make():
        m = wasmdl.Sequential(
            [nn.Dense(16, activation="relu", input_shape=(20,)), nn.Dense(5, activation="softmax")]
        )
        m.compile(optimizer=optim.SGD(lr=0.2), loss="sparse_categorical_crossentropy")
        return m

    fast, ref = make(), make()
    ref.set_weights(fast.get_weights())
    got = [fast.train_on_batch(x, y) for _ in range(3)]
    info = fast.capture_info()["train"]
    assert info["captured"] and info["backend_calls"] == 1, info
    try:
        wasmdl.set_cpu_kernels(False)
        want = [ref.train_on_batch(x, y) for _ in range(3)]
    finally:
        wasmdl.set_cpu_kernels(True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    for a, b in zip(fast.get_weights(), ref.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=2e-6)


@run_in_pyodide
def test_one_sample_captured_predict_in_chromium(selenium_wasmdl):
    """Batch-1 ``predict`` of a dense MLP (the C stream's GEMV, relaxed-SIMD module in Chromium)
    against the general path with the kernels off; odd widths (K % 8, N % 4 != 0)."""
    import numpy as np

    import wasmdl
    from wasmdl import nn

    rng = np.random.default_rng(2)
    model = wasmdl.Sequential(
        [
            nn.Dense(67, activation="relu", input_shape=(45,)),
            nn.Dense(33, activation="tanh"),
            nn.Dense(7, activation="softmax"),
        ]
    )
    x = rng.standard_normal((5, 45)).astype(np.float32)
    rows = [model.predict(x[i : i + 1]) for i in range(5)]
    info = model.capture_info()["predict"]
    assert info["captured"] and info["backend_calls"] == 1, info
    try:
        wasmdl.set_cpu_kernels(False)
        want = model.predict(x)
    finally:
        wasmdl.set_cpu_kernels(True)
    np.testing.assert_allclose(np.concatenate(rows), want, atol=2e-6, rtol=1e-5)
