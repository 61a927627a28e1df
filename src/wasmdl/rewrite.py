"""The rewrite pass over a captured ``Program``: a table of patterns, applied where the backend
has the target kernel, then dead-code elimination.

A pattern is a row ``(name, chain, target, build)``: ``chain`` is a sequence of kernel names in
which each instruction's output feeds only the next one (the first input of the next, or any
input); ``build(instrs)`` returns ``(ins, params)`` of one ``target`` instruction that replaces
the chain and writes its last slot, or None when the instructions do not fit (shapes, dtypes).
Backends that lack ``target`` keep the chain.

>>> import numpy as np
>>> from wasmdl.program import Program
>>> from wasmdl.backend import get_backend
>>> p = Program()
>>> x, w, b = (p.slot("input", s, np.float32) for s in ((4, 3), (3, 2), (2,)))
>>> m = p.emit("matmul", (x, w), {}, (4, 2), np.float32)
>>> z = p.emit("add", (m, b), {}, (4, 2), np.float32)
>>> y = p.emit("relu", (z,), {}, (4, 2), np.float32)
>>> p.externals, p.outputs = [x, w, b], [y]
>>> rewrite(p, get_backend()).instrs
[Instr(dense, (0, 1, 2) -> 5, (4, 2))]
"""

from __future__ import annotations

from .program import INPLACE, Instr


def _dense(instrs):
    mm, add = instrs[0], instrs[1]
    act = instrs[2].kernel if len(instrs) == 3 else "linear"
    x_shape = len(mm.shape)
    if x_shape != 2 or add.ins[0] != mm.out or add.shape != mm.shape:
        return None
    return (mm.ins[0], mm.ins[1], add.ins[1]), {"activation": act}


def _bias_ok(program, instrs):
    b = program.slots[instrs[1].ins[1]]
    return len(b.shape) == 1 and b.shape[0] == instrs[0].shape[-1]


PATTERNS = [
    # x @ w + b (+ relu) -> one dense kernel: a Dense layer's forward
    ("dense_relu", ("matmul", "add", "relu"), "dense", _dense),
    ("dense", ("matmul", "add"), "dense", _dense),
]


def _uses(program):
    uses: dict = {}
    for i in program.instrs:
        for s in i.ins:
            uses[s] = uses.get(s, 0) + 1
    for s in program.outputs:
        uses[s] = uses.get(s, 0) + 1
    return uses


def _pairs(group):
    return zip(group, group[1:], strict=False)


def _fuse(program, backend, chain, target, build):
    instrs, uses, out, k = program.instrs, _uses(program), [], 0
    n = len(chain)
    while k < len(instrs):
        group = instrs[k : k + n]
        ok = (
            len(group) == n
            and tuple(i.kernel for i in group) == chain
            and all(
                uses.get(a.out) == 1 and a.out in b.ins
                for a, b in zip(group, group[1:], strict=False)
            )
            and _bias_ok(program, group)
        )
        made = build(group) if ok else None
        if made is None:
            out.append(instrs[k])
            k += 1
            continue
        last = group[-1]
        out.append(Instr(target, made[0], last.out, made[1], last.shape, last.dtype))
        k += n
    program.instrs = out


def _dce(program):
    """Drop instructions whose results nothing reads (in-place updates always stay)."""
    live = set(program.outputs)
    kept = []
    for i in reversed(program.instrs):
        if i.kernel in INPLACE or i.out in live:
            kept.append(i)
            live.update(i.ins)
    program.instrs = kept[::-1]


def rewrite(program, backend):
    """Apply ``PATTERNS`` where ``backend`` has the target kernel, then drop dead code."""
    kernels = backend.kernels
    for _name, chain, target, build in PATTERNS:
        if target in kernels:
            _fuse(program, backend, chain, target, build)
    _dce(program)
    return program
