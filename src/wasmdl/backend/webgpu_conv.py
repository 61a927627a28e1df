"""WebGPU launchers for the convolution and pooling primitives (NHWC activations, HWIO
weights; see ``wasmdl/ops/conv.py``). Kernels: ``conv2d.wgsl``, ``conv2d_grad_input.wgsl``,
``conv2d_grad_weight.wgsl``, ``pool2d.wgsl``, ``pool2d_grad.wgsl``.

>>> sorted(CONV_KERNELS)[:3]
['avgpool2d', 'avgpool2d_grad', 'conv2d']
"""

import math

from .webgpu_wgsl import simple


def conv_params(xshape, wshape, oshape, p):
    """[N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw, pad_top, pad_left]"""
    n, h, w, c = xshape
    kh, kw, cg, o = wshape
    (pt, _), (pl, _) = p["padding"]
    return [
        n,
        h,
        w,
        c,
        oshape[1],
        oshape[2],
        o,
        kh,
        kw,
        cg,
        p["groups"],
        *p["strides"],
        *p["dilation"],
        pt,
        pl,
    ]


def _conv2d(be, xs, shape, dtype, p):
    x, w = xs
    params = conv_params(x.shape, w.shape, shape, p)
    n = math.prod(shape)
    if (w.shape[3] // p["groups"]) % 4 == 0:  # 4 output channels per thread
        name, n = "conv2d_vec4", n // 4
    else:
        name = "conv2d"
    return simple(be, f"{name}.wgsl", name, {}, params, n, [x._h, w._h], shape, dtype)


def _conv2d_grad_input(be, xs, shape, dtype, p):
    g, w = xs
    params = conv_params(shape, w.shape, g.shape, p)
    return simple(
        be,
        "conv2d_grad_input.wgsl",
        "conv2d_grad_input",
        {},
        params,
        math.prod(shape),
        [g._h, w._h],
        shape,
        dtype,
    )


def _conv2d_grad_weight(be, xs, shape, dtype, p):
    x, g = xs
    params = conv_params(x.shape, shape, g.shape, p)
    return simple(
        be,
        "conv2d_grad_weight.wgsl",
        "conv2d_grad_weight",
        {},
        params,
        math.prod(shape),
        [x._h, g._h],
        shape,
        dtype,
        per_group=64,
    )


def pool_params(xshape, oshape, p):
    """[N, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, pad_top, pad_left]"""
    (pt, _), (pl, _) = p["padding"]
    return [
        *xshape,
        oshape[1],
        oshape[2],
        *p["pool"],
        *p["strides"],
        *p.get("dilation", (1, 1)),
        pt,
        pl,
    ]


def _pool(name, is_max):
    def launch(be, xs, shape, dtype, p):
        (x,) = xs
        return simple(
            be,
            "pool2d.wgsl",
            name,
            {"NAME": name, "MAX": is_max},
            pool_params(x.shape, shape, p),
            math.prod(shape),
            [x._h],
            shape,
            dtype,
        )

    return launch


def _pool_grad(name, is_max):
    def launch(be, xs, shape, dtype, p):
        x, g = xs
        return simple(
            be,
            "pool2d_grad.wgsl",
            name,
            {"NAME": name, "MAX": is_max},
            pool_params(x.shape, g.shape, p),
            math.prod(shape),
            [x._h, g._h],
            shape,
            dtype,
        )

    return launch


CONV_KERNELS = {
    "conv2d": _conv2d,
    "conv2d_grad_input": _conv2d_grad_input,
    "conv2d_grad_weight": _conv2d_grad_weight,
    "maxpool2d": _pool("maxpool2d", "true"),
    "avgpool2d": _pool("avgpool2d", "false"),
    "maxpool2d_grad": _pool_grad("maxpool2d_grad", "true"),
    "avgpool2d_grad": _pool_grad("avgpool2d_grad", "false"),
}
