"""Bad input: each row calls wasmdl wrongly and asserts the error's type and that its message
names the op (or function), the argument, what was expected and what was received."""

import numpy as np
import pytest

import wasmdl as wl
import wasmdl.functional as F
from wasmdl.backend import Backend, register_backend


def ones(*shape, dtype="float32"):
    return wl.ones(shape, dtype=dtype)


class _Fake(Backend):
    name = "fake"

    def __init__(self):
        self.kernels = {"add": np.add}

    def from_host(self, a):
        return a

    def to_host(self, h, shape, dtype):
        return np.array(h)


register_backend("fake", _Fake)

# (id, call, exception, [substrings the message must contain])
ERRORS = [
    (
        "add-shapes",
        lambda: ones(2, 3) + ones(4),
        ValueError,
        ["add", "'b'", "broadcastable with (2, 3)", "(4,)"],
    ),
    ("add-no-tensor", lambda: wl.add(1, 2), TypeError, ["add", "'a'", "Tensor", "int"]),
    (
        "add-bool",
        lambda: ones(2, dtype="bool") + ones(2, dtype="bool"),
        TypeError,
        ["add", "'a'", "numeric", "bool"],
    ),
    ("add-bad-operand", lambda: ones(2) + "x", TypeError, ["add", "'b'", "number", "str"]),
    (
        "exp-int",
        lambda: wl.exp(ones(2, dtype="int32")),
        TypeError,
        ["exp", "'x'", "float", "int32"],
    ),
    ("exp-not-tensor", lambda: wl.exp([1.0]), TypeError, ["exp", "'x'", "Tensor", "list"]),
    (
        "matmul-inner",
        lambda: ones(2, 3) @ ones(4, 2),
        ValueError,
        ["matmul", "'b'", "(..., 3, n)", "(4, 2)"],
    ),
    (
        "matmul-batch",
        lambda: ones(2, 2, 3) @ ones(3, 3, 2),
        ValueError,
        ["matmul", "broadcastable", "(3,)"],
    ),
    (
        "matmul-scalar",
        lambda: wl.matmul(ones(), ones(2)),
        ValueError,
        ["matmul", "'a'", "at least 1 dimension", "scalar"],
    ),
    (
        "matmul-dtype",
        lambda: wl.ops.apply("matmul", ones(2, 2), ones(2, 2, dtype="int32")),
        TypeError,
        ["matmul", "'b'", "float32", "int32"],
    ),
    (
        "reshape-size",
        lambda: ones(2, 3).reshape((4,)),
        ValueError,
        ["reshape", "'shape'", "6 elements", "(4,)"],
    ),
    (
        "reshape-two-minus-one",
        lambda: ones(4).reshape((-1, -1)),
        ValueError,
        ["reshape", "'shape'", "at most one -1", "(-1, -1)"],
    ),
    (
        "reshape-type",
        lambda: ones(4).reshape("4"),
        TypeError,
        ["reshape", "'shape'", "tuple of ints", "'4'"],
    ),
    ("sum-axis", lambda: ones(2, 3).sum(axis=5), ValueError, ["sum", "'axis'", "[-2, 2)", "5"]),
    (
        "sum-axis-dup",
        lambda: ones(2, 3).sum(axis=(1, -1)),
        ValueError,
        ["sum", "'axis'", "distinct", "(1, -1)"],
    ),
    (
        "sum-axis-type",
        lambda: ones(2).sum(axis=1.5),
        TypeError,
        ["sum", "'axis'", "tuple of ints", "1.5"],
    ),
    (
        "max-empty",
        lambda: ones(0, 3).max(axis=0),
        ValueError,
        ["max", "'x'", "non-zero size", "(0, 3)"],
    ),
    (
        "argmax-empty",
        lambda: wl.argmax(ones(0)),
        ValueError,
        ["argmax", "'x'", "non-empty", "(0,)"],
    ),
    (
        "argmax-bool",
        lambda: wl.argmax(ones(2, dtype="bool")),
        TypeError,
        ["argmax", "'x'", "numeric", "bool"],
    ),
    (
        "permute-axes",
        lambda: wl.permute(ones(2, 3), (0, 0)),
        ValueError,
        ["permute", "'axes'", "permutation of range(2)", "(0, 0)"],
    ),
    (
        "permute-axis-range",
        lambda: wl.permute(ones(2, 3), (0, 2)),
        ValueError,
        ["permute", "'axes'", "[-2, 2)", "2"],
    ),
    (
        "expand",
        lambda: wl.expand(ones(3, 2), (3, 3)),
        ValueError,
        ["expand", "'shape'", "(3, 2) broadcasts to", "(3, 3)"],
    ),
    (
        "slice-step0",
        lambda: wl.slice(ones(4), (0,), (4,), (0,)),
        ValueError,
        ["slice", "'steps'", "non-zero", "(0,)"],
    ),
    (
        "slice-count",
        lambda: wl.slice(ones(4, 2), (0,), (4,)),
        ValueError,
        ["slice", "'starts'", "2 entries", "1/1/1"],
    ),
    (
        "slice-range",
        lambda: wl.ops.apply("slice", ones(4), starts=(2,), stops=(6,), steps=(1,)),
        ValueError,
        ["slice", "'starts'", "[0, 4)", "range(2, 6, 1)"],
    ),
    ("getitem-range", lambda: ones(4, 2)[7], IndexError, ["getitem", "'key'", "[-4, 4)", "7"]),
    ("getitem-too-many", lambda: ones(4)[1, 2], IndexError, ["getitem", "'key'", "at most 1", "2"]),
    ("getitem-type", lambda: ones(4)["a"], TypeError, ["getitem", "'key'", "slices", "str"]),
    (
        "getitem-two-index-tensors",
        lambda: ones(4, 2)[wl.tensor([0]), wl.tensor([1])],
        IndexError,
        ["getitem", "'key'", "at most one index tensor", "2"],
    ),
    (
        "getitem-mask-shape",
        lambda: ones(4)[wl.tensor([True, False])],
        ValueError,
        ["getitem", "'key'", "mask of shape (4,)", "(2,)"],
    ),
    (
        "concat-shape",
        lambda: wl.concat([ones(2, 3), ones(3, 2)], axis=1),
        ValueError,
        ["concat", "'tensors[1]'", "(2, 3) except on axis 1", "(3, 2)"],
    ),
    (
        "concat-ndim",
        lambda: wl.concat([ones(2, 3), ones(3)]),
        ValueError,
        ["concat", "'tensors[1]'", "(2, 3)", "(3,)"],
    ),
    (
        "concat-empty",
        lambda: wl.concat([]),
        TypeError,
        ["concat", "'tensors'", "non-empty", "list"],
    ),
    (
        "stack-shape",
        lambda: wl.stack([ones(2), ones(3)]),
        ValueError,
        ["stack", "'tensors[1]'", "(2,)", "(3,)"],
    ),
    (
        "pad-negative",
        lambda: wl.pad(ones(2), ((-1, 0),)),
        ValueError,
        ["pad", "'pads'", "non-negative", "((-1, 0),)"],
    ),
    (
        "pad-count",
        lambda: wl.pad(ones(2, 2), ((1, 1),)),
        ValueError,
        ["pad", "'pads'", "2 non-negative (before, after) pairs", "((1, 1),)"],
    ),
    (
        "gather-float-idx",
        lambda: wl.gather(ones(3), ones(2)),
        TypeError,
        ["gather", "'indices'", "int32", "float32"],
    ),
    (
        "gather-axis",
        lambda: wl.gather(ones(3), wl.tensor([0]), axis=1),
        ValueError,
        ["gather", "'axis'", "[-1, 1)", "1"],
    ),
    (
        "one_hot-float",
        lambda: wl.one_hot(ones(2), 3),
        TypeError,
        ["one_hot", "'indices'", "int32", "float32"],
    ),
    (
        "one_hot-depth",
        lambda: wl.one_hot(wl.tensor([1]), -2),
        ValueError,
        ["one_hot", "'depth'", "non-negative int", "-2"],
    ),
    (
        "where-cond",
        lambda: wl.where(ones(2), ones(2), ones(2)),
        TypeError,
        ["where", "'condition'", "bool", "float32"],
    ),
    (
        "where-shapes",
        lambda: wl.where(ones(2, dtype="bool"), ones(3), 0.0),
        ValueError,
        ["where", "broadcastable", "(3,)"],
    ),
    (
        "cast-dtype",
        lambda: wl.cast(ones(2), "complex64"),
        TypeError,
        ["cast", "'dtype'", "float32", "complex64"],
    ),
    (
        "conv2d-rank",
        lambda: wl.conv2d(ones(1, 5, 5), ones(3, 3, 1, 2)),
        ValueError,
        ["conv2d", "'x'", "4-D", "(1, 5, 5)"],
    ),
    (
        "conv2d-channels",
        lambda: wl.conv2d(ones(1, 5, 5, 3), ones(3, 3, 2, 4)),
        ValueError,
        ["conv2d", "'w'", "(kh, kw, 3, filters)", "(3, 3, 2, 4)"],
    ),
    (
        "conv2d-groups",
        lambda: wl.conv2d(ones(1, 5, 5, 4), ones(3, 3, 2, 3), groups=2),
        ValueError,
        ["conv2d", "'groups'", "divisor of channels 4 and filters 3", "2"],
    ),
    (
        "conv2d-padding",
        lambda: wl.conv2d(ones(1, 5, 5, 1), ones(3, 3, 1, 1), padding="full"),
        ValueError,
        ["conv2d", "'padding'", "'valid', 'same'", "'full'"],
    ),
    (
        "conv2d-strides",
        lambda: wl.conv2d(ones(1, 5, 5, 1), ones(3, 3, 1, 1), strides=0),
        ValueError,
        ["conv2d", "'strides'", "positive int", "0"],
    ),
    (
        "conv2d-small",
        lambda: wl.conv2d(ones(1, 2, 2, 1), ones(3, 3, 1, 1)),
        ValueError,
        ["conv2d", "'x'", "dilated window (3, 3)", "(2, 2)"],
    ),
    (
        "conv2d-int",
        lambda: wl.conv2d(ones(1, 5, 5, 1, dtype="int32"), ones(3, 3, 1, 1)),
        TypeError,
        ["conv2d", "'x'", "float", "int32"],
    ),
    (
        "conv2d-wdtype",
        lambda: wl.conv2d(ones(1, 5, 5, 1), wl.ones((3, 3, 1, 1), "float64")),
        TypeError,
        ["conv2d", "'w'", "float32", "float64"],
    ),
    (
        "conv1d-rank",
        lambda: wl.conv1d(ones(5, 2), ones(3, 2, 1)),
        ValueError,
        ["conv1d", "'x'", "3-D", "(5, 2)"],
    ),
    (
        "maxpool-pool",
        lambda: wl.max_pool2d(ones(1, 4, 4, 1), 0),
        ValueError,
        ["maxpool2d", "'pool'", "positive int", "0"],
    ),
    (
        "avgpool-rank",
        lambda: wl.avg_pool2d(ones(4, 4, 1), 2),
        ValueError,
        ["avgpool2d", "'x'", "4-D", "(4, 4, 1)"],
    ),
    (
        "dropout-rate",
        lambda: F.dropout(ones(2), 1.5),
        ValueError,
        ["dropout", "'rate'", "[0, 1)", "1.5"],
    ),
    ("tensor-data", lambda: wl.tensor(["a"]), TypeError, ["tensor", "numeric or bool", "<U1"]),
    (
        "tensor-dtype",
        lambda: wl.tensor([1], dtype="int64"),
        TypeError,
        ["tensor", "'dtype'", "int32", "int64"],
    ),
    (
        "requires-grad-int",
        lambda: wl.tensor([1], requires_grad=True),
        TypeError,
        ["requires_grad_", "float", "int32"],
    ),
    (
        "backward-nonscalar",
        lambda: (ones(2).requires_grad_() * 2).backward(),
        RuntimeError,
        ["backward", "gradient", "(2,)"],
    ),
    (
        "backward-grad-shape",
        lambda: (ones(2).requires_grad_() * 2).backward(ones(3)),
        ValueError,
        ["backward", "'gradient'", "(2,)", "(3,)"],
    ),
    (
        "backward-no-grad",
        lambda: ones(1).backward(),
        RuntimeError,
        ["backward", "requires grad", "does not"],
    ),
    (
        "setitem",
        lambda: ones(2).__setitem__(0, 1.0),
        TypeError,
        ["__setitem__", "no in-place", "item assignment"],
    ),
    ("item", lambda: ones(2).item(), ValueError, ["item", "1 element", "(2,)"]),
    ("len-scalar", lambda: len(ones()), TypeError, ["len", "at least 1 dimension", "scalar"]),
    (
        "assign-shape",
        lambda: ones(2).assign(ones(3)),
        ValueError,
        ["assign", "'value'", "(2,)", "(3,)"],
    ),
    (
        "assign-grad-mode",
        lambda: ones(2).requires_grad_().assign(ones(2)),
        RuntimeError,
        ["assign", "grad mode off", "no_grad"],
    ),
    (
        "get_backend",
        lambda: wl.get_backend("cuda"),
        ValueError,
        ["get_backend", "'name'", "numpy", "'cuda'"],
    ),
    (
        "missing-kernel",
        lambda: wl.exp(wl.tensor([1.0], backend="fake")),
        NotImplementedError,
        ["exp", "'fake'", "numpy"],
    ),
    (
        "mixed-backends",
        lambda: wl.tensor([1.0], backend="fake") + wl.tensor([1.0]),
        ValueError,
        ["add", "'fake'", "'numpy'"],
    ),
    # making tensors: shapes, fill values, ranges, data numpy cannot hold or int32 cannot
    ("zeros-negative", lambda: wl.zeros((2, -3)), ValueError, ["zeros", "'shape'", "(2, -3)"]),
    ("ones-float-dim", lambda: wl.ones((2.5,)), TypeError, ["ones", "'shape'", "int", "2.5"]),
    ("full-none-shape", lambda: wl.full(None, 1), TypeError, ["full", "'shape'", "None"]),
    ("zeros-bool-dim", lambda: wl.zeros((True, 2)), TypeError, ["zeros", "'shape'", "True"]),
    ("full-value", lambda: wl.full((2,), "x"), TypeError, ["full", "'value'", "number", "'x'"]),
    (
        "zeros-like-array",
        lambda: wl.zeros_like(np.ones(2)),
        TypeError,
        ["zeros_like", "'x'", "Tensor", "ndarray"],
    ),  # fmt: skip
    ("rand-negative", lambda: wl.rand(2, -1), ValueError, ["uniform", "'shape'", "(2, -1)"]),
    ("randn-float", lambda: wl.randn(1e10), TypeError, ["normal", "'shape'", "10000000000.0"]),
    ("randint-negative", lambda: wl.randint(0, 5, (-2,)), ValueError, ["randint", "(-2,)"]),
    (
        "zeros-too-big",
        lambda: wl.zeros((70000, 70000, 70000)),
        MemoryError,
        ["zeros", "'shape'", "(70000, 70000, 70000)", "GiB", "float32"],
    ),  # fmt: skip
    (
        "arange-too-big",
        lambda: wl.arange(0, 2**50),
        MemoryError,
        ["arange", "1125899906842624 values", "GiB"],
    ),  # fmt: skip
    ("arange-step-0", lambda: wl.arange(0, 5, 0), ValueError, ["arange", "'step'", "0"]),
    ("arange-inf", lambda: wl.arange(float("inf")), ValueError, ["arange", "finite", "inf"]),
    ("arange-str", lambda: wl.arange("a"), TypeError, ["arange", "'start'", "number", "'a'"]),
    (
        "tensor-ragged",
        lambda: wl.tensor([[1, 2], [3]]),
        ValueError,
        ["tensor", "'data'", "rectangular", "[[1, 2], [3]]"],
    ),  # fmt: skip
    (
        "tensor-int-range",
        lambda: wl.tensor([2**40]),
        ValueError,
        ["tensor", "'data'", "1099511627776", "int32", "float32"],
    ),  # fmt: skip
    (
        "scalar-int32-range",
        lambda: wl.tensor([1]) + 2**40,
        OverflowError,
        ["add", "'b'", "int32", "1099511627776"],
    ),
    (
        "tensor-int32-range",
        lambda: wl.tensor(np.array([-(2**31) - 1]), dtype="int32"),
        ValueError,
        ["tensor", "-2147483649", "int32"],
    ),  # fmt: skip
]


@pytest.mark.parametrize("call, exc, parts", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_names_op_argument_expected_received(call, exc, parts):
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    missing = [p for p in parts if p not in msg]
    assert not missing, f"message {msg!r} lacks {missing}"
