"""WebGPU launchers for joining and indexing primitives: concat (one ``place`` dispatch per
input), pad, gather and scatter_add (its VJP, race-free: one thread per output element).

>>> sorted(INDEX_KERNELS)
['concat', 'gather', 'pad', 'scatter_add']
"""

import math

import numpy as np

from .webgpu_wgsl import WGSL, contiguous_strides, grid, simple, template


def _concat(be, xs, shape, dtype, p):
    ax = p["axis"]
    out = be.alloc(shape, dtype)
    ost = contiguous_strides(shape)
    t = WGSL[dtype]
    start = 0
    for x in xs:
        n = math.prod(x.shape)
        if n:
            params = [n, len(shape), *x.shape, *ost, start * ost[ax]]

            def source():
                return "place", "kernels/wgsl/place.wgsl", template("place.wgsl", T=t)

            be.launch(("place.wgsl", t), source, params, grid(n, 256), [x._h, out])
        start += x.shape[ax]
    return out


def _pad(be, xs, shape, dtype, p):
    (x,) = xs
    t = WGSL[dtype]
    value = int(
        np.array(p["value"], dtype)
        .astype(np.uint32 if t == "u32" else dtype)
        .reshape(1)
        .view(np.uint32)[0]
    )
    params = [math.prod(shape), len(shape), *shape, *(b for b, _ in p["pads"]), *x.shape, value]
    return simple(be, "pad.wgsl", "pad", {"T": t}, params, math.prod(shape), [x._h], shape, dtype)


def _take_params(n, full_shape, idx, ax):
    return [n, math.prod(idx.shape), full_shape[ax], math.prod(full_shape[ax + 1 :])]


def _gather(be, xs, shape, dtype, p):
    x, idx = xs
    n = math.prod(shape)
    return simple(
        be,
        "gather.wgsl",
        "gather",
        {"T": WGSL[dtype]},
        _take_params(n, x.shape, idx, p["axis"]),
        n,
        [x._h, idx._h],
        shape,
        dtype,
    )


def _scatter_add(be, xs, shape, dtype, p):
    g, idx = xs
    n = math.prod(shape)
    return simple(
        be,
        "scatter_add.wgsl",
        "scatter_add",
        {"T": WGSL[dtype]},
        _take_params(n, shape, idx, p["axis"]),
        n,
        [g._h, idx._h],
        shape,
        dtype,
    )


INDEX_KERNELS = {"concat": _concat, "pad": _pad, "gather": _gather, "scatter_add": _scatter_add}
