"""Explicit release of WebGPU tensors and a tidy-like block for loops.

Buffers normally return to the pool when the last Python reference to their handle dies
(reference counting); these verbs are for the cases refcounting cannot see in time.

>>> import wasmdl as wl
>>> dispose(wl.tensor([1.0]))  # a no-op on other backends
"""

from .webgpu_plan import Handle


def dispose(*tensors):
    """Release the GPU buffers of ``tensors`` now (they return to the pool); using such a
    tensor afterwards raises a clear error instead of reading recycled memory."""
    for t in tensors:
        h = t._h
        if isinstance(h, Handle):
            h.release()


class scope:  # noqa: N801  (used like a function: ``with webgpu.scope():``)
    """A tidy-like block for loops: on entry it collects reference cycles (garbage made before
    the block is not counted as the block's), on exit it submits recorded work, collects reference
    cycles (so autograd graphs kept alive only by cycles give their buffers back), disposes
    the tensors registered with ``s.dispose_on_exit(t)``, and records ``added``: live buffers
    at exit minus at entry (0 for a loop body that keeps nothing).

        with webgpu.scope() as s:
            loss = train_step(...)
        assert s.added == 0
    """

    def __init__(self, backend=None):
        self.backend, self.added, self._dispose = backend, None, []

    def dispose_on_exit(self, t):
        self._dispose.append(t)
        return t

    def __enter__(self):
        import gc

        from .base import get_backend

        gc.collect()
        self.backend = self.backend or get_backend("webgpu")
        self._start = self.backend.memory()["buffers"]
        return self

    def __exit__(self, *exc):
        import gc

        dispose(*self._dispose)
        self._dispose.clear()
        gc.collect()
        self.backend.flush()
        self.added = self.backend.memory()["buffers"] - self._start
        return False
