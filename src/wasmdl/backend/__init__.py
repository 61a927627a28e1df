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

from .base import (  # noqa: F401  (the registry lives in base.py: backends import it from there)
    _INSTANCES,
    Backend,
    SyncReadError,
    _current,
    available_backends,
    get_backend,
    missing_kernel,
    register_backend,
    register_kernels,
    set_backend,
)

__all__ = [  # the public registry (defined in base.py; listed so the API docs show it here)
    "Backend",
    "SyncReadError",
    "available_backends",
    "get_backend",
    "missing_kernel",
    "register_backend",
    "register_kernels",
    "set_backend",
]


def _numpy_factory():
    from .numpy import NumpyBackend

    return NumpyBackend()


def _numpy_kernels():
    from .numpy import KERNELS

    return KERNELS


register_backend("numpy", _numpy_factory, kernel_names=_numpy_kernels)


def _webgpu_factory():  # the WebGPU backend (Pyodide in a browser with navigator.gpu)
    from .webgpu import WebGPUBackend

    return WebGPUBackend().ensure_ready()


def _webgpu_available():
    from .webgpu import webgpu_available

    return webgpu_available()


def _webgpu_kernels():
    from .webgpu_kernels import KERNELS

    return KERNELS


register_backend("webgpu", _webgpu_factory, _webgpu_available, kernel_names=_webgpu_kernels)


def _webgl_factory():  # the WebGL2 backend (Pyodide in a browser or worker: OffscreenCanvas)
    from .webgl import WebGLBackend

    return WebGLBackend().ensure_ready()


def _webgl_available():
    from .webgl import webgl_available

    return webgl_available()


def _webgl_kernels():
    from .webgl_kernels import KERNELS

    return KERNELS


register_backend("webgl", _webgl_factory, _webgl_available, kernel_names=_webgl_kernels)
