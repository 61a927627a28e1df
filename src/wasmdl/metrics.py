"""Metrics (Keras): stateful objects that accumulate over batches and report ``result()``.

Counts accumulate as tensors on the model's backend (no host read per batch); ``result()``
reads them once. ``get("accuracy", loss=...)`` picks the accuracy that matches the loss, as
Keras does.

Example:
    >>> import numpy as np, wasmdl
    >>> m = wasmdl.metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([0, 1]), wasmdl.tensor([[0.9, 0.1], [0.8, 0.2]]))
    >>> m.result()
    0.5
"""

from __future__ import annotations

from . import ops as O
from .autograd import no_grad
from .creation import zeros_like
from .tensor import Tensor


def _t(y, like, dtype=None):
    if isinstance(y, Tensor):
        return y
    return Tensor(y, dtype=dtype or like.dtype, backend=like.backend)


class Metric:
    """Base: subclasses return ``(total, count)`` tensors/numbers per batch from ``batch``."""

    name = "metric"

    def __init__(self, name=None):
        self.name = name or type(self).name
        self.reset_state()

    def reset_state(self):
        # the sums are tensors once a batch was seen, and keep their identity from then on (a
        # captured training step updates the same tensors at every replay)
        for name in ("total", "count"):
            t = getattr(self, name, None)
            if isinstance(t, Tensor):
                t.assign(zeros_like(t))
            else:
                setattr(self, name, 0.0)

    def update_state(self, y_true, y_pred):
        total, count = self.batch(y_true, y_pred.detach())
        with no_grad():
            self.total = _add_to(self.total, total, y_pred)
            self.count = _add_to(self.count, count, y_pred)

    def result(self) -> float:
        count = float(self.count)
        return float(self.total) / count if count else 0.0


def _add_to(acc, value, like):
    """``acc + value``: into ``acc`` (assign) once it is a tensor, a new float32 tensor before."""
    if isinstance(acc, Tensor):
        return acc.assign(O.cast(acc + value, acc.dtype))
    new = value + acc if isinstance(value, Tensor) else Tensor(float(value) + acc)
    return O.cast(new if new.backend is like.backend else new.to(like.backend), "float32")


class Mean(Metric):
    """The mean of the per-sample values of ``fn(y_true, y_pred)``."""

    fn = None

    def batch(self, y_true, y_pred):
        values = type(self).fn(_t(y_true, y_pred), y_pred)
        return O.sum(values), values.size


def _hits_binary(y, p, threshold=0.5):
    return O.cast(O.cast(p > threshold, p.dtype) == y, "float32")


def _hits_categorical(y, p):
    return O.cast(O.argmax(y, axis=-1) == O.argmax(p, axis=-1), "float32")


def _hits_sparse(y, p):
    labels = O.cast(O.reshape(y, p.shape[:-1]), "int32")
    return O.cast(labels == O.argmax(p, axis=-1), "float32")


class BinaryAccuracy(Mean):
    name, fn = "binary_accuracy", staticmethod(_hits_binary)


class CategoricalAccuracy(Mean):
    name, fn = "categorical_accuracy", staticmethod(_hits_categorical)


class SparseCategoricalAccuracy(Mean):
    name, fn = "sparse_categorical_accuracy", staticmethod(_hits_sparse)


class MeanSquaredError(Mean):
    name, fn = "mse", staticmethod(lambda y, p: (p - y) * (p - y))


class MeanAbsoluteError(Mean):
    name, fn = "mae", staticmethod(lambda y, p: O.abs(p - y))


class TopKCategoricalAccuracy(Metric):
    """Whether the true class is among the ``k`` highest scores (``sparse=True``: int labels)."""

    name = "top_k_categorical_accuracy"

    def __init__(self, k=5, sparse=False, name=None):
        self.k, self.sparse = k, sparse
        super().__init__(name)

    def batch(self, y_true, y_pred):
        y = _t(y_true, y_pred)
        if self.sparse:
            y = O.one_hot(O.cast(O.reshape(y, y_pred.shape[:-1]), "int32"), y_pred.shape[-1])
        # the true class's score, and how many classes score strictly higher
        true_score = O.sum(y * y_pred, axis=-1, keepdims=True)
        higher = O.sum(O.cast(y_pred > true_score, "float32"), axis=-1)
        return O.sum(O.cast(higher < self.k, "float32")), higher.size


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    name = "sparse_top_k_categorical_accuracy"

    def __init__(self, k=5, name=None):
        super().__init__(k, True, name)


class _Confusion(Metric):
    """Binary precision/recall from thresholded predictions."""

    def __init__(self, threshold=0.5, name=None):
        self.threshold = threshold
        super().__init__(name)

    def batch(self, y_true, y_pred):
        y = _t(y_true, y_pred)
        pred = O.cast(y_pred > self.threshold, "float32")
        true = O.cast(y > 0.5, "float32")
        return O.sum(pred * true), O.sum(self.denominator(pred, true))


class Precision(_Confusion):
    name = "precision"

    def denominator(self, pred, true):
        return pred


class Recall(_Confusion):
    name = "recall"

    def denominator(self, pred, true):
        return true


REGISTRY = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision,
    "recall": Recall,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
}
_ACCURACY_FOR_LOSS = {
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "binary_crossentropy": BinaryAccuracy,
}


def get(identifier, loss=None) -> Metric:
    """A fresh metric from a name or instance; ``"accuracy"``/``"acc"`` follows ``loss``."""
    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc"):
        loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
        loss_name = getattr(getattr(loss, "fn", None), "__name__", loss_name)
        metric = _ACCURACY_FOR_LOSS.get(loss_name, CategoricalAccuracy)(name="accuracy")
        return metric
    if identifier not in REGISTRY:
        raise ValueError(
            f"metrics.get: expected 'accuracy' or one of {sorted(REGISTRY)}, "
            f"received {identifier!r}"
        )
    return REGISTRY[identifier]()
