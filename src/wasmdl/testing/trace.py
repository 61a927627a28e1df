"""A small tracer for tests: record the kernels a block runs on the numpy backend as a
``wasmdl.program.Program``, and the numpy oracle that replays one.

``tracing()`` wraps ``NumpyBackend.run``: each kernel call becomes an instruction; an array
not produced inside the block becomes an external slot (``Trace.externals`` keeps the arrays,
in order). ``Trace.update(name, arrays, params)`` appends an in-place optimizer update
(``sgd_update``/``adam_update``, hp-array signatures) on arrays the caller owns.
``reference(program, arrays)`` replays a program through ``wasmdl.backend.numpy.KERNELS``
(the plain numpy kernels, never the WASM ones), with float64 reference updates that follow
torch.optim's rules, so the oracle does not depend on the optimizer code under test.

>>> import numpy as np, wasmdl
>>> x = wasmdl.tensor(np.ones((2, 3), np.float32))
>>> with tracing() as tr:
...     y = (x * 2.0).sum()
>>> tr.program, [i.kernel for i in tr.program.instrs]
(Program(2 instructions, 4 slots: 2 input, 2 temp), ['mul', 'sum'])
>>> tr.output(y)
>>> [float(v) for v in reference(tr.program, tr.externals)]
[12.0]
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..backend import get_backend
from ..backend.numpy import KERNELS
from ..program import Program


class Trace:
    """The program being recorded and the external arrays it reads."""

    def __init__(self):
        self.program, self.externals, self._slot, self._alive = Program(), [], {}, []

    def slot(self, a, kind="input") -> int:
        hit = self._slot.get(id(a))
        if hit is not None:
            return hit
        s = self.program.slot(kind, a.shape, a.dtype)
        self.program.externals.append(s)
        self.externals.append(a)
        self._bind(a, s)
        return s

    def _bind(self, a, s):
        self._slot[id(a)] = s
        self._alive.append(a)  # ids stay unique while the trace lives

    def op(self, name, arrays, params, out, shape, dtype) -> None:
        ins = [self.slot(a) for a in arrays]
        self._bind(out, self.program.emit(name, ins, dict(params), shape, np.dtype(dtype)))

    def update(self, name, arrays, params) -> None:
        """Append in-place update ``name`` on ``arrays`` (p, g, hp, state...)."""
        ins = [self.slot(a, "param") for a in arrays]
        self.program.emit(name, ins, dict(params), arrays[0].shape, arrays[0].dtype)

    def output(self, t) -> None:
        """Make tensor (or array) ``t`` an output of the program."""
        self.program.outputs.append(self._slot[id(getattr(t, "_h", t))])

    def index(self, a) -> int:
        """The position of array ``a`` among the externals."""
        return self.program.externals.index(self._slot[id(a)])


@contextmanager
def tracing(backend=None):
    """Record every kernel the numpy backend runs inside the block; yields the ``Trace``."""
    be = get_backend(backend or "numpy")
    tr, run = Trace(), be.run

    def traced(name, inputs, out_shape, out_dtype, params):
        out = run(name, inputs, out_shape, out_dtype, params)
        tr.op(name, [x._h for x in inputs], params, out, out_shape, out_dtype)
        return out

    be.run = traced
    try:
        yield tr
    finally:
        del be.run


def ref_sgd(p, g, hp, buf=None, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False, first=False):  # fmt: skip
    """torch.optim.SGD's step in float64, written into ``p`` (and ``buf``)."""
    d = -g.astype(np.float64) if maximize else g.astype(np.float64)
    d = d + weight_decay * p
    if momentum:
        b = d if first else momentum * buf + (1.0 - dampening) * d
        buf[...] = b
        d = d + momentum * b if nesterov else b
    p[...] = p - float(hp[0]) * d
    return p


def ref_adam(p, g, hp, m, v, beta1, beta2, eps, weight_decay=0.0, decoupled=False,
             maximize=False):  # fmt: skip
    """torch.optim.Adam/AdamW's step in float64, written into ``p``, ``m``, ``v``."""
    lr, t = float(hp[0]), float(hp[1])
    d = -g.astype(np.float64) if maximize else g.astype(np.float64)
    p64 = p.astype(np.float64)
    if decoupled:
        p64 *= 1.0 - lr * weight_decay
    else:
        d = d + weight_decay * p64
    m[...] = beta1 * m + (1.0 - beta1) * d
    v[...] = beta2 * v + (1.0 - beta2) * d * d
    den = np.sqrt(v.astype(np.float64)) / np.sqrt(1.0 - beta2**t) + eps
    p[...] = p64 - lr / (1.0 - beta1**t) * m / den
    return p


def ref_dense(x, w, b, activation):
    """The rewrite target ``dense``: act(x @ w + b), activation "linear" or "relu"."""
    y = np.matmul(x, w) + b
    return np.maximum(y, 0) if activation == "relu" else y


def ref_conv2d_bias(x, w, b, activation, **conv):
    """The rewrite target ``conv2d_bias``: act(conv2d(x, w) + b), "linear" or "relu"."""
    y = KERNELS["conv2d"](x, w, **conv) + b
    return np.maximum(y, 0) if activation == "relu" else y


def ref_sgd_matmul(p, a, b, hp, maximize=False):
    """The rewrite target ``sgd_matmul``: plain SGD with the gradient ``a @ b``."""
    return ref_sgd(p, np.matmul(a, b).astype(np.float32), hp, maximize=maximize)


def ref_sgd_colsum(p, x, hp, maximize=False):
    """The rewrite target ``sgd_colsum``: plain SGD with the gradient ``x.sum(0)``."""
    return ref_sgd(p, np.sum(x, axis=0, dtype=np.float32), hp, maximize=maximize)


def ref_slice_grad_sum(*xs, shape, regions, base):
    """The rewrite target ``slice_grad_sum``: the sum of the slice VJPs (and the base), as
    the tree of adds it replaces computes it, left to right."""
    grads = xs[1:] if base else xs
    terms = [KERNELS["slice_grad"](g, shape, *r) for g, r in zip(grads, regions, strict=True)]
    total = xs[0] if base else terms.pop(0)
    for t in terms:
        total = total + t
    return total


def ref_matmul_epilogue(a, b, *xs, expr, views, shape, transpose=(False, False)):
    """The rewrite target ``matmul_epilogue``: the product ``a @ b`` (operands stored
    transposed where ``transpose`` says), then the tree with it as ``("product",)``."""
    a = a.T if transpose[0] else a
    b = b.T if transpose[1] else b
    prod = np.matmul(a, b).astype(np.float32)
    return ref_fused_elementwise(*xs, expr=expr, views=views, shape=shape, product=prod)


def ref_fused_elementwise(*xs, expr, views, shape, product=None):
    """The rewrite target ``fused_elementwise`` (``wasmdl.fusion``): each input gathered
    through its ``(offset, strides)`` view at ``shape``, then the tree's ops applied with the
    plain kernels, in the order the instructions it replaces ran."""
    coords = np.indices(shape, dtype=np.int64).reshape(len(shape), -1)
    leaves = []
    for x, (off, st) in zip(xs, views, strict=True):
        idx = off + sum((c * s for c, s in zip(coords, st, strict=True)), np.zeros(1, np.int64))
        leaves.append(np.asarray(x).reshape(-1)[idx].reshape(shape))

    def run(t):
        if t[0] == "leaf":
            return leaves[t[1]]
        if t[0] == "product":
            return product
        return np.asarray(KERNELS[t[0]](*[run(c) for c in t[1:]]), np.float32)

    return run(expr)


REFERENCE = {**KERNELS, "fused_elementwise": ref_fused_elementwise,
             "matmul_epilogue": ref_matmul_epilogue,
             "sgd_update": ref_sgd, "adam_update": ref_adam, "dense": ref_dense,
             "slice_grad_sum": ref_slice_grad_sum, "conv2d_bias": ref_conv2d_bias,
             "sgd_matmul": ref_sgd_matmul, "sgd_colsum": ref_sgd_colsum,
             "view": lambda x, shape: x.reshape(shape)}  # fmt: skip


def reference(program, arrays):
    """Replay ``program`` on ``arrays`` with the plain numpy kernels (``REFERENCE``)."""
    vals = dict(zip(program.externals, arrays, strict=True))
    for i in program.instrs:
        if i.kernel in ("reshape", "view"):
            vals[i.out] = np.reshape(vals[i.ins[0]], i.params["shape"])
            continue
        r = REFERENCE[i.kernel](*[vals[s] for s in i.ins], **i.params)
        vals[i.out] = np.asarray(r, dtype=i.dtype)
    return [np.array(vals[s], copy=True) for s in program.outputs]
