"""Elementwise fusion, a rewrite pass over a captured ``Program`` (``wasmdl.rewrite`` runs it
where the backend has the ``fused_elementwise`` kernel).

A tree of float32 elementwise instructions, each internal value read exactly once and by the
next one up, of the root's shape, becomes one ``fused_elementwise`` instruction at the root's
place: ``params["expr"]`` is the tree as nested tuples (``("leaf", k)`` reads input ``k``;
``(kernel, *children)`` applies an op of ``FUSABLE``), ``params["views"]`` gives each
input's ``(offset, strides)`` in elements against the root's shape ``params["shape"]``. A leaf
produced by view instructions (``slice``, ``permute``, ``expand``, a ``reshape`` of a
contiguous view) reads the views' source through composed strides, so the copies the views
made are dropped by DCE when nothing else reads them. One draw replaces a chain such as an
LSTM cell's gate arithmetic or an activation's gradient, and no intermediate array is
written.

Nothing moves across an in-place write: a value is inlined, a view folded or a GEMM moved into
its epilogue only when no instruction between its place and the root's writes in place what it
reads (or what that views).

>>> import numpy as np
>>> from wasmdl.program import Program
>>> p = Program()
>>> z, c = p.slot("input", (4, 8), np.float32), p.slot("input", (4, 2), np.float32)
>>> g = p.emit("slice", (z,), {"starts": (0, 2), "stops": (4, 4), "steps": (1, 1)}, (4, 2),
...            np.float32)
>>> s = p.emit("sigmoid", (g,), {}, (4, 2), np.float32)
>>> y = p.emit("mul", (s, c), {}, (4, 2), np.float32)
>>> p.externals, p.outputs = [z, c], [y]
>>> fuse_elementwise(p).instrs  # the slice, read by nothing now, goes at the rewrite's DCE
[Instr(slice, (0,) -> 2, (4, 2)), Instr(fused_elementwise, (0, 1) -> 4, (4, 2))]
>>> p.instrs[1].params["expr"], p.instrs[1].params["views"]
(('mul', ('sigmoid', ('leaf', 0)), ('leaf', 1)), ((2, (8, 1)), (0, (2, 1))))
"""

from __future__ import annotations

import numpy as np

from .program import INPLACE, Instr, contiguous_strides, view_chain

# float32 elementwise kernels the fused kernel evaluates (their arity)
FUSABLE = {
    **dict.fromkeys(
        ("neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "erf", "relu"), 1
    ),  # fmt: skip
    **dict.fromkeys(("add", "sub", "mul", "div", "pow", "maximum", "minimum", "relu_grad"), 2),
}
VIEW_KERNELS = ("slice", "permute", "expand", "reshape")
MAX_LEAVES = 7  # textures one draw binds (webgl: t0 .. t6)
MAX_WORDS = 64  # kernel parameter words: 1 + nd + leaves * (1 + nd)
MAX_NODES = 48  # ops in one fused expression


def _apply_view(instr, off, strides, shape):
    """``(off, strides)`` of ``instr``'s output over its input's storage, or None."""
    k, p = instr.kernel, instr.params
    if k == "slice":
        off += sum(b * s for b, s in zip(p["starts"], strides, strict=True))
        return off, [s * t for s, t in zip(strides, p["steps"], strict=True)]
    if k == "permute":
        return off, [strides[a] for a in p["axes"]]
    if k == "expand":
        return off, _broadcast(strides, shape, instr.shape)
    if k == "reshape":
        st = reshape_strides(shape, strides, instr.shape)
        return None if st is None else (off, st)
    return None


def reshape_strides(shape, strides, new_shape):
    """Strides reading a view of ``shape``/``strides`` as ``new_shape`` without a copy (as
    numpy's no-copy reshape: each group of old dimensions that becomes a group of new ones
    must be contiguous within itself), or None.

    >>> reshape_strides((64, 1, 256), (7168, 256, 1), (64, 256))
    [7168, 1]
    >>> reshape_strides((4, 6), (1, 4), (24,)) is None  # a transpose does not flatten
    True
    """
    old = [(n, st) for n, st in zip(shape, strides, strict=True) if n != 1]
    new = [n for n in new_shape if n != 1]
    if 0 in shape:
        return None
    out, oi, ni = [], 0, 0
    while oi < len(old) and ni < len(new):
        oj, nj, op, nq = oi + 1, ni + 1, old[oi][0], new[ni]
        while op != nq:
            if nq < op:
                nq *= new[nj]
                nj += 1
            else:
                op *= old[oj][0]
                oj += 1
        if any(old[k][1] != old[k + 1][0] * old[k + 1][1] for k in range(oi, oj - 1)):
            return None
        group = [0] * (nj - ni)
        group[-1] = old[oj - 1][1]
        for k in range(nj - ni - 1, 0, -1):
            group[k - 1] = group[k] * new[ni + k]
        out += group
        oi, ni = oj, nj
    it = iter(out)
    return [0 if n == 1 else next(it) for n in new_shape]


def _broadcast(strides, shape, out_shape):
    lead = len(out_shape) - len(shape)
    return [0] * lead + [
        0 if d == 1 and o != 1 else s
        for d, o, s in zip(shape, out_shape[lead:], strides, strict=True)
    ]


class _Fusion:
    def __init__(self, program):
        self.program = program
        self.producer = {i.out: i for i in program.instrs}
        self.uses: dict = {}
        for i in program.instrs:
            for s in i.ins:
                self.uses[s] = self.uses.get(s, 0) + 1
        self.outputs = set(program.outputs)
        self.pos = {id(i): k for k, i in enumerate(program.instrs)}
        self.writes = [(k, {i.ins[j] for j in INPLACE[i.kernel] if j < len(i.ins)})
                       for k, i in enumerate(program.instrs) if i.kernel in INPLACE]  # fmt: skip
        self.root_k = len(program.instrs)

    def still(self, slots, start, end) -> bool:
        """Whether no instruction strictly between positions ``start`` and ``end`` writes in
        place any of ``slots`` or what they view (a view may alias its source)."""
        seen = {v for s in slots for v in view_chain(s, self.producer, VIEW_KERNELS)}
        return not any(start < k < end and ws & seen for k, ws in self.writes)

    def fusable(self, i) -> bool:
        slots = self.program.slots
        return (
            i.kernel in FUSABLE
            and len(i.ins) == FUSABLE[i.kernel]
            and i.dtype == np.float32
            and all(slots[s].dtype == np.float32 for s in i.ins)
        )

    def leaf(self, s, shape):
        """``(source slot, offset, strides)`` reading slot ``s`` broadcast to ``shape``: through
        the view instructions that made it, back to a slot not written in place between the
        view and the root (``root_k``)."""
        slots = self.program.slots
        chain, src = [], s
        while src in self.producer and self.producer[src].kernel in VIEW_KERNELS:
            v = self.producer[src]
            if not self.still([v.ins[0]], self.pos[id(v)], self.root_k) or (
                slots[v.ins[0]].dtype != np.float32
            ):
                break
            chain.append(v)
            src = v.ins[0]
        off, st, cur = 0, contiguous_strides(slots[src].shape), src
        for v in reversed(chain):  # from the source up
            r = _apply_view(v, off, st, slots[cur].shape)
            if r is None:  # strides cannot express it: read this view's own output
                src, r = v.out, (0, contiguous_strides(v.shape))
            (off, st), cur = r, v.out
        return src, off, _broadcast(st, slots[s].shape, shape)

    def build(self, root):
        """The tree under ``root``: ``(expr, leaves, absorbed)`` within the limits."""
        shape = root.shape
        leaves: list = []
        absorbed: list = []
        self.root_k = self.pos[id(root)]

        def words(n_leaves):
            return 1 + len(shape) + n_leaves * (1 + len(shape))

        def add_leaf(s):
            key = self.leaf(s, shape)
            key = (key[0], key[1], tuple(key[2]))
            if key not in leaves:
                leaves.append(key)
            return ("leaf", leaves.index(key))

        def grow(i):
            kids = []
            for s in i.ins:
                p = self.producer.get(s)
                if (
                    p is not None
                    and self.fusable(p)
                    and self.uses.get(s) == 1
                    and s not in self.outputs
                    and p.shape == shape
                    and self.still(p.ins, self.pos[id(p)], self.root_k)
                    and len(absorbed) < MAX_NODES
                ):
                    mark = (len(leaves), len(absorbed))
                    absorbed.append(p)
                    sub = grow(p)
                    if len(leaves) <= MAX_LEAVES and words(len(leaves)) <= MAX_WORDS:
                        kids.append(sub)
                        continue
                    del leaves[mark[0] :], absorbed[mark[1] :]  # too wide: read it instead
                kids.append(add_leaf(s))
            return (i.kernel, *kids)

        expr = grow(root)
        if len(leaves) > MAX_LEAVES or words(len(leaves)) > MAX_WORDS:
            return None
        return expr, leaves, absorbed


def _epilogue_source(f, root, leaves):
    """The leaf (its index) that a 2-D float32 ``matmul`` read only by this tree produced,
    read contiguously at the tree's shape, its operands not written in place before the root:
    the tree can run as that GEMM's epilogue. Or None."""
    for k, (src, off, st) in enumerate(leaves):
        mm = f.producer.get(src)
        if (
            mm is not None
            and mm.kernel == "matmul"
            and len(mm.shape) == 2
            and mm.shape == root.shape
            and mm.dtype == np.float32
            and f.uses.get(src) == 1
            and src not in f.outputs
            and (off, list(st)) == (0, contiguous_strides(root.shape))
            and f.still(mm.ins, f.pos[id(mm)], f.pos[id(root)])
        ):
            return k, mm
    return None


def _renumber(tree, k):
    """``tree`` with leaf ``k`` as ``("product",)`` and the later leaves one lower."""
    if tree[0] == "leaf":
        j = tree[1]
        return ("product",) if j == k else ("leaf", j - (j > k))
    return (tree[0], *(_renumber(t, k) for t in tree[1:]))


def fuse_elementwise(program, epilogues=False):
    """Replace each maximal elementwise tree (see the module docstring) by one
    ``fused_elementwise`` instruction; the absorbed instructions are dropped. A lone op whose
    inputs are plain slots stays as it is. With ``epilogues`` (the backend has
    ``matmul_epilogue``), a tree reading a 2-D GEMM's result that nothing else reads becomes
    that GEMM's epilogue instead: one ``matmul_epilogue(a, b, *leaves)`` whose ``expr`` reads
    the product as ``("product",)`` (the GEMM's unpack pass evaluates it: a Dense layer's
    activation gradient, a recurrent cell's ``x W + h U``, a gradient accumulation)."""
    f = _Fusion(program)
    gone: set = set()
    made = {}
    for i in reversed(program.instrs):
        if id(i) in gone or not f.fusable(i):
            continue
        r = f.build(i)
        if r is None:
            continue
        expr, leaves, absorbed = r
        epi = _epilogue_source(f, i, leaves) if epilogues else None
        folded_view = any(src not in i.ins for src, _, _ in leaves)
        if not absorbed and not folded_view and epi is None:
            continue
        gone.update(id(a) for a in absorbed)
        if epi is not None:
            k, mm = epi
            gone.add(id(mm))
            rest = leaves[:k] + leaves[k + 1 :]
            params = {
                "expr": _renumber(expr, k),
                "views": tuple((off, st) for _, off, st in rest),
                "shape": i.shape,
                "transpose": tuple(mm.params.get("transpose", (False, False))),
            }
            ins = (*mm.ins, *(s for s, _, _ in rest))
            made[id(i)] = Instr("matmul_epilogue", ins, i.out, params, i.shape, i.dtype)
            continue
        views = tuple((off, st) for _, off, st in leaves)
        params = {"expr": expr, "views": views, "shape": i.shape}
        made[id(i)] = Instr("fused_elementwise", tuple(s for s, _, _ in leaves), i.out, params,
                            i.shape, i.dtype)  # fmt: skip
    program.instrs = [made.get(id(i), i) for i in program.instrs if id(i) not in gone]
    return program
