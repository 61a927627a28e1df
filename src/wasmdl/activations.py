"""Activation functions by name: the 15 TensorFlow.js offers plus leaky_relu, silu, exponential.

Each is composed from engine ops (so it runs, and differentiates, on every backend). Branches
use ``where`` with a clamped argument so the unselected branch never produces inf (whose
gradient would turn into NaN).

Example:
    >>> import wasmdl
    >>> from wasmdl import activations
    >>> activations.get("relu6")(wasmdl.tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
"""

from __future__ import annotations

import math

from . import ops as O

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def linear(x):
    return x


def relu(x):
    return O.where(x > 0, x, 0.0)


def relu6(x):
    return O.where(x > 0, O.where(x < 6, x, 6.0), 0.0)


def leaky_relu(x, negative_slope=0.2):
    return O.where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    return O.where(x > 0, x, (O.exp(O.minimum(x, 0.0)) - 1.0) * alpha)


def selu(x):
    return elu(x, SELU_ALPHA) * SELU_SCALE


def gelu(x, approximate=False):
    """Exact ``x * Phi(x)`` (torch's and Keras' default); ``approximate`` uses the tanh form."""
    if approximate:
        return 0.5 * x * (1.0 + O.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + O.erf(x * (1 / math.sqrt(2))))


def sigmoid(x):
    return O.sigmoid(x)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6`` (Keras 3 and torch's Hardsigmoid)."""
    return relu6(x + 3.0) * (1 / 6)


def softplus(x):
    """``log(1 + exp(x))`` computed as ``max(x, 0) + log(1 + exp(-|x|))`` (no overflow)."""
    return relu(x) + O.log(1.0 + O.exp(-O.abs(x)))


def softsign(x):
    return x / (1.0 + O.abs(x))


def tanh(x):
    return O.tanh(x)


def swish(x):
    return x * O.sigmoid(x)


silu = swish


def mish(x):
    return x * O.tanh(softplus(x))


def exponential(x):
    return O.exp(x)


def softmax(x, axis=-1):
    e = O.exp(x - O.max(x, axis=axis, keepdims=True).detach())
    return e / O.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    shifted = x - O.max(x, axis=axis, keepdims=True).detach()
    return shifted - O.log(O.sum(O.exp(shifted), axis=axis, keepdims=True))


REGISTRY = {
    f.__name__: f
    for f in (
        linear,
        relu,
        relu6,
        leaky_relu,
        elu,
        selu,
        gelu,
        sigmoid,
        hard_sigmoid,
        softplus,
        softsign,
        tanh,
        swish,
        mish,
        exponential,
        softmax,
        log_softmax,
    )
} | {"silu": silu, None: linear}


def get(identifier):
    """The activation function for a name (or None -> linear), or ``identifier`` if callable."""
    if callable(identifier):
        return identifier
    if identifier not in REGISTRY:
        names = sorted(k for k in REGISTRY if k)
        raise ValueError(f"activations.get: expected one of {names}, received {identifier!r}")
    return REGISTRY[identifier]


def serialize(fn) -> str:
    """The registry name of an activation function (custom callables cannot be saved)."""
    for name, f in REGISTRY.items():
        if f is fn and name is not None:
            return name
    raise ValueError(f"activations.serialize: {fn!r} is not a named activation; cannot save it")
