"""The fused, in-place optimizer kernels (``sgd_update``, ``adam_update`` of the numpy backend):
20-step trajectories against torch.optim for every option they take, the same trajectories
with the kernels removed (the op path), and the copy-on-first-write rules that keep in-place
updates from writing into arrays the optimizer does not own."""

import numpy as np
import pytest
import torch

import wasmdl
from wasmdl import optim
from wasmdl.backend import get_backend, register_kernels

FUSED_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.02}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.1, "maximize": True}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in FUSED_CASES]


def _problem(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 5)).astype(dtype)
    y = rng.standard_normal((16, 3)).astype(dtype)
    w0 = (rng.standard_normal((5, 3)) * 0.5).astype(dtype)
    b0 = (rng.standard_normal(3) * 0.1).astype(dtype)
    return x, y, w0, b0


def _loss(x, y, w, b, lib):
    h = lib.tanh(x @ w + b)
    return ((h - y) ** 2).mean() + 0.1 * (w * w).sum()


def _trajectory(name, kwargs, dtype=np.float32, steps=20):
    x, y, w0, b0 = (wasmdl.tensor(a, dtype=dtype) for a in _problem(dtype))
    w, b = w0.requires_grad_(), b0.requires_grad_()
    opt = getattr(optim, name)([w, b], **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(x, y, w, b, wasmdl).backward()
        opt.step()
        out.append((w.numpy(), b.numpy()))
    return out, opt, (w, b)


def _torch_trajectory(name, kwargs, dtype=torch.float32, steps=20):
    x, y, w0, b0 = (torch.tensor(a, dtype=dtype) for a in _problem(np.float64))
    tw, tb = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    topt = getattr(torch.optim, name)([tw, tb], **kwargs)
    out = []
    for _ in range(steps):
        topt.zero_grad()
        _loss(x, y, tw, tb, torch).backward()
        topt.step()
        out.append((tw.detach().numpy().copy(), tb.detach().numpy().copy()))
    return out


class _OpPath:
    """Remove the fused kernels from the numpy backend for the duration (the op path)."""

    def __enter__(self):
        self.saved = register_kernels("numpy", {"sgd_update": None, "adam_update": None})

    def __exit__(self, *exc):
        register_kernels("numpy", self.saved)


@pytest.mark.parametrize(("name", "kwargs"), FUSED_CASES, ids=IDS)
def test_fused_trajectory_matches_torch_and_the_op_path(name, kwargs):
    cls = getattr(optim, name)
    assert cls.FUSED in get_backend("numpy").kernels
    fused, _, _ = _trajectory(name, kwargs)
    with _OpPath():
        ops, _, _ = _trajectory(name, kwargs)
    ref = _torch_trajectory(name, kwargs)
    for step, (mine, op, want) in enumerate(zip(fused, ops, ref, strict=True)):
        for a, o, r in zip(mine, op, want, strict=True):
            np.testing.assert_allclose(a, r, rtol=1e-4, atol=2e-5, err_msg=f"torch, step {step}")
            np.testing.assert_allclose(a, o, rtol=1e-5, atol=1e-6, err_msg=f"ops, step {step}")


@pytest.mark.parametrize(("name", "kwargs"), [FUSED_CASES[3], FUSED_CASES[7]], ids=IDS[3:8:4])
def test_fused_float64_matches_torch_float64(name, kwargs):
    mine, _, (w, _) = _trajectory(name, kwargs, np.float64)
    assert w.dtype == np.float64
    ref = _torch_trajectory(name, kwargs, torch.float64)
    for (a, b), (ra, rb) in zip(mine, ref, strict=True):
        np.testing.assert_allclose(a, ra, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, rb, rtol=1e-10, atol=1e-12)


def test_state_is_torch_named_tensors_and_updates_in_place():
    _, opt, (w, b) = _trajectory("Adam", {"lr": 0.01}, steps=2)
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    m = opt.state[w]["exp_avg"]
    arrays = (w._h, b._h, m._h)
    _loss(*(wasmdl.tensor(a) for a in _problem(np.float32)[:2]), w, b, wasmdl).backward()
    opt.step()
    assert (w._h, b._h, opt.state[w]["exp_avg"]._h) == arrays  # same arrays, new values
    assert all(a.flags.c_contiguous and a.flags.writeable for a in arrays)


def test_arrays_the_optimizer_does_not_own_are_never_written():
    user = np.arange(6, dtype=np.float32).reshape(2, 3)
    keep = user.copy()
    w = wasmdl.tensor(user, requires_grad=True)  # may share the user's array
    view = np.ones((3, 4), np.float32).T  # a transposed, non-contiguous handle
    v = wasmdl.Tensor._wrap(view, view.shape, view.dtype, get_backend("numpy"))
    v.requires_grad = True
    opt = optim.SGD([w, v], lr=0.5, momentum=0.9)
    (w * w).sum().backward()
    (v * v).sum().backward()
    g_before = w.grad.numpy()
    snapshot = w.detach()
    opt.step()
    np.testing.assert_array_equal(user, keep)
    np.testing.assert_array_equal(view, np.ones((4, 3), np.float32))
    np.testing.assert_array_equal(snapshot.numpy(), keep)  # a detach() taken before the step
    np.testing.assert_array_equal(w.grad.numpy(), g_before)  # momentum_buffer began as g
    np.testing.assert_allclose(w.numpy(), keep - 0.5 * 2 * keep)
    np.testing.assert_allclose(v.numpy(), np.zeros((4, 3)))


def test_assign_between_steps_is_respected():
    w = wasmdl.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    new = np.array([10.0, 20.0], np.float32)
    with wasmdl.no_grad():
        w.assign(wasmdl.tensor(new))  # e.g. set_weights / EarlyStopping's restore
    w.grad = None
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), new * 0.8)
    assert new.tolist() == [10.0, 20.0]


def test_amsgrad_and_other_optimizers_keep_the_op_path():
    w = wasmdl.tensor([1.0, 2.0], requires_grad=True)
    assert (
        optim.Adam([w], amsgrad=True).fused_options({"amsgrad": True, "betas": (0.9, 0.999)})
        is None
    )
    assert optim.RMSprop.FUSED is None and optim.NAdam.FUSED is None
