"""Tier 3: WebGPU faults give clear errors (own page: the last test destroys the device).

- no adapter: an error listing the backends that are available;
- a WGSL compile error: the compiler's message with the kernel name, file and line;
- a tensor above the device's buffer limit: an error naming the shape and the limit;
- device lost (``device.destroy()``): a clear error, and the numpy backend works afterwards.
"""

import json


def test_no_adapter_lists_available_backends(selenium_wasmdl):
    selenium_wasmdl.run_js(
        "globalThis.__realRequestAdapter = navigator.gpu.requestAdapter.bind(navigator.gpu);"
        "navigator.gpu.requestAdapter = async () => null;"
    )
    try:
        msg = selenium_wasmdl.run_async(
            """
import wasmdl as wl
try:
    wl.set_backend("webgpu")
    msg = None
except RuntimeError as e:
    msg = str(e)
msg
"""
        )
    finally:
        selenium_wasmdl.run_js("navigator.gpu.requestAdapter = globalThis.__realRequestAdapter;")
    assert msg and "expected a WebGPU adapter" in msg, msg
    assert "available backends: ['numpy'" in msg, msg


def test_compile_error_limit_and_device_loss(selenium_wasmdl):
    selenium_wasmdl.set_script_timeout(120)
    r = json.loads(
        selenium_wasmdl.run_async(
            """
import json
import wasmdl as wl
from wasmdl.testing import webgpu_checks as C
wl.set_backend("webgpu")
json.dumps(await C.faults())
"""
        )
    )
    print(json.dumps(r, indent=1))
    assert r["compile"].startswith("WebGPUError"), r["compile"]
    assert "WGSL compile error in kernel 'bad_kernel'" in r["compile"]
    assert "kernels/wgsl/bad_kernel.wgsl) line 5:" in r["compile"]
    assert r["after_compile_error"] == [[2.0, 2.0], [2.0, 2.0]]  # the device still works
    assert r["limit"].startswith("ValueError") and "shape (" in r["limit"]
    assert "buffer limit of" in r["limit"]
    assert r["lost"].startswith("DeviceLostError") and "device was lost" in r["lost"]
    assert r["backend_after_loss"] == "numpy"
    assert r["numpy_after_loss"] == [3.0, 6.0]
    again = selenium_wasmdl.run_async(
        """
import numpy as np
import wasmdl as wl
from wasmdl.backend import webgpu
be = await webgpu.init_async()  # a new device after the loss
(await (wl.Tensor(np.ones(2, np.float32), backend=be) + 1).numpy_async()).tolist()
"""
    )
    assert again == [2.0, 2.0]
