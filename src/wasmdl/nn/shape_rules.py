"""Every built-in layer's output shape as arithmetic on its input shape (``compute_output_shape``)
and its input spec (the rank it takes and the axes its weights fix). Tables, one row a layer.

Shapes have ``None`` for the batch axis (and for any axis of unknown size). A rule raises
``ValueError`` naming the layer when the input cannot work (a window larger than the input,
a reshape to a different size).

Example:
    >>> from wasmdl import nn
    >>> nn.Conv2D(8, 3, strides=2).compute_output_shape((None, 28, 28, 1))
    (None, 13, 13, 8)
    >>> nn.LSTM(4, return_state=True).compute_output_shape((None, 10, 3))
    [(None, 4), (None, 4), (None, 4)]
"""

from __future__ import annotations

import math

from . import attention, conv, core, merge, norm, pooling, recurrent, reshaping
from .spec import INPUT_SPECS, LOAD_LIMITS, LOADING, SHAPE_RULES


def _fail(layer, shape, what):
    raise ValueError(
        f'layer "{layer.name}" ({type(layer).__name__}): {what}, received input shape '
        f"{(None, *tuple(shape)[1:])}"
    )


def _mul(*ds):
    return None if any(d is None for d in ds) else math.prod(ds)


def _window_out(layer, shape, n, k, s, d, padding):
    """One spatial axis of a convolution/pooling (TensorFlow's 'same': ceil(n / s))."""
    window = d * (k - 1) + 1
    if LOADING["on"] and window > LOAD_LIMITS["dim"]:  # 'same' would pad ~window rows per run
        _fail(layer, shape, f"dilated window {window} over the limit of {LOAD_LIMITS['dim']} "
                            "(limit 'dim')")  # fmt: skip
    if n is None:
        return None
    if padding in ("same", "causal"):
        return -(-n // s)
    out = (n - d * (k - 1) - 1) // s + 1
    if out < 1:
        _fail(layer, shape, f"expected spatial size >= the dilated window {d * (k - 1) + 1}")
    return out


def _spatial(layer, shape, k, s, d, padding):
    axes = zip(shape[1:-1], k, s, d, strict=True)
    return tuple(_window_out(layer, shape, n, kk, ss, dd, padding) for n, kk, ss, dd in axes)


def _conv(channels):
    def rule(layer, shape):
        hw = _spatial(layer, shape, layer.kernel_size, layer.strides, layer.dilation_rate,
                      layer.padding)  # fmt: skip
        return (shape[0], *hw, channels(layer, shape))

    return rule


def _transpose(layer, shape):
    hw = tuple(
        None if n is None else n * s if layer.padding == "same" else (n - 1) * s + k
        for n, k, s in zip(shape[1:3], layer.kernel_size, layer.strides, strict=True)
    )
    return (shape[0], *hw, layer.filters)


def _pool(layer, shape):
    ones = (1,) * layer.rank
    hw = _spatial(layer, shape, layer.pool_size, layer.strides, ones, layer.padding)
    return (shape[0], *hw, shape[-1])


def _global(layer, shape):
    if layer.keepdims:
        return (shape[0], *(1,) * (len(shape) - 2), shape[-1])
    return (shape[0], shape[-1])


def _flatten(layer, shape):
    return (shape[0], _mul(*shape[1:]))


def _reshape(layer, shape):
    target, n = list(layer.target_shape), _mul(*shape[1:])
    if target.count(-1) > 1 or any(t != -1 and (not isinstance(t, int) or t < 1) for t in target):
        _fail(layer, shape, f"expected target_shape of positive ints and one -1, got {target}")
    known = math.prod(t for t in target if t != -1)
    if n is not None and (n % known if -1 in target else n != known):
        _fail(layer, shape, f"cannot reshape {n} values per sample to {tuple(target)}")
    if -1 in target:
        target[target.index(-1)] = None if n is None else n // known
    return (shape[0], *target)


def _permute(layer, shape):
    if len(layer.dims) != len(shape) - 1:
        _fail(layer, shape, f"expected {len(layer.dims) + 1}-D inputs for dims {layer.dims}")
    return (shape[0], *(shape[d] for d in layer.dims))


def _rnn(layer, shape):
    out = (shape[0], shape[1], layer.units) if layer.return_sequences else (shape[0], layer.units)
    if layer.return_state:
        return [out, *[(shape[0], layer.units)] * layer.n_states]
    return out


def _bidirectional(layer, shape):
    out = _rnn(layer.forward_layer, shape)
    last = out[-1] * 2 if layer.merge_mode == "concat" else out[-1]
    return (*out[:-1], last)


def _attention(layer, shapes):
    shapes = shapes if isinstance(shapes, list) else [shapes]
    q, v = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
    k = shapes[2] if len(shapes) > 2 else v
    if k[1] is not None and v[1] is not None and k[1] != v[1]:
        _fail(layer, v, f"expected key and value with the same steps, key has {k[1]}")
    return (*q[:-1], layer.output_shape_arg or q[-1])


def _broadcast(layer, shapes):
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes], strict=True):
        sizes = {d for d in dims if d not in (1, None)}
        if len(sizes) > 1:
            _fail(layer, shapes[0], f"expected broadcastable inputs, received {shapes}")
        out.append(sizes.pop() if sizes else (None if None in dims else 1))
    return tuple(out)


def _concat(layer, shapes):
    if not isinstance(shapes, list) or len(shapes) < 2:
        _fail(layer, shapes, "expected a list of at least 2 inputs")
    rank, axis = len(shapes[0]), layer.axis
    if any(len(s) != rank for s in shapes) or not (
        isinstance(axis, int) and -rank <= axis < rank and axis % rank
    ):
        _fail(layer, shapes[0], f"expected inputs of one rank and a non-batch axis, axis={axis}")
    axis %= rank
    for s in shapes[1:]:
        if any(a != b for i, (a, b) in enumerate(zip(s, shapes[0], strict=True)) if i != axis):
            _fail(layer, shapes[0], f"expected shapes equal except on axis {axis}: {shapes}")
    sizes = [s[axis] for s in shapes]
    total = None if None in sizes else sum(sizes)
    return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])


def _padding(layer, shape):
    grown = (
        None if n is None else n + a + b
        for n, (a, b) in zip(shape[1:-1], layer.padding, strict=True)
    )
    return (shape[0], *grown, shape[-1])


def _upsampling(layer, shape):
    sizes = layer.size if isinstance(layer.size, tuple) else (layer.size,)
    return (shape[0], *(_mul(n, s) for n, s in zip(shape[1:-1], sizes, strict=True)), shape[-1])


def _same(layer, shape):
    return tuple(shape)


def _merge(layer, shapes):
    if not isinstance(shapes, list) or len(shapes) < 2:
        _fail(layer, shapes, "expected a list of at least 2 inputs")
    return _broadcast(layer, shapes)


SHAPE_RULES.update(
    {
        core.Dense: lambda layer, s: (*s[:-1], layer.units),
        core.Activation: _same,
        core.Dropout: _same,
        core.Flatten: _flatten,
        core.Reshape: _reshape,
        core.Permute: _permute,
        core.Embedding: lambda layer, s: (*s, layer.output_dim),
        conv.Conv2D: _conv(lambda layer, s: layer.filters),
        conv.Conv1D: _conv(lambda layer, s: layer.filters),
        conv.SeparableConv2D: _conv(lambda layer, s: layer.filters),
        conv.DepthwiseConv2D: _conv(lambda layer, s: _mul(s[-1], layer.depth_multiplier)),
        conv.Conv2DTranspose: _transpose,
        norm.BatchNormalization: _same,
        norm.LayerNormalization: _same,
        pooling._Pool: _pool,
        pooling._Global: _global,
        recurrent._RNN: _rnn,
        recurrent.Bidirectional: _bidirectional,
        attention.MultiHeadAttention: _attention,
        merge._Merge: _merge,
        merge.Concatenate: _concat,
        reshaping.ZeroPadding2D: _padding,
        reshaping.ZeroPadding1D: _padding,
        reshaping.UpSampling2D: _upsampling,
        reshaping.UpSampling1D: _upsampling,
    }
)

_LAST = (-1,)
INPUT_SPECS.update(
    {
        core.Dense: (("min", 2), _LAST),
        core.Embedding: (("min", 1), ()),
        conv.Conv2D: (4, _LAST),
        conv.Conv1D: (3, _LAST),
        conv.SeparableConv2D: (4, _LAST),
        conv.DepthwiseConv2D: (4, _LAST),
        conv.Conv2DTranspose: (4, _LAST),
        norm._Norm: (("min", 2), lambda layer, ndim: layer._axes(ndim)),
        recurrent._RNN: (3, _LAST),
        recurrent.Bidirectional: (3, _LAST),
        attention.MultiHeadAttention: ([3, 3, 3], _LAST),
        reshaping.ZeroPadding2D: (4, ()),
        reshaping.ZeroPadding1D: (3, ()),
        reshaping.UpSampling2D: (4, ()),
        reshaping.UpSampling1D: (3, ()),
    }
)
_RANKS = {
    4: (pooling.MaxPool2D, pooling.AvgPool2D, pooling.GlobalAvgPool2D, pooling.GlobalMaxPool2D),
    3: (pooling.MaxPool1D, pooling.AvgPool1D, pooling.GlobalAvgPool1D, pooling.GlobalMaxPool1D),
}
INPUT_SPECS.update({cls: (rank, ()) for rank, classes in _RANKS.items() for cls in classes})
