"""``GRUResetBefore``: the GRU with the reset gate applied before the recurrent product
(Keras' ``reset_after=False``, the only GRU TensorFlow.js has; ``wasmdl.nn.GRU`` is
``reset_after=True``, PyTorch's formula). Weights as Keras: ``kernel (in, 3u)``,
``recurrent_kernel (u, 3u)``, ``bias (3u,)``, gate order z, r, h:

    z = σ(x W_z + h U_z + b_z),  r = σ(x W_r + h U_r + b_r)
    h' = z * h + (1 - z) * tanh(x W_h + (r * h) U_h + b_h)

Example:
    >>> import numpy as np
    >>> GRUResetBefore(4)(np.zeros((2, 5, 3), np.float32)).shape
    (2, 4)
"""

from __future__ import annotations

from .. import ops as O
from .recurrent import GRU


class GRUResetBefore(GRU):
    """Gated recurrent unit with ``reset_after=False`` (TensorFlow.js' and Keras 2's default)."""

    def bias_shape(self):
        return (3 * self.units,)

    def step(self, xp, states):
        (h,) = states
        u = self.units
        hzr = O.matmul(h, self.recurrent_kernel[:, : 2 * u])
        xz, xr, xh = self._split(xp)
        z = self._ract(xz + hzr[:, :u])
        r = self._ract(xr + hzr[:, u:])
        cand = self._act(xh + O.matmul(r * h, self.recurrent_kernel[:, 2 * u :]))
        return [z * h + (1.0 - z) * cand]
