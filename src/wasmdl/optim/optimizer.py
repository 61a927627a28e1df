"""The optimizer base class (PyTorch semantics) and gradient clipping.

An optimizer holds ``param_groups`` (dicts with ``params`` and hyper-parameters) and per-tensor
``state`` (``exp_avg``, ``momentum_buffer``, ... as in torch). ``step()`` updates parameters with
engine ops under ``no_grad`` (so updates run on every backend) via ``Tensor.assign``, or, when
the parameter's backend has the optimizer's fused kernel (``FUSED``: ``sgd_update``,
``adam_update`` on the numpy backend, WebAssembly SIMD in Pyodide) and the group's options
are ones it supports, with that kernel, in place on arrays the optimizer owns (``fused.py``).

Example:
    >>> import wasmdl
    >>> w = wasmdl.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = wasmdl.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 6) for v in w.tolist()]
    [0.8, -1.6]
"""

from __future__ import annotations

import math
from functools import partial

from .. import ops as O
from ..autograd import no_grad
from ..capture import host_effect, host_value
from ..tensor import Tensor
from . import fused


class Optimizer:
    """Base class: subclasses define ``defaults`` handling and ``update(p, g, state, group)``;
    those with a fused kernel also set ``FUSED`` (its name) and ``fused_options(group)``.

    ``clipnorm`` (per parameter), ``global_clipnorm`` and ``clipvalue`` clip gradients before
    the update, as Keras optimizers do.
    """

    def __init__(
        self,
        params,
        defaults,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        learning_rate=None,
    ):
        if learning_rate is not None:  # Keras spelling
            defaults["lr"] = learning_rate
        for key, value in defaults.items():
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{type(self).__name__}: expected {key} >= 0, received {value}")
        self.defaults = defaults
        self.param_groups = [{**defaults, "params": []}]
        self.state: dict = {}
        self._owned: dict = {}  # (tensor, state key) -> the array fused kernels may write
        if params is not None:  # None: bound later by model.compile (Keras style)
            self.bind(params)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0

    def bind(self, params):
        """Attach parameters (a list of tensors, or PyTorch-style groups of dicts)."""
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: expected a non-empty list of parameters")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        lr = self.param_groups[0]["lr"]
        self.param_groups = [
            {**self.defaults, "lr": lr, **g, "params": list(g["params"])} for g in groups
        ]
        return self

    @property
    def lr(self) -> float:
        """The first group's learning rate (what Keras callbacks read and set)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float):
        for g in self.param_groups:
            g["lr"] = float(value)

    learning_rate = lr

    def apply_gradients(self, grads_and_vars):
        """Keras/TF style: set each variable's gradient, then ``step()`` (GradientTape loops)."""
        pairs = list(grads_and_vars)
        if not self.param_groups[0]["params"]:
            self.bind([v for _, v in pairs])
        for g, v in pairs:
            v.grad = g
        self.step()

    def zero_grad(self, set_to_none: bool = True):
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    def _clip(self, grads):
        if self.global_clipnorm is not None:
            grads = _scale_to_norm(grads, self.global_clipnorm)
        if self.clipnorm is not None:
            grads = [_scale_to_norm([g], self.clipnorm)[0] for g in grads]
        if self.clipvalue is not None:
            grads = [O.minimum(O.maximum(g, -self.clipvalue), self.clipvalue) for g in grads]
        return grads

    def step(self, closure=None):
        """Apply one update to every parameter that has a gradient.

        Per-step host values (learning rate, step count, bias corrections: ``step_values``)
        reach the update as tensors made by ``capture.host_value``, and state tensors keep
        their identity (``assign``), so a captured training step replays this exactly."""
        loss = closure() if closure is not None else None
        with no_grad():
            for gi, group in enumerate(self.param_groups):
                ps = [p for p in group["params"] if p.grad is not None]
                if not ps:
                    continue
                host_effect(partial(self._tick, gi, tuple(ps)))
                self._group, self._scalars = (gi, ps[0]), {}
                options = self.fused_options(group) if self.FUSED else None
                for p, g in zip(ps, self._clip([p.grad for p in ps]), strict=True):
                    state = self.state[p]
                    kernel = None if options is None else fused.kernel(self.FUSED, p, g)
                    if kernel is None:
                        before = dict(state)
                        new = self.update(p, g, state, group)
                        _keep_identity(state, before)
                        p.assign(new)
                    else:
                        self.fused_update(p, g, self.scalar("fused"), state, options)
        host_effect(self._count)
        return loss

    def _tick(self, gi, ps):
        for p in ps:
            state = self.state.setdefault(p, {})
            state["step"] = state.get("step", 0) + 1
            self.host_tick(state, self.param_groups[gi])

    def _count(self):
        self.iterations += 1

    def host_tick(self, state, group):
        """Host bookkeeping of one step for one parameter (after ``state["step"]`` grew)."""

    def step_values(self, group, state) -> dict:
        """The per-step host values an update reads with ``scalar(name)`` (float64 math on the
        host, from ``group`` and the parameter's ``state``): ``lr``, ``step``, ``fused`` (the
        fused kernel's ``hp`` vector ``[lr, step]``) and what a subclass adds."""
        lr, step = group["lr"], state["step"]
        return {"lr": lr, "step": step, "fused": [lr, step]}

    def scalar(self, name):
        """This step's host value ``name`` (``step_values``) as a tensor on the parameters'
        backend, in the parameters' dtype: recomputed at every replay of a captured step."""
        t = self._scalars.get(name)
        if t is None:
            gi, p0 = self._group
            fn = partial(self._step_value, gi, p0, name)
            t = self._scalars[name] = host_value(fn, p0.dtype, p0.backend)
        return t

    def _step_value(self, gi, p0, name):
        return self.step_values(self.param_groups[gi], self.state[p0])[name]

    FUSED = None  # name of the backend kernel that does ``update`` in place, if any

    def update(self, p, g, state, group):
        """The new value of ``p`` (engine ops: runs on every backend). Per-step numbers come
        from ``self.scalar(name)``; state tensors are stored in ``state`` (kept by identity)."""
        raise NotImplementedError

    def fused_options(self, group):
        """The fused kernel's static keyword arguments for ``group``, or None (options it
        lacks); the per-step ones (lr, step) come in the ``hp`` tensor."""
        return None

    def fused_update(self, p, g, hp, state, options):
        """Update ``p`` and ``state`` in place with the fused kernel (see ``fused.py``)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {"lr": self.lr, "iterations": self.iterations}


def _keep_identity(state, before):
    """State tensors keep their identity across steps: a new value is assigned into the old
    tensor (a captured step reads and writes the same tensor objects every replay)."""
    for k, v in state.items():
        old = before.get(k)
        if isinstance(old, Tensor) and isinstance(v, Tensor) and old is not v:
            if old.shape == v.shape and old.dtype == v.dtype:
                state[k] = old.assign(v.detach())


def _global_norm(grads):
    total = None
    for g in grads:
        s = (g * g).sum()
        total = s if total is None else total + s
    return O.sqrt(total)


def _scale_to_norm(grads, max_norm):
    norm = float(_global_norm(grads).item())
    coef = max_norm / (norm + 1e-6)
    return grads if coef >= 1.0 else [g * coef for g in grads]


def clip_grad_norm_(parameters, max_norm: float) -> float:
    """Scale gradients in place so their global 2-norm is at most ``max_norm`` (torch).

    Returns the norm before clipping.
    """
    ps = [p for p in parameters if p.grad is not None]
    with no_grad():
        norm = float(_global_norm([p.grad for p in ps]).item()) if ps else 0.0
        coef = max_norm / (norm + 1e-6)
        if coef < 1.0:
            for p in ps:
                p.grad = p.grad * coef
    return norm if math.isfinite(norm) else float("nan")


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` (torch)."""
    with no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad = O.minimum(O.maximum(p.grad, -clip_value), clip_value)
