"""Training callbacks (Keras): hooks ``fit`` calls at the start/end of training, epochs, batches.

``logs`` are plain dicts of floats (``loss``, metric names, ``val_*``). A callback reaches the
model as ``self.model`` and stops training by setting ``self.model.stop_training = True``.

Example:
    >>> import numpy as np, wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2), np.float32), np.ones((8, 1), np.float32)
    >>> stop = wasmdl.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    >>> len(model.fit(x, y, epochs=5, verbose=0, callbacks=[stop]).history["loss"])
    2

A loss that stops being finite: one warning naming the epoch and batch, and ``TerminateOnNaN``
(Keras; optionally putting back the last finite weights):

    >>> x[5] = np.nan
    >>> stop = wasmdl.callbacks.TerminateOnNaN(restore_last_finite_weights=True)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     h = model.fit(x, y, batch_size=2, epochs=3, shuffle=False, verbose=0, callbacks=[stop])
    >>> stop.stopped_batch, len(h.history["loss"]), str(caught[0].message).split(" of ")[0]
    (2, 1, 'fit: the loss became nan in epoch 1, batch 3')
    >>> all(np.isfinite(w).all() for w in model.get_weights())
    True
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import MutableMapping

import numpy as np


class Callback:
    """Base class: override any of the ``on_*`` hooks."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...


class CallbackList:
    """Calls the same hook on every callback in order."""

    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)

    def __getattr__(self, hook):
        def call_all(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call_all


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` (returned by ``fit``)."""

    def on_train_begin(self, logs=None):
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _finite(value) -> bool:
    return value is not None and math.isfinite(float(value))


def _better(mode, monitor):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"callbacks: expected mode in ('auto', 'min', 'max'), received {mode!r}")
    if mode == "auto":
        mode = "max" if "acc" in monitor or "precision" in monitor or "recall" in monitor else "min"
    return (lambda a, b, d: a > b + d) if mode == "max" else (lambda a, b, d: a < b - d)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(
        self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False
    ):
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.better, self.restore = _better(mode, monitor), restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait, self.best, self.best_weights, self.stopped_epoch = 0, None, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(
                f"EarlyStopping: expected monitor {self.monitor!r} in the epoch logs, "
                f"received logs with {sorted(logs or {})}"
            )
        if _finite(value) and (self.best is None or self.better(value, self.best, self.min_delta)):
            self.best, self.wait = value, 0
            if self.restore:  # never keep (or later restore) weights that are not finite
                weights = self.model.get_weights()
                if all(np.isfinite(w).all() for w in weights):
                    self.best_weights = weights
            return
        self.wait += 1
        if self.wait > self.patience:
            self.model.stop_training, self.stopped_epoch = True, epoch
            if self.restore and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (native format) after each epoch, or only when ``monitor`` improves.

    ``filepath`` may contain ``{epoch}`` and log keys: ``"ckpt-{epoch:02d}-{val_loss:.3f}.wasmdl"``.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        save_best_only=False,
        mode="auto",
        save_weights_only=False,
    ):
        self.filepath, self.monitor, self.best_only = str(filepath), monitor, save_best_only
        self.better, self.weights_only, self.best = _better(mode, monitor), save_weights_only, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        if self.best_only:
            if value is None or (self.best is not None and not self.better(value, self.best, 0)):
                return
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        (self.model.save_weights if self.weights_only else self.model.save)(path)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to ``schedule(epoch, lr)`` (Keras)."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.lr = float(self.schedule(epoch, self.model.optimizer.lr))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement."""

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: expected 0 < factor < 1, received {factor}")
        self.monitor, self.factor, self.patience, self.min_delta = (
            monitor,
            factor,
            patience,
            min_delta,
        )
        self.cooldown, self.min_lr, self.better = cooldown, min_lr, _better(mode, monitor)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooling = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if self.cooling > 0:
            self.cooling -= 1
            self.wait = 0
        if self.best is None or self.better(value, self.best, self.min_delta):
            self.best, self.wait = value, 0
        elif self.cooling == 0:
            self.wait += 1
            if self.wait >= self.patience:
                opt = self.model.optimizer
                opt.lr = max(opt.lr * self.factor, self.min_lr)
                self.wait, self.cooling = 0, self.cooldown


class ProgressCallback(Callback):
    """Calls ``on_progress(info)`` after every batch and epoch: the hook for web pages.

    ``info`` = ``{"epoch", "epochs", "batch", "batches", "logs", "done"}`` (``batch`` counts
    from 1; ``done`` is True at the end of an epoch). With ``fit_async`` the page can draw
    between batches.
    """

    def __init__(self, on_progress):
        self.on_progress = on_progress

    def on_train_begin(self, logs=None):
        self.epochs, self.batches = self.model._fit_plan

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _emit(self, batch, logs, done):
        self.on_progress(
            {
                "epoch": self.epoch + 1,
                "epochs": self.epochs,
                "batch": batch,
                "batches": self.batches,
                "logs": dict(logs or {}),
                "done": done,
            }
        )

    def on_train_batch_end(self, batch, logs=None):
        self._emit(batch + 1, logs, False)

    def on_epoch_end(self, epoch, logs=None):
        self._emit(self.batches, logs, True)


class ProgbarLogger(ProgressCallback):
    """The text progress bar ``fit(verbose=1)`` prints (a terminal or Pyodide's REPL)."""

    def __init__(self, stream=None, width=24, interval=0.1):
        super().__init__(self._draw)
        self.stream, self.width, self.interval, self.last = stream, width, interval, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self.start = time.perf_counter()

    def _draw(self, info):
        now = time.perf_counter()
        if not info["done"] and now - self.last < self.interval:
            return
        self.last = now
        filled = math.floor(self.width * info["batch"] / max(1, info["batches"]))
        bar = "=" * filled + "." * (self.width - filled)
        metrics = " - ".join(f"{k}: {v:.4f}" for k, v in info["logs"].items())
        line = (
            f"Epoch {info['epoch']}/{info['epochs']} {info['batch']}/{info['batches']} "
            f"[{bar}] {now - self.start:.1f}s - {metrics}"
        )
        stream = self.stream or sys.stdout
        stream.write(("\r" + line + "\n") if info["done"] else ("\r" + line))
        stream.flush()


# ----------------------------------------------------------------------------- NaN handling
# What ``fit`` does about a loss that stops being finite, and the per-batch logs every callback
# receives: ``TerminateOnNaN``, one warning naming where the loss first went NaN, ``LazyLogs``.


class LazyLogs(MutableMapping):
    """Per-batch logs computed on first access, so a batch reads the loss back from the device
    only when some callback looks at its logs (Keras passes every batch's logs to every hook)."""

    def __init__(self, compute):
        self._compute, self._data = compute, None

    def _logs(self) -> dict:
        if self._data is None:
            self._data = self._compute()
        return self._data

    def __getitem__(self, key):
        return self._logs()[key]

    def __setitem__(self, key, value):
        self._logs()[key] = value

    def __delitem__(self, key):
        del self._logs()[key]

    def __iter__(self):
        return iter(self._logs())

    def __len__(self):
        return len(self._logs())

    def __repr__(self):
        return repr(self._logs())


def warn_non_finite(epoch, logs, batch_losses) -> bool:
    """Warn once when an epoch's loss is not finite, naming the first such batch (True if so)."""
    if _finite(logs.get("loss")):
        return False
    first = next((i for i, b in enumerate(batch_losses) if not _finite(b)), None)
    where = f"batch {first + 1} of {len(batch_losses)}" if first is not None else "a batch"
    warnings.warn(
        f"fit: the loss became {logs.get('loss')} in epoch {epoch + 1}, {where}; the weights "
        "are likely not finite from there on. Check the inputs for NaN/inf or lower the learning "
        "rate; wasmdl.callbacks.TerminateOnNaN stops training at the first such batch.",
        RuntimeWarning,
        stacklevel=3,
    )
    return True


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite (Keras).

    ``restore_last_finite_weights=True`` also puts back the weights the model had before that
    batch (the last finite step); it copies the weights at every batch, so it costs a read-back.
    """

    def __init__(self, restore_last_finite_weights=False):
        self.restore = restore_last_finite_weights
        self.saved, self.stopped_batch = None, None

    def on_train_batch_begin(self, batch, logs=None):
        if self.restore:
            self.saved = self.model.get_weights()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or _finite(loss):
            return
        self.model.stop_training, self.stopped_batch = True, batch
        if self.restore and self.saved is not None:
            self.model.set_weights(self.saved)
