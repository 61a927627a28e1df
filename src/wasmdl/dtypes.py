"""The dtypes wasmdl tensors carry, and the promotion rule between them.

Dtypes are plain ``numpy.dtype`` objects (singletons, so ``is`` comparisons are valid):

>>> import wasmdl as wl
>>> wl.tensor([1, 2]).dtype, wl.tensor([1.5]).dtype, wl.tensor([True]).dtype
(dtype('int32'), dtype('float32'), dtype('bool'))

float64 exists for the numpy backend (finite-difference checks); GPU backends may refuse it.
"""

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
bool_ = np.dtype("bool")

DTYPES = {"float32": float32, "float64": float64, "int32": int32, "bool": bool_}
FLOATS = (float32, float64)
NUMERIC = (float32, float64, int32)
_RANK = {bool_: 0, int32: 1, float32: 2, float64: 3}


def to_dtype(d, where="dtype"):
    """Return the wasmdl dtype for ``d`` (a name, numpy dtype or type).

    >>> to_dtype("float32") is float32
    True
    """
    try:
        dt = np.dtype(d)
    except TypeError:
        dt = None
    if dt not in _RANK:
        raise TypeError(f"{where}: expected one of {sorted(DTYPES)}, received {d!r}") from None
    return dt


def infer_dtype(array):
    """The wasmdl dtype for host data: float64 -> float32, int64 -> int32 (numpy's defaults
    narrowed to what every backend supports).

    >>> infer_dtype(np.array([1.0]))
    dtype('float32')
    """
    kind = array.dtype.kind
    if kind == "f":
        return float32
    if kind in "iu":
        return int32
    if kind == "b":
        return bool_
    raise TypeError(
        f"tensor: expected numeric or bool data, received an array of dtype {array.dtype}"
    )


def promote(a, b):
    """The result dtype of mixing dtypes ``a`` and ``b`` (the higher in bool < int32 <
    float32 < float64).

    >>> promote(int32, float32)
    dtype('float32')
    """
    return a if _RANK[a] >= _RANK[b] else b
