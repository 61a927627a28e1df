"""wasmdl: deep learning in Python inside the web browser.

Eager tensors with reverse-mode autodiff over a small table of primitive ops, each with a
kernel per backend (numpy everywhere; WebGPU/WebGL in the browser).

>>> import wasmdl as wl
>>> x = wl.tensor([[1.0, -2.0]], requires_grad=True)
>>> w = wl.tensor([[3.0], [4.0]], requires_grad=True)
>>> loss = wl.relu(x @ w).sum()
>>> loss.backward()
>>> loss.item(), w.grad.tolist()
(0.0, [[0.0], [0.0]])
"""

from .tensor import Tensor  # noqa: I001  (first: it loads the ops table)
from . import dtypes, functional, ops  # noqa: F401
from ._version import __version__  # noqa: F401
from .autograd import enable_grad, is_grad_enabled, no_grad  # noqa: F401
from .capture import function  # noqa: F401
from .backend import (  # noqa: F401
    Backend,
    SyncReadError,
    available_backends,
    get_backend,
    register_backend,
    register_kernels,
    set_backend,
)
from .creation import (  # noqa: F401
    Generator,
    arange,
    full,
    full_like,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import bool_, float32, float64, int32  # noqa: F401
from .functional import (  # noqa: F401
    abs,
    add,
    argmax,
    avg_pool1d,
    avg_pool2d,
    broadcast_to,
    max_pool1d,
    moments,
    take,
    cast,
    clip,
    concat,
    conv1d,
    conv2d,
    cos,
    div,
    dropout,
    elu,
    eq,
    erf,
    exp,
    ge,
    gt,
    le,
    lt,
    ne,
    neg,
    leaky_relu,
    relu6,
    selu,
    softsign,
    hard_sigmoid,
    mish,
    swish,
    layer_norm,
    batch_norm,
    linear,
    expand,
    expand_dims,
    flatten,
    gather,
    gelu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    max_pool2d,
    maximum,
    mean,
    min,
    minimum,
    mul,
    one_hot,
    pad,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    silu,
    sin,
    slice,
    softmax,
    softplus,
    sqrt,
    square,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    where,
)
from .ops.core import OPS  # noqa: F401


def memory():
    """Live tensors, buffers and bytes on the current backend (walks the garbage collector:
    for diagnostics, not for hot loops).

    >>> import wasmdl as wl
    >>> sorted(wl.memory())
    ['buffers', 'bytes', 'tensors']
    """
    import gc

    be = get_backend()
    live = [o for o in gc.get_objects() if type(o) is Tensor and o.backend is be]
    return {"tensors": len(live), **be.memory([t._h for t in live])}


# ----------------------------------------------------------------------------- high-level API
# Layers, models, training, losses, optimizers, save/load, data (issue #4). Kept in one block.
from . import (  # noqa: E402, F401
    activations,
    callbacks,
    data,
    datasets,
    graph,  # noqa: E402, F401  (functional models: Model(inputs, outputs))
    initializers,
    io,
    losses,
    metrics,
    nn,
    optim,
    regularizers,
)

# WASM SIMD CPU kernels inside Pyodide (issue #8): which are active, and the on/off switch.
from ._wasm import set_enabled as set_cpu_kernels  # noqa: E402, F401
from ._wasm import status as cpu_kernels  # noqa: E402, F401
from .io import load_model, save_model  # noqa: E402, F401
from .models import Model, Sequential  # noqa: E402, F401
from .nn import Layer  # noqa: E402, F401
from .nn.symbolic import Input, KerasTensor  # noqa: E402, F401
from .training import GradientTape  # noqa: E402, F401
