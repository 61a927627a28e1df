"""Adam, AdamW, Adamax and NAdam with PyTorch's update rules, defaults and state names.

Example:
    >>> import wasmdl
    >>> w = wasmdl.tensor([1.0], requires_grad=True)
    >>> opt = wasmdl.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 5)
    0.9
"""

from __future__ import annotations

import math

from .. import ops as O
from . import fused
from .optimizer import Optimizer


def _moments(p, g, state, b1, b2):
    m = state.get("exp_avg", p * 0.0) * b1 + (1.0 - b1) * g
    v = state.get("exp_avg_sq", p * 0.0) * b2 + (1.0 - b2) * g * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    return m, v


class Adam(Optimizer):
    """torch.optim.Adam (L2 ``weight_decay`` added to the gradient; ``amsgrad``; ``maximize``).
    Fused (``adam_update``, in place) where the backend has the kernel, except with amsgrad."""

    decoupled = False
    FUSED = "adam_update"

    def __init__(
        self,
        params=None,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        maximize=False,
        **kw,
    ):
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{type(self).__name__}: expected betas in [0, 1), received {betas}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults, **kw)

    def update(self, p, g, state, group):
        (b1, b2), wd = group["betas"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd and self.decoupled:
            p = p * (1.0 - self.scalar("lr") * wd)
        elif wd:
            g = g + wd * p
        m, v = _moments(p, g, state, b1, b2)
        if group["amsgrad"]:
            v = O.maximum(state.get("max_exp_avg_sq", v), v)
            state["max_exp_avg_sq"] = v
        denom = O.sqrt(v) / self.scalar("sqrt_bc2") + group["eps"]
        return p - self.scalar("lr_bc1") * m / denom

    def step_values(self, group, state):
        (b1, b2), t, lr = group["betas"], state["step"], group["lr"]
        return {
            **super().step_values(group, state),
            "lr_bc1": lr / (1.0 - b1**t),
            "sqrt_bc2": math.sqrt(1.0 - b2**t),
        }

    def fused_options(self, group):
        if group["amsgrad"]:
            return None  # the op path keeps max_exp_avg_sq
        b1, b2 = group["betas"]
        return dict(beta1=b1, beta2=b2, eps=group["eps"],
                    weight_decay=group["weight_decay"], decoupled=self.decoupled,
                    maximize=group["maximize"])  # fmt: skip

    def fused_update(self, p, g, hp, state, options):
        m = fused.state_tensor(self, p, state, "exp_avg")
        v = fused.state_tensor(self, p, state, "exp_avg_sq")
        O.apply(fused.ADAM_UPDATE, fused.param(self, p), g, hp, m, v, **options)


class AdamW(Adam):
    """torch.optim.AdamW: decoupled weight decay ``p *= 1 - lr * weight_decay`` (default 0.01)."""

    decoupled = True

    def __init__(
        self,
        params=None,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        maximize=False,
        **kw,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, **kw)


class Adamax(Optimizer):
    """torch.optim.Adamax: ``exp_avg`` and the infinity norm ``exp_inf``."""

    def __init__(self, params=None, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, **kw):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults, **kw)

    def update(self, p, g, state, group):
        b1, b2 = group["betas"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        m = state.get("exp_avg", p * 0.0) * b1 + (1.0 - b1) * g
        u = O.maximum(state.get("exp_inf", p * 0.0) * b2, O.abs(g) + group["eps"])
        state["exp_avg"], state["exp_inf"] = m, u
        return p - self.scalar("lr_bc1") * m / u

    def step_values(self, group, state):
        lr_bc1 = group["lr"] / (1.0 - group["betas"][0] ** state["step"])
        return {**super().step_values(group, state), "lr_bc1": lr_bc1}


class NAdam(Optimizer):
    """torch.optim.NAdam: Nesterov momentum, ``momentum_decay`` schedule (``mu_product``)."""

    def __init__(
        self,
        params=None,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        **kw,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
        )
        super().__init__(params, defaults, **kw)

    def _mu(self, group, t):
        return group["betas"][0] * (1.0 - 0.5 * 0.96 ** (t * group["momentum_decay"]))

    def host_tick(self, state, group):  # mu_product: a host number, as torch keeps it
        state["mu_product"] = state.get("mu_product", 1.0) * self._mu(group, state["step"])

    def step_values(self, group, state):
        lr, t, prod = group["lr"], state["step"], state["mu_product"]
        mu, mu_next = self._mu(group, t), self._mu(group, t + 1)
        return {
            **super().step_values(group, state),
            "c_grad": lr * (1.0 - mu) / (1.0 - prod),
            "c_avg": lr * mu_next / (1.0 - prod * mu_next),
            "bc2": 1.0 - group["betas"][1] ** t,
        }

    def update(self, p, g, state, group):
        b1, b2 = group["betas"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        m, v = _moments(p, g, state, b1, b2)
        denom = O.sqrt(v / self.scalar("bc2")) + group["eps"]
        p = p - self.scalar("c_grad") * g / denom
        return p - self.scalar("c_avg") * m / denom


Nadam = NAdam  # Keras spelling
