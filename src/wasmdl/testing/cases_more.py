"""Case rows for reductions, matmul, shapes, indexing, convolution, pooling and composites
(the elementwise rows and the ``Case`` machinery are in ``cases``).

>>> from wasmdl.testing.cases import CASES
>>> any(c.name.startswith("conv2d") for c in CASES)
True
"""

import numpy as np

import wasmdl as wl
import wasmdl.functional as Fn

from . import refs
from .cases import B, C, Case, F, I, P, U, _sh, add


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


# ----------------------------------------------------------------------------- reductions
for axis, keep, shape in [
    (None, False, (3, 4)),
    (0, False, (3, 4)),
    (-1, True, (2, 3, 4)),
    ((0, 2), False, (2, 3, 4)),
    (None, True, (5,)),
    (1, False, (2, 1)),
    ((), False, (2, 3)),
]:
    tag = f"{_sh(shape)}-ax{axis}-k{int(keep)}".replace(" ", "")
    dims = tuple(range(len(shape))) if axis is None else axis

    def tdims(d=dims):
        return d if d != () else None

    add(
        Case(
            f"sum-{tag}",
            lambda x, a=axis, k=keep: wl.sum(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.sum(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: x.sum(dim=d, keepdim=k)),
        ),
        Case(
            f"mean-{tag}",
            lambda x, a=axis, k=keep: wl.mean(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.mean(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: x.mean(dim=d, keepdim=k)),
        ),
        Case(
            f"max-{tag}",
            lambda x, a=axis, k=keep: wl.max(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.max(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: T.amax(x, dim=d, keepdim=k)),
        ),
        Case(
            f"min-{tag}",
            lambda x, a=axis, k=keep: wl.min(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.min(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: T.amin(x, dim=d, keepdim=k)),
        ),
    )
add(
    Case(
        "sum-zero-size",
        lambda x: wl.sum(x, axis=0),
        lambda x: np.sum(x, axis=0),
        [F(0, 3)],
        lambda T, x: x.sum(dim=0),
    ),
    Case(
        "sum-int",
        lambda x: wl.sum(x, axis=1),
        lambda x: np.sum(x, axis=1).astype(np.int32),
        [I((3, 4), -9, 9)],
    ),
    Case("sum-bool", lambda x: wl.sum(x), lambda x: np.sum(x).astype(np.int32), [B(7)]),
    Case(
        "max-ties",
        lambda x: wl.max(x, axis=1),
        lambda x: np.max(x, axis=1),
        [I((3, 4), 0, 2)],
        grad=False,
    ),
    Case(
        "max-ties-grad",
        lambda x: wl.max(x, axis=1),
        lambda x: np.max(x, axis=1),
        [C((3, 4), [-1.0, 0.5, 2.0])],
        lambda T, x: T.amax(x, dim=1),
        fd=False,
    ),
    Case(
        "min-ties-grad",
        lambda x: wl.min(x, axis=(0, 1)),
        lambda x: np.min(x, axis=(0, 1)),
        [C((3, 4), [-1.0, 0.5])],
        lambda T, x: T.amin(x, dim=(0, 1)),
        fd=False,
    ),
    Case(
        "argmax-all",
        lambda x: wl.argmax(x),
        lambda x: np.argmax(x).astype(np.int32),
        [F(3, 4)],
        grad=False,
    ),
    Case(
        "argmax-ax1",
        lambda x: wl.argmax(x, axis=1),
        lambda x: np.argmax(x, 1).astype(np.int32),
        [F(3, 4)],
        grad=False,
    ),
    Case(
        "argmax-ax0-k",
        lambda x: wl.argmax(x, axis=0, keepdims=True),
        lambda x: np.argmax(x, 0, keepdims=True).astype(np.int32),
        [F(2, 3, 2)],
        grad=False,
    ),
)

# ----------------------------------------------------------------------------- matmul
for sa, sb in [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 2)),
    ((1, 4), (4, 1)),
    ((2, 3, 4), (2, 4, 5)),
]:
    add(
        Case(f"matmul-{_sh(sa, sb)}", wl.matmul, np.matmul, [F(*sa), F(*sb)], lambda T, a, b: a @ b)
    )
add(
    Case(
        "matmul-T",
        lambda a, b: a @ b.T,
        lambda a, b: a @ b.T,
        [F(3, 4), F(5, 4)],
        lambda T, a, b: a @ b.T,
    )
)
add(Case("matmul-int", wl.matmul, np.matmul, [I((2, 3), -3, 3), I((3, 2), -3, 3)]))
add(
    Case(
        "linear",
        Fn.linear,
        lambda x, w, b: x @ w + b,
        [F(4, 3), F(3, 5), F(5)],
        lambda T, x, w, b: x @ w + b,
    )
)

# ----------------------------------------------------------------------------- shapes
add(
    Case(
        "reshape",
        lambda x: x.reshape((4, -1)),
        lambda x: x.reshape(4, -1),
        [F(2, 3, 2)],
        lambda T, x: x.reshape(4, -1),
    ),
    Case(
        "reshape-scalar",
        lambda x: x.reshape((1, 1)),
        lambda x: x.reshape(1, 1),
        [F()],
        lambda T, x: x.reshape(1, 1),
    ),
    Case("reshape-zero", lambda x: x.reshape((3, 0)), lambda x: x.reshape(3, 0), [F(0, 3)]),
    Case("transpose", lambda x: x.T, lambda x: x.T, [F(2, 3)], lambda T, x: x.T),
    Case(
        "permute",
        lambda x: wl.permute(x, (2, 0, 1)),
        lambda x: x.transpose(2, 0, 1),
        [F(2, 3, 4)],
        lambda T, x: x.permute(2, 0, 1),
    ),
    Case(
        "expand",
        lambda x: wl.expand(x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        [F(3, 1)],
        lambda T, x: x.expand(2, 3, 4),
    ),
    Case(
        "expand-scalar",
        lambda x: wl.expand(x, (2, 2)),
        lambda x: np.broadcast_to(x, (2, 2)),
        [F()],
        lambda T, x: x.expand(2, 2),
    ),
    Case("squeeze", lambda x: wl.squeeze(x, 1), lambda x: np.squeeze(x, 1), [F(3, 1, 2)]),
    Case("expand_dims", lambda x: wl.expand_dims(x, -1), lambda x: x[..., None], [F(3, 2)]),
    Case("flatten", lambda x: wl.flatten(x, 1), lambda x: x.reshape(2, -1), [F(2, 3, 2)]),
)
for key, tag in [
    ((slice(1, None), slice(None, None, 2)), "1:,::2"),
    ((slice(None, None, -1),), "::-1"),
    ((1,), "1"),
    ((-1, slice(None, 1)), "-1,:1"),
    ((Ellipsis, None, 0), "...,None,0"),
    ((slice(5, 9),), "5:9"),
    ((slice(None, None, -2), slice(3, 0, -1)), "::-2,3:0:-1"),
]:
    negative = any(isinstance(k, slice) and (k.step or 1) < 0 for k in key)  # torch lacks them
    add(
        Case(
            f"getitem-[{tag}]",
            lambda x, k=key: x[k],
            lambda x, k=key: x[k],
            [F(4, 5)],
            None if negative else (lambda T, x, k=key: x[k]),
        )
    )
add(
    Case(
        "slice-fn",
        lambda x: wl.slice(x, (0, 1), (2, -1), (1, 2)),
        lambda x: x[0:2, 1:-1:2],
        [F(3, 6)],
        lambda T, x: x[0:2, 1:-1:2],
    ),
    Case(
        "concat",
        lambda a, b: wl.concat([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], 1),
        [F(2, 3), F(2, 1)],
        lambda T, a, b: T.cat([a, b], 1),
    ),
    Case(
        "concat-3",
        lambda a, b, c: wl.concat([a, b, c], axis=0),
        lambda a, b, c: np.concatenate([a, b, c]),
        [F(1, 2), F(0, 2), F(3, 2)],
        lambda T, a, b, c: T.cat([a, b, c], 0),
    ),
    Case(
        "stack",
        lambda a, b: wl.stack([a, b], axis=1),
        lambda a, b: np.stack([a, b], 1),
        [F(2, 3), F(2, 3)],
        lambda T, a, b: T.stack([a, b], 1),
    ),
    Case(
        "stack-scalars",
        lambda a, b: wl.stack([a, b]),
        lambda a, b: np.stack([a, b]),
        [F(), F()],
        lambda T, a, b: T.stack([a, b]),
    ),
    Case(
        "pad",
        lambda x: wl.pad(x, ((1, 0), (2, 1))),
        lambda x: np.pad(x, ((1, 0), (2, 1))),
        [F(2, 3)],
        lambda T, x: T.nn.functional.pad(x, (2, 1, 1, 0)),
    ),
    Case(
        "pad-value",
        lambda x: wl.pad(x, ((0, 2),), 1.5),
        lambda x: np.pad(x, ((0, 2),), constant_values=1.5),
        [F(3)],
    ),
    Case(
        "gather-ax0",
        lambda x, i: wl.gather(x, i),
        lambda x, i: np.take(x, i, 0),
        [F(5, 3), I((2, 4), 0, 5)],
        lambda T, x, i: x[i.long()],
    ),
    Case(
        "gather-ax1",
        lambda x, i: wl.gather(x, i, axis=1),
        lambda x, i: np.take(x, i, 1),
        [F(2, 4), I((3,), 0, 4)],
        lambda T, x, i: x[:, i.long()],
    ),
    Case("getitem-index", lambda x, i: x[i], lambda x, i: x[i], [F(4, 2), I((5,), 0, 4)]),
    Case("getitem-mask", lambda x, m: x[m], lambda x, m: x[m], [F(3, 4), B(3, 4)]),
    Case(
        "one_hot", lambda i: wl.one_hot(i, 4), lambda i: np.eye(4)[i], [I((2, 3), 0, 4)], grad=False
    ),
)

# ----------------------------------------------------------------------------- conv / pool
CONVS = [  # x shape, w shape, kwargs
    ((2, 5, 5, 3), (3, 3, 3, 4), {}),
    ((1, 6, 5, 2), (3, 2, 2, 3), {"padding": "same"}),
    ((2, 7, 6, 3), (3, 3, 3, 2), {"strides": 2, "padding": "same"}),
    ((1, 7, 7, 2), (3, 3, 2, 2), {"dilation": 2}),
    ((1, 6, 6, 4), (3, 3, 2, 6), {"groups": 2, "padding": "same"}),
    ((2, 5, 5, 3), (3, 3, 1, 6), {"groups": 3}),  # depthwise, multiplier 2
    ((1, 5, 6, 2), (2, 3, 2, 3), {"strides": (2, 1), "padding": ((1, 0), (2, 1))}),
    ((0, 4, 4, 2), (3, 3, 2, 2), {}),
    ((1, 3, 3, 1), (1, 1, 1, 2), {}),
]


def _torch_conv(kw):
    def f(T, x, w):
        pads = refs.conv_pads(
            kw.get("padding", "valid"),
            x.shape[1:3],
            w.shape[:2],
            refs.pair(kw.get("strides", 1)),
            refs.pair(kw.get("dilation", 1)),
        )
        xp = T.nn.functional.pad(nchw(x), (*pads[1], *pads[0]))
        y = T.nn.functional.conv2d(
            xp,
            w.permute(3, 2, 0, 1),
            stride=kw.get("strides", 1),
            dilation=kw.get("dilation", 1),
            groups=kw.get("groups", 1),
        )
        return nhwc(y)

    return f


for xs, ws, kw in CONVS:
    add(
        Case(
            f"conv2d-{_sh(xs, ws)}-{sorted(kw.items())}".replace(" ", ""),
            lambda x, w, k=kw: wl.conv2d(x, w, **k),
            lambda x, w, k=kw: refs.conv2d(x, w, **k),
            [F(*xs), F(*ws)],
            _torch_conv(kw),
        )
    )
add(
    Case(
        "conv1d-same-s2",
        lambda x, w: wl.conv1d(x, w, strides=2, padding="same"),
        lambda x, w: refs.conv2d(x[:, None], w[None], strides=(1, 2), padding="same")[:, 0],
        [F(2, 7, 3), F(3, 3, 4)],
        lambda T, x, w: _torch_conv({"strides": (1, 2), "padding": "same"})(T, x[:, None], w[None])[
            :, 0
        ],
    )
)
POOLS = [
    ((2, 6, 6, 3), {"pool": 2}),
    ((1, 7, 5, 2), {"pool": 3, "strides": 2}),
    ((1, 5, 5, 2), {"pool": 2, "padding": "same"}),
    ((1, 4, 6, 1), {"pool": (2, 3)}),
]
for xs, kw in POOLS:
    tag = f"{_sh(xs)}-{sorted(kw.items())}".replace(" ", "")
    valid = kw.get("padding", "valid") == "valid"
    add(
        Case(
            f"max_pool2d-{tag}",
            lambda x, k=kw: wl.max_pool2d(x, **k),
            lambda x, k=kw: refs.max_pool2d(x, **k),
            [F(*xs)],
            (
                lambda T, x, k=kw: nhwc(
                    T.nn.functional.max_pool2d(nchw(x), k["pool"], k.get("strides"))
                )
            )
            if valid
            else None,
        ),
        Case(
            f"avg_pool2d-{tag}",
            lambda x, k=kw: wl.avg_pool2d(x, **k),
            lambda x, k=kw: refs.avg_pool2d(x, **k),
            [F(*xs)],
            (
                lambda T, x, k=kw: nhwc(
                    T.nn.functional.avg_pool2d(nchw(x), k["pool"], k.get("strides"))
                )
            )
            if valid
            else None,
        ),
    )
add(
    Case(
        "max_pool1d",
        lambda x: Fn.max_pool1d(x, 2),
        lambda x: refs.max_pool2d(x[:, None], (1, 2))[:, 0],
        [F(2, 6, 3)],
    ),
    Case(
        "avg_pool1d-same",
        lambda x: Fn.avg_pool1d(x, 3, 2, "same"),
        lambda x: refs.avg_pool2d(x[:, None], (1, 3), (1, 2), "same")[:, 0],
        [F(1, 7, 2)],
    ),
)

# ----------------------------------------------------------------------------- composites
SQ2 = np.sqrt(2 / np.pi)
ACTS = [
    ("relu", Fn.relu, lambda x: np.maximum(x, 0), lambda T, x: T.relu(x)),
    ("relu6", Fn.relu6, lambda x: np.clip(x, 0, 6), lambda T, x: T.nn.functional.relu6(x)),
    (
        "leaky_relu",
        lambda x: Fn.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        lambda T, x: T.nn.functional.leaky_relu(x, 0.2),
    ),
    (
        "elu",
        Fn.elu,
        lambda x: np.where(x > 0, x, np.exp(x) - 1),
        lambda T, x: T.nn.functional.elu(x),
    ),
    (
        "selu",
        Fn.selu,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
        lambda T, x: T.selu(x),
    ),
    ("gelu", Fn.gelu, refs.gelu, lambda T, x: T.nn.functional.gelu(x)),
    (
        "gelu-tanh",
        lambda x: Fn.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(SQ2 * (x + 0.044715 * x**3))),
        lambda T, x: T.nn.functional.gelu(x, approximate="tanh"),
    ),
    (
        "softplus",
        Fn.softplus,
        lambda x: np.log1p(np.exp(x)),
        lambda T, x: T.nn.functional.softplus(x),
    ),
    (
        "softsign",
        Fn.softsign,
        lambda x: x / (1 + np.abs(x)),
        lambda T, x: T.nn.functional.softsign(x),
    ),
    ("silu", Fn.silu, lambda x: x / (1 + np.exp(-x)), lambda T, x: T.nn.functional.silu(x)),
    (
        "hard_sigmoid",
        Fn.hard_sigmoid,
        lambda x: np.clip(x / 6 + 0.5, 0, 1),
        lambda T, x: T.nn.functional.hardsigmoid(x),
    ),
    (
        "mish",
        Fn.mish,
        lambda x: x * np.tanh(np.log1p(np.exp(x))),
        lambda T, x: T.nn.functional.mish(x),
    ),
    ("square", Fn.square, np.square, lambda T, x: x * x),
    (
        "clip",
        lambda x: Fn.clip(x, -0.5, 1.0),
        lambda x: np.clip(x, -0.5, 1.0),
        lambda T, x: x.clamp(-0.5, 1.0),
    ),
]
for name, fn, ref, tf in ACTS:
    add(
        Case(f"{name}", fn, ref, [U((3, 5), -4, 4)], tf),
        Case(f"{name}-zero", fn, ref, [F(0, 2)], tf),
    )
add(
    Case(
        "softplus-large",
        Fn.softplus,
        lambda x: np.logaddexp(0, x),
        [U((6,), -60, 60)],
        lambda T, x: T.nn.functional.softplus(x),
    )
)
for axis in (-1, 0):
    add(
        Case(
            f"softmax-ax{axis}",
            lambda x, a=axis: Fn.softmax(x, a),
            lambda x, a=axis: refs.softmax(x, a),
            [F(3, 4)],
            lambda T, x, a=axis: T.softmax(x, a),
        ),
        Case(
            f"log_softmax-ax{axis}",
            lambda x, a=axis: Fn.log_softmax(x, a),
            lambda x, a=axis: np.log(refs.softmax(x, a)),
            [F(3, 4)],
            lambda T, x, a=axis: T.log_softmax(x, a),
        ),
        Case(
            f"logsumexp-ax{axis}",
            lambda x, a=axis: Fn.logsumexp(x, a),
            lambda x, a=axis: refs.logsumexp(x, a),
            [F(2, 3, 4)],
            lambda T, x, a=axis: T.logsumexp(x, a),
        ),
    )
add(
    Case(
        "softmax-large",
        Fn.softmax,
        refs.softmax,
        [U((2, 3), 500, 600)],
        lambda T, x: T.softmax(x, -1),
    ),
    Case(
        "dropout",
        lambda x: Fn.dropout(x, 0.4, generator=wl.Generator(7)),
        lambda x: np.where(
            np.random.default_rng(7).uniform(0, 1, x.shape).astype(np.float32) >= 0.4, x / 0.6, 0.0
        ),
        [F(4, 5)],
    ),
    Case("dropout-eval", lambda x: Fn.dropout(x, 0.4, training=False), lambda x: x, [F(3)]),
    Case(
        "layer_norm",
        lambda x, g, b: Fn.layer_norm(x, g, b),
        lambda x, g, b: (
            (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
        ),
        [F(3, 6), F(6), F(6)],
        lambda T, x, g, b: T.nn.functional.layer_norm(x, (6,), g, b, 1e-5),
    ),
    Case(
        "batch_norm",
        lambda x, m, v, g, b: Fn.batch_norm(x, m, v, g, b),
        lambda x, m, v, g, b: (x - m) / np.sqrt(v + 1e-3) * g + b,
        [F(4, 3), F(3), P(3), F(3), F(3)],
        lambda T, x, m, v, g, b: (x - m) / T.sqrt(v + 1e-3) * g + b,  # F.batch_norm: no stats grads
    ),
    Case(
        "moments",
        lambda x: Fn.moments(x, 0)[1],
        lambda x: x.var(0),
        [F(5, 2)],
        lambda T, x: x.var(0, unbiased=False),
    ),
)
