"""The weighted layers an imported ONNX graph runs on, channels-last, weights converted once at
load: ``OnnxConv`` (Conv and ConvTranspose, 1-D and 2-D, explicit or SAME pads, groups,
dilations) and ``OnnxRNN`` (ONNX LSTM/GRU in any direction over wasmdl's ``LSTM``/``GRU``).
Gemm/MatMul become ``wasmdl.nn.Dense`` and BatchNormalization ``wasmdl.nn.BatchNormalization``
(see ``wasmdl.io.onnx_ops``). All are ordinary layers: their weights train.

Example:
    >>> import numpy as np
    >>> conv = OnnxConv(np.ones((2, 2, 1, 3), np.float32), None, (1, 1), [(0, 0), (0, 0)])
    >>> conv(np.ones((1, 3, 3, 1), np.float32)).shape
    (1, 2, 2, 3)
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops as O
from ..nn import GRU, LSTM
from ..nn.base import Layer
from ..tensor import Tensor

MAX_SAMPLE_ELEMENTS = 1 << 24  # values of one tensor while a file is loaded (batch 1)
GUARD = {"on": False}  # set by OnnxModel.dry_run: a hostile file cannot make load allocate much


def check_size(shape, where: str) -> None:
    """While loading (a dry run at batch 1), refuse an intermediate (padded, upsampled,
    im2col'd, broadcast or constant tensor) of more than ``MAX_SAMPLE_ELEMENTS`` values;
    ``predict`` runs whatever the user feeds."""
    if GUARD["on"] and math.prod(shape) > MAX_SAMPLE_ELEMENTS:
        raise ValueError(
            f"{where}: an intermediate of shape {tuple(shape)} exceeds "
            f"{MAX_SAMPLE_ELEMENTS} values while loading"
        )


def constant(array):
    """An initializer returning ``array`` (how converted weights enter ``add_weight``)."""
    return lambda shape, dtype="float32": np.asarray(array, dtype).reshape(shape)


def same_pads(n, k, s, d, upper):
    """ONNX auto_pad SAME_UPPER/SAME_LOWER: output ceil(n / s), the odd pad at the end/start."""
    total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


class OnnxConv(Layer):
    """Convolution (or, with ``transpose=True``, transposed convolution) on channels-last
    ``(batch, [h,] w, channels)``; ``kernel`` is HWIO ``(kh, kw, in / groups, out)``, already
    flipped for a transposed convolution. ``pads`` is ``[(before, after)]`` per spatial axis
    or the string ``"SAME_UPPER"``/``"SAME_LOWER"``."""

    def __init__(
        self,
        kernel,
        bias,
        strides,
        pads,
        dilations=(1, 1),
        groups=1,
        transpose=False,
        output_padding=(0, 0),
        **kw,
    ):
        super().__init__(**kw)
        self.strides, self.pads, self.dilations = tuple(strides), pads, tuple(dilations)
        self.groups, self.transpose, self.output_padding = groups, transpose, tuple(output_padding)
        self.kernel = self.add_weight("kernel", kernel.shape, constant(kernel))
        if bias is not None:
            self.bias = self.add_weight("bias", bias.shape, constant(bias))
        self.use_bias, self.built = bias is not None, True

    def _pads(self, hw):
        if isinstance(self.pads, str):
            k, upper = self.kernel.shape[:2], self.pads == "SAME_UPPER"
            return [
                same_pads(n, kk, s, d, upper)
                for n, kk, s, d in zip(hw, k, self.strides, self.dilations, strict=True)
            ]
        return [tuple(p) for p in self.pads]

    def _upsample(self, x):
        """Transposed conv input: zeros between samples, then the flipped kernel's padding."""
        n, h, w, c = x.shape
        (sh, sw), (kh, kw) = self.strides, self.kernel.shape[:2]
        check_size((n, h * sh + 2 * kh, w * sw + 2 * kw, c), "ConvTranspose")
        if sh > 1 or sw > 1:
            x = O.reshape(x, (n, h, 1, w, 1, c))
            x = O.pad(x, [(0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1), (0, 0)])
            x = O.reshape(x, (n, h * sh, w * sw, c))[:, : (h - 1) * sh + 1, : (w - 1) * sw + 1, :]
        pads = []
        for (b, a), k, d, op in zip(
            self._pads((h, w)), (kh, kw), self.dilations, self.output_padding, strict=True
        ):
            pads.append((d * (k - 1) - b, d * (k - 1) - a + op))
        crop = tuple(
            slice(max(-b, 0), x.shape[i + 1] - max(-a, 0)) for i, (b, a) in enumerate(pads)
        )
        if any(b < 0 or a < 0 for b, a in pads):
            x = x[:, crop[0], crop[1], :]
        return x, [(max(b, 0), max(a, 0)) for b, a in pads]

    def call(self, x):
        rank = x.ndim
        if rank == 3:  # 1-D: (batch, steps, channels) -> (batch, 1, steps, channels)
            x = O.reshape(x, (x.shape[0], 1, *x.shape[1:]))
        if self.transpose:
            x, pads = self._upsample(x)
            strides = (1, 1)
        else:
            pads, strides = self._pads(x.shape[1:3]), self.strides
            check_size(
                (x.shape[0], x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1]), x.shape[3]),
                "Conv",
            )
        out = [
            (n + b + e - d * (k - 1) - 1) // s + 1
            for n, (b, e), k, s, d in zip(
                x.shape[1:3], pads, self.kernel.shape[:2], strides, self.dilations, strict=True
            )
        ]
        kh, kw, cin, cout = self.kernel.shape
        check_size((x.shape[0], *out, max(cout, kh * kw * cin)), "Conv output / im2col")
        y = O.conv2d(x, self.kernel, strides, tuple(pads), self.dilations, groups=self.groups)
        if self.use_bias:
            y = y + self.bias
        return O.reshape(y, (y.shape[0], *y.shape[2:])) if rank == 3 else y


_GATES = {"LSTM": (LSTM, 4, [0, 2, 3, 1]), "GRU": (GRU, 3, [0, 1, 2])}  # ONNX iofc -> ifco


def rnn_weights(op, w, r, b, d):
    """Direction ``d``'s ONNX W/R/B as wasmdl's kernel, recurrent_kernel and bias."""
    cls, g, order = _GATES[op]
    u = r.shape[-1]

    def blocks(a):
        return np.concatenate([a[i * u : (i + 1) * u] for i in order], axis=0)

    out = {"kernel": blocks(w[d]).T.copy(), "recurrent_kernel": blocks(r[d]).T.copy()}
    bias = np.zeros((2, g * u), np.float32) if b is None else b[d].reshape(2, g * u)
    bias = np.stack([blocks(bias[0]), blocks(bias[1])])
    out["bias"] = bias if op == "GRU" else bias[0] + bias[1]
    return out


class OnnxRNN(Layer):
    """ONNX LSTM/GRU (``layout`` 0: ``X (steps, batch, in)``; 1: batch first) over wasmdl
    layers: outputs ``Y (steps, dirs, batch, hidden)``, ``Y_h`` (and LSTM's ``Y_c``)."""

    def __init__(self, op, w, r, b, direction="forward", layout=0, **kw):
        super().__init__(**kw)
        cls, _, _ = _GATES[op]
        self.op, self.layout, self.units = op, layout, r.shape[-1]
        dirs = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[direction]
        self.cells = []
        for d, backwards in enumerate(dirs):
            cell = cls(self.units, return_sequences=True, return_state=True, go_backwards=backwards)
            cell.build((None, None, w.shape[-1]))
            cell.built = True
            cell.load_weights_dict(rnn_weights(op, w, r, b, d), fn="onnx LSTM/GRU")
            self.cells.append(cell)
        self.built = True

    def call(self, x, h0=None, c0=None):
        if self.layout == 0:
            x = O.permute(x, (1, 0, 2))
        if self.layout == 1:  # states (batch, dirs, hidden) -> (dirs, batch, hidden)
            h0, c0 = (None if s is None else O.permute(s, (1, 0, 2)) for s in (h0, c0))
        n, steps = x.shape[0], x.shape[1]
        ys, hs, cs = [], [], []
        for d, cell in enumerate(self.cells):
            init = None
            if h0 is not None or c0 is not None:
                zero = Tensor(np.zeros((n, self.units), np.float32), backend=x.backend)
                init = [
                    zero if s is None else s[d] for s in ([h0, c0] if self.op == "LSTM" else [h0])
                ]
            seq, *states = cell(x, initial_state=init)
            if cell.go_backwards:  # steps came out last-first
                idx = Tensor(np.arange(steps - 1, -1, -1, dtype=np.int32), backend=x.backend)
                seq = O.gather(seq, idx, axis=1)
            ys.append(seq)
            hs.append(states[0])
            cs.append(states[-1])
        y = O.stack(ys, axis=2)  # (batch, steps, dirs, hidden)
        outs = [y, O.stack(hs, axis=1), O.stack(cs, axis=1)]  # states (batch, dirs, hidden)
        if self.layout == 0:
            outs = [O.permute(y, (1, 2, 0, 3)), *(O.permute(s, (1, 0, 2)) for s in outs[1:])]
        return outs if self.op == "LSTM" else outs[:2]
