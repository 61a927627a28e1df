"""Activation functions by name (Keras/TF.js names): the 15 TensorFlow.js offers (relu, relu6,
elu, selu, gelu, mish, swish, sigmoid, hard_sigmoid, softplus, softsign, tanh, softmax,
log_softmax, linear) plus leaky_relu, silu and exponential. The maths is ``wasmdl.functional``.

Example:
    >>> import wasmdl
    >>> from wasmdl import activations
    >>> activations.get("relu6")(wasmdl.tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
"""

from __future__ import annotations

from . import functional as F


def linear(x):
    return x


def leaky_relu(x, negative_slope=0.2):
    """Keras' and TF.js' default slope (0.2); ``functional.leaky_relu`` uses torch's 0.01."""
    return F.leaky_relu(x, negative_slope)


REGISTRY = {
    "linear": linear,
    "relu": F.relu,
    "relu6": F.relu6,
    "leaky_relu": leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "sigmoid": F.sigmoid,
    "hard_sigmoid": F.hard_sigmoid,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "tanh": F.tanh,
    "swish": F.silu,
    "silu": F.silu,
    "mish": F.mish,
    "exponential": F.exp,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
}
globals().update({k: v for k, v in REGISTRY.items() if k not in globals()})


def get(identifier):
    """The activation function for a name (None -> linear), or ``identifier`` if callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if identifier not in REGISTRY:
        raise ValueError(
            f"activations.get: expected one of {sorted(REGISTRY)}, received {identifier!r}"
        )
    return REGISTRY[identifier]


def serialize(fn) -> str:
    """The registry name of an activation function (custom callables cannot be saved)."""
    for name, f in REGISTRY.items():
        if f is fn:
            return name
    raise ValueError(f"activations.serialize: {fn!r} is not a named activation; cannot save it")
