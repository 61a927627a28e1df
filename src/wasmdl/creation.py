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

import math
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


def _shape(shape, fn="zeros"):
    """``shape`` (an int or a sequence of them, numpy integers included) as a tuple of
    non-negative Python ints; anything else is a TypeError / ValueError naming ``fn``."""
    want = "a non-negative int or a sequence of them"
    dims = [shape] if _is_int(shape) else None
    if dims is None:
        try:
            dims = list(shape)
        except TypeError:
            raise TypeError(f"{fn}: argument 'shape' expected {want}, received {shape!r}") from None
    if not all(_is_int(d) for d in dims):
        raise TypeError(f"{fn}: argument 'shape' expected {want}, received {shape!r}")
    dims = [int(d) for d in dims]
    if any(d < 0 for d in dims):
        raise ValueError(f"{fn}: argument 'shape' expected {want}, received {tuple(dims)}")
    return tuple(dims)


def _is_int(d):
    return isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))


def _host(fn, shape, dtype, make, what=None):
    """``make()``: a host array for ``fn``; a shape too large for this runtime's memory is a
    MemoryError naming the function, the shape (or ``what``) and the bytes it needs."""
    try:
        return make()
    except (MemoryError, ValueError) as e:
        if isinstance(e, ValueError) and "too big" not in str(e):
            raise
        gib = math.prod(shape) * np.dtype(dtype).itemsize / 2**30
        what = what or f"argument 'shape' {tuple(shape)}"
        raise MemoryError(
            f"{fn}: {what} needs {gib:.1f} GiB of {np.dtype(dtype)}, more than this runtime "
            "can allocate"
        ) from None


def full(shape, value, dtype=None, requires_grad=False, backend=None, _fn="full"):
    """A tensor of ``shape`` filled with ``value`` (float32 unless ``dtype`` says).

    >>> import wasmdl as wl
    >>> wl.full((2,), 7).tolist()
    [7.0, 7.0]
    """
    dt = float32 if dtype is None else to_dtype(dtype, f"{_fn}: argument 'dtype'")
    be = _backend(backend)
    shape = _shape(shape, _fn)
    if isinstance(value, Tensor) or not isinstance(value, (int, float, np.number, np.bool_)):
        raise TypeError(f"{_fn}: argument 'value' expected a number, received {value!r}")
    arr = _host(_fn, shape, dt, lambda: np.full(shape, value, dtype=dt))
    t = Tensor._wrap(made(be.from_host(arr), arr), shape, dt, be)
    return t.requires_grad_(True) if requires_grad else t


def zeros(shape, dtype=None, requires_grad=False, backend=None):
    """A tensor of zeros.

    >>> import wasmdl as wl
    >>> wl.zeros(2).tolist()
    [0.0, 0.0]
    """
    return full(shape, 0, dtype, requires_grad, backend, _fn="zeros")


def ones(shape, dtype=None, requires_grad=False, backend=None):
    """A tensor of ones.

    >>> import wasmdl as wl
    >>> wl.ones((1, 2), dtype="int32").tolist()
    [[1, 1]]
    """
    return full(shape, 1, dtype, requires_grad, backend, _fn="ones")


def full_like(x, value, dtype=None, _fn="full_like"):
    """A tensor like ``x`` (shape, dtype, backend) filled with ``value``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{_fn}: argument 'x' expected a Tensor, received {type(x).__name__}")
    return full(x.shape, value, dtype or x.dtype, backend=x.backend, _fn=_fn)


def zeros_like(x, dtype=None):
    """Zeros shaped like ``x``.

    >>> import wasmdl as wl
    >>> wl.zeros_like(wl.ones(3)).tolist()
    [0.0, 0.0, 0.0]
    """
    return full_like(x, 0, dtype, _fn="zeros_like")


def ones_like(x, dtype=None):
    """Ones shaped like ``x``."""
    return full_like(x, 1, dtype, _fn="ones_like")


def arange(start, stop=None, step=1, dtype=None, backend=None):
    """Evenly spaced values in [start, stop) (int32 for int arguments, else float32).

    >>> import wasmdl as wl
    >>> wl.arange(1, 7, 2).tolist(), wl.arange(2.0).tolist()
    ([1, 3, 5], [0.0, 1.0])
    """
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if v is not None and (
            isinstance(v, (bool, np.bool_))
            or not isinstance(v, (int, float, np.integer, np.floating))
        ):
            raise TypeError(f"arange: argument '{name}' expected a number, received {v!r}")
    if step == 0:
        raise ValueError("arange: argument 'step' expected a non-zero number, received 0")
    lo, hi = (0, start) if stop is None else (start, stop)
    n = max(0, int(np.ceil((hi - lo) / step))) if np.isfinite((hi - lo) / step) else -1
    if n < 0:
        raise ValueError(f"arange: expected finite bounds, received start={start!r}, "
                         f"stop={stop!r}, step={step!r}")  # fmt: skip
    dt = np.result_type(lo, hi, step)
    arr = _host("arange", (n,), dt, lambda: np.arange(lo, hi, step), f"a range of {n} values")
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
        shape = _shape(shape, "uniform")
        arr = _host("uniform", shape, np.float64, lambda: self.rng.uniform(low, high, shape))
        return self._make(arr, dtype, requires_grad, backend)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None, requires_grad=False, backend=None):
        """Normal samples with ``mean`` and ``std``."""
        shape = _shape(shape, "normal")
        arr = _host("normal", shape, np.float64, lambda: self.rng.normal(mean, std, shape))
        return self._make(arr, dtype, requires_grad, backend)

    def dropout_mask(self, shape, rate, dtype=None, backend=None):
        """``(uniform >= rate) / (1 - rate)``, made on the host (one upload, one multiply); a
        captured step draws a new mask at every replay (a host value, ``wasmdl.capture``)."""
        dt = float32 if dtype is None else to_dtype(dtype, "dropout_mask: argument 'dtype'")
        fn = partial(self._mask, _shape(shape, "dropout_mask"), float(rate), dt)
        t = tensor(fn(), dtype=dt, backend=backend)
        if ACTIVE.rec is not None:
            ACTIVE.rec.host(t, fn)
        return t

    def _mask(self, shape, rate, dt):
        u = self.rng.uniform(0.0, 1.0, shape).astype(dt)
        return (u >= dt.type(rate)).astype(dt) * dt.type(1.0 / (1.0 - rate))

    def integers(self, low, high, shape, backend=None):
        """int32 samples in [low, high)."""
        shape = _shape(shape, "randint")
        arr = _host("randint", shape, np.int64, lambda: self.rng.integers(low, high, shape))
        return tensor(arr, dtype="int32", backend=backend)


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (``rand``, ``randn``, ``randint``, ``dropout``).

    >>> import wasmdl as wl
    >>> wl.manual_seed(1)
    """
    default_generator.manual_seed(seed)


def rand(*shape, dtype=None, requires_grad=False, backend=None, generator=None):
    """Uniform [0, 1) samples; ``rand(2, 3)`` or ``rand((2, 3))``."""
    shape = shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape
    g = generator or default_generator
    return g.uniform(shape, dtype=dtype, requires_grad=requires_grad, backend=backend)


def randn(*shape, dtype=None, requires_grad=False, backend=None, generator=None):
    """Standard normal samples; ``randn(2, 3)`` or ``randn((2, 3))``."""
    shape = shape[0] if len(shape) == 1 and not _is_int(shape[0]) else shape
    g = generator or default_generator
    return g.normal(shape, dtype=dtype, requires_grad=requires_grad, backend=backend)


def randint(low, high, shape, backend=None, generator=None):
    """int32 samples in [low, high)."""
    return (generator or default_generator).integers(low, high, shape, backend)
