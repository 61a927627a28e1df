"""Each optimizer's 20-step parameter trajectory against torch.optim on the same problem."""

import math

import numpy as np
import pytest
import torch

import wasmdl
from wasmdl import optim

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.01}),
    ("Adamax", {"lr": 0.02}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.05}),
    ("NAdam", {"lr": 0.02}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.05, "momentum_decay": 0.01}),
]


def _problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    w0 = rng.standard_normal((5, 3)).astype(np.float32) * 0.5
    b0 = rng.standard_normal(3).astype(np.float32) * 0.1
    return x, y, w0, b0


def _loss(x, y, w, b, lib):
    h = lib.tanh(x @ w + b)  # non-linear, so the gradients change along the trajectory
    return ((h - y) ** 2).mean() + 0.1 * (w * w).sum()


@pytest.mark.parametrize(
    ("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_trajectory_matches_torch(name, kwargs):
    x, y, w0, b0 = _problem()
    w, b = wasmdl.tensor(w0, requires_grad=True), wasmdl.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = getattr(optim, name)([w, b], **kwargs)
    topt = getattr(torch.optim, name)([tw, tb], **kwargs)
    for step in range(20):
        opt.zero_grad()
        _loss(wasmdl.tensor(x), wasmdl.tensor(y), w, b, wasmdl).backward()
        opt.step()
        topt.zero_grad()
        _loss(torch.tensor(x), torch.tensor(y), tw, tb, torch).backward()
        topt.step()
        for mine, ref in ((w, tw), (b, tb)):
            np.testing.assert_allclose(
                mine.numpy(), ref.detach().numpy(), rtol=1e-4, atol=2e-5, err_msg=f"step {step}"
            )


def test_state_names_follow_torch():
    w = wasmdl.tensor([1.0, 2.0], requires_grad=True)
    for cls, names in [
        (optim.Adam, {"step", "exp_avg", "exp_avg_sq"}),
        (optim.SGD, {"step", "momentum_buffer"}),
        (optim.Adadelta, {"step", "square_avg", "acc_delta"}),
    ]:
        opt = cls([w], lr=0.1, **({"momentum": 0.9} if cls is optim.SGD else {}))
        (w * w).sum().backward()
        opt.step()
        assert set(opt.state[w]) == names
        w.grad = None


@pytest.mark.parametrize("sched", ["StepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_schedules_match_torch(sched):
    kw = {
        "StepLR": {"step_size": 3, "gamma": 0.5},
        "ExponentialLR": {"gamma": 0.9},
        "CosineAnnealingLR": {"T_max": 7, "eta_min": 0.01},
    }[sched]
    w, tw = wasmdl.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.5), torch.optim.SGD([tw], lr=0.5)
    s, ts = getattr(optim, sched)(opt, **kw), getattr(torch.optim.lr_scheduler, sched)(topt, **kw)
    for _ in range(15):
        assert math.isclose(opt.lr, topt.param_groups[0]["lr"], rel_tol=1e-9, abs_tol=1e-12)
        topt.step()
        s.step()
        ts.step()


def test_clip_grad_norm_and_value_match_torch():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(4, 3), (3,)]]
    ps = [wasmdl.tensor(a, requires_grad=True) for a in arrays]
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    for p, tp, a in zip(ps, tps, arrays, strict=True):
        p.grad, tp.grad = wasmdl.tensor(a * 2), torch.tensor(a * 2)
    norm = optim.clip_grad_norm_(ps, 1.5)
    tnorm = torch.nn.utils.clip_grad_norm_(tps, 1.5)
    assert math.isclose(norm, float(tnorm), rel_tol=1e-5)
    for p, tp in zip(ps, tps, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)
    optim.clip_grad_value_(ps, 0.1)
    torch.nn.utils.clip_grad_value_(tps, 0.1)
    for p, tp in zip(ps, tps, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6)


def test_bad_arguments_name_the_optimizer():
    w = wasmdl.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="SGD: expected lr >= 0, received -1"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="SGD: nesterov=True expects momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="optim.get: expected one of"):
        optim.get("adamz", [w])


@pytest.mark.parametrize("kind", ["clipnorm", "global_clipnorm", "clipvalue"])
def test_optimizer_clipping_arguments_match_torch_clip_then_step(kind):
    x, y, w0, b0 = _problem()
    w, b = wasmdl.tensor(w0, requires_grad=True), wasmdl.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = optim.Adam([w, b], lr=0.05, **{kind: 0.05})
    topt = torch.optim.Adam([tw, tb], lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        _loss(wasmdl.tensor(x), wasmdl.tensor(y), w, b, wasmdl).backward()
        opt.step()
        topt.zero_grad()
        _loss(torch.tensor(x), torch.tensor(y), tw, tb, torch).backward()
        if kind == "clipnorm":  # Keras: each variable on its own
            for p in (tw, tb):
                torch.nn.utils.clip_grad_norm_([p], 0.05)
        elif kind == "global_clipnorm":
            torch.nn.utils.clip_grad_norm_([tw, tb], 0.05)
        else:
            torch.nn.utils.clip_grad_value_([tw, tb], 0.05)
        topt.step()
    for mine, ref in ((w, tw), (b, tb)):
        np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_decayed_optimizer_state_is_flushed_not_left_subnormal(optimizer):
    """State that decays toward 0 (a gradient that stays 0) ends at +0, not stuck at the
    smallest subnormal where every step would take the CPU's slow path."""
    from wasmdl.testing.optim_state import subnormal_state

    r = subnormal_state(optimizer)
    assert r == {"subnormal": 0, "largest": 0.0, "loss_finite": True}
