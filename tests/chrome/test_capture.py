"""Captured step programs in Chromium: the step case table of ``wasmdl.testing.steps`` (eager
against captured) on the CPU backend (WASM kernels), on WebGPU and on WebGL2, WebGPU memory
staying flat over a long captured training loop (it grew by two buffers a step before capture),
and a captured step crossing into JavaScript once on each GPU backend."""

import json

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _long_scripts(selenium_wasmdl):
    selenium_wasmdl.set_script_timeout(600)  # SwiftShader runs shaders on the CPU


@pytest.mark.driver_timeout(600)
@pytest.mark.parametrize("backend", ["numpy", "webgpu", "webgl"])
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


@pytest.mark.driver_timeout(600)
def test_webgl_captured_step_is_one_packet_and_matches_numpy(selenium_wasmdl):
    """A captured README-MLP Adam step on WebGL2 replays its draw templates: one ``glRun`` per
    step, nothing read back, no shader compiled after capture, textures flat; the weights after
    the same steps match the numpy backend's."""
    r = json.loads(
        selenium_wasmdl.run_async("""
import gc, json, time
import numpy as np
import wasmdl
from wasmdl import nn
rng = np.random.default_rng(0)
x, y = rng.random((64, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
out = {}
for backend in ("numpy", "webgl"):
    wasmdl.set_backend(backend)
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.Flatten(input_shape=(28, 28)), nn.Dense(64, activation="relu"),
                               nn.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    step = model.make_train_function()
    model._ensure_optimizer()
    for _ in range(5):
        step(x, y)
    if backend == "webgl":
        be = wasmdl.get_backend("webgl")
        be.flush()
        gc.collect()
        before, live0 = dict(be.crossings), be.memory()["textures"]
        t0 = time.perf_counter()
        for _ in range(20):
            step(x, y)
            be.flush()
        ms = (time.perf_counter() - t0) / 20 * 1000
        gc.collect()
        out["crossings_per_step"] = {k: (be.crossings[k] - before.get(k, 0)) / 20
                                     for k in be.crossings}
        out["python_ms_per_step"] = round(ms, 3)
        out["textures"] = [live0, be.memory()["textures"]]
        out["info"] = model.capture_info()["train"]
    else:
        for _ in range(20):
            step(x, y)
    out[backend] = [w.tolist() for w in model.get_weights()]
wasmdl.set_backend("numpy")
json.dumps(out)
""")
    )
    print("webgl captured step:", {k: r[k] for k in ("crossings_per_step", "python_ms_per_step",
                                                     "textures", "info")})  # fmt: skip
    assert r["info"]["captured"] and r["info"]["backend_calls"] == 1, r["info"]
    # every instruction but the in-place optimizer updates replays as recorded draws
    assert r["info"]["templates"] >= r["info"]["instructions_rewritten"] - 4, r["info"]
    calls = r["crossings_per_step"]
    assert calls.get("run") == 1 and calls.get("read", 0) == 0, calls
    assert calls.get("prepare", 0) == 0, calls
    assert r["textures"][1] - r["textures"][0] <= 2, r["textures"]
    for a, b in zip(r["webgl"], r["numpy"], strict=True):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=2e-3, atol=2e-4)
