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
        lr, (b1, b2), wd, t = group["lr"], group["betas"], group["weight_decay"], state["step"]
        if group["maximize"]:
            g = -g
        if wd and self.decoupled:
            p = p * (1.0 - lr * wd)
        elif wd:
            g = g + wd * p
        m, v = _moments(p, g, state, b1, b2)
        if group["amsgrad"]:
            v = O.maximum(state.get("max_exp_avg_sq", v), v)
            state["max_exp_avg_sq"] = v
        denom = O.sqrt(v) / math.sqrt(1.0 - b2**t) + group["eps"]
        return p - (lr / (1.0 - b1**t)) * m / denom

    def fused_options(self, group):
        if group["amsgrad"]:
            return None  # the op path keeps max_exp_avg_sq
        b1, b2 = group["betas"]
        return dict(lr=group["lr"], beta1=b1, beta2=b2, eps=group["eps"],
                    weight_decay=group["weight_decay"], decoupled=self.decoupled,
                    maximize=group["maximize"])  # fmt: skip

    def fused_update(self, kernel, p, g, state, options):
        m = fused.state_array(self, p, state, "exp_avg")
        v = fused.state_array(self, p, state, "exp_avg_sq")
        kernel(fused.param_array(self, p), g._h, m, v, step=state["step"], **options)


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
        (b1, b2), t = group["betas"], state["step"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        m = state.get("exp_avg", p * 0.0) * b1 + (1.0 - b1) * g
        u = O.maximum(state.get("exp_inf", p * 0.0) * b2, O.abs(g) + group["eps"])
        state["exp_avg"], state["exp_inf"] = m, u
        return p - (group["lr"] / (1.0 - b1**t)) * m / u


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

    def update(self, p, g, state, group):
        lr, (b1, b2), t, md = group["lr"], group["betas"], state["step"], group["momentum_decay"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
        prod = state.get("mu_product", 1.0) * mu
        state["mu_product"] = prod
        m, v = _moments(p, g, state, b1, b2)
        denom = O.sqrt(v / (1.0 - b2**t)) + group["eps"]
        p = p - (lr * (1.0 - mu) / (1.0 - prod)) * g / denom
        return p - (lr * mu_next / (1.0 - prod * mu_next)) * m / denom


Nadam = NAdam  # Keras spelling
