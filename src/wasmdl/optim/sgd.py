"""SGD, RMSprop, Adagrad and Adadelta with PyTorch's update rules, defaults and state names.

Example:
    >>> import wasmdl
    >>> w = wasmdl.tensor([1.0], requires_grad=True)
    >>> opt = wasmdl.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)
    0.62
"""

from __future__ import annotations

from .. import ops as O
from . import fused
from .optimizer import Optimizer


def _state(state, key, p):
    """The state tensor ``key``, zeros like ``p`` on first use (not rebuilt every step)."""
    buf = state.get(key)
    return p * 0.0 if buf is None else buf


class SGD(Optimizer):
    """torch.optim.SGD: momentum (``momentum_buffer``), dampening, Nesterov, L2 weight decay,
    ``maximize``. Fused (``sgd_update``, in place) where the backend has the kernel."""

    FUSED = "sgd_update"

    def __init__(
        self,
        params=None,
        lr=0.01,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        maximize=False,
        **kw,
    ):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "SGD: nesterov=True expects momentum > 0 and dampening = 0, received "
                f"momentum={momentum}, dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults, **kw)

    def update(self, p, g, state, group):
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        mom = group["momentum"]
        if mom:
            buf = state.get("momentum_buffer")
            buf = g if buf is None else buf * mom + (1.0 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + mom * buf if group["nesterov"] else buf
        return p - self.scalar("lr") * g

    def fused_options(self, group):
        keys = ("momentum", "dampening", "weight_decay", "nesterov", "maximize")
        return {k: group[k] for k in keys}

    def fused_update(self, p, g, hp, state, options):
        param = fused.param(self, p)
        if not options["momentum"]:
            O.apply(fused.SGD_UPDATE, param, g, hp, first=False, **options)
            return
        first = "momentum_buffer" not in state
        buf = fused.state_tensor(self, p, state, "momentum_buffer")
        O.apply(fused.SGD_UPDATE, param, g, hp, buf, first=first, **options)


class RMSprop(Optimizer):
    """torch.optim.RMSprop: ``square_avg``, ``grad_avg`` (centered), ``momentum_buffer``."""

    def __init__(
        self,
        params=None,
        lr=0.01,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        **kw,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )
        super().__init__(params, defaults, **kw)

    def update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        a = group["alpha"]
        sq = _state(state, "square_avg", p) * a + (1.0 - a) * g * g
        state["square_avg"] = sq
        if group["centered"]:
            ga = _state(state, "grad_avg", p) * a + (1.0 - a) * g
            state["grad_avg"] = ga
            avg = O.sqrt(sq - ga * ga) + group["eps"]
        else:
            avg = O.sqrt(sq) + group["eps"]
        if group["momentum"]:
            buf = _state(state, "momentum_buffer", p) * group["momentum"] + g / avg
            state["momentum_buffer"] = buf
            return p - self.scalar("lr") * buf
        return p - self.scalar("lr") * g / avg


class Adagrad(Optimizer):
    """torch.optim.Adagrad: accumulated squares in ``sum``, optional ``lr_decay``."""

    def __init__(
        self,
        params=None,
        lr=0.01,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        **kw,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            eps=eps,
            initial_accumulator_value=initial_accumulator_value,
        )
        super().__init__(params, defaults, **kw)

    def update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        clr = self.scalar("clr")
        acc = state.get("sum")
        if acc is None:
            acc = p * 0.0 + group["initial_accumulator_value"]
        acc = acc + g * g
        state["sum"] = acc
        return p - clr * g / (O.sqrt(acc) + group["eps"])

    def step_values(self, group, state):
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        return {**super().step_values(group, state), "clr": clr}


class Adadelta(Optimizer):
    """torch.optim.Adadelta: ``square_avg`` and ``acc_delta``; ``lr`` scales the delta."""

    def __init__(self, params=None, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, **kw):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay), **kw)

    def update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        rho, eps = group["rho"], group["eps"]
        sq = _state(state, "square_avg", p) * rho + (1.0 - rho) * g * g
        acc = _state(state, "acc_delta", p)
        delta = O.sqrt(acc + eps) / O.sqrt(sq + eps) * g
        state["square_avg"], state["acc_delta"] = sq, acc * rho + (1.0 - rho) * delta * delta
        return p - self.scalar("lr") * delta
