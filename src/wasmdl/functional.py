"""Composite functions: activations, softmax family, dropout, linear, normalisation maths,
1-D convolution and pooling. Written only with primitives, so no backend needs a kernel for
them and their gradients come from the primitives' VJPs.

>>> import wasmdl as wl
>>> import wasmdl.functional as F
>>> x = wl.tensor([[-1.0, 0.5, 2.0]])
>>> F.relu(x).tolist(), [round(v, 4) for v in F.softmax(x)[0].tolist()]
([[0.0, 0.5, 2.0]], [0.0391, 0.1753, 0.7856])
"""

import math

from . import creation
from .ops import *  # noqa: F403  (every primitive's public function, re-exported)
from .ops import (
    cast,
    exp,
    log,
    matmul,
    max,
    maximum,
    mean,
    minimum,
    sigmoid,
    sqrt,
    squeeze,
    sum,
    swapaxes,
    tanh,
    transpose,
    where,
)
from .ops.conv import avg_pool1d, conv1d, max_pool1d  # noqa: F401  (re-exported)
from .ops.core import norm_axis
from .ops.fused import cross_entropy, prob_cross_entropy  # noqa: F401  (fused where possible)
from .ops.fused import relu as _fused_relu
from .ops.fused import softmax as _fused_softmax


# ----------------------------------------------------------------------------- activations
def relu(x):
    """max(x, 0), with gradient 0 at 0 (as PyTorch): the fused ``relu`` op where the backend
    has its kernels (``wasmdl.ops.fused``), else ``maximum(x, 0.0)`` (ties go to 0).

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.relu(x).tolist()]
    [0.0, 0.0, 2.0]
    """
    return _fused_relu(x)


def relu6(x):
    """min(max(x, 0), 6).

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.relu6(x * 4).tolist()]
    [0.0, 0.0, 6.0]
    """
    return minimum(relu(x), 6.0)


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, ``negative_slope * x`` otherwise.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.leaky_relu(x, 0.1).tolist()]
    [-0.1, 0.0, 2.0]
    """
    if 0.0 <= negative_slope <= 1.0:  # one fast max; ties at 0 give torch's slope gradient
        return maximum(x, x * negative_slope)
    return where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.elu(x).tolist()]
    [-0.6321, 0.0, 2.0]
    """
    return where(x > 0, x, (exp(minimum(x, 0.0)) - 1.0) * alpha)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def selu(x):
    """Scaled ELU with the self-normalising constants.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.selu(x).tolist()]
    [-1.1113, 0.0, 2.1014]
    """
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def gelu(x, approximate=False):
    """Gaussian error linear unit: ``x * Phi(x)`` (exact, with erf) or its tanh approximation.

    >>> import wasmdl as wl
    >>> round(gelu(wl.tensor([1.0])).item(), 5)
    0.84134
    """
    if approximate:
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (tanh(inner) + 1.0) * 0.5
    return x * (erf(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5  # noqa: F405


def softplus(x):
    """log(1 + exp(x)), stable for large |x|.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.softplus(x).tolist()]
    [0.3133, 0.6931, 2.1269]
    """
    return maximum(x, 0.0) + log(exp(-abs(x)) + 1.0)  # noqa: F405


def softsign(x):
    """x / (1 + |x|).

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.softsign(x).tolist()]
    [-0.5, 0.0, 0.6667]
    """
    return x / (abs(x) + 1.0)  # noqa: F405


def silu(x):
    """x * sigmoid(x) (also called swish).

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.silu(x).tolist()]
    [-0.2689, 0.0, 1.7616]
    """
    return x * sigmoid(x)


swish = silu


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: clip(x / 6 + 0.5, 0, 1) (Keras 3 / PyTorch).

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.hard_sigmoid(x).tolist()]
    [0.3333, 0.5, 0.8333]
    """
    return minimum(maximum(x * (1.0 / 6.0) + 0.5, 0.0), 1.0)


def mish(x):
    """x * tanh(softplus(x)).

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.mish(x).tolist()]
    [-0.3034, 0.0, 1.944]
    """
    return x * tanh(softplus(x))


def clip(x, lo, hi):
    """Elementwise clamp to [lo, hi].

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.clip(x, -0.5, 1.0).tolist()]
    [-0.5, 0.0, 1.0]
    """
    return minimum(maximum(x, lo), hi)


def square(x):
    """x * x.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.square(x).tolist()]
    [1.0, 0.0, 4.0]
    """
    return x * x


# ----------------------------------------------------------------------------- softmax family
def logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) along ``axis``, shifted by the (constant) max for stability.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> round(F.logsumexp(wl.tensor([-1.0, 0.0, 2.0])).item(), 4)
    2.1698
    """
    m = max(x, axis=axis, keepdims=True).detach()
    out = log(sum(exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else squeeze(out, axis)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.softmax(x).tolist()]
    [0.042, 0.1142, 0.8438]
    """
    return _fused_softmax(x, axis)  # one fused op over the last axis where the backend can


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> x = wl.tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in F.log_softmax(x).tolist()]
    [-3.1698, -2.1698, -0.1698]
    """
    return x - logsumexp(x, axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- layers' maths
def dropout(x, rate, training=True, generator=None):
    """Zero elements with probability ``rate`` and scale the rest by 1 / (1 - rate).

    >>> import wasmdl as wl
    >>> float(dropout(wl.ones(4), 0.0).sum())
    4.0
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: argument 'rate' expected a float in [0, 1), received {rate}")
    if not training or rate == 0.0:
        return x
    g = generator or creation.default_generator
    return x * g.dropout_mask(x.shape, rate, dtype=x.dtype, backend=x.backend)


def linear(x, w, b=None):
    """x @ w (+ b), with ``w`` shaped (in_features, out_features) as a Keras Dense kernel.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> F.linear(wl.ones((2, 3)), wl.ones((3, 4)), wl.ones(4)).tolist()[0]
    [4.0, 4.0, 4.0, 4.0]
    """
    y = matmul(x, w)
    return y if b is None else y + b


def moments(x, axis, keepdims=False):
    """(mean, biased variance) of ``x`` over ``axis``.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> m, v = F.moments(wl.tensor([[1.0, 3.0], [5.0, 7.0]]), axis=0)
    >>> m.tolist(), v.tolist()
    ([3.0, 5.0], [4.0, 4.0])
    """
    m = mean(x, axis=axis, keepdims=True)
    d = x - m
    v = mean(d * d, axis=axis, keepdims=keepdims)
    return (m if keepdims else squeeze(m, axis)), v


def batch_norm(x, mean_, var, gamma=None, beta=None, eps=1e-3):
    """(x - mean) / sqrt(var + eps) * gamma + beta, statistics broadcast over the last axis.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> F.batch_norm(wl.tensor([[3.0]]), wl.tensor([1.0]), wl.tensor([4.0]), eps=0.0).tolist()
    [[1.0]]
    """
    y = (x - mean_) / sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    return y if beta is None else y + beta


def layer_norm(x, gamma=None, beta=None, axis=-1, eps=1e-5):
    """Normalise over ``axis`` with the biased variance, then scale and shift.

    >>> import wasmdl as wl, wasmdl.functional as F
    >>> F.layer_norm(wl.tensor([[1.0, 3.0]]), eps=0.0).tolist()
    [[-1.0, 1.0]]
    """
    m, v = moments(x, axis, keepdims=True)
    return batch_norm(x, m, v, gamma, beta, eps)


def _sizes_method(fn):
    """Tensor method ``fn(x, sizes)`` that also takes the sizes as separate arguments (numpy's
    and PyTorch's ``x.reshape(2, 3)``, ``x.permute(1, 0)``)."""

    def method(self, *sizes, **kw):
        if len(sizes) > 1:
            return fn(self, sizes, **kw)
        return fn(self, *sizes, **kw)

    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


def _transpose_method(self, *axes):
    """``x.transpose()`` reverses the axes; ``x.transpose(axes)`` or ``x.transpose(2, 0, 1)``
    reorders them (numpy); ``x.transpose(a, b)`` with two axes exchanges those two (PyTorch's
    ``transpose(dim0, dim1)``; on a matrix numpy's ``transpose(1, 0)`` is the same, and
    numpy would read ``transpose(0, 1)`` as the identity, which nobody writes).

    >>> import wasmdl as wl
    >>> x = wl.zeros((2, 3, 4))
    >>> x.transpose().shape, x.transpose(1, 2).shape, x.transpose(2, 0, 1).shape
    ((4, 3, 2), (2, 4, 3), (4, 2, 3))
    """
    if len(axes) == 2 and all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        a, b = (norm_axis("transpose", v, self.ndim, "axes") for v in axes)
        return swapaxes(self, a, b)
    if len(axes) > 2:
        return transpose(self, axes)
    return transpose(self, *axes)


def _install_tensor_methods():
    """Tensor methods that forward to these functions (``x.sum(axis=1)``, ``x.relu()``...)."""
    from .tensor import Tensor

    names = (
        "sum mean max min argmax reshape permute transpose expand broadcast_to squeeze "
        "expand_dims flatten exp log sqrt abs tanh sigmoid sin cos erf relu softmax "
        "log_softmax matmul clip square gather"
    ).split()
    for name in names:
        setattr(Tensor, name, globals()[name])
    for name in ("reshape", "permute"):  # x.reshape(2, 3) as well as x.reshape((2, 3))
        setattr(Tensor, name, _sizes_method(globals()[name]))
    Tensor.transpose = _transpose_method
    Tensor.swapaxes = swapaxes
    Tensor.astype = cast
    Tensor.float = lambda self: cast(self, "float32")
    Tensor.int = lambda self: cast(self, "int32")


_install_tensor_methods()
