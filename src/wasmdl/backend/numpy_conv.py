"""numpy kernels for convolution and pooling, channels-last: x (N, H, W, C), kernel
(KH, KW, C/groups, O). Windows are strided views of the padded input (no copy) turned into one
GEMM (im2col); the backward kernels scatter back with one strided add per kernel position.

>>> import numpy as np
>>> x, w = np.ones((1, 3, 3, 1), np.float32), np.ones((2, 2, 1, 1), np.float32)
>>> conv2d(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)[0, :, :, 0].tolist()
[[4.0, 4.0], [4.0, 4.0]]
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def matmul(a, b):
    """The numpy backend's current ``matmul`` kernel (so a registered override serves convs)."""
    from .base import get_backend

    return get_backend("numpy").kernels["matmul"](a, b)


def _pad(x, padding, value=0.0):
    (pt, pb), (pl, pr) = padding
    if pt == pb == pl == pr == 0:
        return x
    out = np.full(
        (x.shape[0], x.shape[1] + pt + pb, x.shape[2] + pl + pr, x.shape[3]), value, x.dtype
    )
    out[:, pt : pt + x.shape[1], pl : pl + x.shape[2]] = x
    return out


def _out_hw(hw, k, strides, padding, dilation):
    return tuple(
        (n + a + b - d * (kk - 1) - 1) // s + 1
        for n, kk, s, (a, b), d in zip(hw, k, strides, padding, dilation, strict=False)
    )


def _windows(xp, k, strides, dilation, ohw):
    """(N, OH, OW, KH, KW, C) read-only view of the padded input's windows."""
    s0, s1, s2, s3 = xp.strides
    (sh, sw), (dh, dw) = strides, dilation
    shape = (xp.shape[0], *ohw, *k, xp.shape[3])
    return as_strided(xp, shape, (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)


def _scatter_windows(cols, xshape, k, strides, padding, dilation):
    """Adjoint of _windows + _pad: sum (N, OH, OW, KH, KW, C) window values into x's shape."""
    n, oh, ow = cols.shape[:3]
    (pt, pb), (pl, pr) = padding
    (sh, sw), (dh, dw) = strides, dilation
    dxp = np.zeros((n, xshape[1] + pt + pb, xshape[2] + pl + pr, xshape[3]), cols.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            dxp[
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ] += cols[:, :, :, i, j]
    return dxp[:, pt : pt + xshape[1], pl : pl + xshape[2]]


def _grouped(win, groups):
    """Windows as (G, N*OH*OW, KH*KW*C/G) rows for a batched GEMM."""
    n, oh, ow, kh, kw, c = win.shape
    cg = c // groups
    w6 = win.reshape(n, oh, ow, kh, kw, groups, cg)
    return w6.transpose(5, 0, 1, 2, 3, 4, 6).reshape(groups, n * oh * ow, kh * kw * cg)


def conv2d(x, w, strides, padding, dilation, groups):
    kh, kw, cg, o = w.shape
    ohw = _out_hw(x.shape[1:3], (kh, kw), strides, padding, dilation)
    win = _windows(_pad(x, padding), (kh, kw), strides, dilation, ohw)
    m = x.shape[0] * ohw[0] * ohw[1]
    if groups == 1:
        out = matmul(win.reshape(m, kh * kw * cg), w.reshape(kh * kw * cg, o))
        return out.reshape(x.shape[0], *ohw, o)
    og = o // groups
    wg = w.reshape(kh, kw, cg, groups, og).transpose(3, 0, 1, 2, 4).reshape(groups, -1, og)
    out = matmul(_grouped(win, groups), wg)  # (G, M, og)
    return out.transpose(1, 0, 2).reshape(x.shape[0], *ohw, o)


def conv2d_grad_input(g, w, input_shape, strides, padding, dilation, groups):
    kh, kw, cg, o = w.shape
    n, oh, ow, _ = g.shape
    m = n * oh * ow
    if groups == 1:
        cols = matmul(g.reshape(m, o), w.reshape(kh * kw * cg, o).T)
    else:
        og = o // groups
        wg = w.reshape(kh, kw, cg, groups, og).transpose(3, 4, 0, 1, 2).reshape(groups, og, -1)
        cols = matmul(g.reshape(m, groups, og).transpose(1, 0, 2), wg)  # (G, M, kh*kw*cg)
        cols = cols.reshape(groups, m, kh, kw, cg).transpose(1, 2, 3, 0, 4)
    cols = cols.reshape(n, oh, ow, kh, kw, cg * groups)
    return _scatter_windows(cols, input_shape, (kh, kw), strides, padding, dilation)


def conv2d_grad_weight(x, g, weight_shape, strides, padding, dilation, groups):
    kh, kw, cg, o = weight_shape
    n, oh, ow, _ = g.shape
    win = _windows(_pad(x, padding), (kh, kw), strides, dilation, (oh, ow))
    m = n * oh * ow
    if groups == 1:
        return matmul(win.reshape(m, kh * kw * cg).T, g.reshape(m, o)).reshape(weight_shape)
    og = o // groups
    cols = _grouped(win, groups)  # (G, M, K)
    gw = matmul(cols.transpose(0, 2, 1), g.reshape(m, groups, og).transpose(1, 0, 2))
    return gw.reshape(groups, kh, kw, cg, og).transpose(1, 2, 3, 0, 4).reshape(weight_shape)


def _pool_windows(x, pool, strides, padding, dilation, value):
    ohw = _out_hw(x.shape[1:3], pool, strides, padding, dilation)
    return _windows(_pad(x, padding, value), pool, strides, dilation, ohw)


def maxpool2d(x, pool, strides, padding, dilation):
    return _pool_windows(x, pool, strides, padding, dilation, -np.inf).max(axis=(3, 4))


def maxpool2d_grad(x, g, pool, strides, padding, dilation):
    win = _pool_windows(x, pool, strides, padding, dilation, -np.inf)
    n, oh, ow, ph, pw, c = win.shape
    first = win.reshape(n, oh, ow, ph * pw, c).argmax(axis=3)  # the first max wins, as torch
    cols = np.zeros(win.shape, g.dtype)
    for k in range(ph * pw):
        cols[:, :, :, k // pw, k % pw] = np.where(first == k, g, 0)
    return _scatter_windows(cols, x.shape, pool, strides, padding, dilation)


def _counts(x, pool, strides, padding, dilation):
    """Cells of each window inside the unpadded input, shaped (1, OH, OW, 1)."""
    if not any(a or b for a, b in padding):
        return np.asarray(pool[0] * pool[1], x.dtype)
    ones = np.ones((1, x.shape[1], x.shape[2], 1), x.dtype)
    return _pool_windows(ones, pool, strides, padding, dilation, 0.0).sum(axis=(3, 4))


def avgpool2d(x, pool, strides, padding, dilation):
    s = _pool_windows(x, pool, strides, padding, dilation, 0.0).sum(axis=(3, 4))
    return s / _counts(x, pool, strides, padding, dilation)


def avgpool2d_grad(x, g, pool, strides, padding, dilation):
    gc = g / _counts(x, pool, strides, padding, dilation)
    cols = np.broadcast_to(gc[:, :, :, None, None, :], gc.shape[:3] + tuple(pool) + gc.shape[3:])
    return _scatter_windows(cols, x.shape, pool, strides, padding, dilation)


KERNELS = {
    "conv2d": conv2d,
    "conv2d_grad_input": conv2d_grad_input,
    "conv2d_grad_weight": conv2d_grad_weight,
    "maxpool2d": maxpool2d,
    "maxpool2d_grad": maxpool2d_grad,
    "avgpool2d": avgpool2d,
    "avgpool2d_grad": avgpool2d_grad,
}
