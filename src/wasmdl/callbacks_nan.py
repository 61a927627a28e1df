"""What ``fit`` does about a loss that stops being finite, and the per-batch logs every callback
receives: ``TerminateOnNaN`` (Keras; optionally putting back the last finite weights), one
warning naming the epoch and batch where the loss first went NaN, and ``LazyLogs``.

Example:
    >>> import numpy as np, wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(1, input_shape=(2,))])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.ones((8, 2), np.float32)
    >>> x[5] = np.nan
    >>> stop = wasmdl.callbacks.TerminateOnNaN(restore_last_finite_weights=True)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     h = model.fit(x, np.ones((8, 1)), batch_size=2, epochs=3, shuffle=False, verbose=0,
    ...                   callbacks=[stop])
    >>> stop.stopped_batch, len(h.history["loss"]), str(caught[0].message).split(" of ")[0]
    (2, 1, 'fit: the loss became nan in epoch 1, batch 3')
    >>> all(np.isfinite(w).all() for w in model.get_weights())
    True
"""

from __future__ import annotations

import warnings
from collections.abc import MutableMapping

from .callbacks import Callback, _finite


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
