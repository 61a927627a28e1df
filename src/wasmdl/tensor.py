"""Tensor: shape, dtype, a backend handle and backward(). No math lives here, and no op is
imported: ``wasmdl.ops`` (a layer above) installs the Python operators (``+``, ``@``, ``[]``,
``.T``; ``ops.OPERATORS``) and ``wasmdl.functional`` the named methods (``x.sum()``). Data reach
the host only through the backend.

>>> import wasmdl as wl
>>> x = wl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = (x * x + 1).sum()
>>> y.backward()
>>> x.grad.numpy().tolist()
[[2.0, 4.0], [6.0, 8.0]]
"""

import math

import numpy as np

from . import autograd
from .backend.base import get_backend
from .dtypes import FLOATS, infer_dtype, to_dtype
from .tracing import ACTIVE, made


class Tensor:
    """An n-dimensional array on a backend, recording the ops that made it for autodiff.

    Build one with ``wasmdl.tensor(data)`` (or ``Tensor(data)``); ops return new tensors, data
    are never changed in place (``assign`` swaps the data of a tensor under ``no_grad``).

    >>> import wasmdl as wl
    >>> t = wl.Tensor([1, 2, 3])
    >>> t.shape, t.dtype, (t * 2).tolist()
    ((3,), dtype('int32'), [2, 4, 6])
    """

    __slots__ = (
        "shape",
        "dtype",
        "backend",
        "_h",
        "requires_grad",
        "grad",
        "_ctx",
        "_retain",
        "__weakref__",
    )
    __array_priority__ = 100  # numpy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False, backend=None):
        if isinstance(data, Tensor):
            data = data.numpy()
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:  # ragged nested lists, objects numpy cannot read
            msg = (f"tensor: argument 'data' expected a rectangular nested sequence of numbers "
                   f"or an array, received {_brief(data)} ({e})")  # fmt: skip
            raise type(e)(msg) from None
        dt = infer_dtype(arr) if dtype is None else to_dtype(dtype, "tensor: argument 'dtype'")
        narrowed = arr.dtype.kind in "iu" and not np.can_cast(arr.dtype, dt)  # int64 -> int32
        if dt.kind == "i" and narrowed and arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            info = np.iinfo(dt)
            if lo < info.min or hi > info.max:
                raise ValueError(
                    f"tensor: argument 'data' holds integers in [{lo}, {hi}], outside {dt}'s "
                    f"range [{info.min}, {info.max}] (wasmdl's integer tensors are int32); pass "
                    "dtype='float32' or 'float64' for larger values"
                )
        arr = np.array(arr, dtype=dt, order="C")  # always a private copy
        be = get_backend(backend)
        self._h = made(be.from_host(arr), arr)
        self.shape, self.dtype, self.backend = arr.shape, dt, be
        self.grad, self._ctx, self._retain = None, None, False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, h, shape, dtype, backend):
        """Internal fast constructor around a backend handle (no copy, no checks)."""
        t = object.__new__(cls)
        t._h, t.shape, t.dtype, t.backend = h, shape, dtype, backend
        t.requires_grad, t.grad, t._ctx, t._retain = False, None, None, False
        return t

    # ----------------------------------------------------------------- properties
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def is_leaf(self):
        return self._ctx is None

    def __len__(self):
        if not self.shape:
            raise TypeError("len: expected a tensor with at least 1 dimension, received a scalar")
        return self.shape[0]

    # ----------------------------------------------------------------- host transfer
    def numpy(self):
        """A host copy as a numpy array (synchronous; a GPU backend may raise and ask for
        ``await t.numpy_async()``)."""
        if ACTIVE.rec is not None:
            ACTIVE.rec.host_read(f"Tensor.numpy of shape {self.shape}")
        return self.backend.to_host(self._h, self.shape, self.dtype)

    async def numpy_async(self):
        """A host copy as a numpy array; works on every backend."""
        if ACTIVE.rec is not None:
            ACTIVE.rec.host_read(f"Tensor.numpy_async of shape {self.shape}")
        return await self.backend.to_host_async(self._h, self.shape, self.dtype)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: expected a tensor with 1 element, received shape {self.shape}")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({body}, dtype={self.dtype}{grad})"

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf requiring grad.

        ``gradient`` is required unless ``self`` has exactly one element.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: expected a tensor that requires grad, received one that does not "
                "(no input had requires_grad=True, or it was computed under no_grad())"
            )
        if gradient is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: expected a gradient argument for a non-scalar output, "
                    f"received none for shape {self.shape}"
                )
            gradient = Tensor(np.ones(self.shape, self.dtype), self.dtype, backend=self.backend)
        elif not isinstance(gradient, Tensor):
            gradient = Tensor(gradient, dtype=self.dtype, backend=self.backend)
        if gradient.shape != self.shape:
            raise ValueError(
                f"backward: argument 'gradient' expected shape {self.shape}, "
                f"received {gradient.shape}"
            )
        autograd.backward(self, gradient, retain_graph, create_graph)

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._wrap(self._h, self.shape, self.dtype, self.backend)

    def requires_grad_(self, flag=True):
        if flag and self.dtype not in FLOATS:
            raise TypeError(f"requires_grad_: expected a float tensor, received dtype {self.dtype}")
        self.requires_grad = flag
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor during backward."""
        self._retain = True
        return self

    def assign(self, value):
        """Replace this tensor's data with ``value``'s (same shape and dtype), keeping its
        identity: how optimizers update parameters. Allowed under ``no_grad`` or when the
        tensor does not require grad.

        >>> import wasmdl as wl
        >>> w = wl.zeros(2, requires_grad=True)
        >>> with wl.no_grad():
        ...     _ = w.assign(w + 1)
        >>> w.tolist()
        [1.0, 1.0]
        """
        if not isinstance(value, Tensor):
            value = Tensor(value, dtype=self.dtype, backend=self.backend)
        if value.shape != self.shape or value.dtype != self.dtype:
            raise ValueError(
                f"assign: argument 'value' expected shape {self.shape} and dtype {self.dtype}, "
                f"received shape {value.shape} and dtype {value.dtype}"
            )
        if self.requires_grad and autograd.GRAD.enabled:
            raise RuntimeError(
                "assign: expected grad mode off for a tensor that requires grad, received grad "
                "mode on; wrap the update in `with wasmdl.no_grad():`"
            )
        if value.backend is not self.backend:
            value = value.to(self.backend)
        self._h = value._h
        if ACTIVE.rec is not None:
            ACTIVE.rec.assign(self)
        return self

    def to(self, backend):
        """This tensor's data copied onto ``backend`` (a name or a Backend)."""
        be = get_backend(backend) if isinstance(backend, str) else backend
        if be is self.backend:
            return self
        return Tensor._wrap(be.from_host(self.numpy()), self.shape, self.dtype, be)

    # ----------------------------------------------------------------- operators
    # +, -, *, /, **, @, comparisons, [] and .T: installed by wasmdl.ops (ops.OPERATORS)
    __hash__ = object.__hash__  # == builds a tensor, so identity hashes

    def __pos__(self):
        return self

    def __setitem__(self, key, value):
        raise TypeError(
            "Tensor.__setitem__: expected no in-place writes (tensors are immutable), received "
            "an item assignment; build the new tensor with wasmdl.where/pad/concat, or "
            "t.assign(new) under no_grad()"
        )

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _brief(data, limit=80):
    """A short repr of user data for an error message."""
    text = repr(data)
    return text if len(text) <= limit else text[: limit - 3] + "..."
