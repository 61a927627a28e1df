"""Fused optimizer updates on the WebGL2 backend (``adam_update``, ``sgd_update``: the optional
kernels ``Optimizer.step`` calls with handles, see ``optim/fused.py``).

The step's host values (``hp``: learning rate, step) arrive as a small texture the shader reads,
so a captured step replays with each step's values. A texture cannot be read and rendered in
one draw, so "in place" is done on the handles: one
draw writes the new parameter and state into fresh textures of the same geometry (several
render targets), then each handle takes its new texture's id and the fresh handle, holding the
old id, returns it to the pool. Every holder of a handle sees the update, as with numpy's
in-place kernels. The float32 operations follow ``numpy_step``'s order.

>>> sorted(step_kernels(None))
['adam_update', 'sgd_colsum', 'sgd_matmul', 'sgd_update']
"""

import math

import numpy as np

from .webgl_fused import Value
from .webgl_glsl import template
from .webgl_kernels import KERNELS, block_product, unpacking
from .webgl_plan import f32_bits


def _swap(handles, fresh):
    for h, f in zip(handles, fresh, strict=True):
        h.id, f.id = f.id, h.id  # f (about to die) gives the old texture back


def _draw(be, file, handles, inputs, params, name=None, subs=None):
    """One draw of ``file`` (entry ``name``, template ``subs``) writing new textures for
    ``handles`` (then swapped in)."""
    h0 = handles[0]
    fresh = [be.pool.alloc_texture(h0.w, h0.h, h0.fmt, be.plan) for _ in handles]
    name = name or file.split(".")[0]
    subs = subs or {}

    def source():
        return name, f"kernels/glsl/{file}", template(file, **subs)

    be._op = name
    be.draw((file, tuple(sorted(subs.items()))), source, params, inputs, fresh, h0.w * h0.h)
    _swap(handles, fresh)


def adam_update(be, xs, shape, dtype, params):
    """torch.optim.Adam (``decoupled``: AdamW) update of ``p``, ``m``, ``v`` (inputs ``p, g, hp,
    m, v``; ``hp`` = [lr, step] on the device, read by the shader); returns p's handle."""
    p, g, hp, m, v = (x._h for x in xs)
    b1, b2 = float(params["beta1"]), float(params["beta2"])
    ln = [math.log(b) if b > 0 else -math.inf for b in (b1, b2)]  # 1 - beta^t = -expm1(t ln)
    words = [
        1.0 - b1,
        1.0 - b2,
        b2,
        *ln,
        float(params["eps"]),
        float(params.get("weight_decay", 0)),
    ]
    flags = int(bool(params.get("decoupled"))) | 2 * int(bool(params.get("maximize")))
    _draw(be, "adam_update.glsl", [p, m, v], [p, g, m, v, hp],
          [f32_bits(np.float32(w)) for w in words] + [flags])  # fmt: skip
    return p


def sgd_update(be, xs, shape, dtype, params):
    """torch.optim.SGD's update of ``p`` (and ``buf`` when ``momentum``; inputs ``p, g, hp[,
    buf]``, ``hp`` = [lr, ...] on the device); returns p's handle."""
    p, g, hp = (x._h for x in xs[:3])
    momentum = float(params.get("momentum", 0.0))
    buf = xs[3]._h if momentum and len(xs) > 3 else None
    dampening = float(params.get("dampening", 0.0))
    flags = int(bool(params.get("nesterov"))) | 2 * int(bool(params.get("maximize")))
    flags |= 4 * int(bool(params.get("first"))) | 8 * int(bool(momentum))
    flags |= 16 * int(dampening != 0)
    words = [float(params.get("weight_decay", 0.0)), momentum, 1.0 - dampening]
    targets = [p, buf] if buf is not None else [p]
    _draw(be, "sgd_update.glsl", targets, [p, g, buf if buf is not None else p, hp],
          [f32_bits(np.float32(w)) for w in words] + [flags])  # fmt: skip
    return p


def sgd_colsum(be, xs, shape, dtype, params):
    """The rewrite's plain SGD on a bias from the leading-axis sum of its 2-D gradient source
    (inputs ``p, x, hp``): one draw, no gradient texture (kernels/glsl/sgd_colsum.glsl)."""
    p, x, hp = xs
    M, N = x.shape
    flags = int(bool(params.get("maximize")))
    _draw(be, "sgd_colsum.glsl", [p._h], [p._h, x._h, hp._h], [M, N, flags])
    return p._h


# unpack_block.glsl as sgd_matmul: the product's 4x4 blocks laid out and subtracted from p
SGD_UNPACK = {
    "UNIFORMS": "uniform sampler2D t1;\nuniform sampler2D t2;",
    "BIAS": "",
    "ACT": "texelFetch(t1, at(2, i), 0).r - ({{SIGN}}y) * texelFetch(t2, at(3, 0), 0).r",
}


def sgd_matmul(be, xs, shape, dtype, params):
    """The rewrite's plain SGD on a weight whose gradient is one GEMM (inputs ``p, a, b,
    hp``): ``p -= lr (a @ b)``. With the blocked product, the unpack pass does the update
    (unpack_block.glsl as sgd_matmul: no gradient texture, one draw fewer); otherwise the
    product, then sgd_update."""
    p, a, b, hp = xs
    maximize = bool(params.get("maximize"))
    trans = tuple(params.get("transpose", (False, False)))
    made = block_product(be, a, b, trans)
    if made is None:
        g = Value(KERNELS["matmul"](be, [a, b], shape, dtype, {"transpose": trans}), shape, dtype)
        return sgd_update(be, [p, g, hp], shape, dtype, {"maximize": maximize})
    M, N = shape
    subs = {**SGD_UNPACK, "ACT": SGD_UNPACK["ACT"].replace("{{SIGN}}", "-" if maximize else "")}
    _draw(be, "unpack_block.glsl", [p._h], [made[0], p._h, hp._h], [M, N, made[1]],
          "sgd_matmul", subs)  # fmt: skip
    return p._h


def step_kernels(be):
    """The update kernels of the op table (``ops.fused.SGD_UPDATE``/``ADAM_UPDATE``) and the
    rewrite's SGD targets (``sgd_colsum``, ``sgd_matmul``), called as every WebGL kernel is:
    ``kernel(backend, inputs, out_shape, out_dtype, params)``."""
    return {"adam_update": adam_update, "sgd_update": sgd_update, "sgd_colsum": sgd_colsum,
            "sgd_matmul": unpacking(sgd_matmul)}  # fmt: skip
