"""Convolution and pooling primitives, channels-last (NHWC activations, HWIO kernels: Keras's
layouts, so a Conv2D layer needs no transposes and im2col rows are contiguous).

Backward-only primitives (``conv2d_grad_input``, ``conv2d_grad_weight``, ``maxpool2d_grad``,
``avgpool2d_grad``) are ops too, so GPU backends implement them as kernels.

>>> import wasmdl as wl
>>> x, w = wl.ones((1, 5, 5, 2)), wl.ones((3, 3, 2, 4))
>>> wl.conv2d(x, w, padding="same").shape, wl.conv2d(x, w, strides=2).shape
((1, 5, 5, 4), (1, 2, 2, 4))
>>> wl.max_pool2d(x, 2).shape
(1, 2, 2, 2)
"""

from ..dtypes import FLOATS
from . import shape as S
from .core import apply, check_tensor, check_tensor_float, defop, fail


def _pair(op, arg, v):
    t = (v, v) if isinstance(v, int) else tuple(v)
    if len(t) != 2 or not all(isinstance(i, int) and i >= 1 for i in t):
        fail(op, arg, "a positive int or a pair of positive ints", repr(v))
    return t


def _padding(op, padding, size, k, stride, dil):
    """Canonical ((before, after), (before, after)) from 'valid', 'same', ints or pairs."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":  # TensorFlow's rule: output ceil(n / stride), extra pad at the end
        pads = []
        for n, kk, s, d in zip(size, k, stride, dil, strict=True):
            total = max((-(-n // s) - 1) * s + (kk - 1) * d + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        padding = (padding, padding)
    try:
        pads = tuple((p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in padding)
    except (TypeError, ValueError, IndexError):
        pads = ()
    if len(pads) != 2 or any(a < 0 or b < 0 for a, b in pads):
        fail(op, "padding", "'valid', 'same', an int, or 2 ints/pairs >= 0", repr(padding))
    return pads


def _window(op, p, hw, k):
    """Canonicalise strides/padding/dilation in ``p``; return the output (OH, OW)."""
    s = p["strides"] = _pair(op, "strides", p["strides"])
    d = p["dilation"] = _pair(op, "dilation", p.get("dilation", 1))
    pads = p["padding"] = _padding(op, p["padding"], hw, k, s, d)
    out = tuple(
        (n + a + b - dd * (kk - 1) - 1) // ss + 1
        for n, (a, b), kk, ss, dd in zip(hw, pads, k, s, d, strict=True)
    )
    if min(out) < 1:
        fail(op, "x", f"spatial size >= the dilated window {k} after padding", f"size {hw}")
    return out


def _check4(op, arg, x, what):
    if x.ndim != 4:
        fail(op, arg, f"a 4-D {what} tensor", f"shape {x.shape}")
    if x.dtype not in FLOATS:
        fail(op, arg, "a float dtype", f"dtype {x.dtype}", TypeError)


def _conv_shape(op, xshape, wshape, dtype, wdtype, p):
    n, h, w_, c = xshape
    kh, kw, cg, o = wshape
    groups = p["groups"]
    if not isinstance(groups, int) or groups < 1 or c % groups or o % groups:
        fail(op, "groups", f"a positive divisor of channels {c} and filters {o}", repr(groups))
    if cg * groups != c:
        fail(
            op,
            "w",
            f"kernel shape (kh, kw, {c // groups}, filters) for {c} channels / {groups} groups",
            f"shape {wshape}",
        )
    if wdtype is not dtype:
        fail(op, "w", f"dtype {dtype}", f"dtype {wdtype}", TypeError)
    oh, ow = _window(op, p, (h, w_), (kh, kw))
    return (n, oh, ow, o)


def _conv2d_rule(xs, p):
    x, w = xs
    _check4("conv2d", "x", x, "(batch, height, width, channels)")
    _check4("conv2d", "w", w, "(kh, kw, in_channels/groups, filters)")
    return _conv_shape("conv2d", x.shape, w.shape, x.dtype, w.dtype, p), x.dtype


def _conv2d_vjp(g, out, xs, p):
    x, w = xs
    gx = apply("conv2d_grad_input", g, w, input_shape=x.shape, **p) if x.requires_grad else None
    gw = apply("conv2d_grad_weight", x, g, weight_shape=w.shape, **p) if w.requires_grad else None
    return gx, gw


def _grad_input_rule(xs, p):
    g, w = xs
    want = _conv_shape("conv2d_grad_input", p["input_shape"], w.shape, g.dtype, w.dtype, p)
    if g.shape != want:
        fail("conv2d_grad_input", "g", f"shape {want}", f"shape {g.shape}")
    return tuple(p["input_shape"]), g.dtype


def _grad_weight_rule(xs, p):
    x, g = xs
    want = _conv_shape("conv2d_grad_weight", x.shape, p["weight_shape"], x.dtype, g.dtype, p)
    if g.shape != want:
        fail("conv2d_grad_weight", "g", f"shape {want}", f"shape {g.shape}")
    return tuple(p["weight_shape"]), x.dtype


defop("conv2d", _conv2d_rule, _conv2d_vjp, cache=True)
defop("conv2d_grad_input", _grad_input_rule, cache=True)
defop("conv2d_grad_weight", _grad_weight_rule, cache=True)


def conv2d(x, w, strides=1, padding="valid", dilation=1, groups=1):
    """2-D convolution (cross-correlation) of NHWC ``x`` with an HWIO kernel ``w``.

    ``padding``: 'valid', 'same' (output ceil(size / stride)), an int or ((top, bottom),
    (left, right)). ``groups=channels`` with ``w`` of shape (kh, kw, 1, channels * m) is a
    depthwise convolution.

    >>> import wasmdl as wl
    >>> wl.conv2d(wl.ones((2, 8, 8, 3)), wl.ones((3, 3, 3, 16)), padding="same").shape
    (2, 8, 8, 16)
    """
    check_tensor("conv2d", "x", x), check_tensor("conv2d", "w", w)
    return apply("conv2d", x, w, strides=strides, padding=padding, dilation=dilation, groups=groups)


# ----------------------------------------------------------------------------- pooling
def _pool_rule(name):
    def rule(xs, p):
        x = xs[0]
        _check4(name, "x", x, "(batch, height, width, channels)")
        p["pool"] = k = _pair(name, "pool", p["pool"])
        oh, ow = _window(name, p, x.shape[1:3], k)
        if name.endswith("_grad"):
            g = xs[-1]
            if g.shape != (x.shape[0], oh, ow, x.shape[3]):
                fail(name, "g", f"shape {(x.shape[0], oh, ow, x.shape[3])}", f"shape {g.shape}")
            return x.shape, x.dtype
        return (x.shape[0], oh, ow, x.shape[3]), x.dtype

    return rule


defop(
    "maxpool2d",
    _pool_rule("maxpool2d"),
    lambda g, out, xs, p: (apply("maxpool2d_grad", xs[0], g, **p),),
    cache=True,
)
defop("maxpool2d_grad", _pool_rule("maxpool2d_grad"), cache=True)
# avgpool2d_grad takes x for its shape only (a GPU kernel may ignore that buffer).
defop(
    "avgpool2d",
    _pool_rule("avgpool2d"),
    lambda g, out, xs, p: (apply("avgpool2d_grad", xs[0], g, **p),),
    cache=True,
)
defop("avgpool2d_grad", _pool_rule("avgpool2d_grad"), cache=True)


def _pool(name):
    def f(x, pool=2, strides=None, padding="valid"):
        check_tensor(name, "x", x)
        return apply(
            name, x, pool=pool, strides=pool if strides is None else strides, padding=padding
        )

    return f


def max_pool2d(x, pool=2, strides=None, padding="valid"):
    """Max over ``pool`` windows of NHWC ``x`` (strides default to ``pool``; padding 'valid'
    or 'same', padded cells never win).

    >>> import wasmdl as wl
    >>> wl.max_pool2d(wl.arange(16.0).reshape((1, 4, 4, 1)), 2).reshape((2, 2)).tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    return _pool("maxpool2d")(x, pool, strides, padding)


def avg_pool2d(x, pool=2, strides=None, padding="valid"):
    """Mean over ``pool`` windows of NHWC ``x``; with 'same' padding, padded cells are not
    counted (Keras's rule).

    >>> import wasmdl as wl
    >>> wl.avg_pool2d(wl.arange(16.0).reshape((1, 4, 4, 1)), 2).reshape((2, 2)).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    return _pool("avgpool2d")(x, pool, strides, padding)


# ----------------------------------------------------------------------------- 1-D (composites)
def _1d_padding(padding):
    return padding if isinstance(padding, str) else ((0, 0), _pads1(padding))


def _pads1(p):
    return (p, p) if isinstance(p, int) else tuple(p)


def conv1d(x, w, strides=1, padding="valid", dilation=1, groups=1):
    """1-D convolution of (N, L, C) ``x`` with a (K, C/groups, O) kernel, via conv2d.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> F.conv1d(wl.ones((1, 5, 2)), wl.ones((3, 2, 4)), padding="same").shape
    (1, 5, 4)
    """
    check_tensor_float("conv1d", "x", x, 3), check_tensor_float("conv1d", "w", w, 3)
    y = conv2d(
        _unsqueeze(x, 1),
        _unsqueeze(w, 0),
        (1, strides),
        _1d_padding(padding),
        (1, dilation),
        groups,
    )
    return _squeeze1(y)


def max_pool1d(x, pool=2, strides=None, padding="valid"):
    """Max over windows of (N, L, C) ``x``.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> F.max_pool1d(wl.arange(6.0).reshape((1, 6, 1)), 2).reshape((3,)).tolist()
    [1.0, 3.0, 5.0]
    """
    check_tensor_float("max_pool1d", "x", x, 3)
    s = pool if strides is None else strides
    return _squeeze1(max_pool2d(_unsqueeze(x, 1), (1, pool), (1, s), _1d_padding(padding)))


def avg_pool1d(x, pool=2, strides=None, padding="valid"):
    """Mean over windows of (N, L, C) ``x``.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> F.avg_pool1d(wl.arange(6.0).reshape((1, 6, 1)), 3).reshape((2,)).tolist()
    [1.0, 4.0]
    """
    check_tensor_float("avg_pool1d", "x", x, 3)
    s = pool if strides is None else strides
    return _squeeze1(avg_pool2d(_unsqueeze(x, 1), (1, pool), (1, s), _1d_padding(padding)))


def _unsqueeze(x, axis):
    return S.reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def _squeeze1(y):
    return S.reshape(y, y.shape[:1] + y.shape[2:])
