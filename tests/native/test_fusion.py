"""Elementwise fusion (``wasmdl.fusion``, the rewrite's last pass where a backend has
``fused_elementwise``): what fuses, what must not, and that a rewritten program computes what
the original computes (both replayed by ``wasmdl.testing.trace.reference``, the plain numpy
kernels; the fused instruction's reference gathers each input through its view)."""

from types import SimpleNamespace

import numpy as np
import pytest

from wasmdl.fusion import MAX_LEAVES, reshape_strides
from wasmdl.program import Program
from wasmdl.rewrite import rewrite
from wasmdl.testing.program_cases import elementwise_program
from wasmdl.testing.trace import reference

F32 = np.float32
FUSING = SimpleNamespace(kernels={"fused_elementwise": None})  # a backend with only that target


def _check_same(p, arrays):
    want = reference(p, [a.copy() for a in arrays])
    q = rewrite(p.copy(), FUSING)
    got = reference(q, [a.copy() for a in arrays])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=0, equal_nan=True)
    return q


def _slice(p, x, starts, stops, steps, shape):
    return p.emit("slice", (x,), {"starts": starts, "stops": stops, "steps": steps}, shape, F32)


def test_lstm_cell_arithmetic_becomes_two_instructions_reading_the_gates_in_place():
    p = Program()
    z, c0 = p.slot("input", (4, 16), F32), p.slot("input", (4, 4), F32)
    gate = [_slice(p, z, (0, 4 * k), (4, 4 * k + 4), (1, 1), (4, 4)) for k in range(4)]
    i, f, o = (p.emit("sigmoid", (gate[k],), {}, (4, 4), F32) for k in (0, 1, 3))
    g = p.emit("tanh", (gate[2],), {}, (4, 4), F32)
    fc = p.emit("mul", (f, c0), {}, (4, 4), F32)
    ig = p.emit("mul", (i, g), {}, (4, 4), F32)
    c = p.emit("add", (fc, ig), {}, (4, 4), F32)
    tc = p.emit("tanh", (c,), {}, (4, 4), F32)
    h = p.emit("mul", (o, tc), {}, (4, 4), F32)
    p.externals, p.outputs = [z, c0], [h, c]
    rng = np.random.default_rng(0)
    q = _check_same(p, [rng.standard_normal(s).astype(F32) for s in ((4, 16), (4, 4))])
    assert [i.kernel for i in q.instrs] == ["fused_elementwise"] * 2  # c (read twice), then h
    cell, out = q.instrs
    assert cell.out == c and out.out == h
    assert set(cell.ins) == {z, c0} and set(out.ins) == {z, c}  # no slice copies left
    assert dict(zip(cell.ins, cell.params["views"], strict=True))[c0] == (0, (4, 1))


def test_views_compose_into_strides_and_broadcasts():
    """A reversed strided slice of a transpose, a broadcast bias, an expand and a reshape of a
    contiguous value all read their sources in place."""
    p = Program()
    x = p.slot("input", (6, 5), F32)
    b = p.slot("input", (3,), F32)
    r = p.slot("input", (1, 3), F32)
    t = p.emit("permute", (x,), {"axes": (1, 0)}, (5, 6), F32)
    s = _slice(p, t, (4, 5), (-1, 0), (-2, -2), (3, 3))  # rows 4, 2, 0; columns 5, 3, 1
    e = p.emit("expand", (r,), {"shape": (3, 3)}, (3, 3), F32)
    flat = p.emit("exp", (x,), {}, (6, 5), F32)
    rs = p.emit("reshape", (flat,), {"shape": (3, 10)}, (3, 10), F32)
    rs2 = _slice(p, rs, (0, 0), (3, 3), (1, 1), (3, 3))
    y = p.emit("add", (s, b), {}, (3, 3), F32)
    y = p.emit("mul", (y, e), {}, (3, 3), F32)
    y = p.emit("sub", (y, rs2), {}, (3, 3), F32)
    p.externals, p.outputs = [x, b, r], [y]
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(F32) for s in ((6, 5), (3,), (1, 3))]
    q = _check_same(p, arrays)
    kinds = [i.kernel for i in q.instrs]
    assert kinds == ["exp", "fused_elementwise"], kinds  # exp's output is read through views
    views = dict(zip(q.instrs[1].ins, q.instrs[1].params["views"], strict=True))
    assert views[x] == (5 * 5 + 4, (-2, -10))  # element (i, j) is x[5 - 2j, 4 - 2i]
    assert views[b] == (0, (0, 1)) and views[r] == (0, (0, 1))


def test_nothing_fuses_across_what_must_stay():
    """A value read twice or returned stays an array; int32 ops stay; a value computed from a
    parameter the step updates in place is not moved past the update."""
    p = Program()
    w = p.slot("param", (5,), F32)
    x = p.slot("input", (5,), F32)
    hp = p.slot("host", (1,), F32)
    i32 = p.slot("input", (5,), np.int32)
    a = p.emit("exp", (w,), {}, (5,), F32)  # reads w before the update
    twice = p.emit("neg", (x,), {}, (5,), F32)
    u = p.emit("add", (twice, twice), {}, (5,), F32)
    p.emit("sgd_update", (w, u, hp), {}, (5,), F32)  # w changes here
    y = p.emit("mul", (a, x), {}, (5,), F32)  # must see exp of the old w
    k = p.emit("add", (i32, i32), {}, (5,), np.int32)
    p.externals, p.outputs = [w, x, hp, i32], [y, k, twice, w]
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(5).astype(F32), rng.standard_normal(5).astype(F32),
              np.array([0.5], F32), np.arange(5, dtype=np.int32)]  # fmt: skip
    q = _check_same(p, arrays)
    kinds = [i.kernel for i in q.instrs]
    assert kinds == ["exp", "neg", "add", "sgd_update", "mul", "add"], kinds


def test_wide_trees_split_at_the_texture_limit():
    n = MAX_LEAVES + 4
    p = Program()
    xs = [p.slot("input", (3, 2), F32) for _ in range(n)]
    acc = p.emit("exp", (xs[0],), {}, (3, 2), F32)
    for x in xs[1:]:
        acc = p.emit("add", (acc, p.emit("abs", (x,), {}, (3, 2), F32)), {}, (3, 2), F32)
    p.externals, p.outputs = xs, [acc]
    rng = np.random.default_rng(3)
    q = _check_same(p, [rng.standard_normal((3, 2)).astype(F32) for _ in range(n)])
    assert all(len(set(i.ins)) <= MAX_LEAVES for i in q.instrs)
    assert len(q.instrs) < 3 * n - 1  # fused, in more than one piece


@pytest.mark.parametrize("seed", range(12))
def test_random_elementwise_programs_compute_the_same(seed):
    """Random DAGs of every fusable op over sliced, transposed and broadcast inputs, some
    values read twice or returned: the rewritten program gives the original's values."""
    p, arrays = elementwise_program(seed)
    with np.errstate(all="ignore"):
        q = _check_same(p, arrays)
    assert len(q.instrs) < len(p.instrs)
    assert any(i.kernel == "fused_elementwise" for i in q.instrs)


@pytest.mark.parametrize("seed", range(40))
def test_reshape_strides_agree_with_numpys_no_copy_reshape(seed):
    """For views made by slicing and transposing, ``reshape_strides`` succeeds exactly when
    numpy can reshape without a copy, and its strides read the same elements."""
    rng = np.random.default_rng(seed)
    base = np.arange(720, dtype=np.int64).reshape(4, 5, 6, 6)
    v = base[:, :: int(rng.integers(1, 3)), 1 : int(rng.integers(3, 7))]
    if rng.random() < 0.5:
        v = v.transpose(rng.permutation(4))
    if rng.random() < 0.5:
        v = v[None, ..., None]
    sizes = [d for d in v.shape]
    new = list(rng.permutation(sizes)) if rng.random() < 0.3 else sizes
    flat = [int(np.prod(new[:k])) for k in range(1, len(new))]
    cut = int(rng.integers(0, len(new)))
    new = (flat[cut - 1] if cut else 1,) + tuple(new[cut:]) if rng.random() < 0.5 else tuple(new)
    if int(np.prod(new)) != v.size:
        new = (v.size,)
    item = v.itemsize
    st = reshape_strides(v.shape, [s // item for s in v.strides], new)
    trial = v.view()
    try:
        trial.shape = new  # numpy refuses (AttributeError) where a copy would be needed
        no_copy = True
    except AttributeError:
        no_copy = False
    assert (st is not None) == no_copy, (v.shape, v.strides, new)
    if st is not None:
        off = (v.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // item
        idx = off + sum(np.indices(new)[d] * st[d] for d in range(len(new)))
        np.testing.assert_array_equal(base.reshape(-1)[idx], v.reshape(new))


EPILOGUES = SimpleNamespace(kernels={"fused_elementwise": None, "matmul_epilogue": None})


def _check_epilogue(p, arrays):
    want = reference(p, [a.copy() for a in arrays])
    q = rewrite(p.copy(), EPILOGUES)
    got = reference(q, [a.copy() for a in arrays])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)
    return [i.kernel for i in q.instrs], q


def test_a_tree_reading_a_gemm_once_becomes_its_epilogue():
    """relu_grad(g @ w.T, y) + bias (a Dense layer's backward shape, with a broadcast input):
    one ``matmul_epilogue`` over a, b and the tree's other inputs."""
    p = Program()
    g, w, y, b = (p.slot("input", s, F32) for s in ((4, 3), (5, 3), (4, 5), (5,)))
    wt = p.emit("permute", (w,), {"axes": (1, 0)}, (3, 5), F32)
    m = p.emit("matmul", (g, wt), {}, (4, 5), F32)
    r = p.emit("relu_grad", (m, y), {}, (4, 5), F32)
    out = p.emit("add", (r, b), {}, (4, 5), F32)
    p.externals, p.outputs = [g, w, y, b], [out]
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s).astype(F32) for s in ((4, 3), (5, 3), (4, 5), (5,))]
    kinds, q = _check_epilogue(p, arrays)
    assert kinds == ["permute", "matmul_epilogue"], kinds
    epi = q.instrs[-1]
    assert epi.ins[:2] == (g, wt) and set(epi.ins[2:]) == {y, b}
    assert epi.params["expr"][0] == "add" and ("product",) in epi.params["expr"][1]


def test_no_epilogue_for_a_product_read_twice_or_an_operand_updated_in_place():
    p = Program()
    a, x = p.slot("input", (4, 3), F32), p.slot("input", (3, 5), F32)
    w, hp = p.slot("param", (3, 5), F32), p.slot("host", (1,), F32)
    twice = p.emit("matmul", (a, x), {}, (4, 5), F32)
    t1 = p.emit("exp", (twice,), {}, (4, 5), F32)
    t2 = p.emit("neg", (twice,), {}, (4, 5), F32)
    late = p.emit("matmul", (a, w), {}, (4, 5), F32)  # reads w before its update
    p.emit("sgd_update", (w, x, hp), {}, (3, 5), F32)
    t3 = p.emit("tanh", (late,), {}, (4, 5), F32)  # after it: the GEMM must not move here
    p.externals, p.outputs = [a, x, w, hp], [t1, t2, t3, w]
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s).astype(F32) for s in ((4, 3), (3, 5), (3, 5))]
    kinds, _ = _check_epilogue(p, [*arrays, np.array([0.5], F32)])
    assert kinds == ["matmul", "exp", "neg", "matmul", "sgd_update", "tanh"], kinds


def test_a_weight_updated_after_the_tree_does_not_block_it():
    """A Dense backward: relu_grad(g @ w, y) read before the step's in-place update of w; the
    GEMM moves only as far as the tree's root, before the update."""
    p = Program()
    g, y, hp = p.slot("input", (4, 3), F32), p.slot("input", (4, 5), F32), p.slot("host", (1,), F32)
    w = p.slot("param", (3, 5), F32)
    m = p.emit("matmul", (g, w), {}, (4, 5), F32)
    r = p.emit("relu_grad", (m, y), {}, (4, 5), F32)
    p.emit("sgd_update", (w, w, hp), {}, (3, 5), F32)
    p.externals, p.outputs = [g, y, hp, w], [r, w]
    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal((4, 3)).astype(F32), rng.standard_normal((4, 5)).astype(F32),
              np.array([0.5], F32), rng.standard_normal((3, 5)).astype(F32)]  # fmt: skip
    kinds, _ = _check_epilogue(p, arrays)
    assert kinds == ["matmul_epilogue", "sgd_update"], kinds
