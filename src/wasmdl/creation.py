"""Making tensors: from host data, filled, ranges and seeded random numbers.

Random numbers come from a ``Generator`` (numpy's PCG64 under the hood, on the host, then
uploaded), so a seed gives the same numbers on every backend.

>>> import wasmdl as wl
>>> wl.manual_seed(0)
>>> a = wl.rand(2)
>>> wl.manual_seed(0)
>>> bool((wl.rand(2) == a).numpy().all()), wl.zeros((2, 3)).shape, wl.arange(3).tolist()
(True, (2, 3), [0, 1, 2])
"""

from functools import partial

import numpy as np

from .dtypes import FLOATS, float32, to_dtype
from .tensor import Tensor
from .tracing import ACTIVE, made


def _backend(backend):
    from .backend import get_backend

    return get_backend(backend)


def tensor(data, dtype=None, requires_grad=False, backend=None):
    """A tensor holding a copy of ``data`` (nested lists, numpy arrays, scalars, tensors).

    Python floats and float64 arrays become float32, ints int32 (unless ``dtype`` says).

    >>> import wasmdl as wl
    >>> wl.tensor([[1, 2], [3, 4]], dtype="float32").tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(shape)


def full(shape, value, dtype=None, requires_grad=False, backend=None):
    """A tensor of ``shape`` filled with ``value`` (float32 unless ``dtype`` says).

    >>> import wasmdl as wl
    >>> wl.full((2,), 7).tolist()
    [7.0, 7.0]
    """
    dt = float32 if dtype is None else to_dtype(dtype, "full: argument 'dtype'")
    be = _backend(backend)
    shape = _shape(shape)
    arr = np.full(shape, value, dtype=dt)
    t = Tensor._wrap(made(be.from_host(arr), arr), shape, dt, be)
    return t.requires_grad_(True) if requires_grad else t


def zeros(shape, dtype=None, requires_grad=False, backend=None):
    """A tensor of zeros.

    >>> import wasmdl as wl
    >>> wl.zeros(2).tolist()
    [0.0, 0.0]
    """
    return full(shape, 0, dtype, requires_grad, backend)


def ones(shape, dtype=None, requires_grad=False, backend=None):
    """A tensor of ones.

    >>> import wasmdl as wl
    >>> wl.ones((1, 2), dtype="int32").tolist()
    [[1, 1]]
    """
    return full(shape, 1, dtype, requires_grad, backend)


def full_like(x, value, dtype=None):
    """A tensor like ``x`` (shape, dtype, backend) filled with ``value``."""
    return full(x.shape, value, dtype or x.dtype, backend=x.backend)


def zeros_like(x, dtype=None):
    """Zeros shaped like ``x``.

    >>> import wasmdl as wl
    >>> wl.zeros_like(wl.ones(3)).tolist()
    [0.0, 0.0, 0.0]
    """
    return full_like(x, 0, dtype)


def ones_like(x, dtype=None):
    """Ones shaped like ``x``."""
    return full_like(x, 1, dtype)


def arange(start, stop=None, step=1, dtype=None, backend=None):
    """Evenly spaced values in [start, stop) (int32 for int arguments, else float32).

    >>> import wasmdl as wl
    >>> wl.arange(1, 7, 2).tolist(), wl.arange(2.0).tolist()
    ([1, 3, 5], [0.0, 1.0])
    """
    arr = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return tensor(arr, dtype=dtype, backend=backend)


class Generator:
    """A seeded source of random tensors (numpy PCG64 on the host).

    >>> import wasmdl as wl
    >>> g = wl.Generator(42)
    >>> g.normal((2, 2)).shape
    (2, 2)
    """

    def __init__(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def manual_seed(self, seed):
        self.rng = np.random.default_rng(seed)
        return self

    def _make(self, arr, dtype, requires_grad, backend):
        dt = float32 if dtype is None else to_dtype(dtype, "random: argument 'dtype'")
        if dt not in FLOATS:
            raise TypeError(f"random: argument 'dtype' expected a float dtype, received {dt}")
        return tensor(arr.astype(dt), dtype=dt, requires_grad=requires_grad, backend=backend)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None, requires_grad=False, backend=None):
        """Uniform samples in [low, high)."""
        arr = self.rng.uniform(low, high, _shape(shape))
        return self._make(arr, dtype, requires_grad, backend)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None, requires_grad=False, backend=None):
        """Normal samples with ``mean`` and ``std``."""
        arr = self.rng.normal(mean, std, _shape(shape))
        return self._make(arr, dtype, requires_grad, backend)

    def dropout_mask(self, shape, rate, dtype=None, backend=None):
        """``(uniform >= rate) / (1 - rate)``, made on the host (one upload, one multiply); a
        captured step draws a new mask at every replay (a host value, ``wasmdl.capture``)."""
        dt = float32 if dtype is None else to_dtype(dtype, "dropout_mask: argument 'dtype'")
        fn = partial(self._mask, _shape(shape), float(rate), dt)
        t = tensor(fn(), dtype=dt, backend=backend)
        if ACTIVE.rec is not None:
            ACTIVE.rec.host(t, fn)
        return t

    def _mask(self, shape, rate, dt):
        u = self.rng.uniform(0.0, 1.0, shape).astype(dt)
        return (u >= dt.type(rate)).astype(dt) * dt.type(1.0 / (1.0 - rate))

    def integers(self, low, high, shape, backend=None):
        """int32 samples in [low, high)."""
        return tensor(self.rng.integers(low, high, _shape(shape)), dtype="int32", backend=backend)


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (``rand``, ``randn``, ``randint``, ``dropout``).

    >>> import wasmdl as wl
    >>> wl.manual_seed(1)
    """
    default_generator.manual_seed(seed)


def rand(*shape, dtype=None, requires_grad=False, backend=None, generator=None):
    """Uniform [0, 1) samples; ``rand(2, 3)`` or ``rand((2, 3))``."""
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    g = generator or default_generator
    return g.uniform(shape, dtype=dtype, requires_grad=requires_grad, backend=backend)


def randn(*shape, dtype=None, requires_grad=False, backend=None, generator=None):
    """Standard normal samples; ``randn(2, 3)`` or ``randn((2, 3))``."""
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    g = generator or default_generator
    return g.normal(shape, dtype=dtype, requires_grad=requires_grad, backend=backend)


def randint(low, high, shape, backend=None, generator=None):
    """int32 samples in [low, high)."""
    return (generator or default_generator).integers(low, high, shape, backend)
