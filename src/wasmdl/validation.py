"""Argument checks at the training API's boundary (``compile``/``fit``/``evaluate``/``predict``/
``train_on_batch``): every bad argument is refused before any op runs, with an error naming the
function, the argument, what was expected and what was received. Keras' conveniences are
accepted: ``batch_size=None`` means 32, numpy integers are integers, ``metrics="accuracy"`` is
one metric.

Example:
    >>> import numpy as np
    >>> as_int("fit", "batch_size", np.int64(16), 1, 32), as_int("fit", "batch_size", None, 1, 32)
    (16, 32)
    >>> try:
    ...     check_split("fit", 1.5)
    ... except ValueError as e:
    ...     print(e)
    fit: argument 'validation_split' expected a float in [0, 1), received 1.5
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import losses, optim
from .data import DataLoader

INT32 = np.iinfo(np.int32)


def _fail(fn, arg, expected, received, exc=ValueError):
    raise exc(f"{fn}: argument '{arg}' expected {expected}, received {received}")


def as_int(fn, arg, value, minimum, default=None):
    """An int (numpy integers included, bools refused) >= ``minimum``; None gives ``default``."""
    if type(value) is int and value >= minimum:  # the common case, kept cheap
        return value
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(fn, arg, f"an int >= {minimum}", f"{value!r:.60}", TypeError)
    if value < minimum:
        _fail(fn, arg, f"an int >= {minimum}", repr(int(value)))
    return int(value)


def check_split(fn, value):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value < 1
    if not ok:
        _fail(fn, "validation_split", "a float in [0, 1)", f"{value!r:.60}")
    return float(value)


def as_array(fn, arg, value):
    """A numeric numpy array with at least one axis and one sample; ints must fit int32."""
    if type(value) is np.ndarray and value.dtype.kind == "f" and value.ndim and len(value):
        return value  # the common case (float samples), kept cheap
    if value is None:
        _fail(fn, arg, "an array of samples", "None", TypeError)
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as e:  # ragged lists
        _fail(fn, arg, "an array of samples (equal-length rows)", f"{type(value).__name__} ({e})")
    if a.dtype.kind not in "biuf":
        _fail(fn, arg, "numbers (bool, int or float)", f"dtype {a.dtype}", TypeError)
    if a.ndim == 0:
        _fail(fn, arg, "an array with a batch axis", f"a scalar {a!r:.40}")
    if len(a) == 0:
        _fail(fn, arg, "at least one sample", f"shape {a.shape}")
    if a.dtype.kind in "iu" and a.itemsize > 4 and (a.max() > INT32.max or a.min() < INT32.min):
        bad = int(np.flatnonzero((a > INT32.max) | (a < INT32.min))[0])
        _fail(fn, arg, "integers within int32", f"{a.flat[bad]} at flat index {bad}")
    return a


def _samples(fn, arg, value):
    """``value`` checked: one array (returned as numpy), or several (a list/tuple of arrays or
    a dict by name, for models with several inputs or outputs; returned as given). Also the
    number of samples."""
    from .training_io import is_structured

    if not is_structured(value):
        a = as_array(fn, arg, value)
        return a, len(a)
    parts = value.items() if isinstance(value, dict) else enumerate(value)
    counts = {k: len(as_array(fn, f"{arg}[{k!r}]", np.asarray(v))) for k, v in parts}
    if len(set(counts.values())) > 1:
        _fail(fn, arg, "arrays with the same number of samples", f"{counts}")
    return value, next(iter(counts.values()))


def check_xy(fn, x, y, need_y=True):
    x, nx = _samples(fn, "x", x)
    if y is None and not need_y:
        return x, None
    y, ny = _samples(fn, "y", y)
    if nx != ny:
        _fail(fn, "y", f"{nx} samples (as many as x)", f"{ny}")
    return x, y


def check_lr(fn, optimizer):
    """A numeric learning rate must be finite and >= 0 (0 freezes the weights, as in Keras; a
    schedule is checked when used)."""
    lr = getattr(optimizer, "lr", None)
    if isinstance(lr, numbers.Real) and not (math.isfinite(lr) and lr >= 0):
        _fail(fn, "optimizer", "a finite learning rate >= 0", f"lr={lr!r}")


def check_compile(optimizer, loss, metrics):
    """Normalise ``metrics`` (a string is one metric) and check the loss's type."""
    one = lambda v: isinstance(v, str) or callable(v)  # noqa: E731
    parts = (
        loss.values()
        if isinstance(loss, dict)
        else loss
        if isinstance(loss, list | tuple)
        else [loss]
    )
    if loss is not None and not (parts and all(v is None or one(v) for v in parts)):
        _fail(
            "compile", "loss", "a loss name or a callable (or a list/dict of them, one per output)",
            f"{loss!r:.60}", TypeError,
        )  # fmt: skip
    named = isinstance(optimizer, str) and optimizer.lower() in optim.REGISTRY
    if not (named or isinstance(optimizer, type | optim.Optimizer)):
        _fail(
            "compile",
            "optimizer",
            f"one of {sorted(optim.REGISTRY)}, an optimizer class or instance",
            f"{optimizer!r:.60}",
        )
    check_lr("compile", optimizer)
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics) or hasattr(metrics, "update_state"):
        return [metrics]
    if isinstance(metrics, dict):  # per output, by name (functional models)
        return {k: check_compile(optimizer, None, v) for k, v in metrics.items()}
    if not isinstance(metrics, list | tuple):
        _fail("compile", "metrics", "a list of metric names or metrics", f"{metrics!r:.60}")
    return list(metrics)


def _class_weights(fn, y, class_weight):
    if not isinstance(class_weight, dict) or not class_weight:
        _fail(fn, "class_weight", "a dict {class index: weight}", f"{class_weight!r:.60}")
    keys = [as_int(fn, "class_weight", k, 0) for k in class_weight]
    labels = np.argmax(y, -1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(np.int64)
    table = np.ones(max(max(keys), int(labels.max())) + 1, np.float32)
    table[keys] = [float(v) for v in class_weight.values()]
    return table[np.clip(labels, 0, None)]


def check_weights(fn, model, y, class_weight, sample_weight):
    """Per-sample weights from ``sample_weight`` and/or ``class_weight`` (Keras), or None."""
    if class_weight is None and sample_weight is None:
        return None
    if y is None or isinstance(y, DataLoader):
        _fail(fn, "sample_weight", "arrays x and y (not a DataLoader)", type(y).__name__)
    w = np.ones(len(y), np.float32)
    if sample_weight is not None:
        w = as_array(fn, "sample_weight", sample_weight).astype(np.float32)
        if w.shape != (len(y),):
            _fail(fn, "sample_weight", f"shape ({len(y)},), one weight a sample", f"{w.shape}")
    if class_weight is not None:
        w = w * _class_weights(fn, y, class_weight)
    if not (np.isfinite(w).all() and (w >= 0).all()):
        _fail(fn, "sample_weight", "finite weights >= 0", f"{w[~(np.isfinite(w) & (w >= 0))][:3]}")
    if not losses.takes_sample_weight(model.compiled_loss):
        _fail(fn, "sample_weight", "a built-in loss that weights samples", "a custom loss")
    return w


def check_callbacks(fn, callbacks):
    """A list of callbacks (Keras takes a list; a single callback is refused clearly)."""
    from .callbacks import Callback

    ok = callbacks is None or (
        isinstance(callbacks, list | tuple) and all(isinstance(c, Callback) for c in callbacks)
    )
    if not ok:
        _fail(
            fn, "callbacks", "a list of wasmdl.callbacks.Callback", f"{callbacks!r:.80}", TypeError
        )


def check_fit(model, x, y, batch_size, epochs, validation_split, validation_data, initial_epoch):
    """``fit``'s arguments: returns ``(x, y, batch_size)`` normalised."""
    batch_size = as_int("fit", "batch_size", batch_size, 1, default=32)
    as_int("fit", "epochs", epochs, 0)
    as_int("fit", "initial_epoch", initial_epoch, 0)
    check_split("fit", validation_split)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
            _fail("fit", "validation_data", "a tuple (x_val, y_val)", f"{validation_data!r:.60}")
        check_xy("fit", *validation_data[:2])
    if isinstance(x, DataLoader):
        return x, y, batch_size
    x, y = check_xy("fit", x, y)
    if validation_split and validation_data is None:
        n = _samples("fit", "x", x)[1]
        cut = int(n * (1 - validation_split))
        if cut == 0 or cut == n:
            _fail(
                "fit",
                "validation_split",
                "a split leaving samples for both training and validation",
                f"{validation_split} of {len(x)} samples",
            )
    return x, y, batch_size


def check_labels(model, y) -> None:
    """Labels against the model's output once, before any step (sparse class indices in range,
    one-hot targets of the output's shape), when the output shape is known."""
    from .training_io import is_structured

    if is_structured(y):
        return  # several outputs: each loss checks its own labels
    shape = getattr(model, "output_shape", None)
    check = losses.label_check(model.compiled_loss)
    if check is not None and y is not None and isinstance(shape, tuple) and shape:
        check(np.asarray(y), shape)
