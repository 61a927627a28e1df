"""Checkers that run a ``Case`` on the current backend: forward against the float64 numpy
reference, gradients against finite differences of that reference, float64 analytic gradients
against finite differences of wasmdl itself (numpy backend), and (natively) forward and
gradients against PyTorch.

Tolerances (float32 results against float64 references):

==================================  ======  ======
comparison                          rtol    atol
==================================  ======  ======
forward vs numpy reference          1e-5    1e-5
gradient vs reference FD (float64)  1e-4    1e-4
forward vs PyTorch (float32)        1e-5    1e-5
gradient vs PyTorch (float32)       1e-4    1e-5
float64 gradient vs float64 FD      1e-6    1e-7
==================================  ======  ======

>>> from wasmdl.testing import CASES, check
>>> check.check_forward(CASES[0]); check.check_grad(CASES[0])
"""

import zlib

import numpy as np

import wasmdl as wl

from . import refs
from .cases import make_input

FWD = {"rtol": 1e-5, "atol": 1e-5}
GRAD = {"rtol": 1e-4, "atol": 1e-4}
TORCH_FWD = {"rtol": 1e-5, "atol": 1e-5}
TORCH_GRAD = {"rtol": 1e-4, "atol": 1e-5}
FD64 = {"rtol": 1e-6, "atol": 1e-7}


def _rng(case, salt=""):
    return np.random.default_rng(zlib.crc32((case.name + salt).encode()))


def inputs_for(case):
    """The case's host inputs (float64 / int32 / bool), seeded by its name."""
    rng = _rng(case)
    return [make_input(s, rng) for s in case.inputs]


def make_tensors(arrays, dtype="float32", noncontig=False, requires_grad=False, backend=None):
    """Tensors for ``arrays`` (floats as ``dtype``); with ``noncontig`` each one with a
    dimension is a strided view (``base[..., ::2]``) of a leaf twice as wide, with
    ``retain_grad`` so its ``.grad`` is filled."""
    out = []
    for a in arrays:
        dt = dtype if a.dtype.kind == "f" else None
        rg = requires_grad and a.dtype.kind == "f"
        if noncontig and a.ndim:
            base = wl.tensor(np.repeat(a, 2, axis=-1), dtype=dt, requires_grad=rg, backend=backend)
            t = base[..., ::2]
            if rg:
                t.retain_grad()
        else:
            t = wl.tensor(a, dtype=dt, requires_grad=rg, backend=backend)
        out.append(t)
    return out


def _expected_dtype(case, want):
    if case.dtype is not None:
        return np.dtype(case.dtype)
    return {"f": wl.float32, "i": wl.int32, "u": wl.int32, "b": wl.bool_}[want.dtype.kind]


def _close(got, want, tol, what, case):
    np.testing.assert_allclose(got, want, equal_nan=True, err_msg=f"{case.name}: {what}", **tol)


def check_forward(case, noncontig=False, backend=None):
    """Output shape, dtype and values against the numpy reference."""
    arrays = inputs_for(case)
    out = case.fn(*make_tensors(arrays, noncontig=noncontig, backend=backend))
    got = out.numpy()
    assert got.shape == out.shape, f"{case.name}: data shape {got.shape} != tensor {out.shape}"
    assert got.dtype == out.dtype, f"{case.name}: data dtype {got.dtype} != tensor {out.dtype}"
    want = np.asarray(case.ref(*arrays))
    assert out.shape == want.shape, f"{case.name}: shape {out.shape}, reference {want.shape}"
    exp = _expected_dtype(case, want)
    assert out.dtype == exp, f"{case.name}: dtype {out.dtype}, expected {exp}"
    _close(
        got,
        want,
        {"rtol": case.rtol or FWD["rtol"], "atol": case.atol or FWD["atol"]},
        "forward",
        case,
    )


def _analytic(case, arrays, dtype, noncontig=False, backend=None):
    """(output array, cotangent, [grad array or None per input]) via backward()."""
    xs = make_tensors(arrays, dtype, noncontig, requires_grad=True, backend=backend)
    out = case.fn(*xs)
    g = _rng(case, "g").standard_normal(out.shape)
    if out.requires_grad:
        out.backward(wl.tensor(g, dtype=out.dtype, backend=out.backend))
    grads = [
        None if a.dtype.kind != "f" else (np.zeros(a.shape) if x.grad is None else x.grad.numpy())
        for a, x in zip(arrays, xs, strict=True)
    ]
    return out.numpy(), g, grads


def _differentiable(case, arrays):
    return case.grad and any(a.dtype.kind == "f" for a in arrays)


def check_grad(case, noncontig=False, backend=None):
    """float32 analytic gradients against float64 finite differences of the reference."""
    arrays = inputs_for(case)
    if not _differentiable(case, arrays) or not case.fd:
        return
    _, g, grads = _analytic(case, arrays, "float32", noncontig, backend)
    for i, gr in enumerate(grads):
        if gr is not None:
            fd = refs.finite_difference(case.ref, arrays, g, i)
            assert gr.shape == fd.shape, f"{case.name}: grad {i} shape {gr.shape} != {fd.shape}"
            _close(gr, fd, GRAD, f"gradient of input {i} vs finite differences", case)


def check_grad_fd64(case):
    """float64 analytic gradients against float64 finite differences of wasmdl itself."""
    arrays = inputs_for(case)
    if not _differentiable(case, arrays) or not case.fd:
        return
    _, g, grads = _analytic(case, arrays, "float64")

    def f(*xs):
        return case.fn(*make_tensors(xs, "float64")).numpy()

    for i, gr in enumerate(grads):
        if gr is not None:
            fd = refs.finite_difference(f, arrays, g, i)
            _close(
                gr, fd, FD64, f"float64 gradient of input {i} vs wasmdl finite differences", case
            )


def check_torch(case, torch):
    """Forward and gradients against PyTorch (float32)."""
    arrays = inputs_for(case)
    ts = [
        torch.tensor(a, dtype=torch.float32, requires_grad=case.grad)
        if a.dtype.kind == "f"
        else torch.tensor(a)
        for a in arrays
    ]
    want = case.torch(torch, *ts)
    got, g, grads = _analytic(case, arrays, "float32")
    _close(got, want.detach().numpy(), TORCH_FWD, "forward vs torch", case)
    if not _differentiable(case, arrays) or not want.requires_grad:
        return
    want.backward(torch.tensor(g, dtype=want.dtype))
    for i, (t, gr) in enumerate(zip(ts, grads, strict=True)):
        if gr is not None:
            tg = np.zeros(gr.shape) if t.grad is None else t.grad.numpy()
            _close(gr, tg, TORCH_GRAD, f"gradient of input {i} vs torch", case)
