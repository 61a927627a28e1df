"""A captured step program: plain data that a backend can compile and replay.

``wasmdl.capture`` records the primitive ops of a step as a ``Program``; this module holds only
the data structure (numpy, no tensors), so a backend may import it. A program is a list of
**slots** (values) and **instructions** (one kernel call each):

- a slot's ``kind`` is ``"param"`` (a tensor alive across steps: weights, optimizer state,
  metric sums; given at every run), ``"input"`` (the batch, given at every run), ``"host"``
  (a value computed on the host at every run: learning rate and step count, dropout masks;
  given at every run), ``"const"`` (a value fixed at capture, given at every run) or
  ``"temp"`` (produced by an instruction);
- an ``Instr`` runs kernel ``kernel`` (a name of the backend's kernel table) on the slots
  ``ins`` with the canonical ``params`` the numpy kernel receives, producing slot ``out`` of
  ``shape``/``dtype``. In-place kernels (``INPLACE``) write into some of their inputs (always
  ``"param"`` slots whose arrays the caller keeps private) and their ``out`` aliases ``ins[0]``;
- ``externals`` lists the non-temp slots in the order a run receives their arrays, ``outputs``
  the slots whose arrays a run returns, in order.

A backend's optional ``compile(program)`` returns ``run(arrays) -> list`` (arrays aligned with
``externals``; returns the arrays of ``outputs``, never overwritten by a later run).

>>> import numpy as np
>>> p = Program()
>>> x = p.slot("input", (2,), np.float32)
>>> y = p.emit("exp", (x,), {}, (2,), np.float32)
>>> p.externals, p.outputs = [x], [y]
>>> p
Program(1 instructions, 2 slots: 1 input, 1 temp)
"""

from __future__ import annotations

import numpy as np

# kernel name -> the input positions it writes in place (its output aliases the first)
INPLACE = {"sgd_update": (0, 3), "adam_update": (0, 3, 4), "sgd_matmul": (0,), "sgd_colsum": (0,)}


class Slot:
    """One value of a program: ``kind``, ``shape``, ``dtype``."""

    __slots__ = ("kind", "shape", "dtype")

    def __init__(self, kind, shape, dtype):
        self.kind, self.shape, self.dtype = kind, tuple(shape), np.dtype(dtype)

    def __repr__(self):
        return f"Slot({self.kind}, {self.shape}, {self.dtype})"


class Instr:
    """One kernel call: ``kernel(*slots[ins], **params) -> slots[out]``."""

    __slots__ = ("kernel", "ins", "out", "params", "shape", "dtype")

    def __init__(self, kernel, ins, out, params, shape, dtype):
        self.kernel, self.ins, self.out, self.params = kernel, tuple(ins), out, params
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    def __repr__(self):
        return f"Instr({self.kernel}, {self.ins} -> {self.out}, {self.shape})"


class Program:
    """Slots and instructions of one captured step (see the module docstring)."""

    def __init__(self):
        self.slots: list[Slot] = []
        self.instrs: list[Instr] = []
        self.externals: list[int] = []
        self.outputs: list[int] = []

    def slot(self, kind, shape, dtype) -> int:
        self.slots.append(Slot(kind, shape, dtype))
        return len(self.slots) - 1

    def copy(self) -> Program:
        """A program with its own lists (``rewrite`` replaces instructions in place; slots
        and instructions themselves are never mutated, so they are shared)."""
        q = Program()
        q.slots, q.instrs = list(self.slots), list(self.instrs)
        q.externals, q.outputs = list(self.externals), list(self.outputs)
        return q

    def emit(self, kernel, ins, params, shape, dtype) -> int:
        """Append an instruction writing a new temp slot (or aliasing ``ins[0]`` in place)."""
        out = ins[0] if kernel in INPLACE else self.slot("temp", shape, dtype)
        self.instrs.append(Instr(kernel, ins, out, params, shape, dtype))
        return out

    def counts(self) -> dict:
        kinds: dict = {}
        for s in self.slots:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        return kinds

    def __repr__(self):
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.counts().items()))
        return f"Program({len(self.instrs)} instructions, {len(self.slots)} slots: {kinds})"


def window_box(starts, steps, counts):
    """Per dimension ``(first, last)`` index a strided window (a slice's lattice) covers."""
    box = []
    for b, s, k in zip(starts, steps, counts, strict=True):
        last = b + (k - 1) * s
        box.append((min(b, last), max(b, last)))
    return box


def boxes_disjoint(boxes) -> bool:
    """Whether the boxes (``window_box`` results) are pairwise disjoint."""
    return all(
        any(x[1] < y[0] or y[1] < x[0] for x, y in zip(a, b, strict=True))
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
    )


def contiguous_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    out, acc = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        out[i] = acc
        acc *= shape[i]
    return out


def view_chain(s, producer, kinds):
    """Slot ``s`` and the slots it views through instructions of ``kinds`` (``producer``:
    slot -> the instruction that made it), nearest first: a view may alias its source."""
    out = [s]
    while s in producer and producer[s].kernel in kinds:
        s = producer[s].ins[0]
        out.append(s)
    return out
