"""The WebGL2 backend: tensors live in float32/int32 textures, ops record fragment-shader draws
(``kernels/glsl/``), and a batch of them crosses into JavaScript in one call
(``kernels/shim.js``: ``glRun(packet, programs)``). Reads are synchronous ``readPixels``, so
``t.numpy()`` works wherever Python runs (no JSPI needed); ``await t.numpy_async()`` reads
through a pixel-buffer object and a fence.

Inside Pyodide in a browser with WebGL2 (every current browser; SwiftShader when headless):

    import wasmdl as wl
    wl.set_backend("webgl")
    x = wl.tensor([[1.0, 2.0]]) @ wl.ones((2, 3))
    x.numpy()

On CPython the module imports but the backend cannot start:

>>> from wasmdl.backend.webgl import WebGLBackend
>>> WebGLBackend().memory()["textures"]
0
"""

import functools
import json

import numpy as np

from .. import _js
from . import webgl_kernels
from .base import Backend
from .templates import Verb, compile_program
from .webgl_glsl import GL
from .webgl_plan import MAX_INPUTS, MAX_PARAMS, MAX_WIDTH, Plan, Pool, geometry
from .webgl_step import step_kernels

FLUSH_DRAWS = 512  # run a batch of eager ops once it holds this many draws
# a captured step's draws travel as one packet (one Python->JS call per step) unless the step
# holds more than this many (an LSTM(64) over 28 steps, trained: ~700)
FLUSH_DRAWS_STEP = 16384
FLUSH_WORDS = 1 << 22  # ... or this many upload words (16 MiB)
WORD = {np.dtype("float32"): np.float32, np.dtype("int32"): np.int32, np.dtype("bool"): np.int32}


def webgl_available():
    """Whether this runtime could run the backend (Pyodide in a browser or a worker)."""
    if not _js.IN_PYODIDE:
        return False
    import js

    return hasattr(js, "OffscreenCanvas") or hasattr(js, "document")


class WebGLError(RuntimeError):
    """A WebGL failure: GLSL compile errors (with kernel name and line), GL errors."""


class ContextLostError(WebGLError):
    """The WebGL2 context was lost; tensors on it are gone, the numpy backend still works."""


class TextureLimitError(ValueError):
    """A tensor needs a texture beyond the device's MAX_TEXTURE_SIZE."""


class GPUMemoryError(WebGLError, MemoryError):
    """The GPU ran out of memory (GL_OUT_OF_MEMORY)."""


def _draw_args(params, inputs, out, n):
    return (list(params), n), [list(out) if isinstance(out, list) else [out], list(inputs)]


def _draw(plan, pid, consts, ids):
    plan.draw(pid, consts[0], ids[0], consts[1], ids[1])


# how captured steps replay as draw templates (backend/templates.py)
VERB = Verb("draw", "programs", ("plan.write",), "draws", "webgl", "context",
            record=_draw_args, emit=_draw)  # fmt: skip


class WebGLBackend(Backend):
    """Textures as integer ids, a program cache and the pending plan."""

    name = "webgl"

    def __init__(self):
        self.kernels = {**webgl_kernels.KERNELS, **step_kernels(self)}
        self.shim = None
        self.info = {}
        self.pool = Pool()
        self.plan = Plan()
        self.programs = {}  # specialisation key -> program id
        self._next_pid = 0  # ids never reused: a pending draw keeps its program
        self.crossings = {"run": 0, "read": 0, "init": 0, "prepare": 0}
        self.max_width = MAX_WIDTH
        self.matmul_variant = "block"  # see webgl_kernels.MATMUL_VARIANTS
        self.transposed_operands = True  # GEMM kernels read transposes in place (rewrite)
        self.flush_draws = FLUSH_DRAWS  # eager ops; a captured step raises it while it replays
        self._op = None

    # ------------------------------------------------------------------ lifecycle
    def ensure_ready(self):
        """Load the shim and create the WebGL2 context (synchronously; idempotent)."""
        if self.shim is None:
            if not webgl_available():
                raise RuntimeError(
                    "webgl: expected Pyodide in a browser (WebGL2 through OffscreenCanvas), "
                    f"received none; available backends here: {_others()}"
                )
            shim = _js.import_module_sync("kernels/shim.js")
            try:
                info = json.loads(shim.glInit())
            except Exception as e:
                raise self._translate(e, "init") from None
            self.crossings["init"] += 1
            self.shim, self.info = shim, info
            self.max_width = min(MAX_WIDTH, info["maxTextureSize"])
            self.pool = Pool()  # a new id space: handles of a lost context keep their old pool
            self.plan.clear()
            self.programs.clear()
        return self

    # ------------------------------------------------------------------ memory verbs
    def alloc(self, shape, dtype, fmt=None):
        """A pooled texture for ``shape`` elements; checks dtype and MAX_TEXTURE_SIZE.
        ``fmt=2``: an RGBA32F texture of ``shape`` texels (packed operands inside a kernel);
        ``fmt=3``: four such layers (a 2-D array texture: the targets of matmul_block)."""
        if dtype not in GL:
            raise TypeError(
                "webgl: expected a tensor dtype among ['bool', 'float32', 'int32'], received "
                f"{dtype} (shape {tuple(shape)}); WebGL has no float64: use the numpy backend"
            )
        n = 1
        for d in shape:
            n *= d
        fmt = GL[dtype][2] if fmt is None else fmt
        w, h = geometry(n, self.max_width)
        limit = self.info.get("maxTextureSize", 1 << 30)
        if h > limit:
            raise TextureLimitError(
                f"webgl: a tensor of shape {tuple(shape)} and dtype {dtype} needs a {w}x{h} "
                f"texture, above this device's MAX_TEXTURE_SIZE of {limit}; use a smaller "
                "batch or the numpy backend"
            )
        return self.pool.alloc(n, fmt, self.plan, self.max_width)

    def from_host(self, array):
        self.ensure_ready()
        h = self.alloc(array.shape, array.dtype)
        if array.size:
            self.plan.write(h, np.ascontiguousarray(array, WORD[array.dtype]))
            if self.plan.data_words >= FLUSH_WORDS:
                self.flush()
        return h

    def free(self, h):
        h.release()

    def memory(self, handles=None):
        """Live textures (``textures``, also as ``buffers``) and their ``bytes``, counted by
        the pool; the pool's spares (``pooled``, ``pooled_bytes``)."""
        return self.pool.stats()

    # ------------------------------------------------------------------ execution
    def run(self, kernel, xs, out_shape, out_dtype, params):
        fn = self.kernels.get(kernel)
        if fn is None:
            from .base import missing_kernel

            raise missing_kernel(kernel, self)
        if out_dtype not in GL:
            self.alloc(out_shape, out_dtype)  # raises the dtype error naming the shape
        self.ensure_ready()
        self._op = kernel
        h = fn(self, xs, out_shape, out_dtype, params)
        if self.plan.draws >= self.flush_draws:
            self.flush()
        return h

    def gemm_packs(self, kernel, shapes, dtypes, params):
        """The operands GEMM instruction ``kernel`` would pack (``webgl_kernels.gemm_packs``):
        the rewrite packs one read the same way by several products once."""
        return webgl_kernels.gemm_packs(self, kernel, shapes, dtypes, params)

    def compile(self, program):
        """A captured step as draw templates replayed into the plan (``templates``)."""
        run = compile_program(self, program, FLUSH_DRAWS_STEP, VERB)

        @functools.wraps(run)  # its attributes too (calls, templates)
        def step(arrays):
            # the instructions that run through their kernels at every replay (the optimizer
            # updates) flush at the step's threshold too: the step stays one packet
            prev, self.flush_draws = self.flush_draws, FLUSH_DRAWS_STEP
            try:
                return run(arrays)
            finally:
                self.flush_draws = prev

        return step

    def draw(self, key, source, params, inputs, out, n):
        """Record one draw of the program for ``key`` (its GLSL from ``source()`` once) over
        ``n`` elements of ``out`` (a handle, or a list of handles of one geometry)."""
        pid = self.programs.get(key)
        if pid is None:
            name, file, code = source()
            pid = self.programs[key] = self._next_pid
            self._next_pid += 1
            self.plan.sources.append([pid, name, file, code])
        if len(params) > MAX_PARAMS:
            raise ValueError(
                f"{self._op}: expected at most {MAX_PARAMS} kernel parameters (tensors of up "
                f"to ~8 dimensions), received {len(params)} on the webgl backend"
            )
        if len(inputs) > MAX_INPUTS:
            raise ValueError(f"{self._op}: expected at most {MAX_INPUTS} input textures per "
                             f"draw, received {len(inputs)} on the webgl backend")  # fmt: skip
        pool = self.pool
        for h in inputs:
            if h.pool is not pool:
                raise ContextLostError(
                    f"{self._op}: an input tensor's WebGL texture was released or belongs to "
                    "a lost (replaced) context; recreate the tensor (webgl backend)"
                )
        outs = [h.id for h in out] if isinstance(out, list) else [out.id]
        self.plan.draw(pid, params, outs, n, [h.id for h in inputs])

    def forget_programs(self):
        """Run pending work, then drop the program cache (the next use compiles again: how a
        test measures a cold first step)."""
        self.flush()
        self.programs.clear()

    def _take(self):
        """The pending packet (or None) and the new programs' JSON (or None); clears the plan."""
        plan = self.plan
        self.pool.trim(plan)
        packet = plan.packet() if plan.cmd else None
        sources = json.dumps(plan.sources) if plan.sources else None
        plan.clear()
        return packet, sources

    def flush(self):
        """Run everything recorded so far: one crossing, however many draws."""
        if self.shim is None or not (self.plan.cmd or self.plan.sources):
            return
        from pyodide.ffi import to_js

        packet, sources = self._take()
        self.crossings["run"] += 1
        try:
            self.shim.glRun(None if packet is None else to_js(packet), sources)
        except Exception as e:
            raise self._translate(e, "run") from None

    # ------------------------------------------------------------------ readback
    def _read(self, verb, h, shape, dtype):
        from pyodide.ffi import to_js

        self.ensure_ready()
        if h.pool is not self.pool:
            raise ContextLostError(
                "Tensor.numpy: the tensor's WebGL texture was released or belongs to a lost "
                "(replaced) context; recreate the tensor (webgl backend)"
            )
        n = 1
        for d in shape:
            n *= d
        packet, sources = self._take()
        self.crossings["read"] += 1
        return getattr(self.shim, verb)(
            None if packet is None else to_js(packet), sources, h.id, max(n, 1)
        ), n

    def _finish(self, u8, n, shape, dtype):
        raw = np.frombuffer(u8.to_bytes(), WORD[dtype], count=n)
        out = raw != 0 if dtype == np.bool_ else raw.astype(dtype, copy=True)
        return out.reshape(shape)

    def to_host(self, h, shape, dtype):
        try:
            u8, n = self._read("glRead", h, shape, dtype)
        except WebGLError:
            raise
        except Exception as e:
            raise self._translate(e, "read") from None
        return self._finish(u8, n, shape, dtype)

    async def to_host_async(self, h, shape, dtype):
        try:
            promise, n = self._read("glReadAsync", h, shape, dtype)
            u8 = await promise
        except WebGLError:
            raise
        except Exception as e:
            raise self._translate(e, "read") from None
        return self._finish(u8, n, shape, dtype)

    # ------------------------------------------------------------------ faults
    def _translate(self, e, where):
        msg = _js.error_text(self.shim, e)
        text = msg.split("] ", 1)[-1]
        if "[context-lost]" in msg:
            self._context_lost()
            return ContextLostError(
                f"webgl.{where}: {text}: every tensor on the webgl backend is gone. wasmdl "
                "switched the default backend to 'numpy'; recreate tensors there (or call "
                "set_backend('webgl') again for a new context)"
            )
        if "[out-of-memory]" in msg:
            return GPUMemoryError(f"webgl.{where}: {text}")
        if "[no-webgl2]" in msg or "[no-float]" in msg:
            return RuntimeError(f"webgl: expected WebGL2 with float32 render targets: {text}")
        return WebGLError(f"webgl.{where}: {text}")

    def _context_lost(self):
        self.shim = None
        self.pool = Pool()
        self.plan.clear()
        self.programs.clear()
        from .base import _current, get_backend

        self.constants.clear()  # the ops layer's cached scalars: their textures are gone
        if _current[0] is self:  # new tensors go to the numpy backend from now on
            _current[0] = get_backend("numpy")

    def stats(self, reset=False):
        """Programs compiled, crossings counted in Python and work counted in the shim
        (``draws``, ``uploads``, ``reads``, ``compiles``: JSON-able dict)."""
        out = {"programs": len(self.programs), "python": dict(self.crossings)}
        if self.shim is not None:
            out["shim"] = json.loads(self.shim.glStats(bool(reset)))
        if reset:
            self.crossings = dict.fromkeys(self.crossings, 0)
        return out

    async def prepare_async(self):
        """Compile and link the programs recorded but not yet run, waiting without blocking
        the page (``KHR_parallel_shader_compile``); the recorded draws stay pending."""
        self.ensure_ready()
        plan = self.plan
        if not plan.sources:
            return {"programs": 0, "wall_ms": 0.0}
        sources, plan.sources = json.dumps(plan.sources), []
        self.crossings["prepare"] += 1
        try:
            return json.loads(await self.shim.glPrepare(sources))
        except Exception as e:
            raise self._translate(e, "prepare") from None


async def warmup_async(step, backend=None):
    """Run ``step()`` (it records draws) with its new programs linked in parallel and awaited
    (``prepare_async``) before the draws run, so the first real step does not stall on shader
    compiles; returns ``{"programs"`` (new in the step), ``"linked_async"`` (those linked by
    the awaited call; the rest were linked at a read inside the step), ``"wall_ms", "step_ms",
    "result"}``."""
    import time

    from .base import get_backend

    be = (backend or get_backend("webgl")).ensure_ready()
    be.flush()  # earlier work goes out with the programs it already has
    known = len(be.programs)
    t0 = time.perf_counter()
    out = step()  # a read inside it (the optimizer's first private copy) links what it needs
    report = await be.prepare_async()
    be.flush()
    report["linked_async"] = report["programs"]
    report["programs"] = report["pipelines"] = len(be.programs) - known
    report["step_ms"] = round(1000 * (time.perf_counter() - t0), 3)
    report["result"] = out
    return report


def _others():
    from .base import available_backends

    return [n for n in available_backends() if n != "webgl"]
