"""numpy-level entry points to the WebAssembly SIMD kernels (``kernels/wasm/*.c``).

Each method takes and returns numpy arrays that live in Pyodide's heap; the kernel reads and
writes them in place through their addresses. A method returns ``None`` when it does not handle
the case (a dtype other than float32, an empty or negatively strided operand, ...): the caller
then runs plain numpy. Transposed views (``a.T``) are passed to the kernel with its transpose
flag, so the backward pass of a dense layer copies nothing.

Runs only inside Pyodide (it needs an instantiated module); on CPython numpy's BLAS is faster.

>>> from wasmdl._wasm.cpu import gemm_operand
>>> import numpy as np
>>> a = np.zeros((3, 5), np.float32)
>>> gemm_operand(a)[:2], gemm_operand(a.T)[:2], gemm_operand(a[:, ::2])
((0, 5), (1, 5), None)
"""

from __future__ import annotations

import math

import numpy as np

F32 = np.dtype(np.float32)
I32 = np.dtype(np.int32)
ACT = {None: 0, "linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3}


def addr(x: np.ndarray) -> int:
    """The address of ``x``'s first element in Pyodide's linear memory."""
    return x.__array_interface__["data"][0]


def gemm_operand(x: np.ndarray) -> tuple[int, int, int] | None:
    """``(trans, ld, address)`` describing a 2-D float32 array to sgemm, or None (copy needed).

    Row-major with unit column stride: trans 0, ld = row stride. A transposed row-major view
    (unit row stride): trans 1, ld = column stride.
    """
    if x.dtype != F32 or x.ndim != 2 or x.size == 0:
        return None
    (s0, s1), (r, c) = x.strides, x.shape
    if (s1 == 4 or c == 1) and s0 % 4 == 0 and s0 >= 4 * c:
        return 0, max(s0 // 4, c, 1), addr(x)
    if (s0 == 4 or r == 1) and s1 % 4 == 0 and s1 >= 4 * r:
        return 1, max(s1 // 4, r, 1), addr(x)
    return None


def _rows(x: np.ndarray) -> tuple[int, int] | None:
    """(row stride, address) of a 2-D float32 array whose rows are contiguous, else None."""
    if x.dtype != F32 or x.ndim != 2 or x.strides[1] != 4 or x.strides[0] % 4:
        return None
    return x.strides[0] // 4, addr(x)


class CpuKernels:
    """The exports of one kernel-module instance, wrapped for numpy arrays."""

    def __init__(self, exports):
        self.exports = exports
        self._sgemm, self._dense = exports.sgemm, exports.dense
        self._run_program = exports.run_program  # wasmdl/_wasm/program.py: one call per step
        self.work = np.zeros(exports.sgemm_work_floats(), F32)  # scratch: packed B panel
        self._work = addr(self.work)
        self.col = np.empty(0, F32)  # im2col workspace of the conv kernels (cpu_conv.py)

    # ------------------------------------------------------------------ GEMM
    def gemm(self, a, b, c=None, alpha=1.0, beta=0.0, bias=None, act=None):
        """``c = act(alpha * a @ b + beta * c + bias)`` for 2-D float32 arrays; None if not handled.

        ``c`` (row-contiguous, not overlapping ``a`` or ``b``) is written in place when given.
        """
        oa, ob = gemm_operand(a), gemm_operand(b)
        if oa is None or ob is None or a.shape[1] != b.shape[0]:
            return None
        m, k, n = a.shape[0], a.shape[1], b.shape[1]
        if c is None:
            c = np.empty((m, n), F32)
            beta = 0.0
        oc = _rows(c)
        if oc is None or c.shape != (m, n):
            return None
        (ta, lda, pa), (tb, ldb, pb), (ldc, pc) = oa, ob, oc
        code = ACT[act]
        if bias is None and code == 0:
            self._sgemm(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, self._work)
            return c
        if alpha != 1.0 or beta != 0.0:
            return None
        pbias = 0
        if bias is not None:
            if bias.dtype != F32 or bias.shape != (n,) or bias.strides != (4,):
                return None
            pbias = addr(bias)
        self._dense(ta, tb, m, n, k, pa, lda, pb, ldb, pbias, pc, ldc, code, self._work)
        return c

    def matmul(self, a, b):
        """numpy's ``a @ b`` for float32 operands with at least 2 dims; None if not handled."""
        if a.dtype != F32 or b.dtype != F32 or a.ndim < 2 or b.ndim < 2:
            return None
        if a.ndim == 2 and b.ndim == 2:
            return self.gemm(a, b)
        if b.ndim == 2 and a.flags.c_contiguous:  # (..., m, k) @ (k, n): one tall GEMM
            out = self.gemm(a.reshape(math.prod(a.shape[:-1]), a.shape[-1]), b)  # k may be 0
            return None if out is None else out.reshape(*a.shape[:-1], b.shape[-1])
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = np.empty((*batch, a.shape[-2], b.shape[-1]), F32)
        a = np.broadcast_to(a, (*batch, *a.shape[-2:]))
        b = np.broadcast_to(b, (*batch, *b.shape[-2:]))
        for idx in np.ndindex(*batch):
            if self.gemm(a[idx], b[idx], out[idx]) is None:
                return None
        return out

    # ------------------------------------------------------------ per-step kernels
    def bias_act(self, y, bias=None, act=None):
        """``y = act(y + bias)`` in place over the last axis (y row-contiguous float32)."""
        rows = math.prod(y.shape[:-1])
        y2 = y.reshape(rows, y.shape[-1]) if y.ndim != 2 and y.flags.c_contiguous else y
        oy = _rows(y2)
        if oy is None or ACT.get(act) is None:
            return None
        pbias = 0
        if bias is not None:
            if bias.dtype != F32 or bias.shape != (y.shape[-1],) or bias.strides != (4,):
                return None
            pbias = addr(bias)
        self.exports.bias_act(oy[1], pbias, y2.shape[0], y2.shape[1], oy[0], ACT[act])
        return y

    def act_grad(self, dy, y, act):
        """``dy * act'(x)`` computed from the activation's output ``y`` (relu/sigmoid/tanh)."""
        if not _flat_f32(dy, y) or dy.shape != y.shape or ACT.get(act) is None:
            return None
        dx = np.empty_like(dy)
        self.exports.act_grad(addr(dy), addr(y), addr(dx), dy.size, ACT[act])
        return dx

    def softmax(self, x):
        """Softmax over the last axis of a C-contiguous float32 array (a new array)."""
        if not _flat_f32(x) or x.ndim < 1 or x.shape[-1] == 0:
            return None
        y = np.empty_like(x)
        cols = x.shape[-1]
        self.exports.softmax(addr(x), addr(y), x.size // cols, cols, cols)
        return y

    def softmax_xent(self, logits, labels, grad_scale=None):
        """Summed cross-entropy of softmax(logits) against int labels or target rows.

        Returns ``(loss_sum, grad)``; ``grad`` is ``(softmax - target) * grad_scale`` (None when
        ``grad_scale`` is None). None when not handled (labels must lie in [0, classes)).
        """
        if not _flat_f32(logits) or logits.ndim != 2 or logits.shape[1] == 0:
            return None
        rows, cols = logits.shape
        grad = None if grad_scale is None else np.empty_like(logits)
        pg = 0 if grad is None else addr(grad)
        scale = 0.0 if grad_scale is None else float(grad_scale)
        ex = self.exports
        if labels.dtype.kind in "iu" and labels.shape == (rows,):
            if rows and (labels.min() < 0 or labels.max() >= cols):
                return None
            lab = np.ascontiguousarray(labels, I32)
            loss = ex.softmax_xent_labels(addr(logits), addr(lab), rows, cols, cols, pg, scale)
        elif labels.shape == logits.shape and _flat_f32(labels):
            loss = ex.softmax_xent_probs(
                addr(logits), addr(labels), rows, cols, cols, cols, pg, scale
            )
        else:
            return None
        return float(loss), grad

    # ------------------------------------------------------------ optimizer updates
    def sgd_step(
        self,
        p,
        g,
        buf,
        lr,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        first=False,
    ):
        """In-place torch.optim.SGD update of ``p`` (and ``buf``); False when not handled."""
        bufs = (buf,) if momentum else ()
        if not _flat_f32(p, g, *bufs) or any(x.shape != p.shape for x in (g, *bufs)):
            return False
        pb = addr(buf) if momentum else 0
        self.exports.sgd_step(
            addr(p),
            addr(g),
            pb,
            p.size,
            lr,
            momentum,
            dampening,
            weight_decay,
            int(nesterov),
            int(first),
        )
        return True

    def adam_step(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step, decoupled):
        """In-place torch.optim.Adam/AdamW update of ``p``, ``m``, ``v`` at step ``step`` >= 1."""
        if not _flat_f32(p, g, m, v) or any(x.shape != p.shape for x in (g, m, v)):
            return False
        bc1, bc2 = 1.0 - beta1**step, 1.0 - beta2**step
        self.exports.adam_step(
            addr(p),
            addr(g),
            addr(m),
            addr(v),
            p.size,
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
            bc1,
            bc2,
            int(decoupled),
        )
        return True


def _flat_f32(*xs) -> bool:
    """All C-contiguous float32 (so the kernel may treat them as flat vectors)."""
    return all(x.dtype == F32 and x.flags.c_contiguous for x in xs)
