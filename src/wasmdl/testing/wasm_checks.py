"""float64 numpy references and case tables for the WASM CPU kernels (used by the tests inside
Pyodide, where helper code must come from the installed package).

Each ``check_*`` runs one kernel family over its cases and returns the worst relative error
seen (the tests assert it is below a float32 bound), raising ``AssertionError`` with the case
when a kernel declines a case it should handle.

>>> a = np.ones((2, 3), np.float32)
>>> gemm_ref(a, a.T, 0, 0, 2.0, 0.0, None).tolist()
[[6.0, 6.0], [6.0, 6.0]]
"""

from __future__ import annotations

import itertools

import numpy as np

CHECKS = ("check_gemm", "check_matmul", "check_conv", "check_step", "check_optim",
          "check_pool", "check_col_sum", "check_prob_xent")  # fmt: skip
# (m, n, k): odd sizes; several K blocks (515, 1100, 300); a short K with two M blocks and an M %
# 4 row (301, 37, 64); two N blocks ending in a partial panel (9, 203, 300): sgemm's block edges
GEMM_SIZES = [(1, 1, 1), (1, 7, 5), (3, 9, 1), (5, 8, 4), (13, 17, 31), (33, 9, 515),
              (64, 100, 70), (4, 8, 1100), (133, 21, 300), (301, 37, 64),
              (9, 203, 300)]  # fmt: skip


def gemm_ref(a, b, ta, tb, alpha, beta, c):
    """alpha * op(a) @ op(b) + beta * c in float64."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out = alpha * ((a64.T if ta else a64) @ (b64.T if tb else b64))
    return out if c is None or beta == 0 else out + beta * c.astype(np.float64)


def rel_err(got, ref) -> float:
    """max |got - ref| / (max |ref| + 1): a scale-free error for float32 results."""
    ref = np.asarray(ref, np.float64)
    return float(
        np.max(np.abs(np.asarray(got, np.float64) - ref), initial=0.0)
        / (np.max(np.abs(ref), initial=0.0) + 1.0)
    )


def _operand(rng, rows, cols, trans, strided):
    """A float32 matrix whose op() is rows x cols: stored transposed when ``trans``; a slice
    of a wider array (leading dimension > cols) when ``strided``."""
    r, c = (cols, rows) if trans else (rows, cols)
    big = rng.standard_normal((r, c + (5 if strided else 0))).astype(np.float32)
    return big[:, :c]


def check_gemm(k, seed=0) -> float:
    """Every size x transposes x (alpha, beta) x strided-or-not through ``k.exports.sgemm``."""
    from .._wasm.cpu import addr, gemm_operand

    rng, worst = np.random.default_rng(seed), 0.0
    cases = itertools.product(GEMM_SIZES, (0, 1), (0, 1), ((1.0, 0.0), (-0.5, 0.75)), (0, 1))
    for (m, n, kk), ta, tb, (alpha, beta), strided in cases:
        a, b = _operand(rng, m, kk, ta, strided), _operand(rng, kk, n, tb, strided)
        cbig = rng.standard_normal((m, n + 3 * strided)).astype(np.float32)
        c = cbig[:, :n]
        ref = gemm_ref(a, b, ta, tb, alpha, beta, c)
        (_, lda, pa), (_, ldb, pb) = gemm_operand(a), gemm_operand(b)
        k.exports.sgemm(
            ta, tb, m, n, kk, alpha, pa, lda, pb, ldb, beta, addr(c), cbig.shape[1], k._work
        )
        worst = max(worst, rel_err(c, ref) / np.sqrt(kk))
    return worst


def check_matmul(k, seed=1) -> float:
    """``k.matmul`` on views numpy code produces: transposes, slices, batches, broadcasting."""
    rng, worst = np.random.default_rng(seed), 0.0
    x = rng.standard_normal((7, 11, 13)).astype(np.float32)
    y = rng.standard_normal((13, 6)).astype(np.float32)
    xt = x.transpose(0, 2, 1)  # (7, 13, 11): a batch of transposed views
    pairs = [(x[0], y), (x[0].T[:, 2:9], x[1][2:9]), (x, y), (x, xt[:, :, :5]),
             (x[:, :, :5].transpose(0, 2, 1), x), (x[:1], y[None, :, :3])]  # fmt: skip
    for a, b in pairs:
        got = k.matmul(a, b)
        if got is None:
            raise AssertionError(f"matmul declined shapes {a.shape} @ {b.shape}")
        ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
        assert got.shape == ref.shape, (got.shape, ref.shape)
        worst = max(worst, rel_err(got, ref))
    return worst


CONV_CASES = [  # (x shape NHWC, w shape HWIO, strides, padding, dilation)
    ((2, 7, 9, 3), (3, 3, 3, 5), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((3, 9, 11, 5), (3, 2, 5, 7), (2, 1), ((1, 2), (0, 1)), (1, 2)),
    ((1, 8, 8, 1), (5, 5, 1, 4), (2, 2), ((0, 0), (0, 0)), (1, 1)),
    ((4, 6, 6, 8), (1, 1, 8, 3), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    # few input channels (the direct forward kernel): 16-wide, 4-wide and single output
    # columns, an odd pixel count, padding, strides and dilation
    ((1, 9, 7, 1), (3, 3, 1, 21), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((3, 7, 8, 4), (2, 3, 4, 6), (2, 1), ((0, 1), (2, 0)), (2, 1)),
]


def check_conv(k, seed=2) -> float:
    """Forward and both gradients against the numpy backend's kernels run in float64."""
    from .._wasm import cpu_conv
    from ..backend import numpy_conv

    rng, worst = np.random.default_rng(seed), 0.0
    for xs, ws, s, pad, d in CONV_CASES:
        p = dict(strides=s, padding=pad, dilation=d, groups=1)
        x, w = (rng.standard_normal(sh).astype(np.float32) for sh in (xs, ws))
        x64, w64 = x.astype(np.float64), w.astype(np.float64)
        out = cpu_conv.conv2d(k, x, w, **p)
        worst = max(worst, rel_err(out, numpy_conv.conv2d(x64, w64, **p)))
        g = rng.standard_normal(out.shape).astype(np.float32)
        gi = cpu_conv.conv2d_grad_input(k, g, w, xs, **p)
        g64 = g.astype(np.float64)
        gi = rel_err(gi, numpy_conv.conv2d_grad_input(g64, w64, xs, **p))
        gw = cpu_conv.conv2d_grad_weight(k, x, g, ws, **p)
        worst = max(worst, gi, rel_err(gw, numpy_conv.conv2d_grad_weight(x64, g64, ws, **p)))
    return worst


ACT_REF = {
    None: lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
}
ACT_GRAD_REF = {None: lambda y: 1.0, "relu": lambda y: (y > 0) * 1.0,
                "sigmoid": lambda y: y * (1 - y), "tanh": lambda y: 1 - y * y}  # fmt: skip


def check_step(k, seed=3) -> float:
    """bias + activation, dense, activation gradients, softmax and cross-entropy."""
    rng, worst = np.random.default_rng(seed), 0.0
    for rows, cols in ((1, 1), (5, 7), (64, 10), (3, 130)):
        x = (rng.standard_normal((rows, cols)) * 4).astype(np.float32)
        bias = rng.standard_normal(cols).astype(np.float32)
        x64 = x.astype(np.float64)
        for act, f in ACT_REF.items():
            y = k.bias_act(x.copy(), bias, act)
            worst = max(worst, rel_err(y, f(x64 + bias)))
            dy = rng.standard_normal(x.shape).astype(np.float32)
            dref = dy * ACT_GRAD_REF[act](y.astype(np.float64))
            worst = max(worst, rel_err(k.act_grad(dy, y, act), dref))
            w = rng.standard_normal((cols, 3)).astype(np.float32)
            got = k.gemm(x, w, bias=bias[:3] if cols >= 3 else None, act=act)
            ref = f(x64 @ w + (bias[:3] if cols >= 3 else 0))
            worst = max(worst, rel_err(got, ref))
        e = np.exp(x64 - x64.max(-1, keepdims=True))
        p = e / e.sum(-1, keepdims=True)
        worst = max(worst, rel_err(k.softmax(x), p))
        labels = rng.integers(0, cols, rows)
        onehot = np.eye(cols)[labels]
        for target in (labels, onehot.astype(np.float32)):
            loss, grad = k.softmax_xent(x, target, grad_scale=0.5)
            ref = -np.sum(onehot * np.log(p))
            worst = max(worst, abs(loss - ref) / (abs(ref) + 1), rel_err(grad, (p - onehot) * 0.5))
    return worst


def sgd_ref(p, g, buf, lr, momentum, dampening, wd, nesterov, first):
    g = g + wd * p
    if momentum:
        buf = g if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def adam_ref(p, g, m, v, lr, b1, b2, eps, wd, t, decoupled):
    if decoupled:
        p = p * (1 - lr * wd)
    else:
        g = g + wd * p
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    den = np.sqrt(v) / np.sqrt(1 - b2**t) + eps
    return p - lr / (1 - b1**t) * m / den, m, v


SGD_CASES = [(0, 0, 0, 0), (0.9, 0, 0, 0), (0.9, 0, 1e-2, 1), (0.8, 0.3, 0, 0)]


def check_optim(k, seed=4) -> float:
    """Three steps of SGD (plain, momentum, Nesterov, decay, dampening) and Adam/AdamW."""
    rng, worst = np.random.default_rng(seed), 0.0
    for n in (1, 7, 1031):
        for mom, damp, wd, nest in SGD_CASES:
            p = rng.standard_normal(n).astype(np.float32)
            buf = np.zeros(n, np.float32)
            p64, b64 = p.astype(np.float64), buf.astype(np.float64)
            for t in range(3):
                g = rng.standard_normal(n).astype(np.float32)
                assert k.sgd_step(p, g, buf, 0.1, mom, damp, wd, bool(nest), t == 0)
                p64, b64 = sgd_ref(p64, g, b64, 0.1, mom, damp, wd, nest, t == 0)
            worst = max(worst, rel_err(p, p64))
        for decoupled, wd in ((False, 0.0), (False, 0.1), (True, 0.01)):
            p = rng.standard_normal(n).astype(np.float32)
            m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
            r = [p.astype(np.float64), m.astype(np.float64), v.astype(np.float64)]
            for t in (1, 2, 3):
                g = rng.standard_normal(n).astype(np.float32)
                assert k.adam_step(p, g, m, v, 1e-2, 0.9, 0.999, 1e-8, wd, t, decoupled)
                r = adam_ref(*r[:1], g, *r[1:], 1e-2, 0.9, 0.999, 1e-8, wd, t, decoupled)
            worst = max(worst, rel_err(p, r[0]), rel_err(m, r[1]), rel_err(v, r[2]))
    return worst


POOL_CASES = [  # x shape, pool, strides, padding, dilation
    ((2, 6, 6, 3), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),
    ((1, 7, 5, 8), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),  # padding, odd sizes
    ((2, 5, 6, 7), (2, 3), (1, 2), ((0, 1), (2, 0)), (1, 1)),  # overlapping windows
    ((1, 9, 8, 5), (2, 2), (1, 1), ((0, 0), (1, 1)), (2, 3)),  # dilation
    ((3, 4, 4, 1), (4, 4), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((1, 3, 3, 4), (3, 3), (1, 1), ((2, 2), (2, 2)), (1, 1)),  # windows mostly padding
]


def _close(got, ref) -> float:
    """rel_err where both are finite; inf and NaN must sit in the same places, equal."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    odd = ~np.isfinite(ref)
    if not np.array_equal(np.isnan(got), np.isnan(ref)) or not np.array_equal(
        got[odd], ref[odd], equal_nan=True
    ):
        raise AssertionError("inf/NaN placement differs from the reference")
    return rel_err(np.where(odd, 0, got), np.where(odd, 0, ref))


def check_pool(k, seed=6) -> float:
    """Max/average pooling forward and gradient against the numpy kernels run in float64:
    padding, overlap, dilation, channel tails; ties (the first maximum gets the gradient),
    -inf and NaN inputs."""
    from .._wasm import cpu_conv
    from ..backend import numpy_conv as ref

    rng, worst = np.random.default_rng(seed), 0.0
    for shape, pool, strides, padding, dilation in POOL_CASES:
        p = {"pool": pool, "strides": strides, "padding": padding, "dilation": dilation}
        for ties in (False, True):
            x = rng.standard_normal(shape).astype(np.float32)
            if ties:  # few distinct values: many windows hold their maximum twice
                x = np.round(x).astype(np.float32)
                x.flat[:: max(3, x.size // 4)] = -np.inf
                x.flat[1 :: max(7, x.size // 3)] = np.nan
            x64 = x.astype(np.float64)
            y = cpu_conv.maxpool2d(k, x, **p)
            g = rng.standard_normal(y.shape).astype(np.float32)
            worst = max(worst, _close(y, ref.maxpool2d(x64, **p)))
            dx = cpu_conv.maxpool2d_grad(k, x, g, **p)
            worst = max(worst, _close(dx, ref.maxpool2d_grad(x64, g.astype(np.float64), **p)))
            a = cpu_conv.avgpool2d(k, x, **p)
            worst = max(worst, _close(a, ref.avgpool2d(x64, **p)))
            da = cpu_conv.avgpool2d_grad(k, x, g, **p)
            worst = max(worst, _close(da, ref.avgpool2d_grad(x64, g.astype(np.float64), **p)))
    return worst


COL_SUM_SHAPES = [(16384, 1), (4096, 5), (2, 64, 64, 33), (130, 128), (4, 28, 28, 16)]


def check_col_sum(k, seed=7) -> float:
    """``sum`` over all leading axes (a bias's gradient; keepdims or not) against float64;
    a strided input, another axis or a small array is declined (None: numpy runs)."""
    from .._wasm import cpu_bias

    rng, worst, leading_sum = np.random.default_rng(seed), 0.0, cpu_bias.table(k)["sum"]
    for shape in COL_SUM_SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        lead = tuple(range(len(shape) - 1))
        want, rows = x.astype(np.float64).sum(axis=lead), x.size // shape[-1]
        worst = max(worst, rel_err(leading_sum(x, lead, False), want) / np.sqrt(rows))
        got = leading_sum(x, lead, True)
        assert got.shape == (1,) * len(lead) + shape[-1:], got.shape
        worst = max(worst, rel_err(got.reshape(-1), want) / np.sqrt(rows))
        v = x[..., ::2]  # strided, except where the last axis has one element
        assert v.flags.c_contiguous or leading_sum(v, lead, False) is None, "strided: numpy's"
        assert leading_sum(x, (len(shape) - 1,), False) is None, "the last axis: numpy's"
        assert leading_sum(x[:1], lead, False) is None or x[:1].size >= cpu_bias.MIN_FLOATS
    return worst


def check_prob_xent(k, seed=8) -> float:
    """Keras's cross-entropy on probabilities and its gradient (``prob_xent``) against the
    numpy kernels in float64: int32/int64 labels and float targets, unnormalised rows, entries
    below eps and above 1 - eps (the clip's zero gradient), 3-D input, a NaN row and an
    all-zero row (NaN, as numpy)."""
    from .._wasm.cpu_step import table
    from ..backend import numpy_step as ref

    rng, worst, t = np.random.default_rng(seed), 0.0, table(k)
    for shape in ((1, 1), (5, 7), (64, 10), (3, 130), (2, 3, 4)):
        p = rng.random(shape).astype(np.float32) + 0.01
        p.reshape(-1, shape[-1])[0, 0] = 1e-9  # below eps once normalised
        p.reshape(-1, shape[-1])[-1] *= 3.0  # not normalised
        if shape[-1] > 1:
            p.reshape(-1, shape[-1])[-1, -1] = 1e4  # q above 1 - eps
        labels = rng.integers(0, shape[-1], shape[:-1])
        targets = (labels.astype(np.int32), labels, rng.random(shape).astype(np.float32))
        for bad in ((), (np.nan,), (0.0,)):
            q = p.copy()
            if bad:
                q.reshape(-1, shape[-1])[0] = bad[0]
            q64, g = q.astype(np.float64), np.float32(0.5)
            for tt in targets:
                tt64 = tt.astype(np.float64) if tt.dtype.kind == "f" else tt
                got = t["prob_cross_entropy"](q, tt, 1e-7)
                assert got is not None, ("prob_cross_entropy declined", shape, tt.dtype)
                worst = max(worst, _close(got, ref.prob_cross_entropy(q64, tt64, 1e-7)))
                got = t["prob_cross_entropy_grad"](q, tt, g, 1e-7)
                assert got is not None, ("prob_cross_entropy_grad declined", shape, tt.dtype)
                want = ref.prob_cross_entropy_grad(q64, tt64, np.float64(g), 1e-7)
                worst = max(worst, _close(got, want))
    return worst
