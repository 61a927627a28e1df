"""Normalisation layers: BatchNormalization (train/inference modes, moving statistics) and
LayerNormalization, with Keras semantics.

BatchNormalization normalises with the batch's mean and biased variance in training and updates
``moving_mean``/``moving_variance`` as ``moving = moving * momentum + batch * (1 - momentum)``
(Keras; PyTorch's ``momentum`` is ``1 - momentum`` and it keeps the unbiased variance); in
inference it uses the moving statistics. A frozen layer (``trainable=False``) always runs in
inference mode, even when called with ``training=True`` (Keras 3: fine-tuning a frozen backbone
neither uses batch statistics nor changes the moving ones).

Example:
    >>> import numpy as np, wasmdl
    >>> bn = wasmdl.nn.BatchNormalization()
    >>> y = bn(np.random.default_rng(0).normal(3, 2, (64, 4)).astype(np.float32), training=True)
    >>> bool(abs(y.numpy().mean()) < 1e-5), [w.shape for w in bn.non_trainable_weights]
    (True, [(4,), (4,)])
"""

from __future__ import annotations

from .. import ops as O
from ..autograd import no_grad
from .base import Layer


def _moments(x, axes):
    mean = O.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    return mean, centered, O.mean(centered * centered, axis=axes, keepdims=True)


class _Norm(Layer):
    config_keys = ("axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer")

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kw,
    ):
        super().__init__(**kw)
        self.axis = list(axis) if isinstance(axis, list | tuple) else axis
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer

    def _axes(self, ndim):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if not all(isinstance(a, int) and -ndim <= a < ndim for a in axes):  # no wrapping
            raise ValueError(
                f"{type(self).__name__}: expected axis in [-{ndim}, {ndim}) for inputs of "
                f"rank {ndim}, received axis={self.axis}"
            )
        out = sorted(a % ndim for a in axes)
        if any(a == 0 for a in out) or len(set(out)) != len(out):
            raise ValueError(
                f"{type(self).__name__}: expected distinct non-batch axes, received "
                f"axis={self.axis} for inputs of rank {ndim}"
            )
        return out

    def _add_affine(self, shape):
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer)

    def _affine(self, y, shape):
        if self.scale:
            y = y * O.reshape(self.gamma, shape)
        if self.center:
            y = y + O.reshape(self.beta, shape)
        return y


class BatchNormalization(_Norm):
    """Normalise each feature (``axis``, default the channels) over the batch and other axes."""

    config_keys = _Norm.config_keys + (
        "momentum",
        "moving_mean_initializer",
        "moving_variance_initializer",
    )

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        **kw,
    ):
        super().__init__(axis, epsilon, **kw)
        if not 0 <= momentum <= 1:
            raise ValueError(
                f"BatchNormalization: expected 0 <= momentum <= 1, received {momentum}"
            )
        self.momentum = float(momentum)
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer

    def build(self, input_shape):
        keep = self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in keep)
        self._add_affine(shape)
        self.moving_mean = self.add_weight(
            "moving_mean", shape, self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", shape, self.moving_variance_initializer, trainable=False
        )

    def call(self, x, training=None):
        keep = self._axes(x.ndim)
        bshape = tuple(x.shape[a] if a in keep else 1 for a in range(x.ndim))
        if not (training and self.trainable):  # Keras 3: a frozen layer runs in inference mode
            return self._inference(x, bshape)
        mean, centered, var = _moments(x, tuple(a for a in range(x.ndim) if a not in keep))
        self._update(mean, var)
        y = centered / O.sqrt(var + self.epsilon)
        return self._affine(y, bshape)

    def _inference(self, x, bshape):
        """``x * scale + shift`` with per-feature ``scale = gamma / sqrt(moving_variance + eps)``
        and ``shift = beta - moving_mean * scale``: two passes over ``x`` instead of four (the
        per-feature vectors cost nothing next to a batch of images)."""
        scale = 1.0 / O.sqrt(self.moving_variance + self.epsilon)
        if self.scale:
            scale = scale * self.gamma
        shift = -self.moving_mean * scale
        if self.center:
            shift = shift + self.beta
        return x * O.reshape(scale, bshape) + O.reshape(shift, bshape)

    def _update(self, mean, var):
        m = self.momentum
        with no_grad():
            for w, batch in ((self.moving_mean, mean), (self.moving_variance, var)):
                w.assign(w * m + O.reshape(batch.detach(), w.shape) * (1.0 - m))


class LayerNormalization(_Norm):
    """Normalise every sample over ``axis`` (default the last) with a learned scale and shift."""

    def build(self, input_shape):
        keep = self._axes(len(input_shape))
        self._add_affine(tuple(input_shape[a] for a in keep))

    def call(self, x):
        keep = self._axes(x.ndim)
        _, centered, var = _moments(x, tuple(keep))
        y = centered / O.sqrt(var + self.epsilon)
        return self._affine(y, tuple(x.shape[a] if a in keep else 1 for a in range(x.ndim)))
