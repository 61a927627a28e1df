"""Keras' training API for models (``compile``/``fit``/``evaluate``/``predict`` and their async
twins), and ``GradientTape`` for custom loops.

``fit`` and ``fit_async`` share one generator that yields after every batch: ``fit`` runs it to
the end, ``fit_async`` awaits ``asyncio.sleep(0)`` at each yield so a browser page stays
responsive (Pyodide's event loop runs between batches). Loss and metric sums stay on the
backend and are read once per epoch (per batch only when a progress callback asks for them).

Example:
    >>> import numpy as np, wasmdl
    >>> model = wasmdl.Sequential([wasmdl.nn.Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> history = model.fit(x, x.sum(1, keepdims=True), epochs=3, batch_size=16, verbose=0)
    >>> sorted(history.history), history.history["loss"][-1] < history.history["loss"][0]
    (['loss', 'mae'], True)
"""

from __future__ import annotations

import asyncio
from functools import partial

import numpy as np

from . import callbacks as cbks
from . import losses, optim, validation
from .autograd import no_grad
from .capture import function
from .data import DataLoader
from .nn.base import STRUCTURE
from .tensor import Tensor
from .training_io import (
    batch_len,
    compile_loss,
    compile_metrics,
    concat_outputs,
    input_batches,
    is_structured,
    split_tail,
)
from .training_io import loader as make_loader

# Keras' default learning rates when an optimizer is given by name to compile().
KERAS_LR = {
    "sgd": 0.01,
    "rmsprop": 1e-3,
    "adagrad": 1e-3,
    "adadelta": 1e-3,
    "adam": 1e-3,
    "adamw": 1e-3,
    "adamax": 1e-3,
    "nadam": 1e-3,
}


class GradientTape:
    """TensorFlow-style gradients: ``with GradientTape() as tape: loss = ...`` then
    ``tape.gradient(loss, model.trainable_weights)`` (leaves the weights' ``.grad`` untouched).

    Example:
        >>> import wasmdl
        >>> w = wasmdl.tensor([3.0], requires_grad=True)
        >>> with wasmdl.GradientTape() as tape:
        ...     loss = (w * w).sum()
        >>> tape.gradient(loss, [w])[0].tolist()
        [6.0]
    """

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def gradient(self, target, sources):
        sources = list(sources)
        saved = [s.grad for s in sources]
        for s in sources:
            s.grad = None
        target.backward()
        grads = [s.grad for s in sources]
        for s, g in zip(sources, saved, strict=True):
            s.grad = g
        return grads


class TrainingMixin:
    """compile / fit / evaluate / predict for ``wasmdl.Model``."""

    optimizer = None
    compiled_loss = None
    jit_compile = "auto"
    train_function = test_function = predict_function = None

    def compile(
        self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, jit_compile="auto"
    ):
        """Set the optimizer (a name, a class, or an instance), the loss (one, or one per output
        as a list or dict, weighted by ``loss_weights``) and the metrics.

        ``jit_compile``: ``"auto"`` (default) captures the training, test and predict steps
        into programs replayed in one backend call where it can (``wasmdl.function``; a step
        that cannot be captured runs eagerly, the reason in ``capture_info()``), ``True``
        raises when a step cannot be captured, ``False`` always runs eagerly."""
        if jit_compile not in ("auto", True, False):
            raise ValueError(
                "compile: argument 'jit_compile' expected 'auto', True or False, received "
                f"{jit_compile!r}"
            )
        metrics = validation.check_compile(optimizer, loss, metrics)  # "accuracy" is one metric
        self.jit_compile = jit_compile
        self.train_function = self.test_function = self.predict_function = None
        self._optimizer_spec, self.optimizer = optimizer, None
        if isinstance(optimizer, optim.Optimizer):
            self.optimizer = optimizer
        self.compiled_loss = compile_loss(self, loss, loss_weights) if loss is not None else None
        self._loss_name = loss if isinstance(loss, str) else None
        self._loss_spec, self._loss_weights = loss, loss_weights
        self._metric_specs = metrics if isinstance(metrics, dict) else list(metrics or [])
        self.compiled_metrics = compile_metrics(self, self._metric_specs, loss)

    def _ensure_optimizer(self):
        if self.optimizer is None:
            spec = self._optimizer_spec
            name = spec.lower() if isinstance(spec, str) else None
            kwargs = {"lr": KERAS_LR[name]} if name in KERAS_LR else {}
            self.optimizer = optim.get(spec, self.parameters(), **kwargs)
        elif not self.optimizer.param_groups[0]["params"]:
            self.optimizer.bind(self.parameters())
        return self.optimizer

    def _require_compiled(self, fn):
        if self.compiled_loss is None:
            raise RuntimeError(
                f"{fn}: expected a compiled model, received one without a loss; "
                "call model.compile(optimizer=..., loss=...) first"
            )

    # ------------------------------------------------------------------ one step
    def train_step(self, x, y):
        """One optimisation step on a batch; returns the loss tensor (not read back).
        Override it for a custom step: ``fit`` captures the override like this one.

        As in Keras, the step keeps no gradients: they are released after the update (the
        weights' ``.grad`` is None between steps), so they take no memory between batches and
        a captured step copies none out. Use ``GradientTape`` or an override to see them."""
        opt = self.optimizer
        opt.zero_grad()
        self.zero_grad()  # weights outside the optimizer too: gradients never pile up
        pred = self(x, training=True)
        loss = self.compiled_loss(y, pred)
        extra = self.losses
        total = loss + sum(extra[1:], extra[0]) if extra else loss
        total.backward()
        opt.step()
        opt.zero_grad()
        self.zero_grad()
        for m in self.compiled_metrics:
            m.update_state(y, pred)
        return loss.detach()

    def test_step(self, x, y):
        """The loss on a batch in inference mode, metrics updated (``evaluate``)."""
        with no_grad():
            pred = self(x, training=False)
            loss = self.compiled_loss(y, pred)
            for m in self.compiled_metrics:
                m.update_state(y, pred)
        return loss

    def predict_step(self, x):
        """The model's outputs for a batch in inference mode (``predict``)."""
        with no_grad():
            return self(x, training=False)

    # ------------------------------------------------------------------ captured steps
    def _step_key(self):
        """What a captured training step depends on beyond its arguments' shapes: the
        model's structure (frozen layers included), the optimizer and its static options,
        the loss and metrics. A change records the step again."""
        opt = self.optimizer
        groups = () if opt is None else tuple(
            tuple(sorted((k, v) for k, v in g.items() if k not in ("params", "lr", "initial_lr")))
            for g in opt.param_groups
        )  # fmt: skip
        metrics = tuple(id(m) for m in getattr(self, "compiled_metrics", ()))
        return STRUCTURE[0], id(opt), groups, id(self.compiled_loss), metrics

    def _structure_key(self):
        return STRUCTURE[0], id(self.compiled_loss)

    def make_train_function(self):
        """The captured ``train_step`` (Keras' name): ``fit`` and ``train_on_batch`` call it."""
        if self.train_function is None:
            self.train_function = function(
                self.train_step, self.jit_compile, self._step_key, name="train_step"
            )
        return self.train_function

    def make_test_function(self):
        if self.test_function is None:
            self.test_function = function(
                self.test_step, self.jit_compile, self._structure_key, name="test_step"
            )
        return self.test_function

    def make_predict_function(self):
        if self.predict_function is None:
            self.predict_function = function(
                self.predict_step, self.jit_compile, self._structure_key, name="predict_step"
            )
        return self.predict_function

    def capture_info(self) -> dict:
        """For each step this model ran (``train``, ``test``, ``predict``): whether it is
        captured, instructions recorded and after rewriting, backend calls per step, and
        why not when it fell back to eager execution."""
        steps = {"train": self.train_function, "test": self.test_function}
        steps["predict"] = self.predict_function
        return {k: f.capture_info() for k, f in steps.items() if f is not None}

    # ------------------------------------------------------------------ fit
    def _loaders(self, x, y, batch_size, shuffle, validation_split, validation_data, seed, w=None):
        if isinstance(x, DataLoader):
            train = x
        else:
            if validation_split and validation_data is None:  # Keras: the last part, unshuffled
                x, y, validation_data = split_tail(x, y, validation_split)
                if w is not None:
                    w = w[: int(len(w) * (1 - validation_split))]
            train = make_loader(self, x, y, batch_size, shuffle=shuffle, seed=seed, weights=w)
        val = validation_data
        if val is not None and not isinstance(val, DataLoader):
            val = make_loader(self, val[0], val[1], batch_size)
        return train, val

    def _fit_steps(
        self,
        x,
        y,
        batch_size=32,
        epochs=1,
        verbose=1,
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        initial_epoch=0,
        seed=None,
        class_weight=None,
        sample_weight=None,
    ):
        """The fit loop as a generator: yields after every batch."""
        self._require_compiled("fit")
        x, y, batch_size = validation.check_fit(
            self, x, y, batch_size, epochs, validation_split, validation_data, initial_epoch
        )
        w = validation.check_weights("fit", self, y, class_weight, sample_weight)
        validation.check_callbacks("fit", callbacks)
        train, val = self._loaders(
            x, y, batch_size, shuffle, validation_split, validation_data, seed, w
        )
        if not self.built:
            self.build_from_json([[None, *np.shape(train.dataset[0:1][0])[1:]]])
        validation.check_labels(self, None if isinstance(x, DataLoader) else y)
        validation.check_lr("fit", self._ensure_optimizer())
        history = cbks.History()
        # Keras' order: the progress bar first, History last (it sees what others add to logs)
        cb_list = [*([cbks.ProgbarLogger()] if verbose else []), *(callbacks or []), history]
        self._fit_plan = (epochs, len(train))
        cbl = cbks.CallbackList(cb_list, self)
        self.stop_training = False
        cbl.on_train_begin({})
        weighted = losses.BatchWeighted(self.compiled_loss) if w is not None else None
        self.compiled_loss = weighted or self.compiled_loss  # weights each batch's loss
        try:
            yield from self._fit_epochs(train, val, cbl, range(initial_epoch, epochs), weighted)
        finally:
            self.compiled_loss = weighted.fn if weighted else self.compiled_loss
        cbl.on_train_end({})
        self.train()  # leave the model in its default (training) mode
        return history

    def _fit_epochs(self, train, val, cbl, epochs, weighted):
        warned, train_function = False, self.make_train_function()
        for epoch in epochs:
            for m in self.compiled_metrics:
                m.reset_state()
            cbl.on_epoch_begin(epoch, {})
            loss_sum, n_seen, batch_losses = 0.0, 0, []
            for i, (xb, yb, *wb) in enumerate(train):
                cbl.on_train_batch_begin(i, {})
                if weighted is None:
                    loss = train_function(xb, yb)
                else:  # per-batch weights ride on the loss: an eager step (not captured)
                    weighted.weights = wb[0] if wb else None
                    loss = self.train_step(xb, yb)
                n = batch_len(xb)
                loss_sum, n_seen = loss_sum + loss * n, n_seen + n
                batch_losses.append(loss)  # read back only if the epoch's loss is not finite
                # every callback gets the batch's logs; they are read back only when looked at
                cbl.on_train_batch_end(i, cbks.LazyLogs(partial(self._logs, loss_sum, n_seen)))
                yield
                if self.stop_training:  # honoured after every batch (Keras)
                    break
            if weighted is not None:
                weighted.weights = None  # validation is not weighted
            logs = self._logs(loss_sum, n_seen)
            warned = warned or cbks.warn_non_finite(epoch, logs, batch_losses)
            if val is not None:
                val_logs = self._evaluate_loader(val)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbl.on_epoch_end(epoch, logs)
            if self.stop_training:
                break

    def _logs(self, loss_sum, n_seen):
        logs = {"loss": float(loss_sum) / max(n_seen, 1)}
        logs.update({m.name: m.result() for m in self.compiled_metrics})
        return logs

    def fit(self, x=None, y=None, **kwargs):
        """Train for ``epochs`` on arrays (or a ``wasmdl.data.DataLoader``); returns History."""
        steps = self._fit_steps(x, y, **kwargs)
        try:
            while True:
                next(steps)
        except StopIteration as done:
            return done.value

    async def fit_async(self, x=None, y=None, **kwargs):
        """``fit`` that yields to the event loop after every batch (browser pages stay live)."""
        steps = self._fit_steps(x, y, **kwargs)
        try:
            while True:
                next(steps)
                await asyncio.sleep(0)
        except StopIteration as done:
            return done.value

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_loader(self, loader):
        for m in self.compiled_metrics:
            m.reset_state()
        loss_sum, n = 0.0, 0
        test_function, weighted = self.make_test_function(), None
        for xb, yb, *wb in loader:  # (x, y) or (x, y, sample_weight) batches
            if wb:  # weighted: eager (the weights ride on the loss)
                weighted = weighted or losses.BatchWeighted(self.compiled_loss)
                weighted.weights = wb[0]
                with no_grad():
                    pred = self(xb, training=False)
                    loss = weighted(yb, pred)
                    for m in self.compiled_metrics:
                        m.update_state(yb, pred)
            else:
                loss = test_function(xb, yb)
            size = batch_len(xb)
            with no_grad():
                loss_sum, n = loss_sum + loss * size, n + size
        return self._logs(loss_sum, n)

    def evaluate(
        self, x=None, y=None, batch_size=32, verbose=0, return_dict=False, sample_weight=None
    ):
        """Loss (and metrics) on ``x, y``: a float, ``[loss, *metrics]`` or a dict (Keras)."""
        self._require_compiled("evaluate")
        batch_size = validation.as_int("evaluate", "batch_size", batch_size, 1, default=32)
        loader = x
        if not isinstance(x, DataLoader):
            x, y = validation.check_xy("evaluate", x, y)
            validation.check_labels(self, y)
            w = validation.check_weights("evaluate", self, y, None, sample_weight)
            loader = make_loader(self, x, y, batch_size, weights=w)
        logs = self._evaluate_loader(loader)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def _predict_steps(self, x, batch_size):
        outs = []
        predict_function = self.make_predict_function()
        for xb in input_batches(self, x, batch_size):
            outs.append(predict_function(xb))
            yield None
        return outs

    def _predict_one_batch(self, x, batch_size):
        """``predict`` of an array that fits in one batch (the per-sample case): no loader, no
        generator, one replay of the captured predict step. None when ``x`` does not fit."""
        if not isinstance(batch_size, int) or batch_size < 1:
            return None
        if type(x) is not np.ndarray:  # the per-sample case passes arrays: skip the rest
            if isinstance(x, DataLoader) or is_structured(x):
                return None
            x = np.asarray(x)
        if x.ndim == 0 or not 0 < len(x) <= batch_size:
            return None
        fn = self.predict_function or self.make_predict_function()
        if type(x) is np.ndarray:
            out = fn.host_call(x)  # a replay straight to a fresh host array, where it can
            if out is not None:
                return out
        out = fn(x)
        return out.numpy() if type(out) is Tensor else concat_outputs([out])  # copies

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` in inference mode, as one numpy array."""
        if type(x) is np.ndarray and type(batch_size) is int and x.dtype.kind == "f":
            out = self._predict_one_batch(x, batch_size)  # the per-sample case: no checks more
            if out is not None:
                return out
        batch_size = validation.as_int("predict", "batch_size", batch_size, 1, default=32)
        if not isinstance(x, DataLoader):
            x = validation.check_xy("predict", x, None, need_y=False)[0]
        out = self._predict_one_batch(x, batch_size)
        if out is not None:
            return out
        steps = self._predict_steps(x, batch_size)
        try:
            while True:
                next(steps)
        except StopIteration as done:
            return concat_outputs(done.value)

    async def predict_async(self, x, batch_size=32):
        """``predict`` that yields to the event loop between batches and reads back async."""
        batch_size = validation.as_int("predict", "batch_size", batch_size, 1, default=32)
        if not isinstance(x, DataLoader):
            x = validation.check_xy("predict", x, None, need_y=False)[0]
        steps = self._predict_steps(x, batch_size)
        try:
            while True:
                next(steps)
                await asyncio.sleep(0)
        except StopIteration as done:
            return np.concatenate([await t.numpy_async() for t in done.value])

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None) -> float:
        self._require_compiled("train_on_batch")
        x, y = validation.check_xy("train_on_batch", x, y)
        validation.check_labels(self, y)
        w = validation.check_weights("train_on_batch", self, y, class_weight, sample_weight)
        validation.check_lr("train_on_batch", self._ensure_optimizer())
        if w is None:
            return float(self.make_train_function()(x, y))
        self.compiled_loss = weighted = losses.BatchWeighted(self.compiled_loss)
        weighted.weights = w
        try:  # weights ride on the loss: an eager step (not captured)
            return float(self.train_step(x, y))
        finally:
            self.compiled_loss = weighted.fn
