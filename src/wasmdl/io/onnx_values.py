"""Values flowing through an imported ONNX graph, and their layout.

A value is ``V(data, cl)``: ``data`` is a wasmdl ``Tensor`` or, for shape arithmetic and
constants, a numpy array computed on the host; ``cl`` is True when a tensor of logical layout
``(N, C, d1, ..., dk)`` (ONNX's) is held channels-last ``(N, d1, ..., dk, C)`` (wasmdl's). Ops
that care about axes either map them (``phys_axis``) or ask for the ONNX layout (``plain``):
convolutions keep activations channels-last, so a CNN converts its input once and its weights
once at load, and converts back only where a graph reshapes.

Example:
    >>> import numpy as np
    >>> v = V(tensor(np.zeros((2, 5, 5, 3), np.float32)), True)
    >>> logical_shape(v), plain(v).shape, phys_axis(1, 4)
    ((2, 3, 5, 5), (2, 3, 5, 5), 3)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import ops as O
from ..tensor import Tensor
from .format import ModelFileError


class V(NamedTuple):
    data: object  # Tensor or np.ndarray
    cl: bool = False


class Node(NamedTuple):
    """One NodeProto, decoded: what an op builder sees."""

    name: str
    op: str
    inputs: list
    outputs: list
    attrs: dict
    consts: dict  # name -> np.ndarray: initializers and folded Constant outputs
    opset: int

    def const(self, i: int):
        """Input ``i`` as a numpy array if it is a constant, else None (also if absent)."""
        return self.consts.get(self.inputs[i]) if i < len(self.inputs) and self.inputs[i] else None

    def has(self, i: int) -> bool:
        return i < len(self.inputs) and bool(self.inputs[i])

    def fail(self, msg: str):
        raise ModelFileError(f"onnx: node {self.name!r} ({self.op}): {msg}")

    def need_const(self, i: int, what: str) -> np.ndarray:
        c = self.const(i)
        if c is None:
            self.fail(f"input {i} ({what}) must be an initializer or Constant")
        return c

    def ints(self, key, default, n=None, lo=0):
        """An int-list attribute, checked: length ``n`` (if given), every value >= ``lo``."""
        v = self.attrs.get(key, default)
        if not isinstance(v, list) or (n is not None and len(v) != n) or any(i < lo for i in v):
            self.fail(
                f"attribute {key!r} expected {n or 'a list of'} ints >= {lo}, received {v!r:.80}"
            )
        return v


def cl_perm(r: int) -> tuple:
    return (0, *range(2, r), 1)


def plain_perm(r: int) -> tuple:
    return (0, r - 1, *range(1, r - 1))


def phys_axis(axis: int, r: int) -> int:
    """Where logical axis ``axis`` of a rank-``r`` value sits when held channels-last."""
    return cl_perm(r).index(axis % r)


def is_host(v: V) -> bool:
    return isinstance(v.data, np.ndarray)


def tensor(x):
    """A Tensor of ``x``: floats as float32, ints as int32 (wasmdl's index dtype), bools."""
    if isinstance(x, Tensor):
        return x
    x = np.asarray(x)
    kind = x.dtype.kind
    if kind in "iu":
        if x.size and (x.min() < -(2**31) or x.max() >= 2**31):
            raise ValueError(f"integer values outside int32 in a tensor of shape {x.shape}")
        return Tensor(x.astype(np.int32))
    return Tensor(x.astype(np.bool_ if kind == "b" else np.float32))


def plain(v: V):
    """The value in ONNX's layout (a Tensor, or the host array as is)."""
    if not v.cl:
        return v.data if is_host(v) else tensor(v.data)
    return O.permute(v.data, plain_perm(v.data.ndim))


def chlast(v: V):
    """The value channels-last (rank >= 3), as a Tensor."""
    if v.cl:
        return v.data
    x = tensor(v.data)
    return O.permute(x, cl_perm(x.ndim)) if x.ndim >= 3 else x


def logical_shape(v: V) -> tuple:
    shape = tuple(v.data.shape)
    return tuple(shape[i] for i in plain_perm(len(shape))) if v.cl else shape
