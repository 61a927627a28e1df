"""Several inputs and outputs in ``compile``/``fit``/``evaluate``/``predict`` (Keras).

``x`` and ``y`` may be one array, a list/tuple of arrays, or a dict keyed by input/output
layer name. ``compile(loss=[...] or {...}, loss_weights=...)`` gives each output its own loss;
the model's loss is their weighted sum (one loss name for a multi-output model applies to
every output, as in Keras). ``OutputLosses`` is a callable ``(y, pred) -> loss`` like a single
loss, so the training loop uses either the same way.

Example:
    >>> import numpy as np, wasmdl
    >>> from wasmdl import nn
    >>> a = wasmdl.Input((3,), name="a")
    >>> h = nn.Dense(4, activation="tanh")(a)
    >>> model = wasmdl.Model(a, [nn.Dense(1, name="y1")(h), nn.Dense(2, name="y2")(h)])
    >>> model.compile("sgd", loss={"y1": "mse", "y2": "mae"}, loss_weights=[1.0, 0.5])
    >>> x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    >>> hist = model.fit(x, [x[:, :1], x[:, 1:]], epochs=2, batch_size=8, verbose=0)
    >>> len(hist.history["loss"]), len(model.predict(x))
    (2, 2)
"""

from __future__ import annotations

import numpy as np

from . import losses
from . import metrics as metrics_mod
from .data import DataLoader, TensorDataset


def is_structured(data) -> bool:
    """Several arrays (Keras: a list/tuple of arrays, or a dict by input/output name), as
    opposed to one array given as nested lists of numbers."""
    if isinstance(data, dict):
        return True
    return (
        isinstance(data, list | tuple)
        and len(data) > 0
        and all(hasattr(a, "shape") and hasattr(a, "dtype") for a in data)
    )


def _names(model, which):
    return list(getattr(model, f"{which}_names", None) or [])


def flat_arrays(data, names, what="x"):
    """``data`` (an array, list, tuple or dict by name) as a list of arrays."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing or not names:
            raise ValueError(
                f"fit: argument '{what}' expected a dict with keys {names}, "
                f"received keys {sorted(data)}"
            )
        return [np.asarray(data[n]) for n in names]
    if isinstance(data, list | tuple):
        return [np.asarray(a) for a in data]
    return [np.asarray(data)]


def batch_len(xb) -> int:
    """Samples in a batch of one array or a list of arrays."""
    return len(xb[0]) if isinstance(xb, list) else len(xb)


class StructuredLoader(DataLoader):
    """A DataLoader over several x and y arrays: yields ``(xs, ys)`` lists (or arrays)."""

    def __init__(self, xs, ys, batch_size=32, shuffle=False, seed=None):
        super().__init__(TensorDataset(*xs, *ys), batch_size, shuffle, seed=seed)
        self.n_x, self.n_y = len(xs), len(ys)

    def __iter__(self):
        for batch in super().__iter__():
            xs, ys = list(batch[: self.n_x]), list(batch[self.n_x :])
            yield (xs if self.n_x > 1 else xs[0]), (ys if self.n_y > 1 else ys[0])


def loader(model, x, y, batch_size=32, shuffle=False, seed=None, weights=None):
    """The batches of ``fit``/``evaluate``: a plain DataLoader unless x or y is structured;
    ``(x, y, w)`` batches with per-sample ``weights``."""
    if not (is_structured(x) or is_structured(y)):
        arrays = (np.asarray(x), np.asarray(y)) + (() if weights is None else (weights,))
        return DataLoader(TensorDataset(*arrays), batch_size, shuffle, seed=seed)
    if weights is not None:
        raise ValueError(
            "fit: argument 'sample_weight' expected a model with one input and one output, "
            "received weights for a model given several inputs or outputs"
        )
    xs = flat_arrays(x, _names(model, "input"), "x")
    ys = flat_arrays(y, _names(model, "output"), "y")
    return StructuredLoader(xs, ys, batch_size, shuffle, seed)


def split_tail(x, y, fraction):
    """Keras' validation_split: the last ``fraction`` of every array, unshuffled."""
    cut = lambda a: int(len(a) * (1 - fraction))  # noqa: E731
    head = lambda d: _map(d, lambda a: np.asarray(a)[: cut(a)])  # noqa: E731
    tail = lambda d: _map(d, lambda a: np.asarray(a)[cut(a) :])  # noqa: E731
    return head(x), head(y), (tail(x), tail(y))


def _map(data, fn):
    if isinstance(data, dict):
        return {k: fn(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [fn(v) for v in data]
    return fn(data)


def input_batches(model, x, batch_size):
    """The input batches of ``predict``: arrays, or lists of arrays for several inputs."""
    xs = flat_arrays(x, _names(model, "input"), "x") if is_structured(x) else [np.asarray(x)]
    for batch in DataLoader(tuple(xs), batch_size):
        yield list(batch) if len(xs) > 1 or is_structured(x) else batch[0]


def concat_outputs(outs):
    """Per-batch outputs (tensors, or lists of them) as one array or a list of arrays."""
    if outs and isinstance(outs[0], list | tuple):
        return [np.concatenate([o[i].numpy() for o in outs]) for i in range(len(outs[0]))]
    return np.concatenate([t.numpy() for t in outs])


class OutputLosses:
    """``sum(weight_i * loss_i(y_i, pred_i))`` over a model's outputs."""

    def __init__(self, model, loss, loss_weights=None):
        names = _names(model, "output")
        n = max(len(names), 1)
        if isinstance(loss, dict):
            loss = [loss.get(name) for name in names]
        elif not isinstance(loss, list | tuple):
            loss = [loss] * n
        if isinstance(loss_weights, dict):
            loss_weights = [loss_weights.get(name, 1.0) for name in names]
        weights = list(loss_weights) if loss_weights is not None else [1.0] * len(loss)
        if len(loss) != n or len(weights) != n:
            raise ValueError(
                f"compile: arguments 'loss' and 'loss_weights' expected {n} entries (one per "
                f"output {names}), received {len(loss)} and {len(weights)}"
            )
        self.specs, self.weights = list(loss), [float(w) for w in weights]
        self.fns = [losses.get(spec) if spec is not None else None for spec in loss]

    def __call__(self, y, pred):
        ys = y if isinstance(y, list | tuple) else [y]
        preds = pred if isinstance(pred, list | tuple) else [pred]
        total = None
        for fn, w, yi, pi in zip(self.fns, self.weights, ys, preds, strict=True):
            if fn is None:  # an output without a loss (Keras: loss=None for it)
                continue
            term = fn(yi, pi) * w
            total = term if total is None else total + term
        return total


class OutputMetric:
    """One output's metric in a multi-output model, named ``<output>_<metric>`` (Keras)."""

    def __init__(self, metric, index: int, output: str):
        self.metric, self.index, self.name = metric, index, f"{output}_{metric.name}"

    def reset_state(self):
        self.metric.reset_state()

    def update_state(self, y, pred):
        self.metric.update_state(y[self.index], pred[self.index])

    def result(self) -> float:
        return self.metric.result()


def compile_metrics(model, specs, loss):
    """``compile``'s metrics: as given for one output; for several, one list per output (a
    dict by output name, a list of lists, or one flat list applied to every output)."""
    names = _names(model, "output")
    if len(names) <= 1 and not isinstance(specs, dict):
        return [metrics_mod.get(m, loss) for m in specs or []]
    if isinstance(specs, dict):
        unknown = sorted(set(specs) - set(names))
        if unknown:
            raise ValueError(
                f"compile: argument 'metrics' expected a dict keyed by output names {names}, "
                f"received keys {unknown} that name no output"
            )
        per_output = [specs.get(name) or [] for name in names]
    elif specs and all(isinstance(s, list | tuple) for s in specs):
        per_output = list(specs)
    else:
        per_output = [list(specs or [])] * len(names)
    out_losses = OutputLosses(model, loss).specs if loss is not None else [None] * len(names)
    if len(per_output) != len(names):
        raise ValueError(
            f"compile: argument 'metrics' expected one list per output {names}, "
            f"received {len(per_output)}"
        )
    return [
        OutputMetric(metrics_mod.get(m, out_loss), i, name)
        for i, (name, ms, out_loss) in enumerate(zip(names, per_output, out_losses, strict=True))
        for m in ms
    ]


def compile_loss(model, loss, loss_weights=None):
    """The callable ``compile`` stores: one loss, or ``OutputLosses`` for several outputs."""
    several = len(_names(model, "output")) > 1
    if several or is_structured(loss) or loss_weights is not None:
        return OutputLosses(model, loss, loss_weights)
    return losses.get(loss)
