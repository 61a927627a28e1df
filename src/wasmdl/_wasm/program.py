"""A captured step (``wasmdl.program.Program``) as one call into WebAssembly.

``compile(program, backend)`` lowers the program once: every temporary slot gets storage in
one arena (reused by liveness), ``reshape``/``view`` of a slot is an alias (no code), and each
instruction becomes records of ``kernels/wasm/program.c``'s opcode stream (encoders in
``program_ops``/``program_kernels``). ``run(arrays)`` patches the stream's address words of
the externals that changed since the last run (the batch; parameters come back as the same
arrays and cost an identity check) and makes **one** call, ``run_program``, when every
instruction is covered. An instruction the stream cannot do (a dtype or kernel it lacks)
splits it: the numpy kernel (``backend.kernels[name]``) runs between two stream segments on
views of the same storage, so a program always runs, fastest when fully covered.

Outputs are returned as fresh copies: a later run never writes an array already returned.

>>> import numpy as np
>>> from wasmdl.program import Program
>>> p = Program()
>>> x = p.slot("input", (2, 3), np.float32)
>>> y = p.emit("reshape", (x,), {"shape": (3, 2)}, (3, 2), np.float32)
>>> z = p.emit("erf", (y,), {}, (3, 2), np.float32)
>>> p.externals, p.outputs = [x], [z]
>>> plan = Lowered(p, kernels=None)
>>> plan.aliases, [kind for kind, _ in plan.segments]
(1, ['numpy'])
"""

from __future__ import annotations

import numpy as np

from ..program import INPLACE
from . import program_nd as nd
from .cpu import addr
from .program_kernels import ENCODERS

ALIASES = ("reshape", "view")
ALIGN = 16


def nbytes(shape, dtype) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _gemm2d(program, ins) -> bool:
    """A float32 matmul of two non-empty 2-D operands (the stream always covers it)."""
    slots = [program.slots[s] for s in (*ins.ins, ins.out)]
    return ins.kernel == "matmul" and all(
        len(s.shape) == 2 and 0 not in s.shape and s.dtype == np.float32 for s in slots
    )


class Encoder:
    """What an encoder sees: slot shapes and dtypes, address words, scratch space."""

    def __init__(self, lowered):
        self.low, self.words, self.refs = lowered, [], []

    def shape(self, s):
        return self.low.program.slots[s].shape

    def dtype(self, s):
        return self.low.program.slots[s].dtype

    def transposed(self, s) -> bool:
        """Whether slot ``s`` is a folded transpose (stored as its input, rows and columns
        swapped)."""
        return s in self.low.transposed

    def addr(self, s, off=0):
        base, boff = self.low.loc[s]
        return ("ref", base, boff + int(off))

    @property
    def work(self):
        return ("ref", "work", 0)

    def col(self, floats):
        self.low.col_floats = max(self.low.col_floats, int(floats))
        return ("ref", "col", 0), int(floats)

    def record(self, op, words):
        self.words.append(op)
        self.words.append(len(words) + 2)
        for w in words:
            if type(w) is tuple:
                self.refs.append((len(self.words), w[1], w[2]))
                w = 0
            self.words.append(int(w))


class Arena:
    """Byte offsets in one buffer: freed blocks are reused (best fit), else it grows."""

    def __init__(self):
        self.size, self.free = 0, []

    def alloc(self, nbytes):
        nbytes = max(ALIGN, -(-int(nbytes) // ALIGN) * ALIGN)
        fits = [b for b in self.free if b[1] >= nbytes]
        if fits:
            block = min(fits, key=lambda b: b[1])
            self.free.remove(block)
            return block
        self.size += nbytes
        return (self.size - nbytes, nbytes)

    def release(self, block):
        self.free.append(block)


class Lowered:
    """The program's storage plan and stream segments (see the module docstring).

    ``segments``: ``("wasm", (first word, words))`` or ``("numpy", instr)`` in order.
    """

    def __init__(self, program, kernels):
        self.program, self.kernels = program, kernels
        self.ext = {s: k for k, s in enumerate(program.externals)}
        self.loc, self.blocks, self.col_floats, self.aliases = {}, {}, 0, 0
        self.arena, self.enc = Arena(), Encoder(self)
        for s, k in self.ext.items():
            self.loc[s] = (("ext", k), 0)
        self.segments, self.transposed = [], self._transposes()
        self._lower()

    def _transposes(self) -> dict:
        """{permute output: its input} for 2-D transposes read only by 2-D float32 matmuls,
        which then read the input with a transpose flag (no copy)."""
        p, readers = self.program, {}
        for i in p.instrs:
            for s in i.ins:
                readers.setdefault(s, []).append(i)
        out = {}
        for i in p.instrs:
            x = i.ins[0]
            if i.kernel != "permute" or tuple(i.params["axes"]) != (1, 0) or i.out in p.outputs:
                continue
            uses = readers.get(i.out, [])
            if uses and self.kernels is not None and all(_gemm2d(p, u) for u in uses):
                out[i.out] = x
        return out

    def _last_uses(self):
        last = {}
        for i, ins in enumerate(self.program.instrs):
            for s in ins.ins:
                last[s] = i
        for s in self.program.outputs:
            last[s] = len(self.program.instrs)
        return last

    def _covered(self, ins):
        slots = self.program.slots
        if self.kernels is None or ins.kernel not in ENCODERS:
            return False
        return all(slots[s].dtype in nd.DTYPES for s in (*ins.ins, ins.out))

    def _place(self, i, ins):
        """Give the instruction's output a location: an alias, in place, or a new block."""
        if ins.kernel in ALIASES or ins.out in self.transposed:
            self.loc[ins.out] = self.loc[ins.ins[0]]
            self.aliases += 1
        elif ins.kernel in INPLACE:
            self.loc[ins.out] = self.loc[ins.ins[0]]
        else:
            block = self.arena.alloc(nbytes(ins.shape, ins.dtype))
            self.loc[ins.out] = (("arena", block), 0)
        base = self.loc[ins.out][0]
        self.blocks.setdefault(base, set()).add(ins.out)

    def _release(self, slots_done):
        for s in slots_done:
            base = self.loc[s][0]
            live = self.blocks.get(base)
            if live is None or s not in live:
                continue
            live.discard(s)
            if not live and base[0] == "arena":
                self.arena.release(base[1])

    def _lower(self):
        last, enc = self._last_uses(), self.enc
        dead_at = {}
        for s, i in last.items():
            dead_at.setdefault(i, []).append(s)
        start, self.marks = 0, []
        for i, ins in enumerate(self.program.instrs):
            self._place(i, ins)
            mark = len(enc.words)
            self.marks.append(mark)  # where each instruction's records start (profiling)
            ok = (
                ins.kernel in ALIASES
                or ins.out in self.transposed
                or (self._covered(ins) and ENCODERS[ins.kernel](enc, ins.ins, ins.out, ins.params))
            )
            if not ok:
                del enc.words[mark:]
                enc.refs = [r for r in enc.refs if r[0] < mark]
                if mark > start:
                    self.segments.append(("wasm", (start, mark - start)))
                self.segments.append(("numpy", ins))
                start = mark
            self._release(dead_at.get(i, []) + ([ins.out] if ins.out not in last else []))
        if len(enc.words) > start:
            self.segments.append(("wasm", (start, len(enc.words) - start)))


class Runner:
    """``run(arrays) -> list`` for a ``Lowered`` program on the kernels object ``k``."""

    def __init__(self, low, backend, k):
        self.low, self.k, self.kernels = low, k, backend.kernels
        self.program = p = low.program
        self.code = np.array(low.enc.words, np.int32)
        self.arena = np.zeros(low.arena.size + ALIGN, np.uint8)
        self.col = np.empty(max(low.col_floats, 1), np.float32)
        base = addr(self.arena)
        self.base = -base % ALIGN  # the arena's first aligned byte
        fixed = {"arena": base + self.base, "col": addr(self.col), "work": k._work}
        self.ext_refs = [[] for _ in p.externals]
        for pos, where, off in low.enc.refs:
            if where[0] == "ext":
                self.ext_refs[where[1]].append((pos, off))
            elif where[0] == "arena":
                self.code[pos] = fixed["arena"] + where[1][0] + off
            else:
                self.code[pos] = fixed[where] + off
        self.views = {s: self._view(s) for s in range(len(p.slots)) if s in low.loc}
        self.written = {low.ext[i.ins[j]] for i in p.instrs if i.kernel in INPLACE
                        for j in INPLACE[i.kernel] if j < len(i.ins)}  # fmt: skip
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
                code[pos] = at + off
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


def compile(program, backend):  # noqa: A001 (the backend verb's name)
    """``run(arrays) -> list`` executing ``program`` in WebAssembly (one ``run_program`` call
    per stream segment), or None where the kernels are not loaded (CPython, or disabled)."""
    from . import _STATE, kernels

    k = kernels() if _STATE["enabled"] else None
    if k is None:
        return None
    return Runner(Lowered(program, k), backend, k)
