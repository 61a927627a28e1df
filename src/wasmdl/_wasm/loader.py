"""Instantiate wasmdl's WebAssembly SIMD CPU kernels inside Pyodide's own memory.

The kernel module (built from ``kernels/wasm/*.c`` by ``scripts/build_kernels.py``) comes in
two builds: ``cpu_relaxed.wasm`` (relaxed SIMD: fused multiply-add) where the engine validates
it, else ``cpu.wasm`` (SIMD128 only); ``choose_module`` picks and the choice is logged and
reported by ``wasmdl.cpu_kernels()``. The module imports ``env.memory``. Given Pyodide's
``WebAssembly.Memory`` it runs directly on numpy arrays' addresses: no copies. Finding that
Memory relies on Pyodide internals (see ``kernels/wasm/find_memory.js``), so every failure here
is caught by the caller, which then keeps plain numpy and says so once.

This is the only module of wasmdl's CPU path that touches JavaScript; it imports ``js`` lazily
so it can be imported (not run) on CPython.

>>> from wasmdl._wasm import loader
>>> loader.WAYS
('host', 'side-module')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

log = logging.getLogger("wasmdl.cpu")

WAYS = ("host", "side-module")
MODULE_FILE = "cpu.wasm"  # SIMD128: runs wherever WebAssembly SIMD does
RELAXED_FILE = "cpu_relaxed.wasm"  # relaxed SIMD (f32x4.relaxed_madd): FMA where the CPU has it
MODULES = (RELAXED_FILE, MODULE_FILE)  # preference order

# An empty Emscripten side module: a "dylink.0" custom section (memory, table sizes 0) and an
# import of env.memory. Loading it through Pyodide's dynamic linker hands us Pyodide's Memory.
PROBE_MODULE = b"".join(
    [
        b"\0asm\x01\0\0\0",  # magic, version 1
        b"\x00\x0f\x08dylink.0\x01\x04\0\0\0\0",  # custom "dylink.0": MEM_INFO, all zero
        b"\x02\x0f\x01\x03env\x06memory\x02\x00\x00",  # import env.memory, min 0 pages
    ]
)


@dataclass
class Instance:
    """A kernel module instantiated with Pyodide's Memory."""

    exports: Any  # JsProxy of the instance's exports
    memory: Any  # JsProxy of Pyodide's WebAssembly.Memory
    how: str  # which way found the Memory: "host" or "side-module"
    module: str = MODULE_FILE  # which build: cpu_relaxed.wasm or cpu.wasm


def kernel_bytes(name: str = MODULE_FILE) -> bytes:
    """The bytes of a built kernel module shipped in the package (``wasmdl/kernels/wasm/``).

    >>> kernel_bytes()[:4]
    b'\\x00asm'
    """
    return resources.files("wasmdl").joinpath("kernels", "wasm", name).read_bytes()


def _js_source(name: str) -> str:
    return resources.files("wasmdl").joinpath("kernels", "wasm", name).read_text("utf-8")


def _uint8(data: bytes) -> Any:
    from pyodide.ffi import to_js

    return to_js(data)  # bytes -> a fresh Uint8Array copy


def find_memory(ways: tuple[str, ...] = WAYS) -> tuple[Any, str]:
    """Return ``(memory, how)``: Pyodide's ``WebAssembly.Memory`` and the way that found it.

    ``ways`` are tried in order. Raises ``RuntimeError`` listing what each way saw.
    """
    import pyodide_js
    from pyodide.code import run_js
    from pyodide.ffi import JsException, to_js

    finder = run_js(_js_source("find_memory.js"))
    try:
        found = finder(pyodide_js._module, _uint8(PROBE_MODULE), to_js(list(ways)))
    except JsException as e:
        raise RuntimeError(str(e)) from None
    return found.memory, found.how


def choose_module(names: tuple[str, ...] = MODULES) -> str:
    """The first module in ``names`` this engine validates (``WebAssembly.validate``).

    Raises ``RuntimeError`` when none validates (no WebAssembly SIMD at all).
    """
    import js

    for name in names:
        if js.WebAssembly.validate(_uint8(kernel_bytes(name))):
            return name
    raise RuntimeError(f"choose_module: this engine validates none of {list(names)}")


def instantiate(ways: tuple[str, ...] = WAYS, name: str | None = None) -> Instance:
    """Find Pyodide's Memory and instantiate the kernel module ``name`` with it (synchronously);
    ``name=None`` takes ``choose_module()``.

    Browsers allow synchronous compilation of modules this small (Chromium's main-thread limit
    is 8 MB). Raises ``RuntimeError`` (or a ``JsException``) when anything fails.
    """
    import js
    from pyodide.ffi import to_js

    name = name or choose_module()
    memory, how = find_memory(ways)
    module = js.WebAssembly.Module.new(_uint8(kernel_bytes(name)))
    imports = to_js({"env": {"memory": memory}}, dict_converter=js.Object.fromEntries)
    instance = js.WebAssembly.Instance.new(module, imports)
    log.info("wasmdl CPU kernels: %s instantiated on Pyodide's memory (found by %r)", name, how)
    return Instance(exports=instance.exports, memory=memory, how=how, module=name)
