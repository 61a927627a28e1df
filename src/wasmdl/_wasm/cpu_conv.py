"""Convolution and pooling kernels (``kernels/wasm/conv.c``, ``pool.c``) with the numpy
backend's signatures (``KERNELS``, each taking the loaded kernels first).

NHWC activations, HWIO kernels, canonical params as ``wasmdl.ops.conv`` leaves them
(``strides=(sh, sw)``, ``padding=((top, bottom), (left, right))``, ``dilation=(dh, dw)``).
Each function returns None for what it does not handle (groups > 1, non-float32, empty), so the
caller runs numpy instead. The im2col workspace is a numpy array kept by the kernels object,
grown on demand up to ``COL_FLOATS_MAX`` and then reused in blocks.

>>> geometry((2, 8, 8, 3), (3, 3, 3, 16), (1, 1), ((1, 1), (1, 1)), (1, 1)).tolist()
[2, 8, 8, 3, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

import numpy as np

from .cpu import F32, addr

KERNELS = ("conv2d", "conv2d_grad_input", "conv2d_grad_weight", "maxpool2d", "maxpool2d_grad",
           "avgpool2d", "avgpool2d_grad")  # fmt: skip
COL_FLOATS_MAX = 1 << 20  # 4 MB of im2col rows at most; larger problems run in blocks


def geometry(xshape, wshape, strides, padding, dilation) -> np.ndarray:
    """The int32 ``geo`` array conv.c reads: N H W C OH OW O KH KW SH SW PT PL DH DW."""
    n, h, w, c = xshape
    kh, kw, _, o = wshape
    (sh, sw), ((pt, pb), (pl, pr)), (dh, dw) = strides, padding, dilation
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    return np.array([n, h, w, c, oh, ow, o, kh, kw, sh, sw, pt, pl, dh, dw], np.int32)


def _col(k, geo) -> tuple[int, int]:
    """(address, floats) of an im2col workspace for at least one full block of pixels."""
    kkc = int(geo[7] * geo[8] * geo[3])
    pixels = int(geo[0] * geo[4] * geo[5])
    want = min(max(kkc * pixels, 1), max(COL_FLOATS_MAX, kkc * 4))
    if k.col.size < want:
        k.col = np.empty(want, F32)
    return addr(k.col), k.col.size


def _ok(groups, *xs) -> bool:
    return groups == 1 and all(x.dtype == F32 and x.size for x in xs)


def conv2d(k, x, w, strides, padding, dilation, groups):
    """Forward convolution; None when not handled."""
    if not _ok(groups, x, w):
        return None
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    geo = geometry(x.shape, w.shape, strides, padding, dilation)
    out = np.empty((geo[0], geo[4], geo[5], geo[6]), F32)
    pcol, ncol = _col(k, geo)
    k.exports.conv2d_forward(addr(geo), addr(x), addr(w), addr(out), pcol, ncol, k._work)
    return out


def conv2d_grad_input(k, g, w, input_shape, strides, padding, dilation, groups):
    """Gradient with respect to the input; None when not handled."""
    if not _ok(groups, g, w):
        return None
    g, w = np.ascontiguousarray(g), np.ascontiguousarray(w)
    geo = geometry(tuple(input_shape), w.shape, strides, padding, dilation)
    dx = np.empty(tuple(input_shape), F32)
    pcol, ncol = _col(k, geo)
    k.exports.conv2d_grad_input(addr(geo), addr(g), addr(w), addr(dx), pcol, ncol, k._work)
    return dx


def conv2d_grad_weight(k, x, g, weight_shape, strides, padding, dilation, groups):
    """Gradient with respect to the HWIO kernel; None when not handled."""
    if not _ok(groups, x, g):
        return None
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    geo = geometry(x.shape, tuple(weight_shape), strides, padding, dilation)
    dw = np.empty(tuple(weight_shape), F32)
    pcol, ncol = _col(k, geo)
    k.exports.conv2d_grad_weight(addr(geo), addr(x), addr(g), addr(dw), pcol, ncol, k._work)
    return dw


def _pool_geo(x, pool, strides, padding, dilation):
    """conv.c's geometry for a pooling window (the window stands in for the kernel)."""
    c = x.shape[3]
    return geometry(x.shape, (*pool, c, c), strides, padding, dilation)


def _pool_forward(k, export, x, pool, strides, padding, dilation):
    """Run a pooling forward export on ``x``; None when not handled (non-float32, empty)."""
    if not _ok(1, x):
        return None
    x = np.ascontiguousarray(x)
    geo = _pool_geo(x, pool, strides, padding, dilation)
    out = np.empty((geo[0], geo[4], geo[5], geo[3]), F32)
    export(addr(geo), addr(x), addr(out))
    return out


def maxpool2d(k, x, pool, strides, padding, dilation):
    """Max pooling forward; None when not handled."""
    return _pool_forward(k, k.exports.maxpool2d_forward, x, pool, strides, padding, dilation)


def maxpool2d_grad(k, x, g, pool, strides, padding, dilation):
    """Max pooling gradient (to each window's first maximum); None when not handled."""
    if not _ok(1, x, g):
        return None
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    geo = _pool_geo(x, pool, strides, padding, dilation)
    dx = np.empty(x.shape, F32)
    k.exports.maxpool2d_grad(addr(geo), addr(x), addr(g), addr(dx))
    return dx


def avgpool2d(k, x, pool, strides, padding, dilation):
    """Average pooling forward (padding excluded from the count); None when not handled."""
    return _pool_forward(k, k.exports.avgpool2d_forward, x, pool, strides, padding, dilation)


def avgpool2d_grad(k, x, g, pool, strides, padding, dilation):
    """Average pooling gradient (``x`` gives the shape only); None when not handled."""
    if not _ok(1, g) or x.dtype != F32:
        return None
    g = np.ascontiguousarray(g)
    geo = _pool_geo(x, pool, strides, padding, dilation)
    dx = np.empty(x.shape, F32)
    k.exports.avgpool2d_grad(addr(geo), addr(g), addr(dx))
    return dx
