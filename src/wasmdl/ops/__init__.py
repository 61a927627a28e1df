"""The primitive ops: the ``OPS`` table, ``apply``, and one thin public function per primitive.

Each primitive's row (rule + VJP) sits beside its public function, grouped by topic:
``elementwise``, ``reduce`` (and matmul), ``shape``, ``index``, ``conv``. Kernels live in the
backends (``wasmdl/backend/``), keyed by the same names.

>>> from wasmdl import ops
>>> sorted(ops.OPS)[:4]
['abs', 'add', 'argmax', 'avgpool2d']
"""

from ..creation import full_like  # noqa: F401, E402
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
