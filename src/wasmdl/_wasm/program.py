"""A captured step (``wasmdl.program.Program``) as one call into WebAssembly.

``compile(program, backend, k)`` (``k``: the loaded kernels) lowers the program once: every
temporary slot gets storage in one arena (reused by liveness), ``reshape``/``view`` of a slot is
an alias (no code), and each instruction becomes records of ``kernels/wasm/program.c``'s opcode
stream (encoders in ``program_ops``/``program_kernels``). ``run(arrays)`` patches the stream's
address words of the externals that changed since the last run (the batch; parameters come back
as the same arrays and cost an identity check) and makes **one** call, ``run_program``, when
every instruction is covered. An instruction the stream cannot do (a dtype or kernel it lacks)
splits it: the numpy kernel (``backend.kernels[name]``) runs between two stream segments on
views of the same storage, so a program always runs, fastest when fully covered.

Outputs are returned as fresh copies: a later run never writes an array already returned.

>>> import numpy as np, wasmdl
>>> from wasmdl.program import Program
>>> p = Program()
>>> x = p.slot("input", (2, 3), np.float32)
>>> y = p.emit("reshape", (x,), {"shape": (3, 2)}, (3, 2), np.float32)
>>> z = p.emit("erf", (y,), {}, (3, 2), np.float32)
>>> p.externals, p.outputs = [x], [z]
>>> wasmdl._wasm.kernels() is None  # outside Pyodide: no kernels, numpy's own loop instead
True
>>> out = loop(p, wasmdl.get_backend("numpy").kernels, [np.zeros((2, 3), np.float32)])
>>> out[0].tolist()
[[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
"""

from __future__ import annotations

from operator import is_not

import numpy as np

from ..program import INPLACE
from .cpu import addr
from .program_lower import ALIGN, Lowered, nbytes


def word(address: int) -> int:
    """An address as the int32 word the stream holds (C reads it back as unsigned, so all of
    wasm32's 4 GiB works).

    >>> word(8), word(3 << 30)
    (8, -1073741824)
    """
    return address - (1 << 32) if address >= (1 << 31) else address


class Runner:
    """``run(arrays) -> list`` for a ``Lowered`` program on the kernels object ``k``. Inputs
    are only read during the call, and outputs are fresh copies (``copies_outputs``)."""

    copies_outputs = True

    def __init__(self, low, backend, k):
        self.low, self.k, self.kernels = low, k, backend.kernels
        self.program = p = low.program
        self.code = np.array(low.enc.words, np.int32)
        self.arena = np.zeros(low.arena.size + ALIGN, np.uint8)
        self.col = np.empty(max(low.col_floats, 1), np.float32)
        self.base = -addr(self.arena) % ALIGN  # the arena's first aligned byte
        self.ext_refs = self._resolve(low.enc.refs)
        self.views = {s: self._view(s) for s in range(len(p.slots)) if s in low.loc}
        writes = [i.ins[j] for i in p.instrs if i.kernel in INPLACE
                  for j in INPLACE[i.kernel] if j < len(i.ins)]  # fmt: skip
        self.written = {low.ext[s] for s in writes if s in low.ext}  # externals written in place
        self.last, self.cur = [None] * len(p.externals), [None] * len(p.externals)
        self.code_addr = addr(self.code)
        self.segments = [(kind, (self.code_addr + 4 * seg[0], seg[1]) if kind == "wasm" else seg)
                         for kind, seg in low.segments]  # fmt: skip
        self.wasm_calls = sum(kind == "wasm" for kind, _ in low.segments)
        self.numpy_calls = len(low.segments) - self.wasm_calls
        self.calls = len(low.segments)  # backend calls per run (1 when fully covered)
        self.one = self.segments[0][1] if self.segments == [("wasm", self.segments[0][1])] else None
        outs = [self.views.get(s) for s in p.outputs]
        self.out_views = None if any(v is None for v in outs) else outs

    def _resolve(self, refs) -> list:
        """Write the fixed address words (arena, scratch); returns, per external, the
        ``(word position, byte offset)`` pairs that ``_bind`` patches at run time."""
        fixed = {"arena": addr(self.arena) + self.base, "col": addr(self.col), "work": self.k._work}
        ext = [[] for _ in self.program.externals]
        for pos, where, off in refs:
            if where[0] == "ext":
                ext[where[1]].append((pos, off))
            elif where[0] == "arena":
                self.code[pos] = word(fixed["arena"] + where[1][0] + off)
            else:
                self.code[pos] = word(fixed[where] + off)
        return ext

    def _view(self, s):
        (where, off), slot = self.low.loc[s], self.program.slots[s]
        if where[0] != "arena":
            return None
        start = self.base + where[1][0] + off
        raw = self.arena[start : start + max(nbytes(slot.shape, slot.dtype), slot.dtype.itemsize)]
        return raw[: nbytes(slot.shape, slot.dtype)].view(slot.dtype).reshape(slot.shape)

    def _bind(self, arrays) -> bool:
        """Patch the address words of externals that changed; False: a written external cannot
        be written in place (the run falls back to numpy)."""
        if not any(map(is_not, arrays, self.last)):
            return True  # the same arrays as the last run: every address word still holds
        slots, code = self.program.slots, self.code
        for k, a in enumerate(arrays):
            if a is self.last[k]:
                continue
            slot = slots[self.program.externals[k]]
            if type(a) is not np.ndarray:  # a numpy or Python scalar: an array of its own
                a = np.asarray(a, slot.dtype)
            if a.shape != slot.shape:
                raise ValueError(f"run: argument 'arrays[{k}]' expected shape {slot.shape}, "
                                 f"received {a.shape}")  # fmt: skip
            fit = a.dtype == slot.dtype and a.flags.c_contiguous
            if k in self.written and not (fit and a.flags.writeable):
                return False
            c = a if fit else np.ascontiguousarray(a, slot.dtype)
            at = addr(c)
            for pos, off in self.ext_refs[k]:
                code[pos] = word(at + off)
            self.last[k], self.cur[k] = a, c
        return True

    def value(self, s):
        v = self.views.get(s)
        if v is not None:
            return v
        where = self.low.loc[s][0]
        return self.cur[where[1]].reshape(self.program.slots[s].shape)

    def _numpy(self, ins):
        r = self.kernels[ins.kernel](*[self.value(s) for s in ins.ins], **ins.params)
        if ins.kernel not in INPLACE:
            np.copyto(self.value(ins.out), r, casting="unsafe")

    def __call__(self, arrays):
        if not self._bind(arrays):
            self.last = [None] * len(self.last)
            return loop(self.program, self.kernels, arrays)
        run = self.k._run_program
        if self.one is not None:
            run(*self.one)
        else:
            for kind, seg in self.segments:
                if kind == "wasm":
                    run(*seg)
                else:
                    self._numpy(seg)
        if self.out_views is not None:
            return [v.copy() for v in self.out_views]
        return [self.value(s).copy() for s in self.program.outputs]


def loop(program, kernels, arrays):
    """The program instruction by instruction through the numpy kernels (the fallback)."""
    vals = dict(zip(program.externals, arrays, strict=True))
    for i in program.instrs:
        r = kernels[i.kernel](*[vals[s] for s in i.ins], **i.params)
        vals[i.out] = np.asarray(r, dtype=i.dtype)
    return [np.array(vals[s], copy=True) for s in program.outputs]


def compile(program, backend, k):  # noqa: A001 (the backend verb's name)
    """``run(arrays) -> list`` executing ``program`` in WebAssembly on the loaded kernels ``k``
    (``wasmdl._wasm.kernels()``): one ``run_program`` call per stream segment."""
    return Runner(Lowered(program, k), backend, k)
