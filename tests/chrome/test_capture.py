"""Captured step programs in Chromium: the step case table of ``wasmdl.testing.steps`` (eager
against captured) on the CPU backend (WASM kernels) and on WebGPU, and WebGPU memory staying
flat over a long captured training loop (it grew by two buffers a step before capture)."""

import json

import pytest


@pytest.fixture(autouse=True)
def _long_scripts(selenium_wasmdl):
    selenium_wasmdl.set_script_timeout(600)  # SwiftShader runs shaders on the CPU


@pytest.mark.driver_timeout(600)
@pytest.mark.parametrize("backend", ["numpy", "webgpu"])
def test_step_case_table_capture_matches_eager(selenium_wasmdl, backend):
    r = json.loads(
        selenium_wasmdl.run_async(f"""
import json, wasmdl
from wasmdl.testing import steps
if "{backend}" == "webgpu":
    from wasmdl.backend import webgpu
    await webgpu.init_async()
wasmdl.set_backend("{backend}")
try:
    r = steps.check_table(rtol=1e-4, atol=1e-5)
finally:
    wasmdl.set_backend("numpy")
json.dumps(r)
""")
    )
    print(backend, {k: (v["captured"], v.get("backend_calls")) for k, v in r["info"].items()})
    assert not r["failures"], "\n".join(r["failures"])
    assert len(r["info"]) == 22


@pytest.mark.driver_timeout(600)
def test_webgpu_captured_adam_training_keeps_live_buffers_flat(selenium_wasmdl):
    r = json.loads(
        selenium_wasmdl.run_async("""
import gc, json
import numpy as np
import wasmdl
from wasmdl import nn
from wasmdl.backend import webgpu
await webgpu.init_async()
wasmdl.set_backend("webgpu")
model = wasmdl.Sequential([nn.Flatten(input_shape=(28, 28)), nn.Dense(64, activation="relu"),
                           nn.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
rng = np.random.default_rng(0)
x, y = rng.random((64, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
live = []
for i in range(300):
    model.train_on_batch(x, y)
    if i % 50 == 49:
        gc.collect()
        live.append(wasmdl.memory()["buffers"])
wasmdl.set_backend("numpy")
json.dumps({"live": live, "info": model.capture_info()["train"]})
""")
    )
    print(r)
    assert r["info"]["captured"], r["info"]
    assert max(r["live"]) - min(r["live"]) <= 2, r["live"]


@pytest.mark.driver_timeout(600)
def test_webgpu_step_issue_crossings_and_python_time(selenium_wasmdl):
    """A captured README-MLP Adam step crosses into JavaScript once (the command packet) and
    reads nothing back; Python's time to issue a step, eager and captured, is printed."""
    r = json.loads(
        selenium_wasmdl.run_async("""
import json, time
import numpy as np
import wasmdl
from wasmdl import nn
from wasmdl.backend import webgpu
be = await webgpu.init_async()
wasmdl.set_backend("webgpu")
rng = np.random.default_rng(0)
x, y = rng.random((64, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
out = {}
for jit in (False, "auto"):
    model = wasmdl.Sequential([nn.Flatten(input_shape=(28, 28)), nn.Dense(64, activation="relu"),
                               nn.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit)
    step = model.make_train_function()
    model._ensure_optimizer()
    for _ in range(5):
        step(x, y)
    await model.layers[1].kernel.numpy_async()
    before = dict(be.crossings)
    t0 = time.perf_counter()
    for _ in range(20):
        step(x, y)
        be.flush()
    ms = (time.perf_counter() - t0) / 20 * 1000
    calls = {k: (be.crossings[k] - before.get(k, 0)) / 20 for k in be.crossings}
    out[str(jit)] = {"python_ms_per_step": round(ms, 3), "crossings_per_step": calls}
wasmdl.set_backend("numpy")
json.dumps(out)
""")
    )
    print("webgpu step issue:", r)
    cap = r["auto"]["crossings_per_step"]
    assert cap.get("run") == 1 and cap.get("read", 0) == 0 and cap.get("compile", 0) == 0, r
