"""Optimizers (PyTorch names and semantics), learning-rate schedules and gradient clipping.

``get`` turns a Keras-style name (``"adam"``, ``"sgd"``) into an optimizer for ``compile``.

Example:
    >>> import wasmdl
    >>> w = wasmdl.tensor([0.5], requires_grad=True)
    >>> opt = wasmdl.optim.get("adam", [w])
    >>> type(opt).__name__, opt.lr
    ('Adam', 0.001)
"""

from .adam import Adam, Adamax, AdamW, NAdam, Nadam
from .optimizer import Optimizer, clip_grad_norm_, clip_grad_value_
from .schedules import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR
from .sgd import SGD, Adadelta, Adagrad, RMSprop

REGISTRY = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": NAdam,
}


def get(identifier, params, **kwargs) -> Optimizer:
    """An optimizer over ``params`` from a name, a class, or an unbound instance's config."""
    if isinstance(identifier, Optimizer):
        return identifier
    cls = identifier if isinstance(identifier, type) else REGISTRY.get(str(identifier).lower())
    if cls is None:
        raise ValueError(f"optim.get: expected one of {sorted(REGISTRY)}, received {identifier!r}")
    return cls(params, **kwargs)


__all__ = [
    "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "CosineAnnealingLR",
    "ExponentialLR", "LRScheduler", "NAdam", "Nadam", "Optimizer", "REGISTRY", "RMSprop",
    "StepLR", "clip_grad_norm_", "clip_grad_value_", "get",
]  # fmt: skip
