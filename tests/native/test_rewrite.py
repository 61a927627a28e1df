"""The rewrite tables (``wasmdl.rewrite``): what they fuse in real models' steps, that the fused
programs compute the same bits as eager execution, and where a fusion must be refused."""

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.backend import get_backend
from wasmdl.program import Program
from wasmdl.rewrite import rewrite
from wasmdl.testing.program_cases import shared_operands_program
from wasmdl.testing.trace import reference


def _train(build, x, y, jit, steps=5):
    wasmdl.manual_seed(0)
    m = build()
    opt = wasmdl.optim.SGD(m.parameters(), lr=0.1) if build is _mlp else "adam"
    m.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
              jit_compile=jit)  # fmt: skip
    losses = [m.train_on_batch(x, y) for _ in range(steps)]
    return m, losses, m.get_weights()


def _lstm():
    return wasmdl.Sequential([nn.LSTM(16, input_shape=(7, 5)), nn.Dense(3, activation="softmax")])


def _mlp():
    return wasmdl.Sequential([
        nn.Dense(16, activation="relu", input_shape=(6,)), nn.Dense(8, activation="relu"),
        nn.Dense(3, activation="softmax")])  # fmt: skip


def _cnn():
    return wasmdl.Sequential([
        nn.Conv2D(4, 3, activation="relu", input_shape=(9, 9, 2)), nn.MaxPooling2D(2),
        nn.Conv2D(6, 3), nn.Flatten(), nn.Dense(3, activation="softmax")])  # fmt: skip


@pytest.mark.parametrize(("build", "shape", "kernel", "at_least"),
                         [(_lstm, (8, 7, 5), "slice_grad_sum", 7),
                          (_cnn, (8, 9, 9, 2), "conv2d_bias", 2),
                          (_mlp, (8, 6), "sgd_matmul", 3),  # plain SGD: weights and biases
                          (_mlp, (8, 6), "sgd_colsum", 3)])  # fmt: skip
def test_fused_training_step_matches_eager_to_the_bit(build, shape, kernel, at_least):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=shape).astype(np.float32), rng.integers(0, 3, shape[0])
    m, losses, weights = _train(build, x, y, True)
    _, want_losses, want_weights = _train(build, x, y, False)
    program = m.train_function._last.replay.program
    assert sum(i.kernel == kernel for i in program.instrs) >= at_least
    assert losses == want_losses
    for got, want in zip(weights, want_weights, strict=True):
        np.testing.assert_array_equal(got, want)


def _slices_program(regions, tree, written=False):
    """``(program, arrays)``: slice VJPs of (2, 3) gradients into a (4, 6) array, summed by
    ``tree`` ("left": ((a + b) + c), "right": (a + (b + c))); ``written``: the first gradient
    is a parameter an optimizer update writes in place afterwards."""
    p = Program()
    gs = [p.slot("param" if written and k == 0 else "input", (2, 3), np.float32)
          for k in range(3)]  # fmt: skip
    parts = [p.emit("slice_grad", (g,), {"shape": (4, 6), "starts": s, "stops": e, "steps": (1, 1)},
                    (4, 6), np.float32) for g, (s, e) in zip(gs, regions, strict=True)]  # fmt: skip
    if tree == "left":
        out = p.emit("add", (p.emit("add", parts[:2], {}, (4, 6), np.float32), parts[2]), {},
                     (4, 6), np.float32)  # fmt: skip
    else:
        out = p.emit("add", (parts[0], p.emit("add", parts[1:], {}, (4, 6), np.float32)), {},
                     (4, 6), np.float32)  # fmt: skip
    hp = p.slot("input", (1,), np.float32)
    if written:
        p.emit("sgd_update", (gs[0], gs[1], hp), {}, (2, 3), np.float32)
    p.externals, p.outputs = [*gs, hp], [out]
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(2, 3)).astype(np.float32) for _ in gs]
    return p, [*arrays, np.array([0.1], np.float32)]


OVERLAP = [((0, 0), (2, 3)), ((1, 1), (3, 4)), ((1, 2), (3, 5))]
DISJOINT = [((0, 0), (2, 3)), ((2, 0), (4, 3)), ((0, 3), (2, 6))]


@pytest.mark.parametrize(("regions", "tree", "written", "fused"), [
    (OVERLAP, "left", False, True),  # autograd's acc = acc + g: same order, same bits
    (OVERLAP, "right", False, False),  # another order of overlapping sums: refused
    (DISJOINT, "right", False, True),  # windows apart: any order gives the same bits
    (DISJOINT, "left", True, False),  # a leaf written in place before the sum: refused
])  # fmt: skip
def test_slice_sums_fused_only_where_exact(regions, tree, written, fused):
    p, arrays = _slices_program(regions, tree, written)
    want = reference(p, [a.copy() for a in arrays])
    rewrite(p, get_backend("numpy"))
    kernels = [i.kernel for i in p.instrs if i.kernel != "sgd_update"]
    # fused: the whole tree is one instruction; refused: the outer add stays (an exact
    # subtree, b + c alone, may still be fused)
    assert (kernels == ["slice_grad_sum"]) is fused
    assert ("add" in kernels) is not fused
    got = reference(p, [a.copy() for a in arrays])
    np.testing.assert_array_equal(got[0], want[0])


def _sgd_program(weight_tied):
    """``(program, arrays)``: plain SGD on W1 and W2 with gradients ``x.T @ g`` and ``x.T @ x``
    (``weight_tied``: ``W1.T @ W1`` instead, reading W1, which is updated in place before)."""
    p = Program()
    x, g, w1, w2, hp = (p.slot(k, s, np.float32) for k, s in [
        ("input", (4, 3)), ("input", (4, 3)), ("param", (3, 3)), ("param", (3, 3)),
        ("input", (1,))])  # fmt: skip
    t = p.emit("permute", (x,), {"axes": (1, 0)}, (3, 4), np.float32)
    d1 = p.emit("matmul", (t, g), {}, (3, 3), np.float32)
    w1t = p.emit("permute", (w1,), {"axes": (1, 0)}, (3, 3), np.float32)
    d2 = p.emit("matmul", (w1t, w1t) if weight_tied else (t, x), {}, (3, 3), np.float32)
    p.emit("sgd_update", (w1, d1, hp), {}, (3, 3), np.float32)
    p.emit("sgd_update", (w2, d2, hp), {}, (3, 3), np.float32)
    p.externals, p.outputs = [x, g, w1, w2, hp], [w1, w2]
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=p.slots[s].shape).astype(np.float32) for s in p.externals[:4]]
    return p, [*arrays, np.array([0.1], np.float32)]


@pytest.mark.parametrize("weight_tied", [False, True])
def test_sgd_folded_into_its_gradient_gemm_only_when_operands_hold(weight_tied):
    p, arrays = _sgd_program(weight_tied)
    want = reference(p, [a.copy() for a in arrays])
    rewrite(p, get_backend("numpy"))
    kernels = [i.kernel for i in p.instrs]
    # W1's update always folds; W2's reads W1 (updated before it) when tied: not folded
    assert kernels.count("sgd_matmul") == (1 if weight_tied else 2)
    got = reference(p, [a.copy() for a in arrays])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


class _Strided:
    """A backend whose GEMM kernels read transposed operands in place (as webgl's)."""

    transposed_operands = True

    def __init__(self):
        self.kernels = dict(get_backend("numpy").kernels)


def _transposes_program(written_between):
    f32 = np.float32
    p = Program()
    x, w, g, hp = (p.slot("input", s, f32) for s in ((5, 3), (5, 4), (5, 4), (2,)))
    xt = p.emit("permute", (x,), {"axes": (1, 0)}, (3, 5), f32)
    wt = p.emit("permute", (w,), {"axes": (1, 0)}, (4, 5), f32)
    if written_between:  # x updated in place after its transpose was taken: the copy must stay
        p.emit("sgd_update", (x, x, hp), {}, (5, 3), f32)
    m = p.emit("matmul", (xt, g), {}, (3, 4), f32)
    n = p.emit("matmul", (g, wt), {}, (5, 5), f32)
    p.externals, p.outputs = [x, w, g, hp], [m, n]
    return p, (x, w, g)


@pytest.mark.parametrize("written_between", [False, True])
def test_transposes_fold_into_gemm_flags_unless_written_between(written_between):
    p, (x, w, g) = _transposes_program(written_between)
    prog = rewrite(p, _Strided())
    kinds = [i.kernel for i in prog.instrs]
    mm = [i for i in prog.instrs if i.kernel == "matmul"]
    assert mm[1].params["transpose"] == (False, True) and mm[1].ins == (g, w)
    if written_between:
        assert kinds.count("permute") == 1 and "transpose" not in mm[0].params
    else:
        assert "permute" not in kinds
        assert mm[0].params["transpose"] == (True, False) and mm[0].ins == (x, g)
    numpy_prog = rewrite(
        _transposes_program(written_between)[0], get_backend("numpy")
    )  # no strided operands: nothing folds
    assert all("transpose" not in i.params for i in numpy_prog.instrs)


def test_a_transpose_feeding_a_folded_sgd_update_reads_in_place():
    """x.T @ dy feeding plain SGD becomes sgd_matmul, and then its x.T a transpose flag (the
    GEMM the update absorbed is dead by then, so the transpose has one reader)."""
    f32 = np.float32
    p = Program()
    x, dy, w, hp = (p.slot("input", s, f32) for s in ((5, 3), (5, 4), (3, 4), (2,)))
    xt = p.emit("permute", (x,), {"axes": (1, 0)}, (3, 5), f32)
    g = p.emit("matmul", (xt, dy), {}, (3, 4), f32)
    p.emit("sgd_update", (w, g, hp), {}, (3, 4), f32)
    p.externals, p.outputs = [x, dy, w, hp], [w]
    prog = rewrite(p, _Strided())
    assert [(i.kernel, i.ins, i.params.get("transpose")) for i in prog.instrs] == [
        ("sgd_matmul", (w, x, dy, hp), (True, False))
    ]


class _Packing:
    """A backend whose GEMMs pack their operands first (webgl's ``gemm_packs``)."""

    transposed_operands = True
    matmul_variant = "block"

    def __init__(self):
        from wasmdl.backend import webgl_kernels

        self.kernels = {**get_backend("numpy").kernels, "gemm_operand": None}
        self.gemm_packs = lambda *a: webgl_kernels.gemm_packs(self, *a)


def test_gemm_operands_read_alike_are_packed_once_per_value():
    """The weight's three products before its update share one pack, its two transposed
    products another, the two after the update a third (the write starts a new pack); each
    input read as A by two products (h0, g) one more. Backends without ``gemm_packs`` keep
    the program as it was."""
    prog = rewrite(shared_operands_program(), _Packing())
    packs = [i for i in prog.instrs if i.kernel == "gemm_operand"]
    assert len(packs) == 5, prog.instrs
    w, w2, _, h0, g = 0, 1, 2, 3, 8
    readers = {}
    for i in prog.instrs:
        for j, shape in i.params.get("packed", ()):
            readers.setdefault(i.ins[j], []).append((i.kernel, j, shape))
    by_source = sorted((p.ins[0], len(readers[p.out])) for p in packs)
    assert by_source == [(w, 2), (w, 2), (w, 3), (h0, 2), (g, 2)], by_source
    order = [i.kernel for i in prog.instrs]
    update = order.index("sgd_update")
    pack_at = [k for k, name in enumerate(order) if name == "gemm_operand"]
    assert sum(k > update for k in pack_at) == 1  # the weight's new value packed after its write
    for p in packs:  # each pack comes before every reader of it
        first = min(k for k, i in enumerate(prog.instrs) if p.out in i.ins)
        assert prog.instrs.index(p) < first
    shapes = {shape for rs in readers.values() for _, _, shape in rs}
    assert shapes == {(24, 32), (8, 24), (8, 32)}
    assert w2 not in {p.ins[0] for p in packs}  # read once: packed by its product
    numpy_prog = rewrite(shared_operands_program(), get_backend("numpy"))
    assert "gemm_operand" not in [i.kernel for i in numpy_prog.instrs]
    single = rewrite(shared_operands_program(1, 1), _Packing())  # one reader per value
    assert sum(i.kernel == "gemm_operand" for i in single.instrs) == 3  # w.T, h0 and g
