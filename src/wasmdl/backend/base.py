"""The Backend protocol: device verbs and a kernel table; no autodiff, no shape rules.

A backend's ``Handle`` is whatever it returns from ``from_host``/``run`` (the numpy backend: the
ndarray; a GPU backend: a small object wrapping a buffer id whose finaliser returns the buffer
to a pool). Tensors hold handles and share them (``detach``), so Python reference counting
decides when device memory is released; ``free`` is the eager release a finaliser calls.

>>> from wasmdl.backend import get_backend
>>> be = get_backend("numpy")
>>> import numpy as np
>>> h = be.from_host(np.ones(3, np.float32))
>>> be.to_host(h, (3,), np.dtype("float32")).tolist()
[1.0, 1.0, 1.0]
"""


class Backend:
    """Base class; subclasses set ``name`` and fill ``self.kernels``."""

    name = "base"

    def __init__(self):
        self.kernels = {}

    def from_host(self, array):
        """Copy a C-contiguous numpy array (already of the final dtype) to the device."""
        raise NotImplementedError

    def to_host(self, h, shape, dtype):
        """Synchronous copy to a new host numpy array (may raise SyncReadError)."""
        raise NotImplementedError

    async def to_host_async(self, h, shape, dtype):
        """Asynchronous copy to the host; always works."""
        return self.to_host(h, shape, dtype)

    def free(self, h):
        """Release a buffer eagerly (the default relies on garbage collection)."""

    def kernel(self, name):
        """The kernel called ``name``, or the error naming the backends that have it."""
        try:
            return self.kernels[name]
        except KeyError:
            from . import missing_kernel

            raise missing_kernel(name, self) from None

    def run(self, name, inputs, out_shape, out_dtype, params):
        """Run kernel ``name`` on input tensors (``.shape``, ``.dtype``, ``._h``) with the
        canonical ``params`` of its op; return the output handle. This default calls
        ``kernel(*handles, **params)`` (the numpy backend's convention)."""
        return self.kernel(name)(*[x._h for x in inputs], **params)

    def flush(self):
        """Submit recorded work (no-op on CPU backends)."""

    def memory(self, handles):
        """``{"buffers": n, "bytes": n}`` for this backend (``handles``: the live tensors')."""
        return {"buffers": len(handles), "bytes": 0}

    def __repr__(self):
        return f"<wasmdl backend {self.name!r}: {len(self.kernels)} kernels>"


class SyncReadError(RuntimeError):
    """A synchronous read-back is impossible here; use ``await t.numpy_async()``."""
