"""WGSL sources and launch geometry shared by the WebGPU kernel modules.

Every kernel lives in ``kernels/wgsl/<file>.wgsl`` (shipped in the wheel); templates carry
``{{KEY}}`` placeholders that the launchers fill (element types, expressions, names). The
entry point of kernel ``name`` is ``k_<name>``, its pipeline label is ``name``.

>>> grid(1000, 256), grid(70000 * 256, 256)
((4, 1, 1), (65535, 2, 1))
>>> broadcast_strides((3, 1), (2, 3, 4))
[0, 1, 0]
"""

import math

import numpy as np

from .. import _js
from ..program import contiguous_strides

# dtype -> WGSL element type; every element is 4 bytes (bool as u32 0/1). Keyed by the numpy
# dtype objects themselves: ``dtype.name`` costs ~40 us a call inside Pyodide.
WGSL = {np.dtype("float32"): "f32", np.dtype("int32"): "i32", np.dtype("bool"): "u32"}
_TEXT = {}


def template(file, **subs):
    """``kernels/wgsl/<file>`` with ``{{KEY}}`` placeholders substituted."""
    text = _TEXT.get(file)
    if text is None:
        text = _TEXT[file] = _js.package_text(f"kernels/wgsl/{file}")
    for k, v in subs.items():
        text = text.replace("{{" + k + "}}", v)
    return text


def grid(n, per_group):
    """Workgroup counts for ``n`` items, folded into (x, y) past the 65535 per-axis limit."""
    g = max(1, -(-n // per_group))
    if g <= 65535:
        return (g, 1, 1)
    return (65535, -(-g // 65535), 1)


def broadcast_strides(shape, out_shape):
    """Strides reading ``shape`` broadcast to ``out_shape`` (0 on broadcast axes)."""
    lead = len(out_shape) - len(shape)
    st = contiguous_strides(shape)
    return [0] * lead + [
        0 if d == 1 and o != 1 else s for d, o, s in zip(shape, out_shape[lead:], st, strict=True)
    ]


def u32(v):
    """An int as the u32 word WGSL reads (negative values wrap: two's complement)."""
    return v % (1 << 32)


def simple(be, file, name, subs, params, n, handles, out_shape, out_dtype, per_group=256):
    """Allocate the output and launch kernel ``name`` from ``file`` with one thread per item
    (``per_group`` items per workgroup: 256 threads, or 1 for a workgroup per item)."""
    out = be.alloc(out_shape, out_dtype)
    if n == 0 or math.prod(out_shape) == 0:
        return out
    key = (file, name, tuple(sorted(subs.items())))

    def source():
        return name, f"kernels/wgsl/{file}", template(file, **subs)

    be.launch(key, source, params, grid(n, per_group), [*handles, out])
    return out
