"""The Backend protocol (device verbs and a kernel table; no autodiff, no shape rules) and the
registry of backends (``register_backend``, ``get_backend``, ``set_backend``, ...; re-exported by
``wasmdl.backend``).

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

    @property
    def constants(self):
        """0-d tensors the ops layer caches on this backend (``{(value, dtype): tensor}``, the
        scalars of expressions); a backend clears it when its memory is lost."""
        cache = self.__dict__.get("_constants")
        if cache is None:
            cache = self._constants = {}
        return cache

    def free(self, h):
        """Release a buffer eagerly (the default relies on garbage collection)."""

    def kernel(self, name):
        """The kernel called ``name``, or the error naming the backends that have it."""
        try:
            return self.kernels[name]
        except KeyError:
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


class Operand:
    """What ``run`` and the kernels read of an input (``_h``, ``shape``, ``dtype``): a backend
    that feeds a handle of its own to a kernel wraps it in this (backends never import Tensor).

    >>> Operand(None, (2,), "float32").shape
    (2,)
    """

    __slots__ = ("_h", "shape", "dtype")

    def __init__(self, h, shape, dtype):
        self._h, self.shape, self.dtype = h, shape, dtype


class SyncReadError(RuntimeError):
    """A synchronous read-back is impossible here; use ``await t.numpy_async()``."""


# ----------------------------------------------------------------------------- the registry
# Here, beside the protocol, so that a backend module imports it without importing the package
# (whose __init__ registers the built-in backends and so imports them: a circle).
_FACTORIES = {}  # name -> (factory, is_available)
_KERNEL_NAMES = {}  # name -> callable listing its kernels without building the backend
_INSTANCES = {}
_current = [None]


def register_backend(name, factory, available=lambda: True, kernel_names=None):
    """Make backend ``name`` selectable; ``factory()`` builds it on first use.
    ``kernel_names()`` (optional) lists its kernels for error messages before it is built."""
    _FACTORIES[name] = (factory, available)
    if kernel_names is not None:
        _KERNEL_NAMES[name] = kernel_names
    _INSTANCES.pop(name, None)


def available_backends():
    """Names of the backends usable in this runtime."""
    return [n for n, (_, ok) in _FACTORIES.items() if ok()]


def get_backend(name=None):
    """The backend called ``name`` (default: the current one). A Backend passes through."""
    if isinstance(name, Backend):
        return name
    if name is None:
        if _current[0] is None:
            _current[0] = get_backend("numpy")
        return _current[0]
    be = _INSTANCES.get(name)
    if be is None:
        if name not in _FACTORIES:
            raise ValueError(
                f"get_backend: argument 'name' expected one of {sorted(_FACTORIES)}, "
                f"received {name!r}"
            )
        factory, ok = _FACTORIES[name]
        if not ok():
            raise RuntimeError(
                f"get_backend: expected an available backend ({available_backends()}), "
                f"received {name!r}, which this runtime cannot run"
            )
        be = _INSTANCES[name] = factory()
    return be


def set_backend(name):
    """Make ``name`` (or a Backend) the backend new tensors are created on; returns it.

    >>> import wasmdl as wl
    >>> wl.set_backend("numpy").name
    'numpy'
    """
    _current[0] = get_backend(name)
    return _current[0]


def register_kernels(name, table):
    """Replace or add kernels of backend ``name`` (e.g. a WASM SIMD ``matmul`` over the numpy
    backend's); returns the previous entries (None where absent) so a caller can restore them."""
    be = get_backend(name)
    old = {k: be.kernels.get(k) for k in table}
    for k, fn in table.items():
        if fn is None:
            be.kernels.pop(k, None)
        else:
            be.kernels[k] = fn
    return old


def missing_kernel(op, backend):
    """The error for a kernel ``op`` that ``backend`` lacks, naming the backends that have it."""
    have = []
    for name in _FACTORIES:
        if name in _INSTANCES:
            kernels = _INSTANCES[name].kernels
        else:
            try:
                kernels = _KERNEL_NAMES[name]()
            except Exception:  # noqa: BLE001  (a backend that cannot even list: leave it out)
                continue
        if op in kernels:
            have.append(name)
    return NotImplementedError(
        f"{op}: expected a kernel for op {op!r} on backend {backend.name!r}, received none; "
        f"backends with it: {have or 'none'}"
    )
