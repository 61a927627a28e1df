"""Case rows for convolution, pooling and the composites (activations, softmax family,
dropout, normalisation maths); see ``cases`` for the ``Case`` machinery.

>>> from wasmdl.testing import CASES
>>> any(c.name.startswith("conv2d") for c in CASES)
True
"""

import numpy as np

import wasmdl as wl
import wasmdl.functional as Fn

from . import refs
from .cases import C, Case, F, P, U, _sh, add


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


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

# Kinks hit exactly: gradients there follow PyTorch (no finite differences at a kink).
add(
    Case(
        "relu-at-0",
        Fn.relu,
        lambda x: np.maximum(x, 0),
        [C((6,), [-1.0, 0.0, 2.0])],
        lambda T, x: T.relu(x),
        fd=False,
    ),
    Case(
        "leaky_relu-at-0",
        lambda x: Fn.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        [C((6,), [-1.0, 0.0, 2.0])],
        lambda T, x: T.nn.functional.leaky_relu(x, 0.2),
        fd=False,
    ),
    Case(
        "relu6-at-bounds",
        Fn.relu6,
        lambda x: np.clip(x, 0, 6),
        [C((8,), [-1.0, 0.0, 3.0, 6.0])],
        lambda T, x: T.nn.functional.relu6(x),
        fd=False,
    ),
    Case(
        "hard_sigmoid-at-bounds",
        Fn.hard_sigmoid,
        lambda x: np.clip(x / 6 + 0.5, 0, 1),
        [C((8,), [-3.0, 0.0, 3.0, 4.0])],
        lambda T, x: T.nn.functional.hardsigmoid(x),
        fd=False,
    ),
    Case(
        "maximum-ties", wl.maximum, np.maximum, [C((6,), [0.0, 1.0]), C((6,), [0.0, 1.0])], fd=False
    ),
)
