"""Run code with the WASM SIMD CPU kernels switched on or off, and count what really ran.

Issue #8 asks that the op table and the training recipes pass with the kernels on and off,
in Node and in Chromium. ``switched(on)`` sets ``wasmdl.set_cpu_kernels(on)`` for a block
(restoring the previous setting after it, even on error), checks that ``wasmdl.cpu_kernels()``
agrees, and counts two things while the block runs:

- ``calls.table``: calls of each installed kernel through the numpy backend's table
  (``matmul``, ``conv2d``, ...), fallbacks to numpy included;
- ``calls.wasm``: calls that reached the WebAssembly module, per export (``sgemm``, ...).

So "on" can be shown to have run WASM code and "off" to have run none. ``op_table`` runs one
checker of ``wasmdl.testing.check`` over every case, contiguous and strided, in one mode.
Natively no kernels load, so only ``on=False`` applies there:

>>> from wasmdl.testing import cpu_modes
>>> r = cpu_modes.op_table("check_forward", on=False, names=["neg-3,4"])
>>> r["checks"], r["failures"], r["wasm_calls"]
(2, [], 0)
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import wasmdl

from . import check
from .cases import CASES


class Calls:
    """Counters filled by ``switched``: ``table`` (kernel name -> calls), ``wasm`` (export)."""

    def __init__(self):
        self.table, self.wasm = Counter(), Counter()

    def summary(self) -> dict:
        return {"table": dict(self.table), "wasm": dict(self.wasm), "wasm_total": self.total}

    @property
    def total(self) -> int:
        return sum(self.wasm.values())


def _counting(fn, name, counter):
    def counted(*args, **kwargs):
        counter[name] += 1
        return fn(*args, **kwargs)

    counted.__name__ = getattr(fn, "__name__", name)
    counted.__doc__ = getattr(fn, "__doc__", None)
    return counted


class _CountingExports:
    """Stands in for a module's ``exports``: every function fetched from it is counted."""

    def __init__(self, exports, counter):
        self._exports, self._counter = exports, counter

    def __getattr__(self, name):
        value = getattr(self._exports, name)
        return _counting(value, name, self._counter) if callable(value) else value


def _js_proxy_type():
    try:
        from pyodide.ffi import JsProxy
    except ImportError:  # CPython: nothing to count
        return None
    return JsProxy


def _count_wasm(k, counter) -> dict:
    """Wrap every JS object the kernels object holds (its exports and any export it cached,
    e.g. ``_sgemm``); returns the replaced attributes."""
    js = _js_proxy_type()
    if k is None or js is None:
        return {}
    saved = {n: v for n, v in vars(k).items() if isinstance(v, js)}
    for name, v in saved.items():
        if callable(v):
            setattr(k, name, _counting(v, name.lstrip("_"), counter))
        else:
            setattr(k, name, _CountingExports(v, counter))
    return saved


def _expect_mode(st: dict, on: bool) -> None:
    table = wasmdl.get_backend("numpy").kernels
    wasm_entries = sorted(n for n, f in table.items() if "WASM" in (f.__doc__ or ""))
    if on and (not st["enabled"] or not st["active"] or wasm_entries != st["active"]):
        raise AssertionError(
            f"switched: on=True expected active WASM CPU kernels in the numpy backend's table, "
            f"received status {st} and WASM table entries {wasm_entries}"
        )
    if not on and (st["enabled"] or st["active"] or wasm_entries):
        raise AssertionError(
            f"switched: on=False expected no WASM CPU kernels, received status {st} and WASM "
            f"table entries {wasm_entries}"
        )


def _use_build(module):
    """Put a fresh instance of the kernel build ``module`` (e.g. "cpu.wasm") in place of the
    loaded one; returns what to restore."""
    from .. import _wasm
    from .._wasm import loader
    from .._wasm.cpu import CpuKernels

    saved = {n: _wasm._STATE[n] for n in ("kernels", "module")}
    _wasm._STATE.update(kernels=CpuKernels(loader.instantiate(name=module).exports), module=module)
    return saved


@contextmanager
def switched(on: bool, module: str | None = None):
    """Kernels on (``True``) or off for the block; yields the ``Calls`` made inside it.
    ``module`` names a kernel build to use instead of the engine's choice (``"cpu.wasm"``, the
    SIMD128 build that engines without relaxed SIMD load).

    The kernels are reinstalled after the module's exports are wrapped (the installed kernels
    may bind exports once), and again, unwrapped, after the block.

    >>> with switched(False) as calls:
    ...     _ = (wasmdl.ones((3, 4)) @ wasmdl.ones((4, 2))).numpy()
    >>> calls.total, wasmdl.cpu_kernels()["enabled"]
    (0, True)
    """
    from .. import _wasm

    before = wasmdl.cpu_kernels()["enabled"]
    calls, table, saved_table, saved_k, saved_build = Calls(), None, {}, {}, {}
    try:
        if module is not None:
            saved_build = _use_build(module)
        k = _wasm.kernels()  # None natively
        saved_k = _count_wasm(k, calls.wasm)
        wasmdl.set_cpu_kernels(False)
        st = wasmdl.set_cpu_kernels(on)
        _expect_mode(st, on)
        assert module is None or st["module"] == module, (module, st)
        table = wasmdl.get_backend("numpy").kernels
        saved_table = {n: table[n] for n in st["active"]}
        for name, fn in saved_table.items():
            table[name] = _counting(fn, name, calls.table)
        yield calls
    finally:
        if table is not None:
            table.update(saved_table)
        for name, v in saved_k.items():
            setattr(k, name, v)
        _wasm._STATE.update(saved_build)
        wasmdl.set_cpu_kernels(False)
        wasmdl.set_cpu_kernels(before)


def op_table(checker: str, on: bool, names=None, noncontig=(False, True), module=None) -> dict:
    """``check.<checker>`` over the case table (or the cases named) with the kernels ``on``
    (the build ``module`` if given, as in ``switched``).

    Returns ``{"checks", "failures", "table_calls", "wasm_calls", "active"}``; every failing
    row is collected (one line each), none stops the run.
    """
    fn = getattr(check, checker)
    cases = [c for c in CASES if names is None or c.name in names]
    failures, n = [], 0
    with switched(on, module) as calls:
        active = wasmdl.cpu_kernels()["active"]
        for case in cases:
            for nc in noncontig:
                n += 1
                try:
                    fn(case, noncontig=nc)
                except Exception as e:  # noqa: BLE001 (collect every failing row)
                    failures.append(f"{checker}[{case.name}, noncontig={nc}]: {_short(e)}")
    return {
        "checks": n,
        "failures": failures,
        "table_calls": dict(calls.table),
        "wasm_calls": calls.total,
        "active": active,
    }


def assert_table_passed(report: dict, on: bool, every_kernel: bool = False) -> None:
    """No failures; with ``on`` WASM code ran (and, with ``every_kernel``, every installed
    kernel of a core primitive, e.g. ``matmul`` or ``conv2d_grad_weight``, was reached through
    the table); without, no WASM call at all."""
    from ..ops import OPS

    assert not report["failures"], "\n".join(report["failures"])
    if not on:
        assert report["active"] == [] and report["wasm_calls"] == 0, report
        return
    assert report["active"] and report["table_calls"] and report["wasm_calls"] > 0, report
    missing = sorted(set(report["active"]).intersection(OPS) - set(report["table_calls"]))
    assert not (every_kernel and missing), f"installed kernels the table never reached: {missing}"


def _short(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e)[:600]}"
