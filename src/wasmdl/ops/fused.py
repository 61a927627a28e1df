"""Fused ops: optional kernels for training-step hot spots, outside the core ``OPS`` table.

A fused op is an ``OpDef`` in ``FUSED`` (not in ``OPS``: no backend is required to have it).
Its public function runs the op when the input's backend has the kernel and otherwise the
composite formula, which is the specification (so WebGPU, or any backend without the kernel,
computes exactly what it did before). Each VJP uses a fused gradient kernel during a plain
``backward()``; under ``create_graph=True`` it is the composite formula, written with
primitives, so higher-order gradients stay exact without second-order kernels.

================================  ===========================  ==============================
fused op (inputs)                 composite it replaces         gradient kernel
================================  ===========================  ==============================
relu (x)                          ``maximum(x, 0.0)``           relu_grad (g, out)
softmax (x), last axis            ``e / sum(e)``, e = exp(x -    softmax_grad (g, out)
                                  max(x))
softmax_cross_entropy (x, t)      ``mean(-sum(t * log_softmax    softmax_cross_entropy_grad
                                  (x), -1))``, int ``t``: one-hot  (x, t, g)
prob_cross_entropy (p, t), eps    the same of clipped p / sum(p)  prob_cross_entropy_grad
                                  (Keras, from_logits=False)      (p, t, g)
================================  ===========================  ==============================

>>> import wasmdl as wl
>>> from wasmdl.ops import fused
>>> fused.relu(wl.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> round(fused.cross_entropy(wl.tensor([[2.0, 0.5, -1.0]]), wl.tensor([0])).item(), 4)
0.2413
"""

import builtins

from ..autograd import GRAD
from ..dtypes import FLOATS, int32
from ..tensor import Tensor
from .core import OpDef, apply, check_tensor, fail
from .elementwise import as_tensor_like, cast, exp, log, maximum, minimum
from .index import one_hot
from .reduce import max, mean, sum

FUSED = {}


def _def(name, rule, vjp=None):
    FUSED[name] = op = OpDef(name, rule, vjp)
    return op


def apply_fused(op, *xs, **params):
    """``ops.apply`` for a fused ``OpDef`` (kept as a name for readers of this table)."""
    return apply(op, *xs, **params)


# ----------------------------------------------------------------------------- ReLU
def _relu_composite(x):
    return maximum(x, 0.0)


def _relu_vjp(g, out, xs, p):
    if GRAD.enabled:  # create_graph: maximum's differentiable gradient
        return (g * cast(xs[0] > 0.0, g.dtype),)
    return (apply_fused(RELU_GRAD, g, out),)


RELU = _def("relu", lambda xs, p: (xs[0].shape, xs[0].dtype), _relu_vjp)
RELU_GRAD = _def("relu_grad", lambda xs, p: (xs[1].shape, xs[1].dtype))


def relu(x):
    """max(x, 0) with torch's gradient (0 at 0); fused where the backend has ``relu``.

    >>> import wasmdl as wl
    >>> from wasmdl.ops.fused import relu
    >>> relu(wl.tensor([-1.0, 0.0, 3.0])).tolist()
    [0.0, 0.0, 3.0]
    """
    check_tensor("relu", "x", x)
    if x.dtype in FLOATS and "relu" in x.backend.kernels:
        return apply_fused(RELU, x)
    return _relu_composite(x)


# ----------------------------------------------------------------------------- softmax
def _softmax_composite(x, axis):
    e = exp(x - max(x, axis=axis, keepdims=True).detach())
    return e / sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, out, xs, p):
    if GRAD.enabled:  # create_graph: the same formula with ops (out is differentiable)
        return (out * (g - sum(g * out, axis=-1, keepdims=True)),)
    return (apply_fused(SOFTMAX_GRAD, g, out),)


SOFTMAX = _def("softmax", lambda xs, p: (xs[0].shape, xs[0].dtype), _softmax_vjp)
SOFTMAX_GRAD = _def("softmax_grad", lambda xs, p: (xs[1].shape, xs[1].dtype))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``; fused over the last axis where the backend has
    ``softmax`` (its gradient: ``out * (g - sum(g * out))``).

    >>> import wasmdl as wl
    >>> from wasmdl.ops.fused import softmax
    >>> [round(v, 4) for v in softmax(wl.tensor([-1.0, 0.0, 2.0])).tolist()]
    [0.042, 0.1142, 0.8438]
    """
    check_tensor("softmax", "x", x)
    last = x.ndim and axis in (-1, x.ndim - 1)
    if last and x.dtype in FLOATS and "softmax" in x.backend.kernels:
        return apply_fused(SOFTMAX, x)
    return _softmax_composite(x, axis)


# ----------------------------------------------------------------------------- cross-entropy
def _log_softmax(x):
    z = x - max(x, axis=-1, keepdims=True).detach()
    return z - log(sum(exp(z), axis=-1, keepdims=True))


def _target_rows(x, t):
    return one_hot(t, x.shape[-1], dtype=x.dtype) if t.dtype is int32 else t


def _xent_composite(x, t):
    return mean(-sum(_target_rows(x, t) * _log_softmax(x), axis=-1))


def _xent_rule(xs, p, name="cross_entropy"):
    x, t = xs
    if x.dtype not in FLOATS or x.ndim < 1 or x.shape[-1] == 0:
        fail(name, "input", "floats with classes on the last axis",
             f"dtype {x.dtype}, shape {x.shape}")  # fmt: skip
    if t.dtype is int32:
        if t.shape != x.shape[:-1]:
            fail(name, "target", f"int32 labels of shape {x.shape[:-1]}", t.shape)
    elif t.dtype is not x.dtype or t.shape != x.shape:
        fail(name, "target", f"{x.dtype} {x.shape} or int32 labels", t.shape)
    return (), x.dtype


def _xent_vjp(g, out, xs, p):
    x, t = xs
    rows = builtins.max(1, x.size // x.shape[-1])
    scale = g / float(rows)
    gt = -_log_softmax(x) * scale if t.requires_grad else None
    if not x.requires_grad:
        return None, gt
    if GRAD.enabled:  # create_graph: (softmax(x) sum(t) - t) * g / rows, differentiable
        tt = _target_rows(x, t)
        mass = sum(tt, axis=-1, keepdims=True)  # 0 for a row whose label is out of range
        return (exp(_log_softmax(x)) * mass - tt) * scale, gt
    return apply_fused(XENT_GRAD, x, t, g), gt


XENT = _def("softmax_cross_entropy", _xent_rule, _xent_vjp)
XENT_GRAD = _def("softmax_cross_entropy_grad", lambda xs, p: (xs[0].shape, xs[0].dtype))


def _as_target(name, target, like):
    t = target if isinstance(target, Tensor) else as_tensor_like(name, "target", target, like)
    if t.dtype.kind in "iu" and t.dtype is not int32:
        t = cast(t, int32)
    if t.dtype.kind == "f" and t.dtype is not like.dtype:
        t = cast(t, like.dtype)
    return t


def cross_entropy(input, target):
    """Mean softmax cross-entropy of logits ``input`` (classes on the LAST axis) against int
    class labels (shape ``input.shape[:-1]``) or target probabilities (``input``'s shape), as
    ``torch.nn.functional.cross_entropy`` with ``reduction="mean"``; fused where the backend
    has ``softmax_cross_entropy``. A label outside [0, C) contributes 0 (a zero one-hot row).

    >>> import wasmdl as wl
    >>> from wasmdl.ops.fused import cross_entropy
    >>> round(cross_entropy(wl.tensor([[0.0, 0.0]]), wl.tensor([[0.5, 0.5]])).item(), 4)
    0.6931
    """
    check_tensor("cross_entropy", "input", input)
    t = _as_target("cross_entropy", target, input)
    if "softmax_cross_entropy" in input.backend.kernels:
        return apply_fused(XENT, input, t)
    _xent_rule((input, t), {})  # the same argument errors on every backend
    return _xent_composite(input, t)


# ----------------------------------------------------------------------------- probabilities
def _clipped(p, eps):
    """(q = p / sum(p), clip(q, eps, 1 - eps)) over the last axis."""
    q = p / sum(p, axis=-1, keepdims=True)
    return q, minimum(maximum(q, eps), 1.0 - eps)


def _prob_xent_vjp(g, out, xs, params):
    p, t = xs
    eps, rows = params["eps"], builtins.max(1, p.size // p.shape[-1])
    scale = g / float(rows)
    q, c = _clipped(p, eps)
    gt = -log(c) * scale if t.requires_grad else None
    if not p.requires_grad:
        return None, gt
    if GRAD.enabled:  # create_graph: d/dp through q = p / s and the clip, with ops
        inside = cast(q > eps, q.dtype) * cast(q < 1.0 - eps, q.dtype)  # clip passes
        dq = -(_target_rows(p, t) / c) * inside
        dp = (dq - sum(dq * q, axis=-1, keepdims=True)) / sum(p, axis=-1, keepdims=True)
        return dp * scale, gt
    return apply_fused(PROB_XENT_GRAD, p, t, g, **params), gt


PROB_XENT = _def(
    "prob_cross_entropy", lambda xs, p: _xent_rule(xs, p, "prob_cross_entropy"), _prob_xent_vjp
)
PROB_XENT_GRAD = _def("prob_cross_entropy_grad", lambda xs, p: (xs[0].shape, xs[0].dtype))


def prob_cross_entropy(probs, target, eps=1e-7):
    """Keras' cross-entropy of predicted probabilities: ``mean(-sum(t * log(clip(p / sum(p),
    eps, 1 - eps)), -1))``, ``target`` int labels or target rows (as ``cross_entropy``);
    fused where the backend has ``prob_cross_entropy``, the composite formula elsewhere.

    >>> import wasmdl as wl
    >>> from wasmdl.ops.fused import prob_cross_entropy
    >>> round(prob_cross_entropy(wl.tensor([[0.5, 0.25, 0.25]]), wl.tensor([1])).item(), 4)
    1.3863
    """
    check_tensor("prob_cross_entropy", "probs", probs)
    t = _as_target("prob_cross_entropy", target, probs)
    if "prob_cross_entropy" in probs.backend.kernels:
        return apply_fused(PROB_XENT, probs, t, eps=float(eps))
    _xent_rule((probs, t), {}, "prob_cross_entropy")
    _, c = _clipped(probs, eps)
    return mean(-sum(_target_rows(probs, t) * log(c), axis=-1))


# ----------------------------------------------------------------------------- optimizer updates
def _update_rule(xs, p):
    return xs[0].shape, xs[0].dtype


# In place (program.INPLACE): sgd_update(p, g, hp[, buf]) and adam_update(p, g, hp, m, v) write
# p and the state arrays the optimizer keeps private; hp holds the step's host values ([lr,
# step, ...], float32). The output is p itself.
SGD_UPDATE = _def("sgd_update", _update_rule)
ADAM_UPDATE = _def("adam_update", _update_rule)


__all__ = ["FUSED", "apply_fused", "cross_entropy", "prob_cross_entropy", "relu", "softmax"]
