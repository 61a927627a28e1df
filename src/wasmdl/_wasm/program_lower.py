"""Lowering a ``wasmdl.program.Program`` for ``kernels/wasm/program.c``: storage and records.

``Lowered(program, kernels)`` walks the instructions once. Every temporary slot gets a block
of one arena (``Arena``: blocks freed after a slot's last use are reused, best fit), a
``reshape``/``view`` aliases its input's storage, an in-place update's output is its first
input, and a 2-D transpose read only by 2-D float32 GEMMs is folded into their transpose
flags. Each instruction is encoded (``program_kernels.ENCODERS``) into the stream's records;
one the stream does not cover becomes a numpy segment between stream segments. Address words
are recorded as references (an external, the arena, the im2col or GEMM scratch) that
``program.Runner`` resolves.

>>> import numpy as np
>>> from wasmdl.program import Program
>>> p = Program()
>>> x = p.slot("input", (2, 3), np.float32)
>>> y = p.emit("reshape", (x,), {"shape": (3, 2)}, (3, 2), np.float32)
>>> z = p.emit("exp", (y,), {}, (3, 2), np.float32)
>>> p.externals, p.outputs = [x], [z]
>>> low = Lowered(p, kernels=None)  # no kernels (CPython): every instruction is numpy's
>>> low.aliases, [kind for kind, _ in low.segments], low.arena.size
(1, ['numpy'], 32)
"""

from __future__ import annotations

import numpy as np

from ..program import INPLACE
from . import program_nd as nd
from .program_kernels import ENCODERS

ALIASES = ("reshape", "view")
ALIGN = 16


def nbytes(shape, dtype) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _gemm2d(program, ins) -> bool:
    """A float32 GEMM of two non-empty 2-D operands (the stream always covers it): a matmul, or
    the one inside plain SGD's ``sgd_matmul``."""
    if ins.kernel == "matmul":
        ops = (*ins.ins, ins.out)
    elif ins.kernel == "sgd_matmul":
        ops = ins.ins[:3]
    else:
        return False
    slots = [program.slots[s] for s in ops]
    return all(len(s.shape) == 2 and 0 not in s.shape and s.dtype == np.float32 for s in slots)


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
            self.aliases += ins.kernel in ALIASES
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
