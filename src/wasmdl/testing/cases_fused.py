"""Case rows for the fused ops' composites (``wasmdl.ops.fused``): softmax cross-entropy with
int labels and with target probabilities, 2-D and 3-D, and a label outside [0, C). On a backend
with the fused kernels (numpy; WASM in Pyodide) the rows check the kernels, elsewhere the
composite. ReLU's rows are in ``cases_nn`` (``relu``, ``relu-at-0``).

>>> from wasmdl.testing import CASES
>>> any(c.name.startswith("cross_entropy") for c in CASES)
True
"""

import numpy as np

import wasmdl.functional as Fn

from . import refs
from .cases import Case, F, I, U, add


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
