"""ONNX shape and indexing operators (rows of ``onnx_ops.OPS``): Shape, Constant,
ConstantOfShape, Cast, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Pad, Gather and
Slice. Where every input is a host array (shape arithmetic) they compute with numpy; on tensors
held channels-last they map axes (Concat, Pad, Transpose) or ask for ONNX's layout.

Example:
    >>> import math

import numpy as np
    >>> from wasmdl.io.onnx_ops import OPS
    >>> from wasmdl.io.onnx_values import Node, V
    >>> run, _ = OPS["Unsqueeze"](Node("u", "Unsqueeze", ["x", "a"], ["y"], {}, {}, 17))
    >>> run([V(np.ones(3, np.float32)), V(np.array([0]))])[0].data.shape
    (1, 3)
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops as O
from .onnx_layers import check_size
from .onnx_ops import NP_DTYPES, axes_arg, host_array, norm_axis, op
from .onnx_values import V, is_host, logical_shape, phys_axis, plain, tensor


@op("Shape")
def _shape(n):
    start, end = n.attrs.get("start", 0), n.attrs.get("end")
    return (lambda vs: [V(np.array(logical_shape(vs[0])[start:end], np.int64))]), None


@op("Constant")
def _constant(n):
    value = n.consts[n.outputs[0]]
    return (lambda vs: [V(value)]), None


@op("Cast")
def _cast(n):
    to = NP_DTYPES.get(n.attrs.get("to"))
    if to is None:
        n.fail(f"cast to data type {n.attrs.get('to')} is not supported")
    kind = np.dtype(to).kind
    target = "float32" if kind == "f" else "bool" if kind == "b" else "int32"

    def run(vs):
        v = vs[0]
        if is_host(v):
            return [V(v.data.astype(to))]
        return [V(O.cast(v.data, target) if str(v.data.dtype) != target else v.data, v.cl)]

    return run, None


def folded(v, n, target):
    """A channels-last value flattened as it is held, when the load folded the NCHW -> NHWC
    order into the next layer's kernel (``node.attrs["__fold_cl"]``); else None."""
    fold = n.attrs.get("__fold_cl")
    if not v.cl or fold is None or len(target) != 2:
        return None
    if tuple(v.data.shape[1:]) != fold:
        n.fail(f"input of shape {tuple(v.data.shape)} differs from the {fold} folded at load")
    return O.reshape(v.data, (v.data.shape[0], math.prod(fold)))


@op("Reshape")
def _reshape(n):
    def run(vs):
        shape = [int(d) for d in host_array(vs[1], n, "shape")]
        if not n.attrs.get("allowzero", 0):
            dims = logical_shape(vs[0])
            shape = [dims[i] if d == 0 and i < len(dims) else d for i, d in enumerate(shape)]
        y = folded(vs[0], n, shape)
        if y is not None:
            return [V(y)]
        x = plain(vs[0])
        return [V(x.reshape(shape) if isinstance(x, np.ndarray) else O.reshape(x, tuple(shape)))]

    return run, None


@op("Flatten")
def _flatten(n):
    def run(vs):
        dims = logical_shape(vs[0])
        a = norm_axis(n.attrs.get("axis", 1), len(dims) + 1, n)
        shape = (math.prod(dims[:a]), math.prod(dims[a:]))
        y = folded(vs[0], n, shape) if a == 1 else None
        if y is not None:
            return [V(y)]
        x = plain(vs[0])
        return [V(x.reshape(shape) if isinstance(x, np.ndarray) else O.reshape(x, shape))]

    return run, None


@op("Transpose")
def _transpose(n):
    def run(vs):
        v = vs[0]
        r = v.data.ndim
        perm = n.attrs.get("perm", list(range(r))[::-1])
        if sorted(perm) != list(range(r)):
            n.fail(f"perm {perm} is not a permutation of {r} axes")
        if is_host(v):
            return [V(np.transpose(v.data, perm))]
        if v.cl:  # compose with the channels-last hold
            back = (0, r - 1, *range(1, r - 1))
            return [V(O.permute(v.data, tuple(back[p] for p in perm)))]
        return [V(O.permute(v.data, tuple(perm)))]

    return run, None


@op("Squeeze", "Unsqueeze")
def _squeeze(n):
    def run(vs):
        x, axes = plain(vs[0]), axes_arg(n, vs)
        shape = list(x.shape)
        if n.op == "Squeeze":
            keep = (
                set(range(len(shape))) - {norm_axis(a, len(shape), n) for a in axes}
                if axes is not None
                else {i for i, d in enumerate(shape) if d != 1}
            )
            if any(shape[i] != 1 for i in set(range(len(shape))) - keep):
                n.fail(f"cannot squeeze axes {axes} of shape {tuple(shape)}")
            new = [d for i, d in enumerate(shape) if i in keep]
        else:
            if axes is None:
                n.fail("axes are required")
            r = len(shape) + len(axes)
            ones = {norm_axis(a, r, n) for a in axes}
            it = iter(shape)
            new = [1 if i in ones else next(it) for i in range(r)]
        return [V(x.reshape(new) if isinstance(x, np.ndarray) else O.reshape(x, tuple(new)))]

    return run, None


@op("Concat")
def _concat(n):
    axis = n.attrs.get("axis")
    if axis is None:
        n.fail("attribute 'axis' is required")

    def run(vs):
        vs = [v for v in vs if v is not None]
        if all(is_host(v) for v in vs):
            return [V(np.concatenate([v.data for v in vs], norm_axis(axis, vs[0].data.ndim, n)))]
        r = vs[0].data.ndim
        if all(v.cl for v in vs):
            return [V(O.concat([v.data for v in vs], phys_axis(norm_axis(axis, r, n), r)), True)]
        return [V(O.concat([tensor(plain(v)) for v in vs], norm_axis(axis, r, n)))]

    return run, None


@op("Pad")
def _pad(n):
    if n.attrs.get("mode", "constant") != "constant":
        n.fail(f"mode {n.attrs.get('mode')!r} is not supported (only 'constant')")

    def run(vs):
        v, pads = vs[0], [int(p) for p in host_array(vs[1], n, "pads")]
        r = v.data.ndim
        axes = axes_arg(n, vs, 3) or list(range(r))
        value = (
            float(host_array(vs[2], n, "constant_value").ravel()[0])
            if len(vs) > 2 and vs[2]
            else 0.0
        )
        if len(pads) != 2 * len(axes) or min(pads, default=0) < 0:
            n.fail(f"pads {pads[:16]} expected {2 * len(axes)} values >= 0")
        pairs = [(0, 0)] * r
        for i, a in enumerate(axes):
            a = norm_axis(a, r, n)
            pairs[phys_axis(a, r) if v.cl else a] = (pads[i], pads[i + len(axes)])
        check_size([d + b + e for d, (b, e) in zip(v.data.shape, pairs, strict=True)], n.name)
        if is_host(v):
            return [V(np.pad(v.data, pairs, constant_values=value))]
        return [V(O.pad(v.data, pairs, value), v.cl)]

    return run, None


@op("Gather")
def _gather(n):
    def run(vs):
        data, idx = plain(vs[0]), vs[1]
        axis = norm_axis(n.attrs.get("axis", 0), data.ndim, n)
        size = data.shape[axis]
        check_size((*idx.data.shape, *data.shape[:axis], *data.shape[axis + 1 :]), n.name)
        if is_host(idx):
            i = idx.data.astype(np.int64)
            if i.size and (i.min() < -size or i.max() >= size):
                n.fail(f"indices outside [-{size}, {size}) on axis {axis}")
            i = np.where(i < 0, i + size, i).astype(np.intp)  # Pyodide's intp is 32-bit
            if isinstance(data, np.ndarray):
                return [V(np.take(data, i, axis=axis))]
            if i.ndim == 0:  # a scalar index drops the axis
                y = O.gather(data, tensor(i.reshape(1)), axis=axis)
                return [V(O.reshape(y, data.shape[:axis] + data.shape[axis + 1 :]))]
            return [V(O.gather(data, tensor(i), axis=axis))]
        ids = idx.data if str(idx.data.dtype) == "int32" else O.cast(idx.data, "int32")
        return [V(O.gather(tensor(data), ids, axis=axis))]

    return run, None


@op("Slice")
def _slice(n):
    def run(vs):
        x = plain(vs[0])
        starts, ends = (host_array(vs[i], n, "starts/ends").astype(np.int64) for i in (1, 2))
        axes = axes_arg(n, vs, 3) or list(range(len(starts)))
        steps = (
            host_array(vs[4], n, "steps") if len(vs) > 4 and vs[4] is not None else [1] * len(axes)
        )
        if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in list(steps):
            n.fail("starts, ends, axes and steps must have one non-zero entry per axis")
        key = [slice(None)] * x.ndim
        for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
            s, e = (int(np.clip(v, -(2**62), 2**62)) for v in (s, e))
            key[norm_axis(int(a), x.ndim, n)] = slice(s, e, int(st))
        if isinstance(x, np.ndarray):
            return [V(x[tuple(key)])]
        if any(k.step is not None and k.step < 0 for k in key):
            n.fail("negative steps on a tensor are not supported")
        return [V(x[tuple(key)])]

    return run, None


@op("ConstantOfShape")
def _constant_of_shape(n):
    value = np.asarray(n.attrs.get("value", np.zeros(1, np.float32))).ravel()
    if value.size != 1:
        n.fail("attribute 'value' must hold one element")

    def run(vs):
        shape = [int(d) for d in host_array(vs[0], n, "shape")]
        if min(shape, default=0) < 0:
            n.fail(f"negative size in shape {shape[:16]}")
        check_size(shape, n.name)
        return [V(np.full(shape, value[0], value.dtype))]

    return run, None
