"""Tier 3: the WebGPU backend in headless Chromium (SwiftShader adapter, --enable-unsafe-webgpu).

One page for the module (``selenium_wasmdl``); every test batches its work into one Pyodide
call. Python is entered through ``runPythonAsync`` here, so sync ``t.numpy()`` works through
JSPI, as in the REPL. The checks themselves live in ``wasmdl.testing.webgpu_checks`` (shared
with the benchmark); the op cases are the core table ``wasmdl.testing.CASES``, compared with
the numpy references at the table's float32 tolerances (forward rtol/atol 1e-5; gradients
against float64 finite differences rtol/atol 1e-4).
"""

import json

import pytest
from pytest_pyodide import run_in_pyodide

# Table rows that need a dtype WebGPU lacks (float64): they must fail with a clear TypeError.
GPU_DTYPE_GAPS = {"cast-f2f64"}


@pytest.fixture(autouse=True)
def _long_scripts(selenium_wasmdl):
    selenium_wasmdl.set_script_timeout(300)  # SwiftShader runs shaders on the CPU


@run_in_pyodide
def test_coverage_report_is_empty_for_the_core_table(selenium_wasmdl):
    from wasmdl.testing import webgpu_checks as C

    report = C.coverage()
    print("webgpu coverage:", report)
    assert report["missing"] == [] and report["covered"] == report["ops"] > 40


def test_op_table_forward_and_gradients_match_numpy(selenium_wasmdl):
    code = """
import json
import wasmdl as wl
from wasmdl.testing import CASES, check
wl.set_backend("webgpu")
failures, gaps, n = [], {}, 0
for case in CASES:
    for fn, nc in ((check.check_forward, False), (check.check_forward, True),
                   (check.check_grad, False)):
        n += 1
        try:
            fn(case, noncontig=nc, backend="webgpu")
        except Exception as e:
            msg = f"{type(e).__name__}: {e}"
            if case.name in GAPS:
                gaps[case.name] = msg
            else:
                failures.append(f"{fn.__name__}[{case.name}, noncontig={nc}]: {msg[:400]}")
wl.set_backend("numpy")
json.dumps({"checks": n, "cases": len(CASES), "failures": failures, "gaps": gaps})
""".replace("GAPS", repr(GPU_DTYPE_GAPS))
    r = json.loads(selenium_wasmdl.run_async(code))
    print(f"{r['checks']} checks over {r['cases']} cases")
    assert r["cases"] > 200
    assert not r["failures"], "\n".join(r["failures"])
    assert set(r["gaps"]) == GPU_DTYPE_GAPS, r["gaps"]
    for msg in r["gaps"].values():
        assert msg.startswith("TypeError") and "float64" in msg, msg


@run_in_pyodide
def test_both_matmul_variants_match_numpy(selenium_wasmdl):
    """'tiled' (workgroup memory, hardware GPUs), 'regs' and 'vec4' (CPU-emulated adapters)."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.testing import CASES, check

    be = wl.backend.get_backend("webgpu")
    prev = be.matmul_variant
    rng = np.random.default_rng(0)
    shapes = [((3, 37, 45), (45, 29)), ((2, 37, 44), (44, 28)), ((64, 784), (784, 128))]
    cases = [c for c in CASES if "matmul" in c.name]
    assert cases
    try:
        for variant in ("tiled", "regs", "vec4"):
            be.matmul_variant = variant
            for sa, sb in shapes:
                a = rng.standard_normal(sa).astype(np.float32)
                b = rng.standard_normal(sb).astype(np.float32)
                got = (wl.Tensor(a, backend=be) @ wl.Tensor(b, backend=be)).numpy()
                np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)
            for case in cases:
                check.check_forward(case, backend="webgpu")
                check.check_grad(case, backend="webgpu")
    finally:
        be.matmul_variant = prev


@run_in_pyodide
def test_grouped_conv_with_the_vec4_kernel_matches_numpy(selenium_wasmdl):
    """conv2d_vec4 (4 output channels per thread) on grouped, strided, dilated, padded cases;
    the op table's conv rows cover the scalar kernel and groups=1."""
    import numpy as np

    import wasmdl as wl

    rng = np.random.default_rng(1)
    for xs, ws, kw in [
        ((2, 9, 8, 4), (3, 3, 2, 8), {"groups": 2, "padding": "same", "strides": 2}),
        ((1, 9, 9, 3), (2, 3, 3, 4), {"dilation": 2, "padding": ((1, 0), (2, 1))}),
    ]:
        xn, wn = rng.standard_normal(xs), rng.standard_normal(ws)
        res = {}
        for be in ("numpy", "webgpu"):
            x = wl.tensor(xn, dtype="float32", requires_grad=True, backend=be)
            w = wl.tensor(wn, dtype="float32", requires_grad=True, backend=be)
            y = wl.conv2d(x, w, **kw)
            (y * y).sum().backward()
            res[be] = [y.numpy(), x.grad.numpy(), w.grad.numpy()]
        for got, want in zip(res["webgpu"], res["numpy"], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@run_in_pyodide
async def test_mlp_follows_the_numpy_loss_curve(selenium_wasmdl):
    import numpy as np

    from wasmdl.testing import webgpu_checks as C

    gpu = np.array(await C.mlp_losses("webgpu", 50))
    ref = np.array(await C.mlp_losses("numpy", 50))
    rel = np.abs(gpu - ref) / np.abs(ref)
    print("loss", ref[0], "->", ref[-1], "max relative difference", rel.max())
    assert ref[-1] < 0.5 * ref[0]  # it trains
    assert rel.max() < 1e-3


@run_in_pyodide
async def test_cnn_trains_like_numpy(selenium_wasmdl):
    import numpy as np

    from wasmdl.testing import webgpu_checks as C

    gpu = np.array(await C.cnn_losses("webgpu", 3))
    ref = np.array(await C.cnn_losses("numpy", 3))
    print("cnn losses", gpu, ref)
    assert gpu[-1] < gpu[0]
    np.testing.assert_allclose(gpu, ref, rtol=1e-3)


def test_training_step_crossings_are_a_small_constant(selenium_wasmdl, chrome_report):
    code = (
        "from wasmdl.testing import webgpu_checks as C\nimport json\n"
        "json.dumps(await C.step_crossings())"
    )
    r = json.loads(selenium_wasmdl.run_async(code))
    line = {
        k: r[k] for k in ("python_to_js_calls_per_step", "submits_per_step", "dispatches_per_step")
    }
    chrome_report("webgpu MLP 784-128-10 step", line)
    print("webgpu crossings per MLP step:", line)
    assert r["python_to_js_calls_per_step"] <= 2
    assert r["submits_per_step"] <= 2
    assert r["dispatches_per_step"] < 80


@run_in_pyodide
async def test_500_step_loop_keeps_live_buffers_flat(selenium_wasmdl):
    import math

    from wasmdl.testing import webgpu_checks as C

    r = await C.memory_loop(500, sizes=(784, 32, 10), batch=8, every=50)
    print("live buffers every 50 steps:", r["buffers"], r["memory"])
    assert len(set(r["buffers"][1:])) == 1, r["buffers"]
    assert math.isfinite(r["final_loss"])


@run_in_pyodide
async def test_fit_and_predict_without_await_per_batch(selenium_wasmdl):
    from wasmdl.testing import webgpu_checks as C

    r = await C.fit_in_repl(2)
    assert r["predict_shape"] == [8, 10]
    assert r["loss"][1] < r["loss"][0]


@run_in_pyodide
async def test_readback_forms_and_memory_verbs(selenium_wasmdl):
    import numpy as np
    import pytest

    import wasmdl as wl

    be = wl.backend.get_backend("webgpu")
    t = wl.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), backend=be) * 2
    assert (await t.numpy_async()).tolist() == [[0, 2, 4], [6, 8, 10]]
    assert t.numpy().tolist() == [[0, 2, 4], [6, 8, 10]]  # JSPI: entered via runPythonAsync
    assert float(t.sum()) == 30.0
    before = be.memory()["buffers"]
    u = t + 1
    assert be.memory()["buffers"] == before + 1
    be.free(u._h)  # explicit release (dispose)
    assert be.memory()["buffers"] == before
    del t, u
    assert be.memory()["buffers"] < before

    from wasmdl.backend import webgpu

    w = wl.Tensor(np.ones((4, 4), np.float32), backend=be, requires_grad=True)
    for _ in range(3):  # a tidy-like loop body: nothing it made survives it
        with webgpu.scope() as s:
            loss = (w @ w).sum()
            loss.backward()
            w.grad = None
            del loss
        assert s.added == 0, s.added
    with webgpu.scope() as s:
        tmp = s.dispose_on_exit(w * w)
    assert s.added == 0
    with pytest.raises(RuntimeError, match="disposed"):
        (tmp + 1).numpy()
    wl.memory()  # the package-level report works on this backend


def test_sync_numpy_outside_async_python_says_to_await(selenium_wasmdl):
    code = "from wasmdl.testing import webgpu_checks as C\nC.sync_read_error()"
    msg = selenium_wasmdl.run(code)  # runPython: no JSPI stack switching possible
    assert msg and msg.startswith("SyncReadError"), msg
    assert "await t.numpy_async()" in msg
