"""The numpy backend: the executable specification every other backend is checked against.

A Handle is the ``np.ndarray`` itself (possibly a read-only view: no kernel writes into its
inputs). Kernels are ``fn(*arrays, **params) -> ndarray``, with the canonical params of their op
(see ``wasmdl/ops``); ``KERNELS`` is the table, and ``register_kernels("numpy", {...})`` swaps
entries (the WASM SIMD kernels replace ``matmul`` and the conv kernels this way).

>>> import numpy as np
>>> KERNELS["add"](np.ones(2, np.float32), np.ones(2, np.float32)).tolist()
[2.0, 2.0]
"""

import numpy as np

from .._js import IN_PYODIDE
from . import numpy_conv as conv
from . import numpy_step as step
from .base import Backend, missing_kernel
from .numpy_matmul import matmul


def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5  # the tanh identity never overflows


def _erfc_cf(z):
    """erfc for z >= 3 by its continued fraction, evaluated bottom-up (float64)."""
    f = z
    for k in range(60, 0, -1):
        f = z + (k * 0.5) / f
    return np.exp(-z * z) / (1.7724538509055159 * f)


_ERF_SERIES = [
    2 / np.sqrt(np.pi) * (-1) ** n / (np.prod(np.arange(1.0, n + 1)) * (2 * n + 1))
    for n in range(64)
]


def _erf(x):
    """erf to ~1e-13 in float64 (numpy has no erf): Taylor series for |x| < 3, continued
    fraction for erfc beyond."""
    z = np.abs(x.astype(np.float64))
    small = np.minimum(z, 3.0)
    s2, acc = small * small, np.zeros_like(small)
    for c in reversed(_ERF_SERIES):
        acc = acc * s2 + c
    big = np.maximum(z, 3.0)
    out = np.where(z < 3.0, acc * small, 1.0 - _erfc_cf(big))
    return (np.sign(x) * out).astype(x.dtype)


def _ax(axis):
    """A one-axis tuple as an int: numpy's reductions take a faster path for it."""
    return axis[0] if len(axis) == 1 else axis


def _slices(starts, stops, steps):
    return tuple(
        slice(b, None if e < 0 else e, s) for b, e, s in zip(starts, stops, steps, strict=False)
    )


def _slice(x, starts, stops, steps):
    return x[_slices(starts, stops, steps)]


def _slice_grad(g, shape, starts, stops, steps):
    out = np.zeros(shape, g.dtype)
    out[_slices(starts, stops, steps)] = g
    return out


def slice_grad_sum(*xs, shape, regions, base):
    """The rewrite target for a sum of slice VJPs (``wasmdl.rewrite``): ``xs[0]`` (when
    ``base``) or zeros, with each further ``xs[k]`` added into its window ``regions[k]``
    (``(starts, stops, steps)``), in order."""
    grads = xs[1:] if base else xs
    out = np.array(xs[0], copy=True) if base else np.zeros(shape, grads[0].dtype)
    for g, (starts, stops, steps) in zip(grads, regions, strict=True):
        out[_slices(starts, stops, steps)] += g
    return out


def _pad(x, pads, value):
    out = np.full(
        tuple(d + b + a for d, (b, a) in zip(x.shape, pads, strict=False)), value, x.dtype
    )
    out[tuple(slice(b, b + d) for d, (b, _) in zip(x.shape, pads, strict=False))] = x
    return out


def _scatter_add(g, idx, shape, axis):
    out = np.zeros(shape, g.dtype)
    np.add.at(out, (slice(None),) * axis + (idx,), g)
    return out


KERNELS = {
    # elementwise unary
    "neg": np.negative,
    "abs": np.abs,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "sin": np.sin,
    "cos": np.cos,
    "erf": _erf,
    # elementwise binary (numpy broadcasting is the spec)
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "where": np.where,
    "cast": lambda x, dtype: x.astype(dtype),
    # reductions and matmul
    "sum": lambda x, axis, keepdims: np.add.reduce(x, _ax(axis), keepdims=keepdims),
    "max": lambda x, axis, keepdims: np.maximum.reduce(x, _ax(axis), keepdims=keepdims),
    "min": lambda x, axis, keepdims: np.minimum.reduce(x, _ax(axis), keepdims=keepdims),
    "argmax": lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
    "matmul": matmul,
    # shapes and indexing
    "reshape": lambda x, shape: x.reshape(shape),
    "permute": np.transpose,
    "expand": np.broadcast_to,
    "slice": _slice,
    "slice_grad": _slice_grad,
    "concat": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "pad": _pad,
    "gather": lambda x, idx, axis: np.take(x, idx, axis=axis),
    "scatter_add": _scatter_add,
    # convolution and pooling (NHWC / HWIO)
    **conv.KERNELS,
    # fused training-step ops and in-place optimizer updates (optional kernels)
    **step.KERNELS,
}


def compile_loop(backend, program):
    """``run(arrays)``: each instruction of ``program`` as one kernel call on host arrays."""
    kernels, n = backend.kernels, len(program.slots)
    steps = [(i.kernel, i.ins, i.out, i.params, i.dtype) for i in program.instrs]
    for name, *_ in steps:
        if name not in kernels:
            raise missing_kernel(name, backend)

    def run(arrays):
        vals = [None] * n
        for s, a in zip(program.externals, arrays, strict=True):
            vals[s] = a
        for name, ins, out, params, dtype in steps:
            r = kernels[name](*[vals[j] for j in ins], **params)
            if type(r) is not np.ndarray or r.dtype != dtype:
                r = np.asarray(r, dtype=dtype)
            vals[out] = r
        return [vals[s] for s in program.outputs]

    run.calls = len(steps)
    return run


class NumpyBackend(Backend):
    """Eager numpy execution on the host (natively, and inside Pyodide)."""

    name = "numpy"

    def __init__(self):
        self.kernels = dict(KERNELS)
        self.kernels["dense"] = self._dense
        self.kernels["conv2d_bias"] = self._conv2d_bias
        self.kernels["slice_grad_sum"] = slice_grad_sum
        self.kernels["sgd_matmul"] = self._sgd_matmul
        self.kernels["sgd_colsum"] = self._sgd_colsum
        if IN_PYODIDE:  # WASM SIMD kernels over matmul/conv (numpy stays the fallback)
            from .._wasm import install

            install(self)

    def from_host(self, array):
        return array

    def to_host(self, h, shape, dtype):
        return np.array(h, dtype=dtype, copy=True)

    def run(self, name, inputs, out_shape, out_dtype, params):
        try:
            fn = self.kernels[name]
        except KeyError:
            raise missing_kernel(name, self) from None
        n = len(inputs)
        if n == 1:
            out = fn(inputs[0]._h, **params)
        elif n == 2:
            out = fn(inputs[0]._h, inputs[1]._h, **params)
        else:
            out = fn(*[x._h for x in inputs], **params)
        if type(out) is not np.ndarray or out.dtype is not out_dtype:
            out = np.asarray(out, dtype=out_dtype)
        return out

    def _dense(self, x, w, b, activation):
        """The rewrite target for a Dense layer: act(x @ w + b) through the table's matmul."""
        y = self.kernels["matmul"](x, w)
        y += b
        return np.maximum(y, 0, out=y) if activation == "relu" else y

    def _conv2d_bias(self, x, w, b, activation, **conv):
        """The rewrite target for a Conv2D layer: act(conv2d(x, w) + b), through the table's
        conv2d, add and relu (the same arithmetic as the three instructions it replaces)."""
        k = self.kernels
        y = k["add"](k["conv2d"](x, w, **conv), b)
        return k["relu"](y) if activation == "relu" else y

    def _sgd_matmul(self, p, a, b, hp, maximize=False):
        """The rewrite target for plain SGD on a weight whose gradient is one GEMM (a Dense
        layer's ``x.T @ g``): ``p -= lr (a @ b)``, through the table's matmul and sgd_update (the
        same arithmetic as the two instructions it replaces)."""
        k = self.kernels
        return k["sgd_update"](p, k["matmul"](a, b), hp, maximize=maximize)

    def _sgd_colsum(self, p, x, hp, maximize=False):
        """The rewrite target for plain SGD on a bias, whose gradient is the leading-axis sum
        of a 2-D ``x``: ``p -= lr x.sum(0)``, through the table's sum and sgd_update."""
        k = self.kernels
        return k["sgd_update"](p, k["sum"](x, axis=(0,), keepdims=False), hp, maximize=maximize)

    def compile(self, program):
        """A captured ``Program`` as a loop over this backend's kernels (``wasmdl.replay``);
        a faster compiler (WebAssembly, inside Pyodide) may replace this verb."""
        return compile_loop(self, program)

    def memory(self, handles):
        bases = {}
        for h in handles:
            while h.base is not None and isinstance(h.base, np.ndarray):
                h = h.base
            bases[id(h)] = h.nbytes
        return {"buffers": len(bases), "bytes": int(sum(bases.values()))}
