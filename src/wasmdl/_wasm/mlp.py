"""Fused fast paths for plain dense networks (``kernels/wasm/mlp.c``): one WASM call per batch.

``train_step(model, x, y)`` runs a whole SGD step (forward, softmax cross-entropy, backward,
in-place update) when the model is a ``Sequential`` of ``Dense`` layers (hidden activations
linear/relu/sigmoid/tanh, softmax output), compiled with ``categorical_crossentropy`` or
``sparse_categorical_crossentropy``, no metrics, no regularisation losses, and a plain
``optim.SGD`` (no momentum, decay or clipping), all on the numpy backend with the kernels
active. ``forward(model, x)`` is the inference twin. Anything else returns None and the caller
takes the general autograd path (the specification these paths are tested against).

The parameters' numpy arrays are updated in place: on first use the plan copies each into an
array it owns (so a user's array passed to ``set_weights`` is never written) and rebuilds itself
whenever a parameter's handle changes. Inference on fewer than 4 rows reads a second copy of the
kernels, packed in 32-column panels (``gemv_pack``): one more float32 copy of the weights per
model, remade on the next inference after the fused step (the only writer of the owned arrays)
has changed them.

>>> train_step(object(), None, None) is None  # not a Dense MLP (and on CPython: no kernels)
True
"""

from __future__ import annotations

from operator import attrgetter, is_

import numpy as np

from . import _STATE, kernels
from .cpu import ACT, F32, addr

SOFTMAX = 4
FIELDS = 7  # ints per layer in the descriptor (mlp.c: L_IN L_OUT L_ACT L_W L_B L_H L_P)
L_W, L_P = 3, 6
GEMV_ROWS = 4  # batches below sgemm's row tile run mlp.c's GEMV (on the packed kernels)
_HANDLE = attrgetter("_h")


class Owned(dict):
    """The arrays the plans own, by tensor id, shared by a model's plans of every batch size;
    ``version`` counts the fused steps that wrote them in place (packed copies compare it)."""

    version = 0


class Plan:
    """The descriptor and buffers of one model at one batch size."""

    def __init__(self, layers, batch, owned):
        self.layers, self.batch = list(layers), batch
        self.params = []
        desc, width = [], 0
        self.outs = []  # keep buffers alive: the descriptor holds raw addresses
        for layer in layers:
            w = _own(layer.kernel, owned)
            b = _own(layer.bias, owned) if layer.use_bias else None
            n_in, n_out = w.shape
            h = np.empty((batch, n_out), F32)
            self.outs.append(h)
            self.params += [(layer.kernel, w)] + ([(layer.bias, b)] if b is not None else [])
            act = (
                SOFTMAX if layer is layers[-1] and _name(layer) == "softmax" else ACT[_name(layer)]
            )
            desc += [n_in, n_out, act, addr(w), 0 if b is None else addr(b), addr(h), 0]
            width = max(width, n_in, n_out)
        self.desc = np.array(desc, np.int32)
        self.ga, self.gb = np.empty(batch * width, F32), np.empty(batch * width, F32)
        self._check = tuple(t for t, _ in self.params), tuple(a for _, a in self.params)
        self.owned = owned
        # inference (forward_array): the input buffer, the bound call and (batch < GEMV_ROWS)
        # the packed kernels with the ``owned.version`` they were packed at; made on first use
        self.n_in, self.x, self.fwd = int(desc[0]), None, None
        self.packed, self.packed_at = None, -1

    def bind_forward(self, k):
        """``(kernels, mlp_forward, its arguments)`` for ``forward_array``; allocates the input
        and, for GEMV batches, the packed kernels (one buffer, each layer 64-byte aligned)."""
        self.x = np.empty((self.batch, self.n_in), F32)
        if self.batch < GEMV_ROWS:
            shapes = self.desc.reshape(-1, FIELDS)[:, :2].tolist()  # (K, N) per layer
            sizes = [-(-k.exports.gemv_packed_floats(*kn) // 16) * 16 for kn in shapes]
            starts = np.cumsum([0, *sizes])
            self.packed = _aligned(int(starts[-1]), 64)
            base = addr(self.packed)
            for i, start in enumerate(starts[:-1]):
                self.desc[i * FIELDS + L_P] = base + 4 * int(start)
            self.packed_at = -1
        args = (len(self.layers), addr(self.desc), addr(self.x), self.batch, k._work)
        self.fwd = (k, k.exports.mlp_forward, args)
        return self.fwd

    def pack(self, k):
        """Repack every layer's kernel into the packed buffer (after a fused step wrote them)."""
        d, pack = self.desc, k.exports.gemv_pack
        for i in range(len(self.layers)):
            row = d[i * FIELDS : (i + 1) * FIELDS]
            pack(int(row[0]), int(row[1]), int(row[L_W]), int(row[L_P]))
        self.packed_at = self.owned.version

    def valid(self, model) -> bool:
        tensors, arrays = self._check
        return self.layers == model.layers and all(map(is_, map(_HANDLE, tensors), arrays))


def _aligned(n: int, align: int) -> np.ndarray:
    """``n`` float32 zeros starting at an address that is a multiple of ``align`` bytes."""
    raw = np.zeros(n + align // 4, F32)
    skip = (-addr(raw) % align) // 4
    return raw[skip : skip + n]


def _own(t, owned):
    """Give tensor ``t`` a C-contiguous float32 array the kernels may write in place: a fresh
    copy, unless ``owned`` (the model's plans' arrays, by tensor id) already has its handle."""
    if owned.get(id(t)) is not t._h:
        t._h = owned[id(t)] = np.array(t._h, F32, order="C", copy=True)
    return t._h


def _name(layer):
    """The activation's name; a callable (maybe a user's own) is not recognised."""
    act = getattr(layer, "activation", None)
    return act if isinstance(act, str) or act is None else "?"


def dense_layers(model):
    """The model's Dense layers when it is a plain dense MLP the kernels can run, else None."""
    from ..models import Sequential
    from ..nn.core import Dense

    layers = getattr(model, "layers", None)
    if type(model) is not Sequential or not layers or any(type(x) is not Dense for x in layers):
        return None
    names = [_name(x) for x in layers]
    if any(n not in ACT for n in names[:-1]) or names[-1] not in (*ACT, "softmax"):
        return None
    if any(x.kernel.backend.name != "numpy" or x.kernel.dtype != F32 for x in layers):
        return None
    return layers


def _plan(model, batch):
    """The model's plan for this batch size (plans of all sizes share the owned weights)."""
    plans = model.__dict__.get("_wasm_plans")
    plan = plans.get(batch) if plans is not None else None
    if plan is None or not plan.valid(model):
        plans = model.__dict__.setdefault("_wasm_plans", {})
        layers = dense_layers(model)
        if layers is None:
            return None
        owned = plans.setdefault("owned", Owned())
        for size in [k for k, p in plans.items() if k != "owned" and not p.valid(model)]:
            del plans[size]  # weights replaced or layers changed: stale addresses
        plan = plans[batch] = Plan(layers, batch, owned)
    return plan


def _array(v, dtype):
    """``v`` (array-like or numpy-backend Tensor) as a C-contiguous 2-D/1-D array, else None."""
    backend = getattr(v, "backend", None)
    if backend is not None and backend.name != "numpy":
        return None  # a tensor on a GPU backend: not ours
    a = np.ascontiguousarray(getattr(v, "_h", v), dtype)
    return a if a.ndim in (1, 2) else None


def _sgd_ok(model):
    from .. import losses
    from ..optim import SGD

    opt = getattr(model, "optimizer", None)
    if type(opt) is not SGD or len(opt.param_groups) != 1 or model.compiled_metrics:
        return None
    g = opt.param_groups[0]
    if g["momentum"] or g["weight_decay"] or opt.clipnorm or opt.clipvalue or opt.global_clipnorm:
        return None
    if model.losses or g.get("maximize"):  # the fused step descends
        return None
    loss = model.compiled_loss
    sparse = {losses.categorical_crossentropy: 0, losses.sparse_categorical_crossentropy: 1}
    return None if loss not in sparse else (opt, sparse[loss])


def train_step(model, x, y):
    """One fused SGD step; returns the mean loss as a 0-d Tensor, or None (not applicable)."""
    if not _STATE["enabled"] or kernels() is None or getattr(model, "layers", None) is None:
        return None
    ok = _sgd_ok(model)
    if ok is None:
        return None
    opt, sparse = ok
    xa, ya = _array(x, F32), _array(y, np.int32 if sparse else F32)
    if xa is None or ya is None or xa.ndim != 2:
        return None
    plan = _plan(model, xa.shape[0])
    if plan is None or plan.desc[2 + FIELDS * (len(plan.layers) - 1)] != SOFTMAX:
        return None
    classes = plan.outs[-1].shape[1]
    if xa.shape[1] != plan.desc[0]:
        return None
    if (sparse and ya.shape != (xa.shape[0],)) or (
        not sparse and ya.shape != (xa.shape[0], classes)
    ):
        return None
    if sparse and len(ya) and (ya.min() < 0 or ya.max() >= classes):
        return None
    k = kernels()
    loss = k.exports.mlp_sgd_step(len(plan.layers), addr(plan.desc), addr(xa), xa.shape[0],
                                  addr(ya), sparse, float(opt.param_groups[0]["lr"]),
                                  addr(plan.ga), addr(plan.gb), k._work)  # fmt: skip
    plan.owned.version += 1  # the owned arrays changed in place: packed copies are stale
    opt.iterations += 1
    from ..creation import tensor

    return tensor(np.float32(loss), backend="numpy")


def forward(model, x):
    """Inference output of a dense MLP as a new Tensor, or None (not applicable)."""
    out = forward_array(model, x)
    if out is None:
        return None
    from ..creation import tensor

    return tensor(out, backend="numpy")


def forward_array(model, x):
    """Inference output of a dense MLP as a new numpy array, or None (not applicable).

    The input is copied (cast to float32) into a buffer the plan owns, so the per-call cost is
    one copy in, one WASM call, one copy out: no address look-ups, no tensors. This is the
    per-sample hot path (``model.predict(x[i : i + 1])``): each Python step costs about a
    microsecond in Pyodide, so it does only the checks that keep it equivalent to the general
    path (kernels on, a dense MLP whose weights are the plan's, the input's width).
    """
    if not _STATE["enabled"]:
        return None
    k = kernels()
    if k is None:
        return None
    xa = x if type(x) is np.ndarray else _array(x, F32)
    if xa is None or xa.ndim != 2:
        return None
    plan = _plan(model, xa.shape[0])
    if plan is None or xa.shape[1] != plan.n_in:
        return None
    fwd = plan.fwd
    if fwd is None or fwd[0] is not k:
        fwd = plan.bind_forward(k)
    if plan.packed_at != plan.owned.version and plan.packed is not None:
        plan.pack(k)
    plan.x[...] = xa  # casts like np.copyto(casting="unsafe")
    fwd[1](*fwd[2])
    return plan.outs[-1].copy()
