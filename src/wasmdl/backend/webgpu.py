"""The WebGPU backend: tensors live in GPU buffers, ops record WGSL dispatches, and a batch of
them crosses into JavaScript in one call (``kernels/shim.js``: ``run(packet)`` = one command
encoder, one ``queue.submit``). Data reach the host only when asked.

Inside Pyodide in a browser with WebGPU (Chrome; headless with ``--enable-unsafe-webgpu``):

    import wasmdl as wl
    wl.set_backend("webgpu")              # or: await wl.backend.webgpu.init_async()
    x = wl.tensor([[1.0, 2.0]]) @ wl.ones((2, 3))
    await x.numpy_async()                 # always works
    x.numpy()                             # works where Python was entered asynchronously (JSPI)

On CPython the module imports (``IN_PYODIDE`` is False) but the backend cannot start:

>>> from wasmdl.backend.webgpu import WebGPUBackend
>>> WebGPUBackend().memory()["buffers"]
0
"""

import json

import numpy as np

from .. import _js
from . import webgpu_kernels, webgpu_warmup
from .base import Backend, missing_kernel
from .templates import Verb, compile_program
from .webgpu_memory import dispose, scope  # noqa: F401  (public: webgpu.dispose/scope)
from .webgpu_plan import Plan, Pool
from .webgpu_warmup import compile_deferred, stats, warmup_model  # noqa: F401

FLUSH_DISPATCHES = 512  # submit a batch once it holds this many dispatches
# host word type per dtype (4 bytes per element on the GPU; bool travels as uint32 0/1)
WORD = {np.dtype("float32"): np.float32, np.dtype("int32"): np.int32, np.dtype("bool"): np.uint32}


def webgpu_available():
    """Whether this runtime could run the backend (Pyodide and ``navigator.gpu`` present)."""
    if not _js.IN_PYODIDE:
        return False
    import js

    return hasattr(js, "navigator") and hasattr(js.navigator, "gpu")


class WebGPUError(RuntimeError):
    """A WebGPU failure: validation or WGSL compile errors (with kernel name and line)."""


class DeviceLostError(WebGPUError):
    """The GPU device was lost; tensors on it are gone, the numpy backend still works."""


def _launch_args(params, groups, handles):
    return (list(params), tuple(groups)), [list(handles)]


def _dispatch(plan, pid, consts, ids):
    plan.dispatch(pid, consts[0], consts[1], ids[0])


# how captured steps replay as dispatch templates (backend/templates.py)
VERB = Verb("launch", "pipes", ("plan.write", "plan.copy"), "dispatches", "webgpu", "device",
            record=_launch_args, emit=_dispatch)  # fmt: skip


class WebGPUBackend(Backend):
    """GPU memory as integer ids, a pipeline cache and the pending plan."""

    name = "webgpu"

    def __init__(self):
        self.kernels = webgpu_kernels.KERNELS
        self.shim = None
        self.info = {}
        self.limits = {}
        self.pool = Pool()
        self.plan = Plan()
        self.pipes = {}  # specialisation key -> pipeline id
        self.crossings = {"run": 0, "read": 0, "compile": 0, "init": 0}
        self._op = None
        self._deferred = None  # while warming up: [pid, name, file, source, entry] rows
        self.matmul_variant = "tiled"

    # ------------------------------------------------------------------ lifecycle
    async def init_async(self):
        """Load the shim from the wheel's package data and open the device (idempotent)."""
        if self.shim is not None:
            return self
        shim = await _js.import_module("kernels/shim.js")
        try:
            info = json.loads(await shim.init())
        except Exception as e:
            raise self._translate(e, "init") from None
        self.crossings["init"] += 1
        self.shim, self.info, self.limits = shim, info["adapter"], info["limits"]
        cpu = self.info.get("architecture") == "swiftshader" or self.info.get("isFallbackAdapter")
        self.matmul_variant = "vec4" if cpu else "tiled"  # see webgpu_kernels.MATMUL
        self.pool = Pool()  # a new id space: handles of an old device keep their old pool
        self.plan.clear()
        self.pipes.clear()
        return self

    def ensure_ready(self):
        """Open the device synchronously (JSPI) unless already open."""
        if self.shim is None:
            if not webgpu_available():
                raise RuntimeError(
                    "webgpu: expected Pyodide in a browser with WebGPU (navigator.gpu), "
                    f"received none; available backends here: {_others()}"
                )
            _js.run_sync(
                self.init_async(),
                "set_backend('webgpu')",
                "await wasmdl.backend.webgpu.init_async()",
            )
        return self

    # ------------------------------------------------------------------ memory verbs
    def alloc(self, shape, dtype, upload=False):
        """A pooled buffer for ``shape`` elements of 4 bytes; checks the device limit."""
        if dtype not in WORD:
            raise TypeError(
                "webgpu: expected a tensor dtype among ['bool', 'float32', 'int32'], received "
                f"{dtype} (shape {tuple(shape)}); WebGPU has no float64: use the numpy backend"
            )
        n = 1
        for d in shape:
            n *= d
        nbytes = max(4, 4 * n)
        limit = min(
            self.limits.get("maxStorageBufferBindingSize", 1 << 62),
            self.limits.get("maxBufferSize", 1 << 62),
        )
        if nbytes > limit:
            raise ValueError(
                f"webgpu: a tensor of shape {tuple(shape)} and dtype {dtype} needs {nbytes} "
                f"bytes, above this device's buffer limit of {limit} bytes "
                "(maxStorageBufferBindingSize); use a smaller batch or the numpy backend"
            )
        return self.pool.alloc(nbytes, self.plan, cap=limit, upload=upload)

    def from_host(self, array):
        self.ensure_ready()
        dt = array.dtype
        h = self.alloc(array.shape, dt, upload=True)
        if array.size:
            self.plan.write(h.id, np.ascontiguousarray(array, WORD[dt]))
        return h

    def free(self, h):
        h.release()

    def memory(self, handles=None):
        """Live buffers and bytes (``buffers``, ``bytes``: counted by the pool, so ``handles``
        is not needed) and the pool's spares (``pooled``, ``pooled_bytes``)."""
        return self.pool.stats()

    # ------------------------------------------------------------------ execution
    def run(self, kernel, xs, out_shape, out_dtype, params):
        fn = self.kernels.get(kernel)
        if fn is None:
            raise missing_kernel(kernel, self)
        if out_dtype not in WORD:
            self.alloc(out_shape, out_dtype)  # raises the dtype error naming the shape
        self._op = kernel  # named by launch() errors
        h = fn(self, xs, out_shape, out_dtype, params)
        if self.plan.dispatches >= FLUSH_DISPATCHES:
            self.flush()
        return h

    def compile(self, program):
        """A captured step as dispatch templates replayed into the plan (``templates``)."""
        return compile_program(self, program, FLUSH_DISPATCHES, VERB)

    def launch(self, key, source, params, groups, handles):
        """Record one dispatch of the pipeline for ``key`` (compiled from ``source()`` once)."""
        pid = self.pipes.get(key)
        if pid is None:
            pid = self._compile(key, source())
        pool = self.pool
        for h in handles:
            if h.pool is not pool:
                raise DeviceLostError(
                    f"{self._op}: an input tensor's WebGPU buffer was disposed or belongs to a "
                    "lost (replaced) device; recreate the tensor (webgpu backend)"
                )
        self.plan.dispatch(pid, params, groups, [h.id for h in handles])

    def _compile(self, key, src):
        name, file, code = src
        pid = len(self.pipes)
        if self._deferred is not None:  # warm-up: compiled in one batch before submitting
            self._deferred.append([pid, name, file, code, f"k_{name}"])
            self.pipes[key] = pid
            return pid
        self.crossings["compile"] += 1
        try:
            self.shim.compile(pid, name, file, code, f"k_{name}")
        except Exception as e:
            raise self._translate(e, f"compile {name}") from None
        self.pipes[key] = pid
        return pid

    def _take_packet(self):
        if not self.plan.cmd:
            return None
        packet = self.plan.packet()
        self.plan.clear()
        return packet

    def flush(self):
        """Submit everything recorded so far (one crossing, one queue.submit); while warm-up
        defers compiles, the work waits for its pipelines."""
        if self.shim is None or self._deferred is not None:
            return
        packet = self._take_packet()
        if packet is not None:
            self._run_packet(packet)
        self.pool.settle(self.plan)

    def _run_packet(self, packet):
        from pyodide.ffi import to_js

        self.crossings["run"] += 1
        try:
            self.shim.run(to_js(packet))
        except Exception as e:
            raise self._translate(e, "run") from None

    # ------------------------------------------------------------------ readback
    async def to_host_async(self, h, shape, dtype):
        from pyodide.ffi import to_js

        self.ensure_ready()
        n = 1
        for d in shape:
            n *= d
        if self._deferred:
            await compile_deferred(self)  # a read inside a warm-up step
        packet = self._take_packet()
        self.crossings["read"] += 1
        try:
            u8 = await self.shim.read(None if packet is None else to_js(packet), h.id, 4 * n)
        except Exception as e:
            raise self._translate(e, "read") from None
        self.pool.settle(self.plan)
        raw = np.frombuffer(u8.to_bytes(), WORD[dtype], count=n)
        out = raw != 0 if dtype == np.bool_ else raw.astype(dtype, copy=True)
        return out.reshape(shape)

    def to_host(self, h, shape, dtype):
        return _js.run_sync(
            self.to_host_async(h, shape, dtype), "Tensor.numpy (webgpu)", "await t.numpy_async()"
        )

    # ------------------------------------------------------------------ faults
    def _translate(self, e, where):
        msg = _js.error_text(self.shim, e)
        if "[device-lost]" in msg:
            self._device_lost()
            return DeviceLostError(
                f"webgpu.{where}: {msg.split('] ', 1)[-1]}. wasmdl switched the default "
                "backend to 'numpy'; recreate tensors there (or call "
                "`await wasmdl.backend.webgpu.init_async()` for a new device)"
            )
        if "[no-adapter]" in msg:
            return RuntimeError(
                f"webgpu: expected a WebGPU adapter, received none ({msg.split('] ', 1)[-1]}); "
                f"available backends: {_others()}"
            )
        return WebGPUError(f"webgpu.{where}: {msg.split('] ', 1)[-1]}")

    def _device_lost(self):
        self.shim = None
        self.pool = Pool()
        self.plan.clear()
        self.pipes.clear()
        self.constants.clear()  # the ops layer's cached scalars: their buffers are gone
        from .base import _current, get_backend

        if _current[0] is self:  # new tensors go to the numpy backend from now on
            _current[0] = get_backend("numpy")

    def stats(self, reset=False):
        """Pipelines compiled, crossings counted in Python and work counted in the shim
        (``compiles``, ``compile_ms``: JSON-able dict)."""
        out = {"pipelines": len(self.pipes), "python": dict(self.crossings)}
        if self.shim is not None:
            out["shim"] = json.loads(self.shim.stats(bool(reset)))
        if reset:
            self.crossings = dict.fromkeys(self.crossings, 0)
        return out


def _others():
    from .base import available_backends

    return [n for n in available_backends() if n != "webgpu"]


async def init_async():
    """Open (or reopen, after a device loss) the WebGPU device; returns the backend.

    Works from any async context (``await``), including pages that enter Python through plain
    ``runPython``-driven event handlers where ``set_backend("webgpu")`` cannot wait.
    """
    from .base import _INSTANCES

    be = _INSTANCES.get("webgpu")
    if be is None:  # the registry's instance, created without the synchronous wait
        be = _INSTANCES["webgpu"] = WebGPUBackend()
    return await be.init_async()


async def warmup_async(step, backend=None):
    """``webgpu_warmup.warmup_async`` on ``backend`` (default: this page's device, opened if
    needed): ``step()`` runs with all its new pipelines compiled in one parallel call."""
    return await webgpu_warmup.warmup_async(step, backend or await init_async())
