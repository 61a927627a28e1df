"""Recurrent layers (Keras semantics, batch-major ``(batch, steps, features)``): SimpleRNN,
LSTM, GRU, and the Bidirectional wrapper.

Weights follow Keras: ``kernel (in, g*units)``, ``recurrent_kernel (units, g*units)``, ``bias``;
gate order i, f, c, o for LSTM (PyTorch's i, f, g, o) and z, r, h for GRU (PyTorch's r, z, n);
GRU uses ``reset_after=True`` (Keras' default, PyTorch's formula) with a ``(2, 3*units)`` bias.
The input projection of all steps is one matmul; the loop over steps runs the recurrent part.

Example:
    >>> import numpy as np, wasmdl
    >>> lstm = wasmdl.nn.LSTM(8, return_sequences=True)
    >>> lstm(np.zeros((2, 5, 3), np.float32)).shape
    (2, 5, 8)
    >>> wasmdl.nn.Bidirectional(wasmdl.nn.GRU(4))(np.zeros((2, 5, 3), np.float32)).shape
    (2, 8)
"""

from __future__ import annotations

import numpy as np

from .. import activations
from .. import ops as O
from ..tensor import Tensor
from .base import Layer
from .core import check_positive_int
from .spec import ShapeSpec


class _RNN(Layer):
    """The shared loop: subclasses define ``gates``, ``n_states`` and ``step``."""

    gates, n_states = 1, 1
    config_keys = (
        "units",
        "activation",
        "use_bias",
        "return_sequences",
        "return_state",
        "go_backwards",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
    )

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        **kw,
    ):
        super().__init__(**kw)
        self.units = check_positive_int(type(self).__name__, "units", units)
        self.activation, self._act = activation, activations.get(activation)
        self.use_bias, self.go_backwards = use_bias, go_backwards
        self.return_sequences, self.return_state = return_sequences, return_state
        self.kernel_initializer, self.recurrent_initializer = (
            kernel_initializer,
            recurrent_initializer,
        )
        self.bias_initializer = bias_initializer
        self.kernel_regularizer, self.recurrent_regularizer = (
            kernel_regularizer,
            recurrent_regularizer,
        )

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__}: expected inputs (batch, steps, features), "
                f"received shape {tuple(input_shape)}"
            )
        g = self.gates * self.units
        self.kernel = self.add_weight(
            "kernel",
            (input_shape[-1], g),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel",
            (self.units, g),
            self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
        )
        if self.use_bias:
            self.bias = self.add_weight("bias", self.bias_shape(), self.bias_init())

    def bias_shape(self):
        return (self.gates * self.units,)

    def bias_init(self):
        return self.bias_initializer

    def call(self, x, initial_state=None):
        n, steps, _ = x.shape
        if steps == 0:
            raise ValueError(
                f"{type(self).__name__}: expected at least one step, received shape {x.shape}"
            )
        proj = O.matmul(x, self.kernel)
        if self.use_bias:  # GRU's bias is (2, 3u): row 0 acts on the input, row 1 on h
            proj = proj + (self.bias if self.bias.ndim == 1 else self.bias[0])
        if initial_state is None:
            zero = Tensor(np.zeros((n, self.units), np.float32), backend=x.backend)
            states = [zero] * self.n_states
        else:
            states = (
                list(initial_state) if isinstance(initial_state, list | tuple) else [initial_state]
            )
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs = []
        for t in order:
            states = self.step(proj[:, t], states)
            outputs.append(states[0])
        out = O.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [out, *states] if self.return_state else out

    def _split(self, z):
        u = self.units
        return [z[:, i * u : (i + 1) * u] for i in range(self.gates)]


class SimpleRNN(_RNN):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

    def step(self, xp, states):
        return [self._act(xp + O.matmul(states[0], self.recurrent_kernel))]


class LSTM(_RNN):
    """Long short-term memory; states ``[h, c]``; ``unit_forget_bias`` starts f's bias at 1."""

    gates, n_states = 4, 2
    config_keys = _RNN.config_keys + ("recurrent_activation", "unit_forget_bias")

    def __init__(self, units, recurrent_activation="sigmoid", unit_forget_bias=True, **kw):
        super().__init__(units, **kw)
        self.recurrent_activation = recurrent_activation
        self._ract = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    def bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        u = self.units
        return lambda shape, dtype="float32": np.concatenate(
            [np.zeros(u), np.ones(u), np.zeros(2 * u)]
        ).astype(dtype)

    def step(self, xp, states):
        h, c = states
        i, f, g, o = self._split(xp + O.matmul(h, self.recurrent_kernel))
        i, f, o = self._ract(i), self._ract(f), self._ract(o)
        c = f * c + i * self._act(g)
        return [o * self._act(c), c]


class GRU(_RNN):
    """Gated recurrent unit (``reset_after=True``: PyTorch's formula); state ``[h]``."""

    gates = 3
    config_keys = _RNN.config_keys + ("recurrent_activation",)

    def __init__(self, units, recurrent_activation="sigmoid", **kw):
        super().__init__(units, **kw)
        self.recurrent_activation = recurrent_activation
        self._ract = activations.get(recurrent_activation)

    def bias_shape(self):
        return (2, 3 * self.units)

    def step(self, xp, states):
        (h,) = states
        hp = O.matmul(h, self.recurrent_kernel)
        if self.use_bias:
            hp = hp + self.bias[1]
        xz, xr, xh = self._split(xp)
        hz, hr, hh = self._split(hp)
        z, r = self._ract(xz + hz), self._ract(xr + hr)
        cand = self._act(xh + r * hh)
        return [z * h + (1.0 - z) * cand]


class Bidirectional(Layer):
    """Run ``layer`` forwards and a copy backwards; merge per step (``concat``, ``sum``, ...)."""

    config_keys = ("merge_mode",)
    MERGES = {
        "concat": lambda a, b: O.concat([a, b], axis=-1),
        "sum": O.add,
        "mul": O.mul,
        "ave": lambda a, b: (a + b) * 0.5,
    }

    def __init__(self, layer, merge_mode="concat", **kw):
        super().__init__(**kw)
        if not isinstance(layer, _RNN):
            raise TypeError(
                f"Bidirectional: expected a SimpleRNN, LSTM or GRU layer, received "
                f"{type(layer).__name__}"
            )
        if merge_mode not in self.MERGES:
            raise ValueError(
                f"Bidirectional: expected merge_mode in {sorted(self.MERGES)}, "
                f"received {merge_mode!r}"
            )
        if layer.return_state:
            raise ValueError("Bidirectional: expected a layer with return_state=False")
        config = layer.get_config()
        config.update(name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
        self.forward_layer = layer
        self.backward_layer = type(layer).from_config(config)
        self.merge_mode = merge_mode

    def get_config(self):
        from .serialize import serialize_layer

        return {**super().get_config(), "layer": serialize_layer(self.forward_layer)}

    @classmethod
    def from_config(cls, config):
        from .serialize import deserialize_layer

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):  # shapes only, no batch runs
            layer(ShapeSpec((None, *input_shape[1:])))
        super().build(input_shape)

    def call(self, x):
        fwd, bwd = self.forward_layer(x), self.backward_layer(x)
        if self.forward_layer.return_sequences:  # the backward pass emitted steps in reverse
            idx = Tensor(np.arange(x.shape[1] - 1, -1, -1, dtype=np.int32), backend=x.backend)
            bwd = O.gather(bwd, idx, axis=1)
        return self.MERGES[self.merge_mode](fwd, bwd)
