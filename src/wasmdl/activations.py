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


relu, relu6, elu, selu, gelu, sigmoid = F.relu, F.relu6, F.elu, F.selu, F.gelu, F.sigmoid
hard_sigmoid, softplus, softsign, tanh = F.hard_sigmoid, F.softplus, F.softsign, F.tanh
swish = silu = F.silu
mish, exponential, softmax, log_softmax = F.mish, F.exp, F.softmax, F.log_softmax

REGISTRY = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "softplus": softplus,
    "softsign": softsign,
    "tanh": tanh,
    "swish": swish,
    "silu": silu,
    "mish": mish,
    "exponential": exponential,
    "softmax": softmax,
    "log_softmax": log_softmax,
}


def get(identifier):
    """The activation function for a name (None -> linear), or ``identifier`` if callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str) or identifier not in REGISTRY:
        raise ValueError(
            f"activations.get: expected one of {sorted(REGISTRY)}, received {identifier!r:.200}"
        )
    return REGISTRY[identifier]


def serialize(fn) -> str:
    """The registry name of an activation function (custom callables cannot be saved)."""
    for name, f in REGISTRY.items():
        if f is fn:
            return name
    raise ValueError(f"activations.serialize: {fn!r} is not a named activation; cannot save it")
