"""One-instruction programs for every kernel of the WASM opcode stream, checked against the
plain numpy kernels (``trace.REFERENCE``): broadcasting, odd sizes, negative strides, int32
and bool dtypes. ``check_ops(compile)`` runs them all and returns one line per failure.

A row is ``(kernel, inputs, params)``; an input is ``(shape, kind)`` with kind ``f`` (normal
floats), ``p`` (positive floats), ``w`` (wide floats), ``i`` (int32 in [-5, 5]), ``l`` (labels
in [0, 4)), ``b`` (bool), ``s`` (softmax rows), ``h`` (optimizer hp [lr, step]), or an array.

>>> len(CASES) > 80, check_ops(None, names=["add"])
(True, [])
"""

from __future__ import annotations

import numpy as np

from ..program import INPLACE, Program
from .trace import REFERENCE

CONV = dict(strides=(2, 1), padding=((1, 1), (0, 2)), dilation=(1, 1), groups=1)
DILATED = dict(strides=(1, 1), padding=((2, 2), (2, 2)), dilation=(2, 2), groups=1)
POOL = dict(pool=(2, 3), strides=(2, 2), padding=((0, 1), (1, 1)), dilation=(1, 1))
SGD = dict(momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=True)
ADAM = dict(beta1=0.9, beta2=0.999, eps=1e-8)

CASES = [
    *[(k, [((7, 13), "f")], {}) for k in ("neg", "abs", "exp", "tanh", "sigmoid", "relu")],
    *[(k, [((3, 11), "p")], {}) for k in ("log", "sqrt")],
    *[(k, [((5, 9), "w")], {}) for k in ("sin", "cos", "erf")],
    *[(k, [((9,), "i")], {}) for k in ("neg", "abs")],
    *[(k, [((5, 1, 7), "f"), ((3, 7), "f")], {})
      for k in ("add", "sub", "mul", "div", "maximum", "minimum")],
    *[(k, [((4, 6), "f"), ((), "f")], {}) for k in ("add", "mul", "sub")],
    *[(k, [((), "f"), ((2, 13), "f")], {}) for k in ("div", "maximum")],
    *[(k, [((7, 6), "f"), ((6,), "f")], {}) for k in ("add", "maximum")],  # short rows, a tail
    ("mul", [((1,), "f"), ((1,), "f")], {}),  # one-element rows: not reductions
    ("add", [((), "f"), ((), "f")], {}),
    ("maximum", [((1, 1), "i"), ((1,), "i")], {}),
    ("neg", [((), "f")], {}),
    ("sum", [((1, 1), "f")], {"axis": (0,), "keepdims": False}),
    ("lt", [((1,), "f"), ((), "f")], {}),
    ("pow", [((3, 5), "p"), ((5,), "f")], {}),
    ("pow", [((3, 5), "f"), np.array(2.0, np.float32)], {}),
    ("pow", [((3, 5), "f"), np.array(-3.0, np.float32)], {}),
    ("relu_grad", [((6, 9), "f"), ((6, 9), "f")], {}),
    *[(k, [((3, 5), "i"), ((5,), "i")], {}) for k in ("add", "sub", "mul", "maximum", "minimum")],
    *[(k, [((4, 1), "b"), ((3,), "b")], {}) for k in ("add", "mul", "maximum", "minimum")],
    *[(k, [((4, 1), t), ((3,), t)], {}) for k in ("eq", "ne", "lt", "le", "gt", "ge")
      for t in "fib"],
    ("where", [((4, 1), "b"), ((4, 5), "f"), ((5,), "f")], {}),
    ("where", [((6,), "b"), ((), "i"), ((6,), "i")], {}),
    ("where", [((2, 3), "b"), ((2, 3), "b"), ((3,), "b")], {}),
    *[("cast", [((5, 3), t)], {"dtype": np.dtype(d)}) for t in "fib"
      for d in (np.float32, np.int32, np.bool_)],
    *[(k, [((3, 4, 5), "f")], {"axis": a, "keepdims": kd}) for k in ("sum", "max", "min")
      for a, kd in (((0,), False), ((2,), True), ((0, 2), False), ((0, 1, 2), False),
                    ((1,), True))],
    ("sum", [((6, 7), "i")], {"axis": (1,), "keepdims": False}),
    ("max", [((6, 7), "i")], {"axis": (0,), "keepdims": False}),
    *[("argmax", [((4, 7), t)], {"axis": a, "keepdims": False}) for t in "fi"
      for a in (0, 1, None)],
    ("matmul", [((5, 7), "f"), ((7, 3), "f")], {}),
    ("matmul", [((1, 1), "f"), ((1, 1), "f")], {}),
    ("matmul", [((2, 5, 7), "f"), ((7, 9), "f")], {}),
    ("matmul", [((2, 5, 7), "f"), ((2, 7, 3), "f")], {}),
    ("matmul", [((3, 1, 4, 5), "f"), ((2, 5, 6), "f")], {}),
    ("matmul", [((4, 5), "f"), ((3, 5, 2), "f")], {}),
    ("matmul", [((3, 37), "f"), ((37, 21), "f")], {}),  # fewer than 4 rows: the GEMV
    ("matmul", [((2, 1, 5), "f"), ((2, 5, 7), "f")], {}),
    ("permute", [((2, 3, 4), "f")], {"axes": (2, 0, 1)}),
    ("permute", [((3, 5), "b")], {"axes": (1, 0)}),
    ("expand", [((3, 1), "i")], {"shape": (2, 3, 4)}),
    ("slice", [((5, 6), "f")], {"starts": (1, 0), "stops": (5, 6), "steps": (2, 3)}),
    ("slice", [((5, 6), "i")], {"starts": (4, 5), "stops": (-1, -1), "steps": (-1, -2)}),
    ("slice_grad", [((2, 2), "f")],
     {"shape": (5, 6), "starts": (1, 0), "stops": (5, 6), "steps": (2, 3)}),
    ("concat", [((2, 3), "f"), ((2, 4), "f"), ((2, 1), "f")], {"axis": 1}),
    ("concat", [((2, 3), "i"), ((1, 3), "i")], {"axis": 0}),
    ("pad", [((3, 4), "f")], {"pads": ((1, 2), (0, 3)), "value": 0.5}),
    ("pad", [((3,), "i")], {"pads": ((2, 1),), "value": 7}),
    ("gather", [((5, 4), "f"), np.array([4, 0, 4], np.int32)], {"axis": 0}),
    ("gather", [((3, 5, 2), "b"), np.array([[1, -1, 0], [2, 2, 3]], np.int32)], {"axis": 1}),
    ("scatter_add", [((3, 4), "f"), np.array([1, 3, 1], np.int32)], {"shape": (5, 4), "axis": 0}),
    ("conv2d", [((2, 7, 6, 3), "f"), ((3, 2, 3, 5), "f")], CONV),
    ("conv2d_grad_input", [((2, 4, 7, 5), "f"), ((3, 2, 3, 5), "f")],
     {"input_shape": (2, 7, 6, 3), **CONV}),
    ("conv2d_grad_weight", [((2, 7, 6, 3), "f"), ((2, 4, 7, 5), "f")],
     {"weight_shape": (3, 2, 3, 5), **CONV}),
    ("conv2d", [((2, 6, 5, 4), "f"), ((3, 3, 1, 8), "f")], {**CONV, "groups": 4}),  # depthwise x2
    ("conv2d", [((2, 6, 5, 4), "f"), ((3, 3, 2, 6), "f")], {**CONV, "groups": 2}),  # 2 per group
    ("conv2d_grad_input", [((2, 3, 5, 6), "f"), ((3, 3, 2, 6), "f")],
     {**CONV, "groups": 2, "input_shape": (2, 6, 5, 4)}),
    ("conv2d_grad_weight", [((2, 6, 5, 4), "f"), ((2, 3, 5, 6), "f")],
     {**CONV, "groups": 2, "weight_shape": (3, 3, 2, 6)}),
    # depthwise (groups = C = O: conv.c's direct kernel), 6 channels (a lane tail), and dilated
    ("conv2d", [((2, 6, 5, 6), "f"), ((3, 3, 1, 6), "f")], {**CONV, "groups": 6}),
    ("conv2d_grad_input", [((2, 3, 5, 6), "f"), ((3, 3, 1, 6), "f")],
     {**CONV, "groups": 6, "input_shape": (2, 6, 5, 6)}),
    ("conv2d_grad_weight", [((2, 6, 5, 6), "f"), ((2, 3, 5, 6), "f")],
     {**CONV, "groups": 6, "weight_shape": (3, 3, 1, 6)}),
    ("conv2d", [((1, 7, 7, 8), "f"), ((3, 3, 1, 8), "f")], {**DILATED, "groups": 8}),
    ("conv2d_grad_input", [((1, 7, 7, 8), "f"), ((3, 3, 1, 8), "f")],
     {**DILATED, "groups": 8, "input_shape": (1, 7, 7, 8)}),
    ("conv2d_grad_weight", [((1, 7, 7, 8), "f"), ((1, 7, 7, 8), "f")],
     {**DILATED, "groups": 8, "weight_shape": (3, 3, 1, 8)}),
    ("maxpool2d", [((2, 7, 6, 5), "f")], POOL),
    ("avgpool2d", [((2, 7, 6, 5), "f")], POOL),
    ("maxpool2d_grad", [((2, 7, 6, 5), "f"), ((2, 4, 3, 5), "f")], POOL),
    ("avgpool2d_grad", [((2, 7, 6, 5), "f"), ((2, 4, 3, 5), "f")], POOL),
    ("softmax", [((5, 7), "f")], {}),
    ("softmax_grad", [((3, 2, 9), "f"), ((3, 2, 9), "s")], {}),
    ("softmax_cross_entropy", [((6, 4), "f"), ((6,), "l")], {}),
    ("softmax_cross_entropy", [((6, 4), "f"), ((6, 4), "s")], {}),
    ("softmax_cross_entropy_grad", [((6, 4), "f"), ((6,), "l"), ((), "p")], {}),
    ("softmax_cross_entropy_grad", [((6, 4), "f"), ((6, 4), "s"), ((), "p")], {}),
    ("prob_cross_entropy", [((6, 4), "s"), ((6,), "l")], {"eps": 1e-7}),
    ("prob_cross_entropy_grad", [((6, 4), "s"), ((6, 4), "s"), ((), "p")], {"eps": 1e-7}),
    ("dense", [((5, 7), "f"), ((7, 3), "f"), ((3,), "f")], {"activation": "relu"}),
    ("dense", [((1, 9), "f"), ((9, 13), "f"), ((13,), "f")], {"activation": "linear"}),
    ("dense", [((2, 19), "f"), ((19, 6), "f"), ((6,), "f")], {"activation": "relu"}),
    ("conv2d_bias", [((2, 9, 8, 3), "f"), ((3, 2, 3, 5), "f"), ((5,), "f")],
     {**CONV, "activation": "relu"}),
    ("conv2d_bias", [((1, 7, 7, 8), "f"), ((3, 3, 1, 8), "f"), ((8,), "f")],
     {**DILATED, "groups": 8, "activation": "linear"}),
    ("slice_grad_sum", [((4, 3), "f"), ((4, 3), "f"), ((4, 3), "f")],  # LSTM gates: columns
     {"shape": (4, 9), "base": False, "regions": (((0, 0), (4, 3), (1, 1)),
                                                 ((0, 3), (4, 6), (1, 1)),
                                                 ((0, 6), (4, 9), (1, 1)))}),
    ("slice_grad_sum", [((3, 2, 5), "f"), ((3, 1, 5), "f"), ((3, 1, 5), "f")],  # overlap
     {"shape": (3, 2, 5), "base": True, "regions": (((0, 1, 0), (3, 2, 5), (1, 1, 1)),
                                                    ((0, 1, 0), (3, 2, 5), (1, 1, 1)))}),
    ("slice_grad_sum", [((2, 3), "f"), ((3, 2), "f")],  # strided and reversed windows
     {"shape": (5, 6), "base": False, "regions": (((0, 0), (4, 5), (2, 2)),
                                                 ((4, 5), (-1, -1), (-2, -3)))}),
    ("slice_grad_sum", [((2, 14, 5), "f")] + [((2, 1, 5), "f")] * 14,  # 14 time steps
     {"shape": (2, 14, 5), "base": True,
      "regions": tuple(((0, t, 0), (2, t + 1, 5), (1, 1, 1)) for t in range(14))}),
    ("slice_grad_sum", [((3, 4), "f")] + [((1, 1), "f")] * 8,  # disjoint, scattered: groups'
     {"shape": (3, 4), "base": True,  # bounding boxes overlap
      "regions": tuple(((r, c), (r + 1, c + 1), (1, 1)) for r, c in
                       ((0, 0), (2, 3), (1, 1), (0, 3), (2, 0), (1, 2), (0, 1), (2, 2)))}),
    ("slice_grad_sum", [((2, 2, 2, 3, 1), "f"), ((2, 2, 2, 2, 2), "f")] * 2,  # rank 5, strided
     {"shape": (2, 3, 4, 3, 2), "base": False,
      "regions": (((0, 0, 0, 0, 0), (2, 3, 4, 3, 2), (1, 2, 3, 1, 2)),
                  ((1, 2, 3, 2, 1), (-1, -1, -1, -1, -1), (-1, -2, -3, -2, -1))) * 2}),
    ("sgd_matmul", [((5, 3), "f"), ((5, 4), "f"), ((4, 3), "f"), ((1,), "h")], {}),
    ("sgd_matmul", [((2, 6), "f"), ((2, 9), "f"), ((9, 6), "f"), ((1,), "h")],
     {"maximize": True}),
    ("sgd_colsum", [((7,), "f"), ((5, 7), "f"), ((1,), "h")], {}),
    ("sgd_colsum", [((9,), "f"), ((64, 9), "f"), ((1,), "h")], {"maximize": True}),
    ("sgd_update", [((11,), "f"), ((11,), "f"), ((1,), "h")], {}),
    ("sgd_update", [((11,), "f"), ((11,), "f"), ((1,), "h"), ((11,), "f")],
     {**SGD, "first": False}),
    ("sgd_update", [((3, 5), "f"), ((3, 5), "f"), ((1,), "h"), ((3, 5), "f")],
     {"momentum": 0.5, "first": True, "maximize": True}),
    ("adam_update", [((13,), "f"), ((13,), "f"), ((2,), "h"), ((13,), "f"), ((13,), "p")], ADAM),
    ("adam_update", [((2, 9), "f"), ((2, 9), "f"), ((2,), "h"), ((2, 9), "f"), ((2, 9), "p")],
     {**ADAM, "weight_decay": 0.1, "decoupled": True, "maximize": True}),
    ("adam_update", [((7,), "f"), ((7,), "f"), ((2,), "h"), ((7,), "f"), ((7,), "p")],
     {**ADAM, "weight_decay": 0.05}),
]  # fmt: skip


def _array(rng, spec):
    if isinstance(spec, np.ndarray):
        return spec.copy()
    shape, kind = spec
    if kind == "w":  # wide: |x| up to ~40, edges of erf's ranges and exact octants
        x = (rng.standard_normal(shape) * 10).astype(np.float32)
        x.reshape(-1)[:8] = [0.0, 0.5, -0.5, 3.0, -12.0, 1e-4, np.pi / 4, -np.pi]
        return x
    if kind in "fp":
        x = rng.standard_normal(shape).astype(np.float32)
        return np.abs(x) + np.float32(0.1) if kind == "p" else x
    if kind == "i":
        return rng.integers(-5, 6, shape).astype(np.int32)
    if kind == "l":
        return rng.integers(0, 4, shape).astype(np.int32)
    if kind == "b":
        return rng.random(shape) < 0.5
    if kind == "h":
        return np.array([0.05, 3.0][: shape[0]], np.float32)
    e = np.exp(rng.standard_normal(shape)).astype(np.float32)  # "s": rows summing to 1
    return e / e.sum(-1, keepdims=True)


def program_of(kernel, arrays, params):
    """A one-instruction program over ``arrays`` (its output's shape and dtype from numpy's
    result; int64, which CPython's numpy gives integer sums and argmax, is the ops' int32)."""
    want = REFERENCE[kernel](*[a.copy() for a in arrays], **params)
    p = Program()
    ins = [p.slot("param" if kernel in INPLACE else "input", a.shape, a.dtype) for a in arrays]
    dtype = np.asarray(want).dtype
    dtype = np.dtype(np.int32) if dtype == np.int64 else dtype  # numpy's int sums, argmax
    out = p.emit(kernel, ins, dict(params), np.shape(want), dtype)
    p.externals = list(ins)
    p.outputs = [out, *ins[1:]] if kernel in INPLACE else [out]
    return p


def check_ops(compile, names=None, rtol=2e-5, atol=2e-6) -> list:
    """Every row (or those of kernels ``names``) through ``compile(program)`` -> run: the
    outputs (and in-place state) must match the numpy kernels', in one stream call.
    ``compile=None`` checks the rows themselves against the reference only."""
    failures, rng = [], np.random.default_rng(7)
    for kernel, specs, params in CASES:
        if names is not None and kernel not in names:
            continue
        arrays = [_array(rng, s) for s in specs]
        program = program_of(kernel, arrays, params)
        from .trace import reference

        want = reference(program, [a.copy() for a in arrays])
        if compile is None:
            continue
        run = compile(program)
        got = run([a.copy() for a in arrays])
        what = f"{kernel} {[a.shape for a in arrays]} {[a.dtype.name for a in arrays]} {params}"
        if (run.wasm_calls, run.numpy_calls) != (1, 0):
            failures.append(f"{what}: {run.wasm_calls} stream and {run.numpy_calls} numpy calls")
        for g, w in zip(got, want, strict=True):
            if g.shape != w.shape or g.dtype != w.dtype:
                failures.append(f"{what}: got {g.shape} {g.dtype}, want {w.shape} {w.dtype}")
            elif not np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
                failures.append(f"{what}: max |diff| {np.max(np.abs(g.astype(float) - w))}")
    return failures


def transpose_program(seed=3):
    """``(program, arrays)``: ``a.T @ b`` and ``a @ c.T`` through permutes the stream folds
    into the GEMM's transpose flags, and a permute that is also an output (kept a copy)."""
    rng = np.random.default_rng(seed)
    p = Program()
    a, b, c = (p.slot("input", s, np.float32) for s in ((5, 3), (5, 4), (6, 3)))
    at = p.emit("permute", (a,), {"axes": (1, 0)}, (3, 5), np.float32)
    ct = p.emit("permute", (c,), {"axes": (1, 0)}, (3, 6), np.float32)
    x = p.emit("matmul", (at, b), {}, (3, 4), np.float32)
    y = p.emit("matmul", (a, ct), {}, (5, 6), np.float32)
    p.externals, p.outputs = [a, b, c], [x, y, ct]
    return p, [rng.standard_normal(p.slots[s].shape).astype(np.float32) for s in p.externals]


# ops that keep finite inputs finite and bounded over a few steps: GLSL leaves NaN and domain
# errors undefined (a fused expression may fold a NaN away where a stored one stays NaN)
TAME = ("neg", "abs", "tanh", "sigmoid", "sin", "cos", "erf", "relu", "add", "sub", "mul",
        "maximum", "minimum", "relu_grad")  # fmt: skip


def elementwise_program(seed, steps=14, tame=False):
    """``(program, arrays)``: a random DAG of ``steps`` float32 ops of ``wasmdl.fusion.FUSABLE``
    (``tame``: of ``TAME`` only) over (4, 6) views of three inputs (a slice, a reversed
    strided slice, a broadcast column, a transposed slice) and a broadcast row; some values
    are read twice, two are returned. For the elementwise fusion's tests (natively and on
    webgl, against ``trace.reference``)."""
    from ..fusion import FUSABLE

    rng = np.random.default_rng(100 + seed)
    f32 = np.float32
    p = Program()
    big, row, col = (p.slot("input", s, f32) for s in ((7, 6), (6,), (4, 1)))

    def cut(starts, stops, steps, shape):
        params = {"starts": starts, "stops": stops, "steps": steps}
        return p.emit("slice", (big,), params, shape, f32)

    vals = [
        cut((1, 0), (5, 6), (1, 1), (4, 6)),
        cut((6, 5), (-8, -8), (-2, -1), (4, 6)),
        p.emit("expand", (col,), {"shape": (4, 6)}, (4, 6), f32),
        p.emit("permute", (cut((0, 0), (6, 4), (1, 1), (6, 4)),), {"axes": (1, 0)}, (4, 6), f32),
    ]
    ops = sorted(TAME if tame else FUSABLE)
    for _ in range(steps):
        op = ops[rng.integers(len(ops))]
        args = [vals[rng.integers(len(vals))] for _ in range(FUSABLE[op])]
        if FUSABLE[op] == 2 and rng.random() < 0.3:
            args[1] = row  # broadcast
        vals.append(p.emit(op, tuple(args), {}, (4, 6), f32))
    p.externals, p.outputs = [big, row, col], [vals[-1], vals[-3]]
    arrays = [rng.standard_normal(s).astype(f32) for s in ((7, 6), (6,), (4, 1))]
    return p, arrays


def shared_operands_program(steps_before=3, steps_after=2):
    """A weight read by several products (as a recurrent weight is, per time step), as B and
    transposed, updated in place in between; an input read as A by two products."""
    f32 = np.float32
    p = Program()
    w = p.slot("param", (24, 32), f32)
    w2 = p.slot("param", (24, 16), f32)
    hp = p.slot("input", (2,), f32)
    hs = [p.slot("input", (8, 24), f32) for _ in range(steps_before + steps_after)]
    g = p.slot("input", (8, 32), f32)
    outs = [p.emit("matmul", (hs[0], w2), {}, (8, 16), f32)]
    for h in hs[:steps_before]:
        outs.append(p.emit("matmul", (h, w), {}, (8, 32), f32))
    for _ in range(2):  # g @ w.T twice: each transpose read once, folded into a flag
        wt = p.emit("permute", (w,), {"axes": (1, 0)}, (32, 24), f32)
        outs.append(p.emit("matmul", (g, wt), {}, (8, 24), f32))
    grad = p.emit("mul", (w, w), {}, (24, 32), f32)
    p.emit("sgd_update", (w, grad, hp), {}, (24, 32), f32)
    for h in hs[steps_before:]:
        outs.append(p.emit("matmul", (h, w), {}, (8, 32), f32))
    p.externals = [w, w2, hp, *hs, g]
    p.outputs = [*outs, w]
    return p
