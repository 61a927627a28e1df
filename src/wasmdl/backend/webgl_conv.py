"""WebGL2 launchers for the convolution and pooling primitives (NHWC activations, HWIO
weights; see ``wasmdl/ops/conv.py``). Kernels: ``kernels/glsl/conv2d.glsl``,
``conv2d_grad_input.glsl``, ``conv2d_grad_weight.glsl`` (templates for one output channel per
fragment, or four -- ``LANES4``, operands packed along O, RGBA results laid out by
``unpack4.glsl`` -- where a group's output channels are a multiple of 4), ``pool2d.glsl``,
``pool2d_grad.glsl``;
the parameter layouts are the WebGPU kernels' (``webgpu_conv.conv_params``/``pool_params``).

>>> sorted(CONV_KERNELS)[:3]
['avgpool2d', 'avgpool2d_grad', 'conv2d']
"""

import math

import numpy as np

from .webgl_glsl import EPILOGUE_ACT, pack4, reduce_rows, simple, template
from .webgpu_conv import conv_params, pool_params

FRAGMENTS = 16384  # split conv2d_grad_weight's sums until about this many fragments


# the conv2d_* templates' lanes: one output channel per fragment, or four (operands packed
# along O, RGBA32F results laid out by unpack4.glsl)
LANES1 = {"L": "1", "VT": "float", "WREAD": ".r", "GREAD": ".r", "DOT": "mul_r"}
LANES4 = {"L": "4", "VT": "vec4", "WREAD": "", "GREAD": "", "DOT": "dot"}

# conv2d.glsl's substitutions: the plain convolution, and a Conv2D layer's bias + activation
CONV = {"UNIFORMS": "", "BIAS": "", "ACT": "y"}
CONV_BIAS = {"UNIFORMS": "uniform sampler2D t2;", "BIAS": "y += texelFetch(t2, at(3, oc), 0).r;"}
# ... with four lanes: the bias of channels oc .. oc + 3
CONV_BIAS4 = {
    "UNIFORMS": "uniform sampler2D t2;",
    "BIAS": "y += vec4(texelFetch(t2, at(3, oc), 0).r, texelFetch(t2, at(3, oc + 1), 0).r, "
    "texelFetch(t2, at(3, oc + 2), 0).r, texelFetch(t2, at(3, oc + 3), 0).r);",
}


def _conv(be, name, x, w, b, shape, dtype, p, act="linear"):
    """conv2d / conv2d_bias (conv2d.glsl): four output channels per fragment (weights packed
    along O, then unpack4.glsl) when a group's output channels are a multiple of 4 and the
    tensor is float32; else one per fragment."""
    params = conv_params(x.shape, w.shape, shape, p)
    n = math.prod(shape)
    bias = [b._h] if b is not None else []
    if not _oc4(params, dtype, n):
        subs = {**LANES1, **(CONV_BIAS if bias else CONV), "ACT": EPILOGUE_ACT[act]}
        return simple(be, "conv2d.glsl", name, subs, params, [x._h, w._h, *bias], shape, dtype)
    subs = {**LANES4, **(CONV_BIAS4 if bias else CONV), "ACT": EPILOGUE_ACT[act]}
    texels = _draw4(be, name, "conv2d.glsl", params,
                    [x._h, _packed(be, w, params, "w"), *bias], n // 4, subs)  # fmt: skip
    return simple(be, "unpack4.glsl", name, {}, [], [texels], shape, dtype)


def _conv2d(be, xs, shape, dtype, p):
    x, w = xs
    return _conv(be, "conv2d", x, w, None, shape, dtype, p)


def _conv2d_bias(be, xs, shape, dtype, p):
    """The rewrite target for a Conv2D layer, act(conv2d(x, w) + b): the bias and activation
    in the convolution's own pass."""
    x, w, b = xs
    act = p.get("activation", "linear")
    if act not in EPILOGUE_ACT:
        raise ValueError(f"conv2d_bias: argument 'activation' expected one of "
                         f"{sorted(EPILOGUE_ACT)}, received {act!r}")  # fmt: skip
    return _conv(be, "conv2d_bias", x, w, b, shape, dtype, p, act)


def _oc4(params, dtype, n) -> bool:
    """Whether the four-output-channels kernels take this convolution: float32, something to
    compute, and a group's output channels a multiple of 4."""
    return dtype == np.float32 and n > 0 and (params[6] // params[10]) % 4 == 0


def _packed(be, t, params, which):
    """HWIO weights (``which`` "w") or NHWC output gradients ("g") packed along O: texel
    row * O4 + q holds channels 4q .. 4q + 3 of row (tap * CG + c, or output pixel)."""
    O = params[6]
    rows = params[7] * params[8] * params[9] if which == "w" else params[0] * params[4] * params[5]
    return pack4(be, t._h, 1, rows, O, 0, O, 1)


def _draw4(be, name, file, params, inputs, texels, subs=None):
    """One draw of ``file`` (template ``subs``) writing ``texels`` RGBA32F texels (four floats
    each)."""
    out = be.alloc((texels,), np.dtype("float32"), fmt=2)
    subs = subs or {}

    def source():
        return name, f"kernels/glsl/{file}", template(file, **subs)

    be.draw((file, tuple(sorted(subs.items()))), source, params, inputs, out, texels)
    return out


def _conv2d_grad_input(be, xs, shape, dtype, p):
    g, w = xs
    params = conv_params(shape, w.shape, g.shape, p)
    name = "conv2d_grad_input"
    if not _oc4(params, dtype, math.prod(shape)):
        return simple(be, f"{name}.glsl", name, LANES1, params, [g._h, w._h], shape, dtype)
    packed = [_packed(be, g, params, "g"), _packed(be, w, params, "w")]
    return simple(be, f"{name}.glsl", name, LANES4, params, packed, shape, dtype)


def _conv2d_grad_weight(be, xs, shape, dtype, p):
    x, g = xs
    params = conv_params(x.shape, shape, g.shape, p)
    nw, rows = math.prod(shape), max(1, params[0] * params[4])  # weights; N*OH rows
    oc4 = _oc4(params, dtype, nw)
    per_fragment = 4 if oc4 else 1
    nch = max(1, min(rows, -(-FRAGMENTS * per_fragment // max(nw, 1))))
    per = -(-rows // nch)
    nch = -(-rows // per)
    name = "conv2d_grad_weight"
    if oc4:  # four output channels per fragment, G packed along O
        texels = _draw4(be, name, f"{name}.glsl", [*params, per, nw // 4],
                        [x._h, _packed(be, g, params, "g")], nch * nw // 4, LANES4)  # fmt: skip
        part = simple(be, "unpack4.glsl", name, {}, [], [texels], (nch, *shape), dtype)
    else:
        part = simple(be, f"{name}.glsl", name, LANES1, [*params, per, nw], [x._h, g._h],
                      (nch, *shape), dtype)  # fmt: skip
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
