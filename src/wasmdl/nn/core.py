"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, Embedding.

Example:
    >>> import numpy as np, wasmdl
    >>> from wasmdl.nn import Dense, Dropout
    >>> model = wasmdl.Sequential([Dense(8, activation="relu"), Dropout(0.5), Dense(2)])
    >>> model.predict(np.zeros((3, 4), np.float32)).shape
    (3, 2)
"""

from __future__ import annotations

import math
import numbers
from functools import partial

import numpy as np

from .. import activations, initializers
from .. import ops as O
from ..capture import host_value
from ..tracing import host_check
from .base import Layer


def check_positive_int(layer, arg, value):
    """A positive int (numpy integers too, as Keras takes them; bools refused)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: expected {arg} to be a positive int, received {arg}={value!r}")
    return int(value)


class Dense(Layer):
    """``activation(x @ kernel + bias)``; kernel shape ``(in_features, units)`` (Keras layout)."""

    config_keys = (
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
    )

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kw,
    ):
        super().__init__(**kw)
        self.units = check_positive_int("Dense", "units", units)
        self.activation, self._act = activation, activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer

    def build(self, input_shape):
        self.kernel = self.add_weight(
            "kernel",
            (input_shape[-1], self.units),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer
            )

    def call(self, x):
        y = O.matmul(x, self.kernel)
        return self._act(y + self.bias if self.use_bias else y)


class Activation(Layer):
    """Apply an activation by name: ``Activation("relu")``."""

    config_keys = ("activation",)

    def __init__(self, activation, **kw):
        super().__init__(**kw)
        self.activation, self._act = activation, activations.get(activation)

    def call(self, x):
        return self._act(x)


class Dropout(Layer):
    """Zero inputs with probability ``rate`` in training and scale the rest by 1/(1-rate)."""

    config_keys = ("rate", "seed")

    def __init__(self, rate, seed=None, **kw):
        super().__init__(**kw)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: expected 0 <= rate < 1, received rate={rate!r}")
        self.rate, self.seed = float(rate), seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def call(self, x, training=None):
        if not training or self.rate == 0:
            return x
        # a host value: a captured training step draws a new mask at every replay
        mask = host_value(partial(self._mask, x.shape), np.float32, x.backend)
        return x * mask

    def _mask(self, shape):
        rng = self._rng or initializers.rng()
        keep = rng.random(shape) >= self.rate
        return keep.astype(np.float32) / np.float32(1 - self.rate)


class Flatten(Layer):
    """``(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)``."""

    def call(self, x):
        return O.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


class Reshape(Layer):
    """Reshape every sample to ``target_shape`` (one entry may be -1)."""

    config_keys = ("target_shape",)

    def __init__(self, target_shape, **kw):
        super().__init__(**kw)
        self.target_shape = tuple(target_shape)

    def call(self, x):
        return O.reshape(x, (x.shape[0], *self.target_shape))


class Permute(Layer):
    """Permute the non-batch axes; ``dims`` counts from 1 (Keras): ``Permute((2, 1))``."""

    config_keys = ("dims",)

    def __init__(self, dims, **kw):
        super().__init__(**kw)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: expected a permutation of 1..{len(dims)}, received {dims}")
        self.dims = tuple(dims)

    def call(self, x):
        return O.permute(x, (0, *self.dims))


class Embedding(Layer):
    """Look up rows of an ``(input_dim, output_dim)`` table by integer ids."""

    config_keys = ("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer")

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="random_uniform",
        embeddings_regularizer=None,
        **kw,
    ):
        super().__init__(**kw)
        self.input_dim = check_positive_int("Embedding", "input_dim", input_dim)
        self.output_dim = check_positive_int("Embedding", "output_dim", output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = embeddings_regularizer

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
        )

    def call(self, ids):
        if ids.backend.name == "numpy":  # host-resident ids are checked (free; Keras on CPU too)
            host_check(ids, partial(_check_ids, self))  # captured steps check every batch
        if ids.dtype.kind != "i":
            ids = O.cast(ids, "int32")
        return O.gather(self.embeddings, ids, axis=0)


def _check_ids(layer, ids):
    """Ids must be integers in [0, input_dim): -1 must not read the last row."""
    bad = (ids < 0) | (ids >= layer.input_dim) | (ids != np.floor(ids))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f'layer "{layer.name}" (Embedding): expected ids in [0, {layer.input_dim}), '
            f"received {ids.flat[i]} at flat index {i}"
        )
