"""Backend registry: ``set_backend``, ``get_backend``, ``available_backends``,
``register_backend`` and ``register_kernels`` (per-op kernel overrides).

>>> import wasmdl as wl
>>> wl.get_backend().name, "numpy" in wl.available_backends()
('numpy', True)
>>> from wasmdl.backend import register_kernels
>>> import numpy as np
>>> old = register_kernels("numpy", {"matmul": np.matmul})  # returns the replaced entries
>>> _ = register_kernels("numpy", old)
"""

from .base import Backend, SyncReadError  # noqa: F401

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


def _kernels_of(module):
    def names():
        import importlib

        return importlib.import_module(f"{__name__}.{module}").KERNELS

    return names


def _numpy_factory():
    from .numpy import NumpyBackend

    return NumpyBackend()


register_backend("numpy", _numpy_factory, kernel_names=_kernels_of("numpy"))


def _webgpu_factory():  # the WebGPU backend (Pyodide in a browser with navigator.gpu)
    from .webgpu import WebGPUBackend

    return WebGPUBackend().ensure_ready()


def _webgpu_available():
    from .webgpu import webgpu_available

    return webgpu_available()


register_backend(
    "webgpu", _webgpu_factory, _webgpu_available, kernel_names=_kernels_of("webgpu_kernels")
)


def _webgl_factory():  # the WebGL2 backend (Pyodide in a browser or worker: OffscreenCanvas)
    from .webgl import WebGLBackend

    return WebGLBackend().ensure_ready()


def _webgl_available():
    from .webgl import webgl_available

    return webgl_available()


register_backend(
    "webgl", _webgl_factory, _webgl_available, kernel_names=_kernels_of("webgl_kernels")
)
