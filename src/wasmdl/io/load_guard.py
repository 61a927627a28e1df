"""``bounded_run()``: while a model file's architecture is being built (a dry run on zeros), refuse
any op whose output, or a convolution's im2col buffer, would exceed ``MAX_SAMPLE_VALUES``
values, before the kernel allocates it. A tiny hostile file (a huge declared input, thousands of
filters) then fails with ``ValueError`` instead of allocating gigabytes; loaders turn that into
``ModelFileError``. Only the current backend's ``run`` is wrapped, and only inside the block.

Example:
    >>> import numpy as np, wasmdl
    >>> with bounded_run(limit=100):
    ...     _ = wasmdl.ones((1, 10)) + 1.0           # 10 values: fine
    ...     try:
    ...         _ = wasmdl.ones((1, 1000)) + 1.0     # 1000 values: refused before running
    ...     except ValueError as e:
    ...         print(str(e)[:40])
    load: op 'add' would produce shape (1, 1
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from ..backend import get_backend

MAX_SAMPLE_VALUES = 1 << 24  # 64 MiB of float32 per tensor (the build pass runs at batch 1)


def _per_sample(shape) -> int:
    """Values of the whole output: the build pass runs at batch 1."""
    return math.prod(shape)


def _scratch(name, inputs, out_shape, params) -> int:
    """Values a windowed kernel allocates besides its output: the padded input (a huge
    dilation with 'same' padding pads hugely) and conv2d's patch matrix."""
    size, pads = 0, params.get("padding")
    if inputs and inputs[0].ndim == 4 and isinstance(pads, tuple) and len(pads) == 2:
        n, h, w, c = inputs[0].shape
        (t, b), (left, r) = pads
        size = n * (h + t + b) * (w + left + r) * c
    if name == "conv2d" and len(inputs) >= 2 and len(out_shape) == 4:
        kh, kw = inputs[1].shape[:2]
        size = max(size, math.prod(out_shape[:3]) * kh * kw * inputs[0].shape[-1])
    return size


@contextmanager
def bounded_run(limit: int = MAX_SAMPLE_VALUES, where: str = "load"):
    backend = get_backend()
    original = backend.run

    def run(name, inputs, out_shape, out_dtype, params):
        size = max(_per_sample(out_shape), _scratch(name, inputs, out_shape, params))
        if size > limit:
            raise ValueError(
                f"{where}: op {name!r} would produce shape {tuple(out_shape)} ({size} values "
                f"with its scratch), over the limit of {limit} while loading"
            )
        return original(name, inputs, out_shape, out_dtype, params)

    previous = backend.__dict__.get("run")  # an enclosing bounded_run's wrapper, if any
    backend.run = run
    try:
        yield
    finally:
        if previous is None:
            del backend.run
        else:
            backend.run = previous
