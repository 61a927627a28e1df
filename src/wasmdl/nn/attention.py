"""MultiHeadAttention (Keras API and weight layout; PyTorch's computation).

``mha(query, value, key=None, attention_mask=None, use_causal_mask=False)`` on
``(batch, steps, features)`` tensors. Weights: ``query_kernel (dim, heads, key_dim)``,
``query_bias (heads, key_dim)``, the same for key and value, ``output_kernel (heads, value_dim,
out)`` and ``output_bias (out,)``. ``attention_mask`` is bool ``(batch, q_steps, k_steps)``,
True where attending is allowed (Keras' convention).

Example:
    >>> import numpy as np, wasmdl
    >>> mha = wasmdl.nn.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.zeros((3, 5, 8), np.float32)
    >>> mha(x, x).shape
    (3, 5, 8)
"""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from .. import initializers
from .. import ops as O
from ..tensor import Tensor
from .base import Layer
from .core import check_positive_int


class MultiHeadAttention(Layer):
    config_keys = (
        "num_heads",
        "key_dim",
        "value_dim",
        "dropout",
        "use_bias",
        "output_shape_arg",
        "kernel_initializer",
        "bias_initializer",
    )

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kw,
    ):
        super().__init__(**kw)
        self.num_heads = check_positive_int("MultiHeadAttention", "num_heads", num_heads)
        self.key_dim = check_positive_int("MultiHeadAttention", "key_dim", key_dim)
        self.value_dim = value_dim or key_dim
        if not 0 <= dropout < 1:
            raise ValueError(f"MultiHeadAttention: expected 0 <= dropout < 1, received {dropout}")
        self.dropout, self.use_bias, self.output_shape_arg = float(dropout), use_bias, output_shape
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["output_shape"] = config.pop("output_shape_arg", None)
        return cls(**config)

    def build(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        q_dim, v_dim = shapes[0][-1], shapes[1][-1] if len(shapes) > 1 else shapes[0][-1]
        k_dim = shapes[2][-1] if len(shapes) > 2 else v_dim
        h, out = self.num_heads, self.output_shape_arg or q_dim
        for name, dim, d in (
            ("query", q_dim, self.key_dim),
            ("key", k_dim, self.key_dim),
            ("value", v_dim, self.value_dim),
        ):
            self.add_weight(f"{name}_kernel", (dim, h, d), self.kernel_initializer)
            if self.use_bias:
                self.add_weight(f"{name}_bias", (h, d), self.bias_initializer)
        self.add_weight("output_kernel", (h, self.value_dim, out), self.kernel_initializer)
        if self.use_bias:
            self.add_weight("output_bias", (out,), self.bias_initializer)

    def _project(self, x, name):
        """``(batch, steps, dim) -> (batch, heads, steps, d)``."""
        w = self._weights[f"{name}_kernel"]
        dim, h, d = w.shape
        y = O.matmul(x, O.reshape(w, (dim, h * d)))
        if self.use_bias:
            y = y + O.reshape(self._weights[f"{name}_bias"], (h * d,))
        return O.permute(O.reshape(y, (x.shape[0], x.shape[1], h, d)), (0, 2, 1, 3))

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        key = value if key is None else key
        q = self._project(query, "query") * (1.0 / math.sqrt(self.key_dim))
        k, v = self._project(key, "key"), self._project(value, "value")
        scores = O.matmul(q, O.permute(k, (0, 1, 3, 2)))  # (batch, heads, q_steps, k_steps)
        mask = self._mask(attention_mask, use_causal_mask, scores.shape, query.backend)
        if mask is not None:
            scores = O.where(mask, scores, -1e9)
        weights = F.softmax(scores, axis=-1)
        if training and self.dropout:
            keep = initializers.rng().random(weights.shape) >= self.dropout
            drop = keep.astype(np.float32) / np.float32(1 - self.dropout)
            weights = weights * Tensor(drop, backend=query.backend)
        ctx = O.permute(O.matmul(weights, v), (0, 2, 1, 3))  # (batch, q_steps, heads, dv)
        n, tq, h, dv = ctx.shape
        wo = self._weights["output_kernel"]
        out = O.matmul(O.reshape(ctx, (n, tq, h * dv)), O.reshape(wo, (h * dv, wo.shape[-1])))
        if self.use_bias:
            out = out + self._weights["output_bias"]
        return (out, weights) if return_attention_scores else out

    @staticmethod
    def _mask(attention_mask, causal, shape, backend):
        n, _, tq, tk = shape
        mask = None
        if attention_mask is not None:
            m = attention_mask.numpy() if isinstance(attention_mask, Tensor) else attention_mask
            mask = np.broadcast_to(np.asarray(m, bool).reshape(n, 1, tq, tk), shape)
        if causal:
            tri = np.broadcast_to(np.tril(np.ones((tq, tk), bool)), shape)
            mask = tri if mask is None else mask & tri
        return None if mask is None else Tensor(np.ascontiguousarray(mask), backend=backend)
