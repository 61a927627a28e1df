"""GLSL sources and launch helpers shared by the WebGL2 kernel modules.

Every kernel lives in ``kernels/glsl/<file>.glsl`` (shipped in the wheel) and is compiled after
the shared prelude ``kernels/glsl/common.glsl``; templates carry ``{{KEY}}`` placeholders that
the launchers fill (types, expressions). A program is keyed by its file and substitutions, so
each specialisation compiles once.

>>> GL[np.dtype("int32")]
('int', 'isampler2D', 1)
>>> "uniform int p[64];" in template("matmul.glsl", S="sampler2D", T="float")
True
"""

import math
import re

import numpy as np

from .. import _js

# dtype -> (GLSL element type, sampler type, texture format: 0 R32F, 1 R32I). bool is 0/1 int.
GL = {
    np.dtype("float32"): ("float", "sampler2D", 0),
    np.dtype("int32"): ("int", "isampler2D", 1),
    np.dtype("bool"): ("int", "isampler2D", 1),
}
_TEXT = {}
# fmt: off
REDUCTIONS = {  # op -> (identity per element type, combine expression of x, y)
    "sum": ({"float": "0.0", "int": "0"}, "x + y"),
    "max": ({"float": "uintBitsToFloat(0xff800000u)", "int": "(-2147483647 - 1)"}, "max(x, y)"),
    "min": ({"float": "uintBitsToFloat(0x7f800000u)", "int": "2147483647"}, "min(x, y)"),
}
# fmt: on


# the activations a fused kernel's epilogue applies to its value y (dense, conv2d_bias)
EPILOGUE_ACT = {"linear": "y", "relu": "max(y, 0.0)"}


_INCLUDE = re.compile(r'^#include "([a-z0-9_]+\.glsl)"$', re.M)


def _text(file):
    text = _TEXT.get(file)
    if text is None:
        text = _TEXT[file] = _js.package_text(f"kernels/glsl/{file}")
    return text


def template(file, **subs):
    """The prelude plus ``kernels/glsl/<file>`` with ``#include "<other>.glsl"`` lines replaced
    by that file and ``{{KEY}}`` placeholders substituted."""
    text = _text("common.glsl") + "\n" + _INCLUDE.sub(lambda m: _text(m[1]), _text(file))
    for k, v in subs.items():
        text = text.replace("{{" + k + "}}", v)
    return text


def typed(dtype):
    """Substitutions ``S`` (sampler) and ``T`` (element type) for ``dtype``."""
    t, s, _ = GL[dtype]
    return {"S": s, "T": t}


def simple(be, file, name, subs, params, inputs, out_shape, out_dtype):
    """Allocate the output and draw kernel ``name`` from ``file`` over its elements."""
    n = math.prod(out_shape)
    out = be.alloc(out_shape, out_dtype)
    if n == 0:
        return out
    key = (file, tuple(sorted(subs.items())))

    def source():
        return name, f"kernels/glsl/{file}", template(file, **subs)

    be.draw(key, source, params, inputs, out, n)
    return out


def pack4(be, h, nmat, rows, K, bs, rs, ks, pad_rows=None):
    """``h``'s ``nmat`` matrices of ``rows`` x ``K`` (element (b, r, k) at b*bs + r*rs + k*ks)
    packed along K into an RGBA32F texture of nmat * R * ceil(K / 4) texels, R = ``pad_rows``
    (zero rows after ``rows``) or ``rows``."""
    k4 = -(-K // 4)
    R = rows if pad_rows is None else pad_rows
    out = be.alloc((nmat * R * k4,), np.dtype("float32"), fmt=2)

    def source():
        return "pack4", "kernels/glsl/pack4.glsl", template("pack4.glsl")

    be.draw(("pack4",), source, [K, k4, R, bs, rs, ks, rows], [h], out, nmat * R * k4)
    return out


def reduce_draw(be, name, x_h, dtype, params, nout, nch, chunk):
    """Draw ``reduce.glsl`` for reduction ``name``: ``params`` in its layout without the chunk
    words; ``nout * nch`` outputs, each combining ``chunk`` inputs. Returns the output."""
    t = GL[dtype][0]
    inits, combine = REDUCTIONS[name]
    subs = {**typed(dtype), "INIT": inits[t], "COMBINE": combine}
    out = be.alloc((nout * nch,), dtype)

    def source():
        return name, "kernels/glsl/reduce.glsl", template("reduce.glsl", **subs)

    be.draw(("reduce", name, t), source, [*params, chunk, nch], [x_h], out, nout * nch)
    return out


def reduce_rows(be, name, x_h, dtype, rows, cols):
    """Reduce a contiguous (rows, cols) texture over its rows: ``cols`` outputs."""
    return reduce_draw(be, name, x_h, dtype, [rows, 1, cols, 1, 1, rows, cols], cols, 1, rows)
