"""WebGL2 launchers for joining and indexing primitives: concat (one draw per input, each
reading the previous partial result: a fragment shader cannot scatter), pad, gather,
scatter_add (its VJP, race-free: one fragment per output element) and slice_grad.

>>> sorted(INDEX_KERNELS)
['concat', 'gather', 'pad', 'scatter_add', 'slice_grad']
"""

import math

import numpy as np

from .webgl_glsl import GL, simple, template, typed
from .webgpu_wgsl import contiguous_strides


def _concat(be, xs, shape, dtype, p):
    ax = p["axis"]
    n = math.prod(shape)
    subs = typed(dtype)
    prev = None
    start = 0
    for x in xs:
        size = x.shape[ax]
        if math.prod(x.shape) or prev is None:
            out = be.alloc(shape, dtype)
            if n:
                params = [len(shape), *shape, ax, start, size]

                def source():
                    return "concat", "kernels/glsl/concat.glsl", template("concat.glsl", **subs)

                src = x._h if prev is None else prev
                be.draw(("concat.glsl", subs["T"]), source, params, [src, x._h], out, n)
            prev = out
        start += size
    return prev


def _pad(be, xs, shape, dtype, p):
    (x,) = xs
    t = GL[dtype][0]
    word = np.array(p["value"], dtype).astype(np.float32 if t == "float" else np.int32)
    value = int(word.reshape(1).view(np.int32)[0])
    subs = {**typed(dtype), "VALUE": "intBitsToFloat(v)" if t == "float" else "v"}
    params = [len(shape), *shape, *(b for b, _ in p["pads"]), *x.shape, value]
    return simple(be, "pad.glsl", "pad", subs, params, [x._h], shape, dtype)


def _take_params(full_shape, idx, ax):
    return [math.prod(idx.shape), full_shape[ax], math.prod(full_shape[ax + 1 :])]


def _gather(be, xs, shape, dtype, p):
    x, idx = xs
    params = _take_params(x.shape, idx, p["axis"])
    return simple(be, "gather.glsl", "gather", typed(dtype), params, [x._h, idx._h], shape, dtype)


def _scatter_add(be, xs, shape, dtype, p):
    g, idx = xs
    params = _take_params(shape, idx, p["axis"])
    subs = typed(dtype)
    return simple(be, "scatter_add.glsl", "scatter_add", subs, params, [g._h, idx._h], shape, dtype)


def _slice_grad(be, xs, shape, dtype, p):
    (g,) = xs
    params = [len(shape), *shape, *p["starts"], *p["steps"], *g.shape, *contiguous_strides(g.shape)]
    return simple(be, "slice_grad.glsl", "slice_grad", typed(dtype), params, [g._h], shape, dtype)


INDEX_KERNELS = {
    "concat": _concat,
    "pad": _pad,
    "gather": _gather,
    "scatter_add": _scatter_add,
    "slice_grad": _slice_grad,
}
