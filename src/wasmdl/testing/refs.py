"""Independent numpy references (float64) for the ops whose kernels are not one numpy call:
convolution by shift-and-add (the kernels use im2col), pooling by NaN-padded windows, erf by
``math.erf``; and central finite differences.

>>> import numpy as np
>>> x, w = np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1))
>>> conv2d(x, w)[0, :, :, 0].tolist()
[[4.0, 4.0], [4.0, 4.0]]
"""

import math

import numpy as np


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(size, k, strides, dilation):
    """TensorFlow's 'same': output ceil(n / s); the odd pad goes at the end."""
    out = []
    for n, kk, s, d in zip(size, k, strides, dilation, strict=True):
        o = math.ceil(n / s)
        total = max((o - 1) * s + (kk - 1) * d + 1 - n, 0)
        out.append((total // 2, total - total // 2))
    return tuple(out)


def conv_pads(padding, size, k, strides, dilation):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        return same_pads(size, k, strides, dilation)
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    return tuple(pair(p) for p in padding)


def conv2d(x, w, strides=1, padding="valid", dilation=1, groups=1):
    """NHWC x, HWIO w: the sum over kernel positions of shifted inputs times w[i, j]."""
    (sh, sw), (dh, dw) = pair(strides), pair(dilation)
    kh, kw, cg, o = w.shape
    pads = conv_pads(padding, x.shape[1:3], (kh, kw), (sh, sw), (dh, dw))
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, o), np.result_type(x, w))
    og = o // groups
    for i in range(kh):
        for j in range(kw):
            patch = xp[
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ]
            for g in range(groups):
                out[..., g * og : (g + 1) * og] += (
                    patch[..., g * cg : (g + 1) * cg] @ w[i, j, :, g * og : (g + 1) * og]
                )
    return out


def _pool(x, pool, strides, padding, reduce):
    pool, strides = pair(pool), pair(pool if strides is None else strides)
    pads = conv_pads(padding, x.shape[1:3], pool, strides, (1, 1))
    xp = np.pad(x.astype(np.float64), ((0, 0), pads[0], pads[1], (0, 0)), constant_values=np.nan)
    oh = (xp.shape[1] - pool[0]) // strides[0] + 1
    ow = (xp.shape[2] - pool[1]) // strides[1] + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            win = xp[
                :,
                i * strides[0] : i * strides[0] + pool[0],
                j * strides[1] : j * strides[1] + pool[1],
            ]
            out[:, i, j] = reduce(win, axis=(1, 2))
    return out


def max_pool2d(x, pool=2, strides=None, padding="valid"):
    return _pool(x, pool, strides, padding, np.nanmax)


def avg_pool2d(x, pool=2, strides=None, padding="valid"):
    """Padded cells are not counted (Keras)."""
    return _pool(x, pool, strides, padding, np.nanmean)


erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logsumexp(x, axis=-1, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis)


def finite_difference(f, inputs, g, which, eps=1e-6):
    """d sum(f(*inputs) * g) / d inputs[which], by central differences in float64."""
    xs = [np.array(a, dtype=np.float64) if a.dtype.kind == "f" else a for a in inputs]
    x = xs[which]
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        hi = np.sum(np.asarray(f(*xs), np.float64) * g)
        flat[i] = orig - eps
        lo = np.sum(np.asarray(f(*xs), np.float64) * g)
        flat[i] = orig
        gflat[i] = (hi - lo) / (2 * eps)
    return grad
