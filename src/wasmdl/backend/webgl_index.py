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

from ..program import boxes_disjoint, window_box
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
    """The rewrite's sum of slice VJPs: the base (or zeros) plus each gradient in its window.
    A draw (kernels/glsl/slice_grad_sum.glsl) adds up to 6 windows, the next reading the
    previous result as its base. Over 6 pairwise disjoint windows (a recurrent layer's time
    steps), each group of 6 is first summed over its bounding box only, then the boxes over the
    output: two passes over the output's size instead of one per 6 windows (exact: each
    element has one window at most, the other terms are zeros)."""
    base, grads = (xs[0], xs[1:]) if p["base"] else (None, xs)
    if math.prod(shape) == 0:
        return be.alloc(shape, dtype)
    windows = [
        [(b, s, c) for b, s, c in zip(starts, steps, g.shape, strict=True)]
        for g, (starts, _stops, steps) in zip(grads, p["regions"], strict=True)
    ]
    dims, windows = _merge_dims(shape, windows)
    per = _per_draw(len(dims))
    items = [(g._h, w) for g, w in zip(grads, windows, strict=True)]
    boxes = [window_box(*zip(*w, strict=True)) for w in windows]
    if len(items) > per and boxes_disjoint(boxes):
        grouped = []
        for at in range(0, len(items), per):
            lo = [min(b[d][0] for b in boxes[at : at + per]) for d in range(len(dims))]
            hi = [max(b[d][1] for b in boxes[at : at + per]) for d in range(len(dims))]
            bdims = [h - l + 1 for l, h in zip(lo, hi, strict=True)]
            moved = [(h, [(b - l, s, c) for (b, s, c), l in zip(w, lo, strict=True)])
                     for h, w in items[at : at + per]]  # fmt: skip
            part = _sum_windows(be, bdims, dtype, None, moved)
            grouped.append((part, [(l, 1, n) for l, n in zip(lo, bdims, strict=True)]))
        items = grouped
    return _sum_windows(be, dims, dtype, None if base is None else base._h, items)


def _per_draw(nd):
    """Windows one draw takes: textures (base + 6) and parameter words (3 * nd per window)."""
    return max(1, min(SUM_INPUTS - 1, (MAX_PARAMS - 2 - nd) // (3 * nd)))


def _window_code(dims, chunk, first, T):
    """slice_grad_sum.glsl's generated COORDS and ADDS for ``chunk`` (``(handle, window)``
    pairs; the window's parameters sit at ``2 + nd + 3 nd j``): a dimension a window covers
    whole (start 0, step 1, all of it) needs no test, a unit step no division."""
    nd = len(dims)
    coords = ["int rem = i;"]
    for d in range(nd - 1, 0, -1):
        coords += [f"int c{d} = rem % p[{1 + d}];", f"rem = rem / p[{1 + d}];"]
    coords.append("int c0 = rem;")
    adds = []
    for j, (_, w) in enumerate(chunk):
        b = 2 + nd + 3 * nd * j
        k = first + j
        lines = ["{", "  bool hit = true;", "  int g = 0, m = 1;"]
        for d in range(nd - 1, -1, -1):
            start, step, cnt = w[d]
            ps, pst, pc = f"p[{b + d}]", f"p[{b + nd + d}]", f"p[{b + 2 * nd + d}]"
            if (start, step, cnt) == (0, 1, dims[d]):
                lines.append(f"  int q{d} = c{d};")
            elif step == 1:
                lines.append(f"  int q{d} = c{d} - {ps};")
                lines.append(f"  hit = hit && q{d} >= 0 && q{d} < {pc};")
            else:
                lines += [
                    f"  int e{d} = c{d} - {ps}, s{d} = {pst};",
                    f"  int q{d} = abs(e{d}) / abs(s{d});",
                    f"  hit = hit && (e{d} == 0 || (e{d} < 0) == (s{d} < 0))"
                    f" && abs(e{d}) - q{d} * abs(s{d}) == 0 && q{d} < {pc};",
                ]
            lines.append(f"  g += q{d} * m;")
            if d:
                lines.append(f"  m *= {pc};")
        lines += [f"  acc += hit ? texelFetch(t{k}, at({k + 1}, g), 0).r : {T}(0);", "}"]
        adds += lines
    return "\n  ".join(coords), "\n  ".join(adds)


def _sum_windows(be, dims, dtype, base, items):
    """``base`` (a handle of ``dims``, or zeros) plus each ``(handle, window)`` of ``items``,
    ``_per_draw`` windows a draw, each draw reading the previous one's result."""
    nd = len(dims)
    per = _per_draw(nd)
    subs0 = typed(dtype)
    prev = base
    n = math.prod(dims)
    for at in range(0, len(items), per):
        chunk = items[at : at + per]
        first = 0 if prev is None else 1  # texture index of the first window
        params = [nd, *dims, len(chunk)]
        for _, w in chunk:
            params += [b for b, _, _ in w] + [s for _, s, _ in w] + [c for _, _, c in w]
        names = [f"t{k}" for k in range(first + len(chunk))]
        coords, adds = _window_code(dims, chunk, first, subs0["T"])
        subs = {
            "T": subs0["T"],
            "UNIFORMS": "\n".join(f"uniform {subs0['S']} {t};" for t in names),
            "COORDS": coords,
            "BASE": f"{subs0['T']}(0)" if prev is None else "texelFetch(t0, at(1, i), 0).r",
            "ADDS": adds,
        }
        out = be.alloc(tuple(dims), dtype)
        key = ("slice_grad_sum.glsl", tuple(sorted(subs.items())))

        def source(subs=subs):
            return (
                "slice_grad_sum",
                "kernels/glsl/slice_grad_sum.glsl",
                template("slice_grad_sum.glsl", **subs),
            )

        ins = ([] if prev is None else [prev]) + [h for h, _ in chunk]
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
