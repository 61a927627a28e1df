"""The rewrite pass over a captured ``Program``: a table of patterns, applied where the backend
has the target kernel, then dead-code elimination.

A pattern is a row ``(name, chain, target, build)``: ``chain`` is a sequence of kernel names in
which each instruction's output feeds only the next one (the first input of the next, or any
input); ``build(instrs)`` returns ``(ins, params)`` of one ``target`` instruction that replaces
the chain and writes its last slot, or None when the instructions do not fit (shapes, dtypes).
Backends that lack ``target`` keep the chain.

``ACCUMULATIONS`` is the second table, for trees rather than chains: a tree of ``add`` whose
leaves are ``slice_grad`` results (each a zero array with one window set: the VJP of a slice,
one per time step of a recurrent layer or per gate) becomes one ``slice_grad_sum``, which adds
every window into one array. The tree costs a full-size fill and add per leaf; the fused kernel
one fill and a window-sized add per leaf. It is taken only where the result is the same to the
bit: a left-deep sum (autograd's ``acc = acc + g``) or windows that do not overlap.

``UPDATES`` is the third: an optimizer update folded into the instruction that made its
gradient, at the update's place (plain SGD whose gradient is one GEMM -> ``sgd_matmul``, or a
leading-axis sum -> ``sgd_colsum``): no gradient array is written. Refused when an operand the
moved computation reads (or what it views) is written in place before the update.

On a backend whose GEMM kernels read operands through strides (``transposed_operands``), a
2-D transpose feeding one of them becomes its ``transpose`` flag (``TRANSPOSABLE``): no copy.
On a backend whose GEMMs pack their operands first (``gemm_packs``: WebGL), an operand several
products pack alike (a recurrent weight, read at every time step) is packed once.

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

import numpy as np

from .fusion import fuse_elementwise
from .program import INPLACE, Instr, boxes_disjoint, view_chain, window_box


def _dense(instrs):
    mm, add = instrs[0], instrs[1]
    act = instrs[2].kernel if len(instrs) == 3 else "linear"
    x_shape = len(mm.shape)
    if x_shape != 2 or add.ins[0] != mm.out or add.shape != mm.shape:
        return None
    return (mm.ins[0], mm.ins[1], add.ins[1]), {"activation": act}


def _conv_bias(instrs):
    conv, add = instrs[0], instrs[1]
    act = instrs[2].kernel if len(instrs) == 3 else "linear"
    if len(conv.shape) != 4 or add.ins[0] != conv.out or add.shape != conv.shape:
        return None
    return (conv.ins[0], conv.ins[1], add.ins[1]), {**conv.params, "activation": act}


def _bias_ok(program, instrs):
    b = program.slots[instrs[1].ins[1]]
    return len(b.shape) == 1 and b.shape[0] == instrs[0].shape[-1]


PATTERNS = [
    # x @ w + b (+ relu) -> one dense kernel: a Dense layer's forward
    ("dense_relu", ("matmul", "add", "relu"), "dense", _dense),
    ("dense", ("matmul", "add"), "dense", _dense),
    # conv2d + b (+ relu) -> one convolution with its epilogue: a Conv2D layer's forward
    ("conv2d_bias_relu", ("conv2d", "add", "relu"), "conv2d_bias", _conv_bias),
    ("conv2d_bias", ("conv2d", "add"), "conv2d_bias", _conv_bias),
]


def _slice_sum(program, root, producer, uses, written):
    """``(instruction, the tree's adds)``: the ``slice_grad_sum`` replacing the add tree rooted
    at ``root``, or None. Leaves: ``slice_grad`` results used once (their windows), and at most
    one other value of the same shape (the base the windows are added to), first in the sum's
    order. The fused instruction runs where the root ran: no leaf may be a slot written in
    place (its value could change in between)."""
    leaves, internal, left_deep = [], [], True
    stack = [(root.ins[1], True), (root.ins[0], False)]  # in order: left operand first
    while stack:  # iterative: a long recurrent sum is deeper than Python's recursion limit
        s, right = stack.pop()
        p = producer.get(s)
        if p is not None and uses.get(s) == 1 and p.shape == root.shape and p.dtype == root.dtype:
            if (
                p.kernel == "add"
                and program.slots[p.ins[0]].shape == program.slots[p.ins[1]].shape == root.shape
            ):
                left_deep &= not right
                internal.append(p)
                stack += [(p.ins[1], True), (p.ins[0], False)]
                continue
            if p.kernel == "slice_grad":
                leaves.append(p)
                continue
        leaves.append(s)

    grads = [leaf for leaf in leaves if isinstance(leaf, Instr)]
    bases = [k for k, leaf in enumerate(leaves) if not isinstance(leaf, Instr)]
    if not grads or len(bases) > 1:
        return None
    if any(g.ins[0] in written for g in grads) or any(leaves[k] in written for k in bases):
        return None
    exact = (left_deep and (not bases or bases[0] <= 1)) or _disjoint(program, grads)
    if not exact:
        return None
    regions = tuple((g.params["starts"], g.params["stops"], g.params["steps"]) for g in grads)
    ins = ([leaves[bases[0]]] if bases else []) + [g.ins[0] for g in grads]
    params = {"shape": root.shape, "regions": regions, "base": bool(bases)}
    return Instr("slice_grad_sum", ins, root.out, params, root.shape, root.dtype), internal


def _disjoint(program, grads) -> bool:
    """Whether the windows' bounding boxes are pairwise disjoint."""
    return boxes_disjoint(
        [
            window_box(g.params["starts"], g.params["steps"], program.slots[g.ins[0]].shape)
            for g in grads
        ]  # fmt: skip
    )


def _plain_sgd(update, producer, uses, kernel):
    """The producer (of kind ``kernel``) of a plain SGD update's gradient, used nowhere else,
    or None."""
    p = update.params
    if len(update.ins) != 3 or p.get("momentum") or p.get("weight_decay"):
        return None
    made = producer.get(update.ins[1])
    return made if made is not None and made.kernel == kernel and uses.get(made.out) == 1 else None


def _unwritten(s, producer, written) -> bool:
    """Whether slot ``s`` (or what it views) is never written in place."""
    return written.isdisjoint(view_chain(s, producer, VIEWS))


def _sgd_colsum(program, update, producer, uses, written):
    """Plain SGD on a bias whose gradient is the leading-axis sum of a 2-D float32 array ->
    one ``sgd_colsum`` (the column sums go straight into the update: no gradient array)."""
    sm = _plain_sgd(update, producer, uses, "sum")
    if sm is None or tuple(sm.params.get("axis", ())) != (0,) or sm.params.get("keepdims"):
        return None
    x = program.slots[sm.ins[0]]
    if len(x.shape) != 2 or x.dtype != np.float32 or 0 in x.shape:
        return None
    if not _unwritten(sm.ins[0], producer, written) or update.shape != (x.shape[1],):
        return None
    ins = (update.ins[0], sm.ins[0], update.ins[2])
    params = {"maximize": bool(update.params.get("maximize", False))}
    return Instr("sgd_colsum", ins, update.out, params, update.shape, update.dtype)


def _sgd_matmul(program, update, producer, uses, written):
    """Plain SGD (no momentum or weight decay) whose gradient is one 2-D float32 matmul used
    nowhere else -> one ``sgd_matmul`` at the update (the GEMM accumulates -lr (a @ b) into the
    weight: no gradient array). The GEMM now runs later: no operand (or what it views) may be
    written in place before it."""
    mm = _plain_sgd(update, producer, uses, "matmul")
    if mm is None or not all(_unwritten(s, producer, written) for s in mm.ins):
        return None
    slots = [program.slots[s] for s in (*mm.ins, mm.out, update.ins[0])]
    if any(len(s.shape) != 2 or s.dtype != np.float32 or 0 in s.shape for s in slots):
        return None
    ins = (update.ins[0], *mm.ins, update.ins[2])
    params = {"maximize": bool(update.params.get("maximize", False))}
    return Instr("sgd_matmul", ins, update.out, params, update.shape, update.dtype)


VIEWS = ("permute", "reshape", "view")  # may alias their input's storage when lowered

# (target, the instruction replaced, build(program, instr, producer, uses, written)): an
# optimizer update folded into the instruction that made its gradient
UPDATES = [
    ("sgd_matmul", "sgd_update", _sgd_matmul),
    ("sgd_colsum", "sgd_update", _sgd_colsum),  # a bias: the leading-axis sum of its gradient
]


def _fold_updates(program, kernel, build):
    producer = {i.out: i for i in program.instrs}
    uses = _uses(program)
    written = _written(program)
    out = []
    for i in program.instrs:
        made = build(program, i, producer, uses, written) if i.kernel == kernel else None
        out.append(i if made is None else made)
    program.instrs = out


ACCUMULATIONS = [
    # sum of slice VJPs -> one array, each window added in place (recurrent layers, splits)
    ("slice_grad_sum", "add", _slice_sum),
]


def _accumulate(program, build):
    """Replace every maximal tree ``build`` accepts by its one instruction (DCE drops the
    tree's now dead instructions)."""
    producer = {i.out: i for i in program.instrs}
    uses, done, out = _uses(program), set(), []
    written = _written(program)
    for i in reversed(program.instrs):
        made = None
        if i.kernel == "add" and id(i) not in done and len(i.ins) == 2:
            made = build(program, i, producer, uses, written)
        if made is None:
            out.append(i)
            continue
        done.update(id(a) for a in made[1])  # the tree's adds are not roots of their own
        out.append(made[0])
    program.instrs = out[::-1]


# kernels that read 2-D operands transposed in place where a backend says so
# (``backend.transposed_operands``): kernel -> positions of (a, b) in its inputs
TRANSPOSABLE = {"matmul": (0, 1), "dense": (0, 1), "sgd_matmul": (1, 2)}


def _inplace_writes(instrs):
    """``[(position, slots it writes in place)]`` for the in-place instructions."""
    return [(k, {i.ins[j] for j in INPLACE[i.kernel] if j < len(i.ins)})
            for k, i in enumerate(instrs) if i.kernel in INPLACE]  # fmt: skip


def _fold_transposes(program):
    """A 2-D transpose (``permute`` (1, 0)) read once, by a ``TRANSPOSABLE`` kernel at an
    operand position, becomes that kernel's ``transpose`` flag: it reads the permute's input
    (DCE then drops the copy). Refused when the input (or what it views) is written in place
    between the two."""
    instrs = program.instrs
    producer = {i.out: i for i in instrs}
    uses, where = _uses(program), {id(i): k for k, i in enumerate(instrs)}
    inplace = _inplace_writes(instrs)
    for k, i in enumerate(instrs):
        pos = TRANSPOSABLE.get(i.kernel)
        if pos is None or len(i.shape) != 2 or any(len(program.slots[i.ins[j]].shape) != 2
                                                   for j in pos):  # fmt: skip
            continue
        flags, ins = list(i.params.get("transpose", (False, False))), list(i.ins)
        for f, j in enumerate(pos):
            t = producer.get(ins[j])
            if (t is None or t.kernel != "permute" or tuple(t.params["axes"]) != (1, 0)
                    or uses.get(t.out) != 1 or flags[f]):  # fmt: skip
                continue
            src = t.ins[0]
            chain = set(view_chain(src, producer, VIEWS))  # the source and what it views
            start = where[id(t)]
            if any(start < w <= k and chain & ws for w, ws in inplace):
                continue
            ins[j], flags[f] = src, True
        if ins != list(i.ins):
            params = {**i.params, "transpose": tuple(flags)}
            instrs[k] = Instr(i.kernel, tuple(ins), i.out, params, i.shape, i.dtype)


def _share_operands(program, backend):
    """A GEMM operand that several products would pack the same way (``backend.gemm_packs``:
    the same slot, role and layout, as a recurrent weight read at every time step) is packed
    once, by a ``gemm_operand`` instruction before the first of them; each reads the packed
    slot (its ``packed`` parameter: input position and matrix shape). A write in place to the
    operand (or what it views) between two readers starts a new pack."""
    instrs, slots = program.instrs, program.slots
    producer = {i.out: i for i in instrs}
    inplace = _inplace_writes(instrs)
    groups: dict = {}
    for k, i in enumerate(instrs):
        shapes = [slots[s].shape for s in i.ins]
        packs = backend.gemm_packs(i.kernel, shapes, [slots[s].dtype for s in i.ins], i.params)
        for j, (params, texels) in packs.items():
            key = (i.ins[j], tuple(sorted(params.items())))
            groups.setdefault(key, []).append((k, j, params, texels))
    before: dict = {}  # position -> gemm_operand instructions to insert before it
    packed: dict = {}  # position -> [(input position, packed slot)]
    for (s, _), members in groups.items():
        chain = set(view_chain(s, producer, VIEWS))
        runs = [[members[0]]]
        for m in members[1:]:
            last = runs[-1][-1][0]
            if any(last <= w < m[0] and chain & ws for w, ws in inplace):
                runs.append([])
            runs[-1].append(m)
        for run in runs:
            if len(run) < 2:
                continue
            k0, _, params, texels = run[0]
            t = program.slot("temp", (texels,), np.float32)
            before.setdefault(k0, []).append(
                Instr("gemm_operand", (s,), t, params, (texels,), np.float32)
            )
            for k, j, _, _ in run:
                packed.setdefault(k, []).append((j, t))
    if not packed:
        return
    out = []
    for k, i in enumerate(instrs):
        out += before.get(k, [])
        if k in packed:
            ins = list(i.ins)
            marks = []
            for j, t in sorted(packed[k]):
                marks.append((j, slots[ins[j]].shape))
                ins[j] = t
            i = Instr(i.kernel, tuple(ins), i.out, {**i.params, "packed": tuple(marks)}, i.shape,
                      i.dtype)  # fmt: skip
        out.append(i)
    program.instrs = out


def _written(program) -> set:
    """The slots in-place kernels write."""
    return {i.ins[k] for i in program.instrs if i.kernel in INPLACE
            for k in INPLACE[i.kernel] if k < len(i.ins)}  # fmt: skip


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
    for target, _root, build in ACCUMULATIONS:
        if target in kernels:
            _accumulate(program, build)
    for target, kernel, build in UPDATES:
        if target in kernels:
            _fold_updates(program, kernel, build)
    _dce(program)
    if getattr(backend, "transposed_operands", False):
        _fold_transposes(program)  # after DCE: a folded update's old GEMM no longer reads
        _dce(program)
    if "fused_elementwise" in kernels:
        # last: the trees left between the other targets (and GEMM epilogues where it can)
        fuse_elementwise(program, epilogues="matmul_epilogue" in kernels)
        _dce(program)
    if "gemm_operand" in kernels and hasattr(backend, "gemm_packs"):
        _share_operands(program, backend)  # last: on the GEMMs the other passes left
    return program
