"""WebGL2 launchers for joining and indexing primitives: concat (one draw per input, each
reading the previous partial result: a fragment shader cannot scatter), pad, gather,
scatter_add (its VJP, race-free: one fragment per output element), slice_grad and the
rewrite's slice_grad_sum.

>>> sorted(INDEX_KERNELS)
['concat', 'gather', 'pad', 'scatter_add', 'slice_grad', 'slice_grad_sum']
>>> _merge_dims([64, 28, 256], [[(0, 1, 64), (3, 1, 1), (0, 1, 256)]])
([64, 7168], [[(0, 1, 64), (768, 1, 256)]])
"""

import math

import numpy as np

from .webgl_glsl import GL, simple, template, typed
from .webgl_plan import MAX_PARAMS
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


def _merge_dims(shape, windows):
    """Fewer dimensions for the same windows (each a list of per-dimension ``(start, step,
    count)``): a dimension merges into the one before it where every window covers it whole
    and the one before steps by 1 or takes one index."""
    shape, windows = list(shape), [list(w) for w in windows]
    for d in range(len(shape) - 2, -1, -1):
        size = shape[d + 1]
        if all(w[d + 1] == (0, 1, size) and (w[d][1] == 1 or w[d][2] == 1) for w in windows):
            shape[d : d + 2] = [shape[d] * size]
            for w in windows:
                w[d : d + 2] = [(w[d][0] * size, 1, w[d][2] * size)]
    return shape, windows


SUM_INPUTS = 7  # textures per slice_grad_sum draw: the base and up to 6 windows


def _slice_grad_sum(be, xs, shape, dtype, p):
    """The rewrite's sum of slice VJPs: the base (or zeros) plus each gradient in its window,
    up to 6 windows per draw (kernels/glsl/slice_grad_sum.glsl), the next draw reading the
    previous result as its base; one pass over the output per 6 windows instead of a fill and a
    full-size add per window."""
    base, grads = (xs[0], xs[1:]) if p["base"] else (None, xs)
    n = math.prod(shape)
    if n == 0:
        return be.alloc(shape, dtype)
    windows = [
        [(b, s, c) for b, s, c in zip(starts, steps, g.shape, strict=True)]
        for g, (starts, _stops, steps) in zip(grads, p["regions"], strict=True)
    ]
    dims, windows = _merge_dims(shape, windows)
    nd = len(dims)
    per = max(1, min(SUM_INPUTS - 1, (MAX_PARAMS - 2 - nd) // (3 * nd)))
    subs0 = typed(dtype)
    prev = None if base is None else base._h
    for at in range(0, len(grads), per):
        chunk = list(zip(grads[at : at + per], windows[at : at + per], strict=True))
        first = 0 if prev is None else 1  # texture index of the first window
        params = [nd, *dims, len(chunk)]
        for _, w in chunk:
            params += [b for b, _, _ in w] + [s for _, s, _ in w] + [c for _, _, c in w]
        names = [f"t{k}" for k in range(first + len(chunk))]
        unit = all(s == 1 for _, w in chunk for _, s, _ in w)
        subs = {
            **subs0,
            "UNIT": str(int(unit)),
            "UNIFORMS": "\n".join(f"uniform {subs0['S']} {t};" for t in names),
            "BASE": f"{subs0['T']}(0)" if prev is None else "texelFetch(t0, at(1, i), 0).r",
            "ADDS": "\n  ".join(
                f"acc += win(t{first + j}, {first + j + 1}, {j});" for j in range(len(chunk))
            ),
        }
        out = be.alloc(shape, dtype)
        key = ("slice_grad_sum.glsl", tuple(sorted(subs.items())))

        def source(subs=subs):
            return (
                "slice_grad_sum",
                "kernels/glsl/slice_grad_sum.glsl",
                template("slice_grad_sum.glsl", **subs),
            )

        ins = ([] if prev is None else [prev]) + [g._h for g, _ in chunk]
        be.draw(key, source, params, ins, out, n)
        prev = out
    return prev


INDEX_KERNELS = {
    "concat": _concat,
    "pad": _pad,
    "gather": _gather,
    "scatter_add": _scatter_add,
    "slice_grad": _slice_grad,
    "slice_grad_sum": _slice_grad_sum,
}
