"""The WebGPU kernel table: primitive op name -> a launcher that records one WGSL dispatch.

Elementwise ops are one row each in ``EXPRESSIONS`` (a WGSL expression of ``a``, ``b``, ``c``)
fed into the shared template ``kernels/wgsl/elementwise.wgsl``; views (permute, expand, slice)
are the same template reading through strides; ``reshape`` is free (the handle is shared).
Every launcher has the signature ``(backend, xs, out_shape, out_dtype, params) -> Handle``.

>>> sorted(k for k in KERNELS if k.startswith("sl"))
['slice', 'slice_grad']
"""

import math

import numpy as np

from .base import Operand
from .webgpu_conv import CONV_KERNELS
from .webgpu_index import INDEX_KERNELS
from .webgpu_wgsl import WGSL, broadcast_strides, contiguous_strides, grid, template

# fmt: off
EXPRESSIONS = {  # op -> WGSL expression (inputs a, b, c; comparisons give u32 0/1)
    "neg": "-a", "abs": "abs(a)", "exp": "exp(a)", "log": "log(a)", "sqrt": "sqrt(a)",
    "tanh": "tanh_(a)", "sigmoid": "sigmoid_(a)", "sin": "sin_(a)", "cos": "cos_(a)",
    "erf": "erf_(a)",
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "pow": "pow_(a, b)",
    "maximum": "max(a, b)", "minimum": "min(a, b)",
    "eq": "select(0u, 1u, a == b)", "ne": "select(0u, 1u, a != b)",
    "lt": "select(0u, 1u, a < b)", "le": "select(0u, 1u, a <= b)",
    "gt": "select(0u, 1u, a > b)", "ge": "select(0u, 1u, a >= b)",
    "where": "select(c, b, a != 0u)",
    "copy": "a",
}
CASTS = {  # (from, to) WGSL types -> expression of a
    ("f32", "i32"): "i32(a)", ("i32", "f32"): "f32(a)", ("u32", "f32"): "f32(a)",
    ("u32", "i32"): "i32(a)", ("f32", "u32"): "select(0u, 1u, a != 0.0)",
    ("i32", "u32"): "select(0u, 1u, a != 0)",
}
# fmt: on
_RT = "(p[0] & 0u)"  # a runtime zero: WGSL constant expressions may not hold infinities
REDUCTIONS = {  # op -> (identity per type, combine expression of x, y)
    "sum": ({"f32": "0.0", "i32": "0"}, "x + y"),
    "max": (
        {"f32": f"bitcast<f32>(0xff800000u | {_RT})", "i32": "bitcast<i32>(0x80000000u)"},
        "max(x, y)",
    ),
    "min": (
        {"f32": f"bitcast<f32>(0x7f800000u | {_RT})", "i32": "bitcast<i32>(0x7fffffffu)"},
        "min(x, y)",
    ),
}


def collapse(shape, views):
    """Merge adjacent axes every view reads contiguously (fewer index divisions per element)."""
    dims, strides = list(shape), [list(s) for _, s in views]
    i = len(dims) - 1
    while i > 0:
        if all(s[i - 1] == s[i] * dims[i] for s in strides):
            dims[i - 1] *= dims[i]
            del dims[i]
            for s in strides:
                del s[i - 1]
        i -= 1
    return dims, [(off, s) for (off, _), s in zip(views, strides, strict=True)]


def elementwise(be, name, expr, ins, views, out_shape, out_dtype):
    """Launch the template for ``expr``: ``ins`` read through ``views`` (offset, strides)."""
    n = math.prod(out_shape)
    out = be.alloc(out_shape, out_dtype)
    if n == 0:
        return out
    ins, views = list(ins), list(views)
    while len(ins) < 3:
        ins.append(ins[0])
        views.append(views[0])
    dims, views = collapse(out_shape, views)
    types = tuple(WGSL[x.dtype] for x in ins) + (WGSL[out_dtype],)
    params = [n, len(dims), *dims]
    for off, st in views:
        params += [off % (1 << 32), *(s % (1 << 32) for s in st)]

    def source():
        ta, tb, tc, to = types
        code = template("elementwise.wgsl", NAME=name, TA=ta, TB=tb, TC=tc, TO=to, EXPR=expr)
        return name, "kernels/wgsl/elementwise.wgsl", code

    be.launch(("ew", name, expr, types), source, params, grid(n, 256), [x._h for x in ins] + [out])
    return out


def _map(name):
    def launch(be, xs, shape, dtype, p):
        views = [(0, broadcast_strides(x.shape, shape)) for x in xs]
        return elementwise(be, name, EXPRESSIONS[name], xs, views, shape, dtype)

    return launch


def _cast(be, xs, shape, dtype, p):
    (x,) = xs
    pair = (WGSL[x.dtype], WGSL[dtype])
    expr = "a" if pair[0] == pair[1] else CASTS[pair]
    return elementwise(be, "cast", expr, xs, [(0, contiguous_strides(x.shape))], shape, dtype)


def _permute(be, xs, shape, dtype, p):
    st = contiguous_strides(xs[0].shape)
    return elementwise(be, "permute", "a", xs, [(0, [st[a] for a in p["axes"]])], shape, dtype)


def _expand(be, xs, shape, dtype, p):
    return elementwise(
        be, "expand", "a", xs, [(0, broadcast_strides(xs[0].shape, shape))], shape, dtype
    )


def _slice(be, xs, shape, dtype, p):
    st = contiguous_strides(xs[0].shape)
    off = sum(b * s for b, s in zip(p["starts"], st, strict=True))
    strides = [s * k for s, k in zip(st, p["steps"], strict=True)]
    return elementwise(be, "slice", "a", xs, [(off, strides)], shape, dtype)


def _reshape(be, xs, shape, dtype, p):
    return xs[0]._h  # contiguous buffers: a reshape is the same bytes


def _slice_grad(be, xs, shape, dtype, p):
    (g,) = xs
    n = math.prod(shape)
    out = be.alloc(shape, dtype)
    if n == 0:
        return out
    t = WGSL[dtype]
    params = [
        n,
        len(shape),
        *shape,
        *(s % (1 << 32) for s in p["starts"]),
        *(s % (1 << 32) for s in p["steps"]),
        *g.shape,
        *contiguous_strides(g.shape),
    ]

    def source():
        return "slice_grad", "kernels/wgsl/slice_grad.wgsl", template("slice_grad.wgsl", T=t)

    be.launch(("slice_grad", t), source, params, grid(n, 256), [g._h, out])
    return out


def reduce_params(x, axes):
    """[nout, R, nk, kshape, kstrides, nr, rshape, rstrides] for reduce.wgsl / argmax.wgsl
    (and the GLSL reductions); adjacent axes of one kind merge, so a sum over the leading axes
    is one strided loop, in the same order.

    >>> from types import SimpleNamespace
    >>> reduce_params(SimpleNamespace(shape=(64, 28, 256)), (0, 1))
    (256, [256, 1792, 1, 256, 1, 1, 1792, 256])
    """
    st = contiguous_strides(x.shape)
    groups = {True: [], False: []}  # reduced / kept: [size, stride] runs, adjacent axes merged
    prev = None
    for i, n in enumerate(x.shape):
        r = i in axes
        if prev == r and groups[r]:
            groups[r][-1][0] *= n  # contiguous: the merged axis steps by the inner stride
            groups[r][-1][1] = st[i]
        else:
            groups[r].append([n, st[i]])
        prev = r
    keep, red = groups[False], groups[True]
    nout = math.prod(n for n, _ in keep)
    return nout, [
        nout,
        math.prod(n for n, _ in red),
        len(keep),
        *(n for n, _ in keep),
        *(s for _, s in keep),
        len(red),
        *(n for n, _ in red),
        *(s for _, s in red),
    ]


def _reduction(name):
    inits, combine = REDUCTIONS[name]

    def launch(be, xs, shape, dtype, p):
        (x,) = xs
        out = be.alloc(shape, dtype)
        nout, params = reduce_params(x, p["axis"])
        if nout == 0:
            return out
        t = WGSL[x.dtype]
        # Many outputs, or few inputs each: a thread per output, no barriers (fast on
        # SwiftShader). Few long rows: a workgroup per output combining through a tree.
        file = "reduce_serial.wgsl" if nout >= 64 or params[1] <= 256 else "reduce.wgsl"

        def source():
            code = template(file, NAME=name, T=t, INIT=inits[t], COMBINE=combine)
            return name, f"kernels/wgsl/{file}", code

        groups = grid(nout, 64 if file == "reduce_serial.wgsl" else 1)
        be.launch((file, name, t), source, params, groups, [x._h, out])
        return out

    return launch


def _argmax(be, xs, shape, dtype, p):
    (x,) = xs
    axes = tuple(range(len(x.shape))) if p["axis"] is None else (p["axis"],)
    out = be.alloc(shape, dtype)
    nout, params = reduce_params(x, axes)
    t = WGSL[x.dtype]

    def source():
        return "argmax", "kernels/wgsl/argmax.wgsl", template("argmax.wgsl", T=t)

    be.launch(("argmax", t), source, params, grid(nout, 1), [x._h, out])
    return out


def _matmul(be, xs, shape, dtype, p):
    a, b = xs
    M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = shape[:-2]
    out = be.alloc(shape, dtype)
    nb = math.prod(batch)
    if nb * M * N == 0:
        return out
    sa = broadcast_strides(a.shape[:-2], batch) if batch else []
    sb = broadcast_strides(b.shape[:-2], batch) if batch else []
    st = [*(s * M * K for s in sa), *(s * K * N for s in sb)]
    params = [M, N, K, len(batch), *batch, *st, K, 1, N, 1]
    if K == 0:
        return _fill_zero(be, out, shape, dtype)
    variant = be.matmul_variant
    if variant == "vec4" and (K % 4 or N % 4 or dtype != np.float32):
        variant = "regs"  # vec4 reads need rows of 4 floats
    name, tile = MATMUL[variant]
    t = WGSL[dtype]

    def source():
        return name, f"kernels/wgsl/{name}.wgsl", template(f"{name}.wgsl", T=t)  # vec4: no {{T}}

    groups = (-(-N // tile), -(-M // tile), nb)
    be.launch((name, t), source, params, groups, [a._h, b._h, out])
    return out


# matmul variants -> (kernel file/name, output tile edge): workgroup-memory tiling for hardware
# GPUs; register blocking without barriers for CPU-emulated adapters (SwiftShader), reading
# vec4s when K and N allow ("vec4" falls back to "regs" otherwise).
MATMUL = {"tiled": ("matmul", 16), "regs": ("matmul_regs", 32), "vec4": ("matmul_vec4", 32)}


def _fill_zero(be, out, shape, dtype):
    import numpy as np

    z = Operand(be.from_host(np.zeros((), dtype)), (), dtype)
    return elementwise(be, "expand", "a", [z], [(0, [0] * len(shape))], shape, dtype)


KERNELS = {name: _map(name) for name in EXPRESSIONS if name != "copy"}
KERNELS.update(
    {
        "cast": _cast,
        "permute": _permute,
        "expand": _expand,
        "slice": _slice,
        "reshape": _reshape,
        "slice_grad": _slice_grad,
        "argmax": _argmax,
        "matmul": _matmul,
        **{name: _reduction(name) for name in REDUCTIONS},
        **CONV_KERNELS,
        **INDEX_KERNELS,
    }
)
