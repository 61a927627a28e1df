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
from .core import OpDef, check_tensor, fail
from .elementwise import as_tensor_like, cast, exp, log, maximum
from .index import one_hot
from .reduce import max, mean, sum

FUSED = {}


def _def(name, rule, vjp=None):
    FUSED[name] = op = OpDef(name, rule, vjp)
    return op


def apply_fused(op, *xs, **params):
    """``ops.apply`` for a fused ``OpDef`` (same checks, dispatch and recording)."""
    shape, dtype = op.rule(xs, params)
    be = xs[0].backend
    for x in xs:
        if x.backend is not be:
            fail(op.name, "inputs", f"all on backend {be.name!r}", f"one on {x.backend.name!r}")
    out = Tensor._wrap(be.run(op.name, xs, shape, dtype, params), shape, dtype, be)
    if GRAD.enabled and op.vjp is not None:
        for x in xs:
            if x.requires_grad:
                out.requires_grad = True
                out._ctx = (op, xs, params)
                break
    return out


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


def _xent_rule(xs, p):
    x, t = xs
    if x.dtype not in FLOATS or x.ndim < 1 or x.shape[-1] == 0:
        fail("cross_entropy", "input", "float logits with classes on the last axis",
             f"dtype {x.dtype}, shape {x.shape}")  # fmt: skip
    if t.dtype is int32:
        if t.shape != x.shape[:-1]:
            fail("cross_entropy", "target", f"int32 labels of shape {x.shape[:-1]}", t.shape)
    elif t.dtype is not x.dtype or t.shape != x.shape:
        fail("cross_entropy", "target", f"{x.dtype} {x.shape} or int32 labels", t.shape)
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
    t = target if isinstance(target, Tensor) else as_tensor_like("cross_entropy", "target",
                                                                   target, input)  # fmt: skip
    if t.dtype.kind in "iu" and t.dtype is not int32:
        t = cast(t, int32)
    if t.dtype.kind == "f" and t.dtype is not input.dtype:
        t = cast(t, input.dtype)
    if "softmax_cross_entropy" in input.backend.kernels:
        return apply_fused(XENT, input, t)
    _xent_rule((input, t), {})  # the same argument errors on every backend
    return _xent_composite(input, t)


__all__ = ["FUSED", "apply_fused", "cross_entropy", "relu", "softmax"]
