"""Tier 3: explicit WebGPU pipeline warm-up (own page, so the first step really is cold).

On a fresh page: a CNN's first training step without warm-up compiles its pipelines lazily;
then, with the pipeline cache emptied, ``model.warmup_async`` precompiles them in one parallel
``createComputePipelineAsync`` call and the first step compiles none. Both runs' losses match
the numpy backend's (rtol 1e-3, as test_webgpu.py's CNN check). The timings are printed and
reported, not asserted (Dawn may cache compiled shaders between the two runs).
"""

import json


def test_warmup_leaves_nothing_to_compile_on_the_first_step(selenium_wasmdl, chrome_report):
    selenium_wasmdl.set_script_timeout(120)
    code = """
import json, time
import wasmdl as wl
from wasmdl.backend import webgpu
from wasmdl.testing import webgpu_checks as C

be = await webgpu.init_async()
xn, yn = C.mlp_data(16)
x, y = xn.reshape(16, 28, 28, 1), yn
ref = await C.cnn_losses("numpy", 2, batch=16)

async def run(warm):
    be.pipes.clear()  # nothing compiled, as on a new page
    prev = wl.backend.get_backend()
    wl.set_backend("webgpu")
    try:
        model = C.cnn_model()
        model.compile(optimizer=wl.optim.Adam(lr=1e-3),
                      loss=wl.losses.SparseCategoricalCrossentropy(from_logits=True))
        report = await model.warmup_async(x, y) if warm else None
        before = webgpu.stats()
        t0 = time.perf_counter()
        first = model.train_on_batch(x, y)  # reads the loss back (JSPI)
        ms = 1000 * (time.perf_counter() - t0)
        after = webgpu.stats()
        t0 = time.perf_counter()
        second = model.train_on_batch(x, y)
        ms2 = 1000 * (time.perf_counter() - t0)
    finally:
        wl.set_backend(prev)
    return {"report": report, "first_step_ms": ms, "second_step_ms": ms2, "losses": [first, second],
            "new_pipelines": after["pipelines"] - before["pipelines"],
            "new_compiles": after["shim"]["compiles"] - before["shim"]["compiles"],
            "pipelines": after["pipelines"], "shim": after["shim"]}

json.dumps({"ref": ref, "cold": await run(False), "warm": await run(True)})
"""
    r = json.loads(selenium_wasmdl.run_async(code))
    cold, warm, ref = r["cold"], r["warm"], r["ref"]
    rep = warm["report"]
    line = {
        "cold_first_step_ms": round(cold["first_step_ms"], 1),
        "cold_pipelines_compiled_in_step": cold["new_compiles"],
        "warmup_pipelines": rep["pipelines"],
        "warmup_wall_ms": rep["wall_ms"],
        "warmup_sum_compile_ms": rep["sum_ms"],
        "warm_first_step_ms": round(warm["first_step_ms"], 1),
        "second_step_ms": round(warm["second_step_ms"], 1),
    }
    chrome_report("webgpu CNN first step, cold vs warm-up", line)
    print("webgpu warm-up:", line, "\nper pipeline ms:", rep["compile_ms"])
    assert cold["new_compiles"] == cold["new_pipelines"] > 10  # lazily compiled in the step
    assert rep["pipelines"] == cold["new_compiles"]  # exactly the step's pipelines
    assert warm["pipelines"] == cold["pipelines"]
    assert len(rep["compile_ms"]) == rep["pipelines"]
    assert all(ms >= 0 for ms in rep["compile_ms"].values())
    assert warm["new_pipelines"] == 0 and warm["new_compiles"] == 0
    import numpy as np

    np.testing.assert_allclose(cold["losses"], ref, rtol=1e-3)
    np.testing.assert_allclose(warm["losses"], ref, rtol=1e-3)  # warm-up did not train


def test_warmup_async_of_a_step_and_a_failing_step(selenium_wasmdl):
    code = """
import json
import numpy as np
import wasmdl as wl
from wasmdl.backend import webgpu

be = await webgpu.init_async()
be.pipes.clear()
w = wl.Tensor(np.full((3, 3), 2, np.float32), backend=be)
rep = await webgpu.warmup_async(lambda: (w @ w).sum() * 0.5)
value = float(await rep["result"].numpy_async())
n = len(be.pipes)
try:
    await webgpu.warmup_async(lambda: (w @ w) + wl.Tensor(np.ones(4, np.float32), backend=be))
    err = None
except Exception as e:
    err = type(e).__name__
again = (await ((w @ w) - 1).numpy_async()).tolist()
json.dumps({"pipelines": rep["pipelines"], "value": value, "n": n, "err": err,
            "again": again, "deferred": be._deferred})
"""
    r = json.loads(selenium_wasmdl.run_async(code))
    assert r["pipelines"] == r["n"] >= 2
    assert r["value"] == 54.0  # 9 entries of 12, halved
    assert r["err"] is not None  # the step's own error comes out (shapes do not broadcast)
    assert r["deferred"] is None
    assert r["again"] == [[11.0] * 3] * 3
