"""Case rows for the fused ops' composites (``wasmdl.ops.fused``): softmax cross-entropy with
int labels and with target probabilities, 2-D and 3-D, and a label outside [0, C); Keras'
cross-entropy of probabilities (normalised and clipped), with rows that hit the clip. On a backend
with the fused kernels (numpy; WASM in Pyodide) the rows check the kernels, elsewhere the
composite. ReLU's rows are in ``cases_nn`` (``relu``, ``relu-at-0``).

>>> from wasmdl.testing import CASES
>>> any(c.name.startswith("cross_entropy") for c in CASES)
True
"""

import numpy as np

import wasmdl.functional as Fn

from . import refs
from .cases import C, Case, F, I, P, U, add


def _xent_ref(x, t):
    logp = np.log(refs.softmax(x, -1))
    if t.dtype.kind == "i":
        ok = (t >= 0) & (t < x.shape[-1])
        t = np.eye(x.shape[-1])[np.where(ok, t, 0)] * ok[..., None]
    return np.mean(-np.sum(t * logp, axis=-1))


def _torch_xent(T, x, t):
    c = x.shape[-1]
    if t.dtype.is_floating_point:
        return T.nn.functional.cross_entropy(x.reshape(-1, c), t.reshape(-1, c))
    return T.nn.functional.cross_entropy(x.reshape(-1, c), t.reshape(-1).long())


add(
    Case("cross_entropy-labels", Fn.cross_entropy, _xent_ref, [F(6, 7), I((6,), 0, 7)],
         _torch_xent),
    Case("cross_entropy-labels-3d", Fn.cross_entropy, _xent_ref, [F(2, 3, 5), I((2, 3), 0, 5)],
         _torch_xent),
    Case("cross_entropy-one-class", Fn.cross_entropy, _xent_ref, [F(4, 1), I((4,), 0, 1)],
         _torch_xent),
    Case("cross_entropy-probs", Fn.cross_entropy, _xent_ref, [F(5, 4), U((5, 4), 0.0, 1.0)],
         _torch_xent),
    Case("cross_entropy-probs-3d", Fn.cross_entropy, _xent_ref,
         [F(2, 2, 6), U((2, 2, 6), 0.0, 0.5)], _torch_xent),
    Case("cross_entropy-label-out-of-range", Fn.cross_entropy, _xent_ref,
         [F(5, 3), I((5,), -1, 4)]),
)  # fmt: skip


EPS = 1e-7


def _prob_xent_ref(p, t):
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    if t.dtype.kind == "i":
        t = np.eye(p.shape[-1])[t]
    return np.mean(-np.sum(t * np.log(q), axis=-1))


def _torch_prob_xent(T, p, t):
    q = T.clamp(p / p.sum(-1, keepdim=True), EPS, 1 - EPS)
    if not t.dtype.is_floating_point:
        t = T.nn.functional.one_hot(t.long(), p.shape[-1]).to(p.dtype)
    return (-(t * T.log(q)).sum(-1)).mean()


add(
    Case("prob_cross_entropy-labels", Fn.prob_cross_entropy, _prob_xent_ref,
         [P(6, 5), I((6,), 0, 5)], _torch_prob_xent),
    Case("prob_cross_entropy-probs-3d", Fn.prob_cross_entropy, _prob_xent_ref,
         [P(2, 3, 4), U((2, 3, 4), 0.0, 1.0)], _torch_prob_xent),
    # entries of 1e-9 fall below the clip (no gradient there, as torch.clamp), FD would cross it
    Case("prob_cross_entropy-clipped", Fn.prob_cross_entropy, _prob_xent_ref,
         [C((5, 3), [1e-9, 0.5, 2.0]), I((5,), 0, 3)], _torch_prob_xent, fd=False),
)  # fmt: skip
