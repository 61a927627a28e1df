"""Tier 2 (Node; also runs with --runtime chrome): the WASM SIMD CPU kernels inside Pyodide.

Every kernel against float64 numpy references (wasmdl/testing/wasm_checks.py: odd sizes, all
transpose cases, alpha/beta, strided and transposed views, batches), again after Pyodide's
memory has grown; both ways of finding Pyodide's Memory; the on/off switch; and the fallback
to plain numpy (with one warning) when loading fails.
"""

from pytest_pyodide import run_in_pyodide

# Bound on the worst relative error (float32 results, errors scaled as in wasm_checks.py): 2e-6.


@run_in_pyodide
def test_kernels_are_active_on_the_numpy_backend(selenium_wasmdl):
    import wasmdl
    from wasmdl import _wasm

    st = _wasm.status()
    assert st["enabled"] and st["memory"] in ("host", "side-module"), st
    assert st["module"] == "cpu_relaxed.wasm", st  # Node runs with relaxed SIMD on (conftest)
    assert st["active"] == [
        "adam_update", "avgpool2d", "avgpool2d_grad", "conv2d", "conv2d_grad_input",
        "conv2d_grad_weight", "matmul", "maxpool2d", "maxpool2d_grad", "prob_cross_entropy",
        "prob_cross_entropy_grad", "relu", "relu_grad", "sgd_update", "softmax",
        "softmax_cross_entropy", "softmax_cross_entropy_grad", "sum",
    ]  # fmt: skip
    assert "WASM SIMD" in wasmdl.get_backend("numpy").kernels["matmul"].__doc__


@run_in_pyodide
def test_every_kernel_matches_float64_references(selenium_wasmdl):
    from wasmdl import _wasm
    from wasmdl.testing import wasm_checks as checks

    k = _wasm.kernels()
    for name in checks.CHECKS:
        worst = getattr(checks, name)(k)
        assert worst < 2e-6, (name, worst)


@run_in_pyodide
def test_both_module_builds_match_float64_references(selenium_wasmdl):
    """cpu.wasm (SIMD128, separate mul and add) is what engines without relaxed SIMD load: it is
    checked here on its own instance, beside the relaxed build in use."""
    from wasmdl._wasm import loader
    from wasmdl._wasm.cpu import CpuKernels
    from wasmdl.testing import wasm_checks as checks

    for name in (loader.MODULE_FILE, loader.RELAXED_FILE):
        inst = loader.instantiate(name=name)
        assert inst.module == name
        k = CpuKernels(inst.exports)
        for check in checks.CHECKS:
            worst = getattr(checks, check)(k)
            assert worst < 2e-6, (name, check, worst)


@run_in_pyodide
def test_engine_without_relaxed_simd_gets_the_simd128_build(selenium_wasmdl):
    from wasmdl._wasm import loader

    assert loader.choose_module() == loader.RELAXED_FILE
    real = loader.kernel_bytes
    try:  # an engine that rejects the relaxed module (corrupt its SIMD opcode space)
        loader.kernel_bytes = lambda name=loader.MODULE_FILE: real(name).replace(
            bytes([0xFD, 0x85, 0x02]), bytes([0xFD, 0xFF, 0x7F])
        )
        assert loader.choose_module() == loader.MODULE_FILE
        loader.kernel_bytes = lambda name=loader.MODULE_FILE: b"\0asm\x01\0\0\0\xff"
        try:
            loader.choose_module()
        except RuntimeError as e:
            assert "validates none of ['cpu_relaxed.wasm', 'cpu.wasm']" in str(e)
        else:
            raise AssertionError("choose_module accepted an engine with no valid module")
    finally:
        loader.kernel_bytes = real


@run_in_pyodide
def test_kernels_after_memory_growth(selenium_wasmdl):
    import numpy as np
    from pyodide_js import _module

    from wasmdl import _wasm
    from wasmdl.testing import wasm_checks as checks

    k = _wasm.kernels()
    before = _module.HEAPU8.buffer.byteLength
    big = np.ones(before // 4 + (64 << 20), np.float32)  # forces the heap to grow
    assert _module.HEAPU8.buffer.byteLength > before
    assert k.exports is not None and checks.check_gemm(k, seed=5) < 2e-6
    tail = big[-300:].reshape(20, 15)  # operands at the top of the grown memory
    tail[:] = np.arange(300, dtype=np.float32).reshape(20, 15) / 300
    got = k.matmul(tail, tail.T)
    np.testing.assert_allclose(got, tail.astype(float) @ tail.T, rtol=1e-6)
    for name in checks.CHECKS:
        assert getattr(checks, name)(k, seed=8) < 2e-6, name


@run_in_pyodide
def test_memory_found_by_side_module_probe(selenium_wasmdl):
    from pyodide_js import _module

    from wasmdl._wasm import loader

    memory, how = loader.find_memory(("side-module",))
    assert how == "side-module" and memory.buffer == _module.HEAPU8.buffer


@run_in_pyodide
async def test_memory_found_by_host_capture(selenium_wasmdl):
    """capture_memory.js records the Memory of a Pyodide booted after it; the loader takes the
    one that is this Pyodide's (run through Pyodide's run_js: in Node's test driver the test's
    JS runs in another realm, whose WebAssembly object Pyodide does not use)."""
    from pyodide.code import run_js
    from pyodide_js import _api, _module

    from wasmdl._wasm import loader

    # Run the capture script in Pyodide's realm, as a page's <script> before loadPyodide is.
    in_realm = run_js("(Module, src) => Module.HEAPU8.constructor.constructor(src)()")
    in_realm(_module, loader._js_source("capture_memory.js"))
    memories = run_js("(M) => M.HEAPU8.constructor.constructor('return globalThis')()")(_module)
    boot_second = run_js(
        """(async (url, memories) => {
        let load = globalThis.loadPyodide;
        if (!load) {  // Node without the test driver's global: require pyodide.js
          const { createRequire } = process.getBuiltinModule("module");
          load = createRequire(url)(url + "pyodide.js").loadPyodide;
        }
        const second = await load({ indexURL: url });
        return memories.filter((m) => m.buffer === second._module.HEAPU8.buffer).length;
        })"""
    )
    captured = memories.__wasmdl_memories
    try:
        assert await boot_second(_api.config.indexURL, captured) == 1
        first, _ = loader.find_memory(("side-module",))
        captured.push(first)  # as if captured when this Pyodide booted
        memory, how = loader.find_memory(loader.WAYS)
        assert how == "host" and memory.buffer == _module.HEAPU8.buffer
        assert loader.instantiate(("host",)).how == "host"
    finally:
        captured.length = 0  # let the second Pyodide be collected


@run_in_pyodide
def test_switch_turns_kernels_off_and_on(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl import _wasm

    be = wasmdl.get_backend("numpy")
    a = np.random.default_rng(0).standard_normal((33, 70), dtype=np.float32)
    on = wasmdl.matmul(wasmdl.tensor(a), wasmdl.tensor(a.T)).numpy()
    try:
        st = _wasm.set_enabled(False)
        assert st["active"] == [] and not st["enabled"]
        assert "WASM" not in (be.kernels["matmul"].__doc__ or "")
        off = wasmdl.matmul(wasmdl.tensor(a), wasmdl.tensor(a.T)).numpy()
    finally:
        st = _wasm.set_enabled(True)
    assert "matmul" in st["active"]
    np.testing.assert_allclose(on, off, rtol=1e-5, atol=1e-5)


@run_in_pyodide
def test_unhandled_cases_fall_back_to_numpy(selenium_wasmdl):
    import numpy as np

    import wasmdl

    mm = wasmdl.get_backend("numpy").kernels["matmul"]
    ints = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert mm(ints, ints.T).tolist() == (ints @ ints.T).tolist()
    f64 = np.linspace(0, 1, 12).reshape(3, 4)
    np.testing.assert_allclose(mm(f64, f64.T), f64 @ f64.T, rtol=1e-15)
    v = np.ones((5, 3), np.float32)[::2]  # negative/odd strides: copied by numpy fallback
    assert mm(v, v.T).tolist() == [[3.0] * 3] * 3


@run_in_pyodide
def test_load_failure_keeps_numpy_and_warns_once(selenium_wasmdl):
    import warnings

    import numpy as np

    from wasmdl import _wasm
    from wasmdl.backend.numpy import KERNELS, NumpyBackend

    saved = dict(_wasm._STATE)
    try:
        _wasm._STATE.update(tried=False, kernels=None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _wasm._load(ways=("no-such-way",))
            _wasm._STATE["tried"] = True
            fresh = NumpyBackend()
        assert [w.category for w in caught] == [RuntimeWarning]
        assert "using plain numpy" in str(caught[0].message)
        assert fresh.kernels["matmul"] is KERNELS["matmul"]
        assert _wasm.status()["reason"].startswith("failed to load")
        a = np.ones((2, 2), np.float32)
        assert fresh.kernels["matmul"](a, a).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    finally:
        _wasm._STATE.clear()
        _wasm._STATE.update(saved)


@run_in_pyodide
def test_op_table_rows_of_replaced_kernels_with_kernels_on_and_off(selenium_wasmdl):
    """The core op table's matmul/conv/linear/pooling rows (forward and finite-difference
    gradients, contiguous and strided) with the WASM kernels on and off (test_ops.py runs all
    rows on)."""
    from wasmdl import _wasm
    from wasmdl.testing import CASES, check

    rows = [
        c for c in CASES if c.name.startswith(("matmul", "conv", "linear", "max_pool", "avg_pool"))
    ]
    assert len(rows) >= 30
    failures = []
    try:
        for enabled in (True, False):
            assert bool(_wasm.set_enabled(enabled)["active"]) is enabled
            for case in rows:
                for noncontig in (False, True):
                    for fn in (check.check_forward, check.check_grad):
                        try:
                            fn(case, noncontig=noncontig)
                        except Exception as e:  # noqa: BLE001 (collect every failing row)
                            failures.append(f"{enabled=} {case.name} {fn.__name__}: {e}")
    finally:
        _wasm.set_enabled(True)
    assert not failures, "\n".join(failures)
