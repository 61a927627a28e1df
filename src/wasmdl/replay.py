"""Replaying a captured step (``wasmdl.capture``): gather the external arrays, run the program on
the backend, put the results where the eager step put them.

A backend with a ``compile(program)`` verb runs the program its own way (the numpy backend: a
loop over its kernels; inside Pyodide, one WebAssembly call); any other backend replays it here,
one ``backend.run`` per instruction.

>>> import numpy as np, wasmdl as wl
>>> w = wl.tensor([3.0])
>>> f = wl.function(lambda x: x * w)
>>> _ = [f(np.ones(1)) for _ in range(3)]
>>> f(np.ones(1)).tolist(), f.capture_info()["backend_calls"]
([3.0], 1)
"""

from __future__ import annotations

from operator import attrgetter, is_not

import numpy as np

from .program import INPLACE
from .rewrite import rewrite
from .tensor import Tensor

_H = attrgetter("_h")


def generic_runner(program, backend):
    """``run(arrays)`` replaying ``program`` through ``backend.run``, one call per instruction."""
    slots, instrs, n = program.slots, program.instrs, len(program.slots)

    def run(arrays):
        vals = [None] * n
        for s, a in zip(program.externals, arrays, strict=True):
            vals[s] = a
        for i in instrs:
            xs = [Tensor._wrap(vals[j], slots[j].shape, slots[j].dtype, backend) for j in i.ins]
            vals[i.out] = backend.run(i.kernel, xs, i.shape, i.dtype, i.params)
        return [vals[s] for s in program.outputs]

    run.calls = len(instrs)
    return run


def unflatten(spec, it):
    """A step's result rebuilt from its structure (``capture._flatten_out``) and tensors."""
    kind = spec[0]
    if kind == "T":
        return next(it)
    if kind in ("list", "tuple"):
        items = [unflatten(s, it) for s in spec[1]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {k: unflatten(s, it) for k, s in spec[1]}
    return spec[1]


class Replay:
    """A replayable step built from a classified ``Trace`` on ``backend``."""

    def __init__(self, trace, backend):
        rec, program = trace.rec, trace.rec.program
        self.recorded = len(program.instrs)
        n_out = len(trace.out_slots)
        # externals in the order a replay gathers them: the step's inputs (the recorder gives
        # them the first slots), the host values (in the order they are computed), the tensors
        host_order = list(dict.fromkeys(s for s, _ in rec.hostcalls if s is not None))
        n_inputs = sum(1 for s in program.slots if s.kind == "input")
        rest = [s for s, slot in enumerate(program.slots)
                if slot.kind not in ("temp", "input") and s not in host_order]  # fmt: skip
        program.externals = [*range(n_inputs), *host_order, *rest]
        program.outputs = [*trace.out_slots, *(s for _, s in trace.writes)]
        program.outputs += [s for _, s in trace.grads]
        rewrite(program, backend)
        self.program, self.backend, self.tree = program, backend, trace.tree
        self.out_meta = [(program.slots[s].shape, program.slots[s].dtype) for s in program.outputs]
        self.n_out, self.writes, self.grads = n_out, trace.writes, trace.grads
        host = {s: fn for s, fn in rec.hostcalls if s is not None}
        self.hostcalls, self.checks = rec.hostcalls, rec.checks
        self.n_inputs, self.host_order = n_inputs, host_order
        self.tensors = [rec.tensors[s] for s in rest]
        written = {
            i.ins[k]
            for i in program.instrs
            if i.kernel in INPLACE
            for k in INPLACE[i.kernel]
            if k < len(i.ins)
        }
        self.owned = [(rec.tensors[s], rec.tensors[s]._h) for s in written if s in rec.tensors]
        self.owned_tensors = [t for t, _ in self.owned]
        self.owned_handles = [h for _, h in self.owned]
        compile_ = getattr(backend, "compile", None)
        self.run = compile_(program) if compile_ is not None else None
        if self.run is None:
            self.run = generic_runner(program, backend)
        # A runner that returns copies of its outputs only reads the inputs during the call:
        # a caller may pass its own host arrays (no private copy), and host values (learning
        # rate, step) go into one buffer each, so the stream keeps their addresses.
        self.borrows = bool(getattr(self.run, "copies_outputs", False))
        # predict's per-sample case: arrays in, the one output as the runner's fresh host
        # array out, and nothing else to put back (``run_host``)
        extra = self.checks or self.hostcalls or self.writes or self.grads
        self.host_result = self.borrows and n_out == 1 and trace.tree[0] == "T" and not extra
        outs = set(program.outputs)
        self.host_bufs = {
            s: np.empty(program.slots[s].shape, program.slots[s].dtype)
            for s in host
            if self.borrows and s not in outs
        }

    def info(self) -> dict:
        return {
            "instructions": self.recorded,
            "instructions_rewritten": len(self.program.instrs),
            "backend_calls": getattr(self.run, "calls", len(self.program.instrs)),
            "slots": len(self.program.slots),
            **({"templates": self.run.templates()} if hasattr(self.run, "templates") else {}),
        }

    def _own(self):
        """In-place kernels write only arrays private to the program (copy after a swap)."""
        be = self.backend
        for k, (t, h) in enumerate(self.owned):
            if t._h is not h:
                h = be.from_host(np.array(be.to_host(t._h, t.shape, t.dtype), order="C"))
                t._h = h
                self.owned[k] = (t, h)
                self.owned_handles[k] = h

    def run_host(self, inputs):
        """``__call__`` of a ``host_result`` replay, returning its output as a host array."""
        if any(map(is_not, map(_H, self.owned_tensors), self.owned_handles)):
            self._own()  # a tensor of the program swapped its storage (set_weights, ...)
        return self.run([*inputs, *map(_H, self.tensors)])[0]

    def __call__(self, inputs):
        """Replay with ``inputs``, the handles of the step's tensor arguments in order."""
        be, values = self.backend, {}
        for s, fn in self.checks:  # host checks of inputs (tracing.host_check)
            slot = self.program.slots[s]
            fn(be.to_host(inputs[s], slot.shape, slot.dtype))
        for s, fn in self.hostcalls:
            v = fn()
            if s is None:
                continue
            buf = self.host_bufs.get(s)
            if buf is not None:
                buf[...] = v
                values[s] = buf
            else:
                slot = self.program.slots[s]
                values[s] = be.from_host(np.ascontiguousarray(np.asarray(v, slot.dtype)))
        if any(map(is_not, map(_H, self.owned_tensors), self.owned_handles)):
            self._own()  # a tensor of the program swapped its storage (set_weights, ...)
        arrays = [*inputs, *(values[s] for s in self.host_order), *map(_H, self.tensors)]
        results = self.run(arrays)
        outs = [
            Tensor._wrap(a, shape, dtype, be)
            for a, (shape, dtype) in zip(results, self.out_meta, strict=True)
        ]
        k = self.n_out
        for t, _ in self.writes:
            t._h = outs[k]._h
            k += 1
        for t, _ in self.grads:
            t.grad = outs[k]
            k += 1
        return unflatten(self.tree, iter(outs[: self.n_out]))
