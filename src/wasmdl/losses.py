"""Losses (Keras names and formulas; ``loss(y_true, y_pred)`` -> a scalar tensor, the mean over
the batch).

Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before logs, as Keras does; with
``from_logits=True`` the losses use log-softmax / log-sigmoid forms (stable, and what PyTorch's
``CrossEntropyLoss``/``BCEWithLogitsLoss`` compute).

Example:
    >>> import numpy as np, wasmdl
    >>> logits = wasmdl.tensor([[2.0, 0.5, -1.0]])
    >>> loss = wasmdl.losses.get("sparse_categorical_crossentropy", from_logits=True)
    >>> round(loss(np.array([0]), logits).item(), 4)
    0.2413
"""

from __future__ import annotations

from functools import partial

import numpy as np

from . import functional as F
from . import ops as O
from .tensor import Tensor

EPSILON = 1e-7


def _t(y, like):
    return y if isinstance(y, Tensor) else Tensor(y, dtype=like.dtype, backend=like.backend)


def _mean_last(v, sample_weight=None):
    """The batch mean of ``v``; with ``sample_weight`` (one per sample), Keras' weighted mean
    ``sum(per_sample * w) / batch`` where per_sample averages every non-batch axis."""
    if sample_weight is None:
        return O.mean(O.mean(v, axis=-1)) if v.ndim > 1 else O.mean(v)
    per = O.mean(O.reshape(v, (v.shape[0], -1)), axis=-1) if v.ndim > 1 else v
    w = _t(sample_weight, per)
    return O.sum(per * O.reshape(w, per.shape)) * (1.0 / per.shape[0])


def mean_squared_error(y_true, y_pred, sample_weight=None):
    d = y_pred - _t(y_true, y_pred)
    return _mean_last(d * d, sample_weight)


def mean_absolute_error(y_true, y_pred, sample_weight=None):
    return _mean_last(O.abs(y_pred - _t(y_true, y_pred)), sample_weight)


def huber(y_true, y_pred, delta=1.0, sample_weight=None):
    """0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) elsewhere (torch's HuberLoss)."""
    a = O.abs(y_pred - _t(y_true, y_pred))
    quad = O.minimum(a, delta)
    return _mean_last(quad * quad * 0.5 + (a - quad) * delta, sample_weight)


def binary_crossentropy(y_true, y_pred, from_logits=False, sample_weight=None):
    y = _t(y_true, y_pred)
    if from_logits:  # max(z, 0) - z*y + log(1 + exp(-|z|))
        v = F.relu(y_pred) - y_pred * y + O.log(O.exp(-O.abs(y_pred)) + 1.0)
        return _mean_last(v, sample_weight)
    p = F.clip(y_pred, EPSILON, 1 - EPSILON)
    return _mean_last(-(y * O.log(p) + (1.0 - y) * O.log(1.0 - p)), sample_weight)


def _weighted_xent(y, y_pred, from_logits, sample_weight):
    """Per-sample cross-entropy of one-hot (or soft) targets ``y``, weighted (composite ops)."""
    if from_logits:
        logp = F.log_softmax(y_pred, axis=-1)
    else:
        p = y_pred / O.sum(y_pred, axis=-1, keepdims=True)
        logp = O.log(F.clip(p, EPSILON, 1 - EPSILON))
    return _mean_last(-O.sum(y * logp, axis=-1), sample_weight)


def categorical_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, sample_weight=None
):
    _check_one_hot(y_true, y_pred)
    y = _t(y_true, y_pred)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    if sample_weight is not None:
        return _weighted_xent(y, y_pred, from_logits, sample_weight)
    if from_logits:  # one fused op where the backend has it (wasmdl.ops.fused)
        return F.cross_entropy(y_pred, y)
    return F.prob_cross_entropy(y_pred, y, EPSILON)


def _check_class_indices(y_true, classes):
    """Host labels must be class indices in [0, classes) (raised, as PyTorch and TensorFlow do on
    CPU, instead of silently dropping out of the loss); labels on a device are not read back."""
    if isinstance(y_true, Tensor):
        return
    y = np.asarray(y_true)
    if y.dtype.kind in "iu" and y.size:  # one reduction: negatives are huge as unsigned
        if (y.view(f"u{y.itemsize}") if y.dtype.kind == "i" else y).max() < classes:
            return
    bad = (
        (y < 0) | (y >= classes) | (y != np.floor(y))
        if y.dtype.kind == "f"
        else (y < 0) | (y >= classes)
    )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "sparse_categorical_crossentropy: argument 'y_true' expected class indices in "
            f"[0, {classes}), received {y.flat[i]} at index {i}"
        )


def _check_one_hot(y_true, y_pred):
    if isinstance(y_true, Tensor):
        return
    y = np.asarray(y_true)
    if tuple(y.shape) == tuple(y_pred.shape):
        return
    hint = (
        "; for integer class labels use loss='sparse_categorical_crossentropy' "
        "(or one-hot encode them with wasmdl.data.to_categorical)"
        if y.dtype.kind in "iu"
        else ""
    )
    raise ValueError(
        f"categorical_crossentropy: argument 'y_true' expected one-hot targets of shape "
        f"{tuple(y_pred.shape)} (like the predictions), received shape {y.shape}{hint}"
    )


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, sample_weight=None):
    _check_class_indices(y_true, y_pred.shape[-1])
    labels = y_true if isinstance(y_true, Tensor) else Tensor(y_true, backend=y_pred.backend)
    labels = O.cast(O.reshape(labels, y_pred.shape[:-1]), "int32")
    if sample_weight is not None:
        y = O.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
        return _weighted_xent(y, y_pred, from_logits, sample_weight)
    if from_logits:  # one fused op where the backend has it (wasmdl.ops.fused)
        return F.cross_entropy(y_pred, labels)
    return F.prob_cross_entropy(y_pred, labels, EPSILON)


def kl_divergence(y_true, y_pred):
    y = F.clip(_t(y_true, y_pred), EPSILON, 1.0)
    p = F.clip(y_pred, EPSILON, 1.0)
    return O.mean(O.sum(y * O.log(y / p), axis=-1))


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)); labels in {0, 1} are mapped to {-1, 1} (Keras)."""
    y = _t(y_true, y_pred)
    y = O.where(y == 0.0, -1.0, y)
    return _mean_last(F.relu(1.0 - y * y_pred))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-mean(cos(y_true, y_pred)) along ``axis`` (a loss: -1 is perfect agreement)."""

    def unit(v):
        return v / O.sqrt(O.maximum(O.sum(v * v, axis=axis, keepdims=True), 1e-12))

    return O.mean(-O.sum(unit(_t(y_true, y_pred)) * unit(y_pred), axis=axis))


REGISTRY = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kl_divergence": kl_divergence,
    "kld": kl_divergence,
    "hinge": hinge,
    "cosine_similarity": cosine_similarity,
}


def get(identifier, **kwargs):
    """A loss function from a name (``"mse"``) plus keyword arguments, or a callable as is."""
    if callable(identifier):
        return partial(identifier, **kwargs) if kwargs else identifier
    if identifier not in REGISTRY:
        raise ValueError(f"losses.get: expected one of {sorted(REGISTRY)}, received {identifier!r}")
    fn = REGISTRY[identifier]
    return partial(fn, **kwargs) if kwargs else fn


# Keras-style classes: ``wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True)``.
def _loss_class(fn, cls_name):
    def __init__(self, **kwargs):
        self.fn, self.kwargs = fn, kwargs

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            return self.fn(y_true, y_pred, sample_weight=sample_weight, **self.kwargs)
        return self.fn(y_true, y_pred, **self.kwargs)

    return type(cls_name, (), {"__init__": __init__, "__call__": __call__, "__doc__": fn.__doc__})


MeanSquaredError = _loss_class(mean_squared_error, "MeanSquaredError")
MeanAbsoluteError = _loss_class(mean_absolute_error, "MeanAbsoluteError")
Huber = _loss_class(huber, "Huber")
BinaryCrossentropy = _loss_class(binary_crossentropy, "BinaryCrossentropy")
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "CategoricalCrossentropy")
SparseCategoricalCrossentropy = _loss_class(
    sparse_categorical_crossentropy, "SparseCategoricalCrossentropy"
)
KLDivergence = _loss_class(kl_divergence, "KLDivergence")
Hinge = _loss_class(hinge, "Hinge")
CosineSimilarity = _loss_class(cosine_similarity, "CosineSimilarity")


def takes_sample_weight(fn) -> bool:
    """Whether a compiled loss can weight samples (the built-in losses and their classes)."""
    import inspect

    target = getattr(fn, "func", fn)  # functools.partial
    target = getattr(target, "fn", target)  # the Keras-style classes
    try:
        return "sample_weight" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


class BatchWeighted:
    """The compiled loss during a ``fit`` with ``sample_weight``/``class_weight``: ``fit`` sets
    ``weights`` to each batch's sample weights (None outside training batches)."""

    def __init__(self, fn):
        self.fn, self.weights = fn, None

    def __call__(self, y_true, y_pred):
        if self.weights is None:
            return self.fn(y_true, y_pred)
        return self.fn(y_true, y_pred, sample_weight=self.weights)


def label_check(fn):
    """The host-side label check a compiled loss implies (``check(y_true, pred_shape)``), or None:
    run once per ``fit``/``evaluate`` at the boundary, whatever path the step then takes."""
    target = getattr(fn, "fn", fn)  # BatchWeighted and the Keras-style classes
    target = getattr(target, "func", target)  # functools.partial
    target = getattr(target, "fn", target)
    if target is sparse_categorical_crossentropy:
        return lambda y, shape: _check_class_indices(y, shape[-1])
    if target is categorical_crossentropy:
        return lambda y, shape: _check_one_hot(y, _Shaped((len(y), *shape[1:])))
    return None


class _Shaped:
    def __init__(self, shape):
        self.shape = shape
