"""WebGL2 launchers for the convolution and pooling primitives (NHWC activations, HWIO
weights; see ``wasmdl/ops/conv.py``). Kernels: ``kernels/glsl/conv2d.glsl``,
``conv2d_grad_input.glsl``, ``conv2d_grad_weight.glsl``, ``pool2d.glsl``, ``pool2d_grad.glsl``;
the parameter layouts are the WebGPU kernels' (``webgpu_conv.conv_params``/``pool_params``).

>>> sorted(CONV_KERNELS)[:3]
['avgpool2d', 'avgpool2d_grad', 'conv2d']
"""

import math

from .webgl_glsl import EPILOGUE_ACT, reduce_rows, simple
from .webgpu_conv import conv_params, pool_params

FRAGMENTS = 16384  # split conv2d_grad_weight's sums until about this many fragments


# conv2d.glsl's substitutions: the plain convolution, and a Conv2D layer's bias + activation
CONV = {"UNIFORMS": "", "BIAS": "", "ACT": "y"}
CONV_BIAS = {"UNIFORMS": "uniform sampler2D t2;", "BIAS": "y += texelFetch(t2, at(3, oc), 0).r;"}


def _conv2d(be, xs, shape, dtype, p):
    x, w = xs
    params = conv_params(x.shape, w.shape, shape, p)
    return simple(be, "conv2d.glsl", "conv2d", CONV, params, [x._h, w._h], shape, dtype)


def _conv2d_bias(be, xs, shape, dtype, p):
    """The rewrite target for a Conv2D layer, act(conv2d(x, w) + b): the bias and activation
    in the convolution's own draw (conv2d.glsl as conv2d_bias)."""
    x, w, b = xs
    act = p.get("activation", "linear")
    if act not in EPILOGUE_ACT:
        raise ValueError(f"conv2d_bias: argument 'activation' expected one of "
                         f"{sorted(EPILOGUE_ACT)}, received {act!r}")  # fmt: skip
    params = conv_params(x.shape, w.shape, shape, p)
    subs = {**CONV_BIAS, "ACT": EPILOGUE_ACT[act]}
    return simple(be, "conv2d.glsl", "conv2d_bias", subs, params, [x._h, w._h, b._h], shape,
                  dtype)  # fmt: skip


def _conv2d_grad_input(be, xs, shape, dtype, p):
    g, w = xs
    params = conv_params(shape, w.shape, g.shape, p)
    name = "conv2d_grad_input"
    return simple(be, f"{name}.glsl", name, {}, params, [g._h, w._h], shape, dtype)


def _conv2d_grad_weight(be, xs, shape, dtype, p):
    x, g = xs
    params = conv_params(x.shape, shape, g.shape, p)
    nw, rows = math.prod(shape), max(1, params[0] * params[4])  # weights; N*OH rows
    nch = max(1, min(rows, -(-FRAGMENTS // max(nw, 1))))
    per = -(-rows // nch)
    nch = -(-rows // per)
    name = "conv2d_grad_weight"
    part = simple(
        be, f"{name}.glsl", name, {}, [*params, per, nw], [x._h, g._h], (nch, *shape), dtype
    )
    if nch == 1:
        return part
    return reduce_rows(be, "sum", part, dtype, nch, nw)


def _pool(name, is_max):
    def launch(be, xs, shape, dtype, p):
        (x,) = xs
        params = pool_params(x.shape, shape, p)
        return simple(be, "pool2d.glsl", name, {"MAX": is_max}, params, [x._h], shape, dtype)

    return launch


def _pool_grad(name, is_max):
    def launch(be, xs, shape, dtype, p):
        x, g = xs
        params = pool_params(x.shape, g.shape, p)
        subs = {"MAX": is_max}
        return simple(be, "pool2d_grad.glsl", name, subs, params, [x._h, g._h], shape, dtype)

    return launch


CONV_KERNELS = {
    "conv2d": _conv2d,
    "conv2d_bias": _conv2d_bias,
    "conv2d_grad_input": _conv2d_grad_input,
    "conv2d_grad_weight": _conv2d_grad_weight,
    "maxpool2d": _pool("maxpool2d", "true"),
    "avgpool2d": _pool("avgpool2d", "false"),
    "maxpool2d_grad": _pool_grad("maxpool2d_grad", "true"),
    "avgpool2d_grad": _pool_grad("avgpool2d_grad", "false"),
}
