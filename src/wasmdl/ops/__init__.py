"""The primitive ops: the ``OPS`` table, ``apply``, and one thin public function per primitive.

Each primitive's row (rule + VJP) sits beside its public function, grouped by topic:
``elementwise``, ``reduce`` (and matmul), ``shape``, ``index``, ``conv``. Kernels live in the
backends (``wasmdl/backend/``), keyed by the same names. ``OPERATORS`` binds Python's operators
on ``Tensor`` to these functions (tensor.py, a layer below, imports no op).

>>> from wasmdl import ops
>>> sorted(ops.OPS)[:4]
['abs', 'add', 'argmax', 'avgpool2d']
"""

from ..creation import full_like  # noqa: F401, E402
from ..tensor import Tensor  # noqa: E402
from .conv import avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d  # noqa: F401, E402
from .core import (  # noqa: F401
    OPS,
    OpDef,
    apply,
    broadcast_shapes,
    check_tensor,
    check_tensor_float,
    defop,
    fail,
)
from .elementwise import (  # noqa: F401
    abs,
    add,
    as_tensor_like,
    cast,
    coerce,
    const,
    cos,
    div,
    eq,
    erf,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    sigmoid,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from .index import (  # noqa: F401, E402
    concat,
    expand_dims,
    flatten,
    gather,
    getitem,
    one_hot,
    pad,
    squeeze,
    stack,
    take,
)
from .reduce import argmax, matmul, max, mean, min, sum  # noqa: F401
from .shape import (  # noqa: F401
    broadcast_to,
    expand,
    permute,
    reshape,
    slice,
    swapaxes,
    transpose,
    unbroadcast,
)


def _reflected(fn):
    def op(self, other):
        return fn(other, self)

    op.__name__ = f"r{fn.__name__}"
    return op


def _T(x):
    """Axes reversed (``x.permute(reversed axes)``)."""
    return permute(x, tuple(range(x.ndim - 1, -1, -1)))


# Python's operators on Tensor -> the op each one runs (installed on the class below).
OPERATORS = {
    "__add__": add,
    "__radd__": _reflected(add),
    "__sub__": sub,
    "__rsub__": _reflected(sub),
    "__mul__": mul,
    "__rmul__": _reflected(mul),
    "__truediv__": div,
    "__rtruediv__": _reflected(div),
    "__pow__": pow,
    "__rpow__": _reflected(pow),
    "__matmul__": matmul,
    "__rmatmul__": _reflected(matmul),
    "__neg__": neg,
    "__abs__": abs,
    "__eq__": eq,
    "__ne__": ne,
    "__lt__": lt,
    "__le__": le,
    "__gt__": gt,
    "__ge__": ge,
    "__getitem__": getitem,
    "T": property(_T, doc=_T.__doc__),
}
for _name, _fn in OPERATORS.items():
    setattr(Tensor, _name, _fn)
