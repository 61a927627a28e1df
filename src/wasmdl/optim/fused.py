"""Fused, in-place optimizer updates: the helpers ``Optimizer.step`` uses when a parameter's
backend has the optimizer's kernel (``sgd_update``, ``adam_update``: numpy on every CPU, the
WebAssembly SIMD versions inside Pyodide; WebGPU has none and keeps the op path).

A fused kernel writes into the parameter's and the state's arrays. Tensors are otherwise
immutable and share arrays freely (``detach()``, a user's array given to ``set_weights``, a
momentum buffer that *is* the first gradient), so before the first in-place update the
optimizer copies each array it will write into one only it holds (``private``), and again
whenever something else replaced the tensor's array (``assign``, ``set_weights``). After that
every step runs on the same addresses, which is what keeps a WASM call cheap.

>>> import numpy as np, wasmdl
>>> w = wasmdl.tensor([1.0, -2.0], requires_grad=True)
>>> opt = wasmdl.optim.SGD([w], lr=0.1, momentum=0.9)
>>> (w * w).sum().backward(); opt.step()
>>> [round(v, 6) for v in w.tolist()], kernel("sgd_update", w, w.grad) is not None
([0.8, -1.6], True)
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..ops.fused import ADAM_UPDATE, SGD_UPDATE  # noqa: F401  (the fused update ops)
from ..tensor import Tensor


def kernel(name, p, g):
    """``p``'s backend kernel ``name`` when it can update ``p`` with gradient ``g``, else None."""
    k = p.backend.kernels.get(name)
    if k is None or p.dtype.kind != "f" or g.dtype is not p.dtype or g.shape != p.shape:
        return None
    return k if g.backend is p.backend else None


def private(opt, t: Tensor, key: str) -> Tensor:
    """``t``, its handle first replaced by a C-contiguous copy that only ``opt`` writes unless
    it already is one (copy on first write; again after ``t`` was given another array)."""
    h, slot = t._h, (id(t), key)
    if opt._owned.get(slot) is not h:
        be = t.backend
        h = opt._owned[slot] = be.from_host(np.ascontiguousarray(be.to_host(h, t.shape, t.dtype)))
        with no_grad():  # the sanctioned way to give a tensor new data, keeping its identity
            t.assign(Tensor._wrap(h, t.shape, t.dtype, be))
    return t


def state_tensor(opt, p: Tensor, state: dict, name: str) -> Tensor:
    """State tensor ``name`` of ``p`` (zeros on first use), its array private to ``opt``."""
    t = state.get(name)
    if t is None:
        be = p.backend
        h = be.from_host(np.zeros(p.shape, p.dtype))
        t = state[name] = Tensor._wrap(h, p.shape, p.dtype, be)
        opt._owned[(id(t), "state")] = h
    return private(opt, t, "state")


def param(opt, p: Tensor) -> Tensor:
    """Parameter ``p``, its array private to ``opt``."""
    return private(opt, p, "param")
