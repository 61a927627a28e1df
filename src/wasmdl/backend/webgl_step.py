"""Fused optimizer updates on the WebGL2 backend (``adam_update``, ``sgd_update``: the optional
kernels ``Optimizer.step`` calls with handles, see ``optim/fused.py``).

A texture cannot be read and rendered in one draw, so "in place" is done on the handles: one
draw writes the new parameter and state into fresh textures of the same geometry (several
render targets), then each handle takes its new texture's id and the fresh handle, holding the
old id, returns it to the pool. Every holder of a handle sees the update, as with numpy's
in-place kernels. The float32 operations follow ``numpy_step``'s order.

>>> sorted(step_kernels(None))
['adam_update', 'sgd_update']
"""

import numpy as np

from .webgl_glsl import template
from .webgl_plan import f32_bits


def _swap(handles, fresh):
    for h, f in zip(handles, fresh, strict=True):
        h.id, f.id = f.id, h.id  # f (about to die) gives the old texture back


def _draw(be, file, handles, inputs, params):
    """One draw of ``file`` writing new textures for ``handles`` (then swapped in)."""
    h0 = handles[0]
    fresh = [be.pool.alloc_texture(h0.w, h0.h, h0.fmt, be.plan) for _ in handles]
    name = file.split(".")[0]

    def source():
        return name, f"kernels/glsl/{file}", template(file)

    be._op = name
    be.draw((file,), source, params, inputs, fresh, h0.w * h0.h)
    _swap(handles, fresh)


def adam_update(be, p, g, m, v, lr, beta1, beta2, eps, step, weight_decay=0.0,
                decoupled=False, maximize=False):  # fmt: skip
    """torch.optim.Adam (``decoupled``: AdamW) update of ``p``, ``m``, ``v``; returns p."""
    words = [1.0 - beta1, 1.0 - beta2, beta2, (1.0 - beta2**step) ** 0.5, eps,
             lr / (1.0 - beta1**step), 1.0 - lr * weight_decay, weight_decay]  # fmt: skip
    params = [f32_bits(np.float32(w)) for w in words] + [int(decoupled) | 2 * int(maximize)]
    _draw(be, "adam_update.glsl", [p, m, v], [p, g, m, v], params)
    return p


def sgd_update(be, p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
               nesterov=False, maximize=False, first=False):  # fmt: skip
    """torch.optim.SGD's update of ``p`` (and ``buf`` when ``momentum``); returns p."""
    flags = int(nesterov) | 2 * int(maximize) | 4 * int(first) | 8 * int(bool(momentum))
    flags |= 16 * int(dampening != 0)
    words = [weight_decay, momentum, 1.0 - dampening, lr]
    params = [f32_bits(np.float32(w)) for w in words] + [flags]
    targets = [p, buf] if momentum else [p]
    _draw(be, "sgd_update.glsl", targets, [p, g, buf if momentum else p], params)
    return p


def step_kernels(be):
    """The update kernels bound to backend ``be`` (called as ``kernel(handles..., **opts)``)."""

    def bind(fn):
        return lambda *a, **k: fn(be, *a, **k)

    return {"adam_update": bind(adam_update), "sgd_update": bind(sgd_update)}
