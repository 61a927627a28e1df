"""Grad mode and the reverse-mode tape walk behind ``Tensor.backward()``.

Every op output that depends on a tensor with ``requires_grad`` keeps ``_ctx = (opdef,
inputs, params)``. ``backward`` sorts that graph topologically and calls each op's VJP (written
with ops, so it runs on any backend), accumulating into ``.grad`` of leaves.

>>> import wasmdl as wl
>>> x = wl.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0]
"""

import functools


class _Mode:
    enabled = True


GRAD = _Mode()  # read by ops.apply on every call: one attribute lookup
FREED = ("freed",)  # _ctx of a node whose graph a backward() already released


class _GradSwitch:
    """Context manager and decorator that sets grad mode, restoring it on exit."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.prev = []

    def __enter__(self):
        self.prev.append(GRAD.enabled)
        GRAD.enabled = self.enabled

    def __exit__(self, *exc):
        GRAD.enabled = self.prev.pop()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def no_grad():
    """Disable graph recording (context manager or decorator).

    >>> import wasmdl as wl
    >>> w = wl.ones(2, requires_grad=True)
    >>> with wl.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _GradSwitch(False)


def enable_grad():
    """Enable graph recording inside a ``no_grad`` block (context manager or decorator).

    >>> import wasmdl as wl
    >>> with wl.no_grad(), wl.enable_grad():
    ...     (wl.ones(1, requires_grad=True) * 2).requires_grad
    True
    """
    return _GradSwitch(True)


def is_grad_enabled():
    """Whether ops currently record the graph.

    >>> is_grad_enabled()
    True
    """
    return GRAD.enabled


def _toposort(root):
    """Tensors reachable from ``root`` through ``_ctx``, inputs before outputs: an iterative
    post-order DFS (long unrolled graphs do not hit the recursion limit)."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        ctx = t._ctx
        if ctx is FREED:
            raise RuntimeError(
                "backward: expected a graph that is still alive, received one already released "
                "by an earlier backward(); pass retain_graph=True to the first backward()"
            )
        stack.append((t, True))
        if ctx is not None:
            for x in ctx[1]:
                if x.requires_grad and id(x) not in visited:
                    stack.append((x, False))
    return order


def _accumulate(t, g):
    t.grad = g if t.grad is None else t.grad + g


def backward(root, grad, retain_graph=False, create_graph=False):
    """Propagate ``grad`` (d out / d root) from ``root`` to every leaf that requires grad."""
    grads = {id(root): grad}
    prev, GRAD.enabled = GRAD.enabled, create_graph
    try:
        for t in reversed(_toposort(root)):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            ctx = t._ctx
            if ctx is None or t._retain:
                _accumulate(t, g if create_graph else g.detach())
            if ctx is None:
                continue
            op, xs, params = ctx
            for x, gx in zip(xs, op.vjp(g, t, xs, params), strict=True):
                if gx is not None and x.requires_grad:
                    k = id(x)
                    grads[k] = gx if k not in grads else grads[k] + gx
            if not retain_graph:
                t._ctx = FREED
    finally:
        GRAD.enabled = prev
