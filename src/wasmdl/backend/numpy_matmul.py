"""The numpy backend's ``matmul`` kernel: ``np.matmul`` natively (it calls BLAS); inside
Pyodide, where numpy has no BLAS, scipy's OpenBLAS ``sgemm`` (~3x faster) for large float
products when scipy is installed. scipy is imported lazily, on the first product big enough to
pay for its load, and never required. ``USE_SCIPY`` forces the choice (True/False) or leaves it
to the runtime (None).

>>> import numpy as np
>>> a = np.ones((2, 3), np.float32)
>>> matmul(a, a.T).tolist()
[[3.0, 3.0], [3.0, 3.0]]
"""

import importlib.util
import sys

import numpy as np

USE_SCIPY = None
MIN_MACS = 1 << 18  # below this many multiply-adds np.matmul's loops are as quick
_GEMM = {}


def _gemm(dtype):
    """scipy's {s,d}gemm for ``dtype``, or None (not wanted, or scipy absent). A missing scipy
    is looked for again next time (cheap next to a large product): it may be installed later."""
    use = USE_SCIPY if USE_SCIPY is not None else sys.platform == "emscripten"
    if not use:
        return None
    if not _GEMM.get("ok"):
        if importlib.util.find_spec("scipy") is None:
            _GEMM["ok"] = False
            return None
        from scipy.linalg import blas

        _GEMM.update(ok=True, float32=blas.sgemm, float64=blas.dgemm)
    return _GEMM.get(dtype.name)


def _fortran(x):
    """(array, transpose flag) with ``op(array) == x`` and no copy when x is contiguous."""
    if x.flags.f_contiguous:
        return x, 0
    if x.flags.c_contiguous:
        return x.T, 1
    return np.asfortranarray(x), 0


def _gemm2d(gemm, a, b):
    # C = A @ B computed as C^T = B^T A^T in Fortran order: the result's .T is C-contiguous.
    x, tx = _fortran(b.T)
    y, ty = _fortran(a.T)
    return gemm(1.0, x, y, trans_a=tx, trans_b=ty).T


def matmul(a, b):
    """``np.matmul(a, b)`` semantics (2-D or batched, both at least 2-D)."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if m * k * n < MIN_MACS or a.dtype.kind != "f" or 0 in a.shape or 0 in b.shape:
        return np.matmul(a, b)
    gemm = _gemm(a.dtype)
    if gemm is None:
        return np.matmul(a, b)
    if b.ndim == 2:
        if a.ndim == 2:
            return _gemm2d(gemm, a, b)
        return _gemm2d(gemm, a.reshape(-1, k), b).reshape(*a.shape[:-1], n)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (m, n), a.dtype)
    for i in np.ndindex(*batch):
        out[i] = _gemm2d(gemm, a[i], b[i])
    return out
