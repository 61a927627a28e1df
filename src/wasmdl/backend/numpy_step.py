"""The numpy backend's training-step kernels: the fused ops of ``wasmdl.ops.fused`` (ReLU,
softmax, softmax cross-entropy, and their gradients) and the in-place optimizer updates
``sgd_update`` / ``adam_update`` that ``Optimizer.step`` calls when a backend has them.

These are the specification the WebAssembly versions (``wasmdl/_wasm/cpu_step.py``) are tested
against, and natively they save temporaries: an Adam step is ~10 numpy calls on three reused
arrays instead of ~15 ops that each allocate. The update kernels are the one exception to "no
kernel writes into an input": they write into the parameter and state arrays they are given,
which the optimizer owns (it copies a parameter's array once before the first in-place update).

>>> import numpy as np
>>> p, g = np.ones(3, np.float32), np.full(3, 2.0, np.float32)
>>> sgd_update(p, g, np.array([0.5], np.float32)).tolist()
[0.0, 0.0, 0.0]
"""

import numpy as np


# ----------------------------------------------------------------------------- ReLU
def relu(x):
    """max(x, 0) (NaN stays NaN, as torch)."""
    return np.maximum(x, 0.0)


def relu_grad(g, y):
    """``g`` where the ReLU's output ``y`` is positive, else 0 (torch's gradient at 0 is 0)."""
    return np.multiply(g, y > 0.0)


# ----------------------------------------------------------------------------- softmax
def softmax(x):
    """exp(x - max(x)) / sum(...) over the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_grad(g, y):
    """``y * (g - sum(g * y))`` over the last axis, from the softmax's output ``y``."""
    t = np.multiply(g, y)
    s = t.sum(axis=-1, keepdims=True)
    np.subtract(g, s, out=t)
    t *= y
    return t


# ----------------------------------------------------------------------------- cross-entropy
def _rows(x):
    """(logits as rows x classes, their max-shifted copy, log-sum-exp per row)."""
    rows = x.reshape(-1, x.shape[-1])
    z = rows - rows.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=-1))
    return rows, z, lse


def _target(t, rows):
    """Target rows: int labels become one-hot rows (a label outside [0, C) gives a zero row,
    as the composite ``one_hot`` does)."""
    c = rows.shape[-1]
    if t.dtype.kind in "iu":
        return t.reshape(-1, 1) == np.arange(c, dtype=t.dtype)
    return t.reshape(-1, c)


def softmax_cross_entropy(x, t):
    """Mean over rows of ``-sum(t * log_softmax(x), -1)``; ``t`` int labels or target rows."""
    rows, z, lse = _rows(x)
    if rows.shape[0] == 0:
        return np.array(np.nan, x.dtype)
    tt = _target(t, rows)
    picked = np.multiply(z, tt).sum(axis=-1)  # sum_j t_j z_j
    mass = tt.sum(axis=-1, dtype=x.dtype)  # 1 per labelled row (0 for an out-of-range label)
    return np.asarray((mass * lse - picked).mean(), x.dtype)


def softmax_cross_entropy_grad(x, t, g):
    """d softmax_cross_entropy / d x times the 0-d cotangent ``g``:
    ``(softmax(x) * sum(t) - t) * g / rows``."""
    rows, z, lse = _rows(x)
    p = np.exp(z - lse[:, None])
    tt = _target(t, rows)
    p *= tt.sum(axis=-1, keepdims=True, dtype=x.dtype)
    p -= tt
    p *= np.asarray(g, x.dtype) / max(rows.shape[0], 1)
    return p.reshape(x.shape)


def _clipped(p, eps):
    rows = p.reshape(-1, p.shape[-1])
    s = rows.sum(axis=-1, keepdims=True)
    q = rows / s
    return s, q, np.minimum(np.maximum(q, eps), 1.0 - eps)


def prob_cross_entropy(p, t, eps):
    """Mean over rows of ``-sum(t * log(clip(p / sum(p), eps, 1 - eps)), -1)`` (Keras)."""
    _, q, c = _clipped(p, eps)
    if q.shape[0] == 0:
        return np.array(np.nan, p.dtype)
    tt = _target(t, q)
    return np.asarray(-np.multiply(tt, np.log(c)).sum(axis=-1).mean(), p.dtype)


def prob_cross_entropy_grad(p, t, g, eps):
    """Its gradient to ``p`` times ``g``: through the clip (which passes where eps < q < 1 -
    eps) and q = p / s: ``(dq - sum(dq * q)) / s`` with ``dq = -t / c``."""
    s, q, c = _clipped(p, eps)
    dq = np.divide(_target(t, q), c)
    dq *= (q > eps) & (q < 1.0 - eps)
    np.negative(dq, out=dq)
    dq -= np.multiply(dq, q).sum(axis=-1, keepdims=True)
    dq *= np.asarray(g, p.dtype) / max(q.shape[0], 1)
    dq /= s
    return dq.reshape(p.shape)


# ----------------------------------------------------------------------------- optimizers
TINY = np.finfo(np.float32).tiny


def flush_subnormal(a):
    """Optimizer state below float32's smallest normal (1.2e-38) set to +0 in place (NaN kept):
    state that decays toward zero otherwise sticks at the smallest subnormal (0.9 x 1.4e-45
    rounds back to it) and every later step takes the CPU's slow subnormal path; TensorFlow's
    CPU kernels (FTZ/DAZ) and GPUs flush the same way. Its effect on p is < 1e-38 * lr / eps.

    >>> flush_subnormal(np.array([1e-39, -1e-45, 0.5, np.nan], np.float32)).tolist()
    [0.0, 0.0, 0.5, nan]
    """
    if a.dtype == np.float32:
        a[np.abs(a) < TINY] = 0.0
    return a


def sgd_update(
    p,
    g,
    hp,
    buf=None,
    momentum=0.0,
    dampening=0.0,
    weight_decay=0.0,
    nesterov=False,
    maximize=False,
    first=False,
):
    """torch.optim.SGD's update of ``p`` (and ``buf`` when ``momentum``) in place; returns p.

    ``hp``: the step's host values, ``[lr, ...]`` (float32). ``first``: the momentum buffer's
    first step (``buf = d``, no dampening, as torch).
    """
    lr = float(hp[0])
    d = np.negative(g) if maximize else g
    if weight_decay:
        d = np.add(d, np.multiply(p, weight_decay))
    if momentum:
        if first:
            np.copyto(buf, d)
        else:
            buf *= momentum
            buf += d if dampening == 0 else np.multiply(d, 1.0 - dampening)
        flush_subnormal(buf)
        d = np.add(d, np.multiply(buf, momentum)) if nesterov else buf
    p -= np.multiply(d, lr)
    return p


def adam_update(
    p,
    g,
    hp,
    m,
    v,
    beta1,
    beta2,
    eps,
    weight_decay=0.0,
    decoupled=False,
    maximize=False,
):
    """torch.optim.Adam (``decoupled``: AdamW) update of ``p``, ``m``, ``v`` in place; ``hp`` is
    ``[lr, step, ...]`` (float32; step >= 1 gives the bias corrections 1 - beta^step); returns p."""
    lr, step = float(hp[0]), float(hp[1])
    d = np.negative(g) if maximize else g
    if weight_decay and decoupled:
        p *= 1.0 - lr * weight_decay
    elif weight_decay:
        d = np.add(d, np.multiply(p, weight_decay))
    tmp = np.subtract(d, m)  # m.lerp_(d, 1 - beta1), as torch
    tmp *= 1.0 - beta1
    m += tmp
    np.multiply(d, d, out=tmp)  # v = beta2 v + (1 - beta2) d^2
    tmp *= 1.0 - beta2
    v *= beta2
    v += tmp
    flush_subnormal(m)
    flush_subnormal(v)
    np.sqrt(v, out=tmp)  # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
    tmp /= (1.0 - beta2**step) ** 0.5
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= lr / (1.0 - beta1**step)
    p -= tmp
    return p


KERNELS = {
    "relu": relu,
    "relu_grad": relu_grad,
    "softmax": softmax,
    "softmax_grad": softmax_grad,
    "softmax_cross_entropy": softmax_cross_entropy,
    "softmax_cross_entropy_grad": softmax_cross_entropy_grad,
    "prob_cross_entropy": prob_cross_entropy,
    "prob_cross_entropy_grad": prob_cross_entropy_grad,
    "sgd_update": sgd_update,
    "adam_update": adam_update,
}
