"""Strided n-d operands for ``kernels/wasm/program.c``'s elementwise records (``OP_EW``).

An elementwise record walks the output's shape (at most ``MAXD`` = 6 axes, the last one the
row) and reads or writes each operand at its own element strides, so numpy broadcasting
(stride 0), a permutation, a slice (an offset and scaled, possibly negative strides) and a
reduction (the output's stride 0 on the reduced axes) are all one loop. ``coalesce`` merges
axes that every operand walks contiguously and drops axes of length 1, so most records run
one long row.

>>> coalesce((64, 10), [(10, 1), (0, 1), (10, 1)])
((64, 10), [(10, 1), (0, 1), (10, 1)])
>>> coalesce((2, 3, 4), [(12, 4, 1), (12, 4, 1)])
((24,), [(1,), (1,)])
"""

from __future__ import annotations

import numpy as np

MAXD = 6
DTYPES = {np.dtype(np.float32): 0, np.dtype(np.int32): 1, np.dtype(np.bool_): 2}


def contiguous(shape) -> tuple:
    """Element strides of a C-contiguous array of ``shape``.

    >>> contiguous((2, 3, 4))
    (12, 4, 1)
    """
    out, acc = [], 1
    for n in reversed(tuple(shape)):
        out.append(acc)
        acc *= int(n)
    return tuple(reversed(out))


def broadcast(shape, out_shape) -> tuple:
    """Element strides reading a contiguous ``shape`` broadcast to ``out_shape`` (numpy's
    right-aligned rule: stride 0 where the input has length 1 or no axis).

    >>> broadcast((10,), (64, 10)), broadcast((64, 1), (64, 10)), broadcast((), (3,))
    ((0, 1), (1, 0), (0,))
    """
    shape = tuple(shape)
    lead = len(out_shape) - len(shape)
    strides = contiguous(shape)
    return tuple(
        0 if i < lead or shape[i - lead] == 1 else strides[i - lead] for i in range(len(out_shape))
    )


def coalesce(shape, strides: list) -> tuple[tuple, list]:
    """``(shape, strides)`` with axes of length 1 dropped and neighbours merged where every
    operand's stride allows (``stride[i] == stride[i + 1] * shape[i + 1]``)."""
    keep = [i for i, n in enumerate(shape) if n != 1]
    shp = [int(shape[i]) for i in keep]
    sts = [[s[i] for i in keep] for s in strides]
    i = len(shp) - 2
    while i >= 0:
        if all(s[i] == s[i + 1] * shp[i + 1] for s in sts):
            shp[i] *= shp[i + 1]
            del shp[i + 1]
            for s in sts:
                s[i] = s[i + 1]
                del s[i + 1]
        i -= 1
    return tuple(shp), [tuple(s) for s in sts]


def padded(shape, strides: list) -> tuple[list, list] | None:
    """Shape and strides left-padded to ``MAXD`` axes (length 1, stride 0); None if the
    coalesced operands still need more axes."""
    shape, strides = coalesce(shape, strides)
    if len(shape) > MAXD:
        return None
    lead = MAXD - len(shape)
    return [1] * lead + list(shape), [[0] * lead + list(s) for s in strides]
