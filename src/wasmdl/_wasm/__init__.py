"""wasmdl's WebAssembly SIMD CPU kernels: loaded once inside Pyodide, installed over the numpy
backend's kernel table, reported by ``status()`` and switched by ``set_enabled()``.

Inside Pyodide numpy has no BLAS (``np.matmul`` runs at ~2 GFLOP/s); the kernels of
``kernels/wasm/*.c``, instantiated on Pyodide's own memory, run on numpy arrays in place at tens
of GFLOP/s. On CPython nothing is loaded: numpy's BLAS is faster. If loading fails the numpy
backend keeps its plain numpy kernels and a single ``RuntimeWarning`` says why.

>>> from wasmdl import _wasm
>>> _wasm.status()["active"], _wasm.status()["reason"]
([], "not running in Pyodide: numpy's own BLAS is faster here")
"""

from __future__ import annotations

import logging
import warnings
from functools import partial

import numpy as np

from .._js import IN_PYODIDE

log = logging.getLogger("wasmdl.cpu")

_STATE = {
    "kernels": None,
    "tried": False,
    "enabled": True,
    "how": None,
    "module": None,
    "reason": "not loaded",
}
_INSTALLED: dict = {}  # backend -> {kernel name: the numpy kernel it replaced}


def kernels():
    """The loaded ``CpuKernels`` (loading them on first call), or None where unavailable."""
    if not _STATE["tried"]:
        _STATE["tried"] = True
        _load()
    return _STATE["kernels"]


def _load(ways=None) -> None:
    if not IN_PYODIDE:
        _STATE["reason"] = "not running in Pyodide: numpy's own BLAS is faster here"
        return
    from . import loader
    from .cpu import CpuKernels

    try:
        inst = loader.instantiate(ways or loader.WAYS)
        k = CpuKernels(inst.exports)
        _self_check(k)
    except Exception as e:  # anything at all: fall back to numpy, say so once
        _STATE.update(kernels=None, how=None, reason=f"failed to load: {e}")
        warnings.warn(
            f"wasmdl: WebAssembly SIMD CPU kernels unavailable, using plain numpy ({e})",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    _STATE.update(
        kernels=k,
        how=inst.how,
        module=inst.module,
        reason=f"loaded {inst.module} (memory found by {inst.how!r})",
    )


def _self_check(k) -> None:
    """A tiny product against numpy: a wrong memory would fail here, not in a user's model."""
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    got = k.gemm(a, b)
    if got is None or not np.array_equal(got, a @ b):
        raise RuntimeError(f"self-check: sgemm gave {got!r}, expected {(a @ b)!r}")


def _with_fallback(fast, slow):
    def kernel(*arrays, **params):
        out = fast(*arrays, **params)
        return slow(*arrays, **params) if out is None else out

    kernel.__name__ = kernel.__qualname__ = getattr(slow, "__name__", "kernel")
    kernel.__doc__ = f"WASM SIMD kernel, falling back to {kernel.__name__} (numpy)"
    return kernel


def _table(k) -> dict:
    """Kernel name -> fast implementation (numpy backend signatures; None = not handled)."""
    from . import cpu_bias, cpu_conv, cpu_step

    return {
        "matmul": k.matmul,
        **{name: partial(getattr(cpu_conv, name), k) for name in cpu_conv.KERNELS},
        **cpu_bias.table(k),  # a bias's gradient: sum over the leading axes
        **cpu_step.table(k),  # fused-op gradients, cross-entropy, in-place optimizer updates
    }


def install(backend) -> list[str]:
    """Put the WASM kernels over ``backend.kernels`` (numpy stays as each one's fallback).

    Returns the names installed (none outside Pyodide, when disabled or when loading failed).
    """
    k = kernels() if _STATE["enabled"] else None
    if k is None or backend in _INSTALLED:
        return sorted(_INSTALLED.get(backend, ()))
    fast = {n: f for n, f in _table(k).items() if n in backend.kernels}
    _INSTALLED[backend] = {n: backend.kernels[n] for n in fast}
    for name, f in fast.items():
        backend.kernels[name] = _with_fallback(f, backend.kernels[name])
    backend.compile = partial(_compile_program, backend)  # over the class's verb, if any
    log.info("wasmdl CPU kernels active on %r: %s", backend.name, sorted(fast))
    return sorted(fast)


def _compile_program(backend, program):
    """The backend verb ``compile(program)`` while the kernels are installed: one WASM opcode
    stream (``program.py``); where that declines, the backend class's own ``compile``."""
    from .program import compile as stream

    k = kernels() if _STATE["enabled"] else None
    run = stream(program, backend, k) if k is not None else None
    own = getattr(type(backend), "compile", None)
    return run if run is not None or own is None else own(backend, program)


def uninstall(backend) -> None:
    """Restore the numpy kernels (and ``compile``) ``install`` replaced on ``backend``."""
    backend.kernels.update(_INSTALLED.pop(backend, {}))
    vars(backend).pop("compile", None)


def set_enabled(enabled: bool) -> dict:
    """Turn the WASM CPU kernels on or off (for comparison); returns ``status()``.

    >>> set_enabled(False)["enabled"], set_enabled(True)["enabled"]
    (False, True)
    """
    from ..backend.base import get_backend

    _STATE["enabled"] = bool(enabled)
    backend = get_backend("numpy")
    if enabled:
        install(backend)
    else:
        uninstall(backend)
    return status()


def status() -> dict:
    """Which CPU kernels are active, whether they are enabled, how the memory was found, and
    which module build runs (``cpu_relaxed.wasm``: fused multiply-add; ``cpu.wasm``: SIMD128)."""
    from ..backend.base import get_backend

    get_backend("numpy")  # creating the numpy backend installs the kernels (backend/numpy.py)
    if _STATE["enabled"]:
        kernels()  # sets the reason when nothing loads (e.g. on CPython)
    active = sorted(name for names in _INSTALLED.values() for name in names)
    return {
        "active": active,
        "enabled": _STATE["enabled"],
        "memory": _STATE["how"],
        "module": _STATE["module"],
        "reason": _STATE["reason"],
    }
