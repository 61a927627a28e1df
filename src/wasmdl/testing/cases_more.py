"""Case rows for reductions, matmul, shapes and indexing (the elementwise rows and the
``Case`` machinery are in ``cases``; convolution, pooling and composites in ``cases_nn``).

>>> from wasmdl.testing.cases import CASES
>>> any(c.name.startswith("matmul") for c in CASES)
True
"""

import numpy as np

import wasmdl as wl
import wasmdl.functional as Fn

from .cases import B, C, Case, F, I, _sh, add

# ----------------------------------------------------------------------------- reductions
for axis, keep, shape in [
    (None, False, (3, 4)),
    (0, False, (3, 4)),
    (-1, True, (2, 3, 4)),
    ((0, 2), False, (2, 3, 4)),
    (None, True, (5,)),
    (1, False, (2, 1)),
    ((), False, (2, 3)),
]:
    tag = f"{_sh(shape)}-ax{axis}-k{int(keep)}".replace(" ", "")
    dims = tuple(range(len(shape))) if axis is None else axis

    def tdims(d=dims):
        return d if d != () else None

    add(
        Case(
            f"sum-{tag}",
            lambda x, a=axis, k=keep: wl.sum(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.sum(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: x.sum(dim=d, keepdim=k)),
        ),
        Case(
            f"mean-{tag}",
            lambda x, a=axis, k=keep: wl.mean(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.mean(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: x.mean(dim=d, keepdim=k)),
        ),
        Case(
            f"max-{tag}",
            lambda x, a=axis, k=keep: wl.max(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.max(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: T.amax(x, dim=d, keepdim=k)),
        ),
        Case(
            f"min-{tag}",
            lambda x, a=axis, k=keep: wl.min(x, axis=a, keepdims=k),
            lambda x, a=axis, k=keep: np.min(x, axis=a, keepdims=k),
            [F(*shape)],
            None if axis == () else (lambda T, x, d=dims, k=keep: T.amin(x, dim=d, keepdim=k)),
        ),
    )
add(
    Case(
        "sum-zero-size",
        lambda x: wl.sum(x, axis=0),
        lambda x: np.sum(x, axis=0),
        [F(0, 3)],
        lambda T, x: x.sum(dim=0),
    ),
    Case(
        "sum-int",
        lambda x: wl.sum(x, axis=1),
        lambda x: np.sum(x, axis=1).astype(np.int32),
        [I((3, 4), -9, 9)],
    ),
    Case("sum-bool", lambda x: wl.sum(x), lambda x: np.sum(x).astype(np.int32), [B(7)]),
    Case(
        "max-ties",
        lambda x: wl.max(x, axis=1),
        lambda x: np.max(x, axis=1),
        [I((3, 4), 0, 2)],
        grad=False,
    ),
    Case(
        "max-ties-grad",
        lambda x: wl.max(x, axis=1),
        lambda x: np.max(x, axis=1),
        [C((3, 4), [-1.0, 0.5, 2.0])],
        lambda T, x: T.amax(x, dim=1),
        fd=False,
    ),
    Case(
        "min-ties-grad",
        lambda x: wl.min(x, axis=(0, 1)),
        lambda x: np.min(x, axis=(0, 1)),
        [C((3, 4), [-1.0, 0.5])],
        lambda T, x: T.amin(x, dim=(0, 1)),
        fd=False,
    ),
    Case(
        "argmax-all",
        lambda x: wl.argmax(x),
        lambda x: np.argmax(x).astype(np.int32),
        [F(3, 4)],
        grad=False,
    ),
    Case(
        "argmax-ax1",
        lambda x: wl.argmax(x, axis=1),
        lambda x: np.argmax(x, 1).astype(np.int32),
        [F(3, 4)],
        grad=False,
    ),
    Case(
        "argmax-ax0-k",
        lambda x: wl.argmax(x, axis=0, keepdims=True),
        lambda x: np.argmax(x, 0, keepdims=True).astype(np.int32),
        [F(2, 3, 2)],
        grad=False,
    ),
)

# ----------------------------------------------------------------------------- matmul
for sa, sb in [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 2)),
    ((1, 4), (4, 1)),
    ((2, 3, 4), (2, 4, 5)),
    # a matrix over batch dims (its gradient one product over the flattened rows)
    ((2, 2, 3, 4), (4, 5)),
    ((0, 3, 4), (4, 2)),
    ((2, 3, 0), (0, 2)),
]:
    add(
        Case(f"matmul-{_sh(sa, sb)}", wl.matmul, np.matmul, [F(*sa), F(*sb)], lambda T, a, b: a @ b)
    )
add(
    Case(
        "matmul-T",
        lambda a, b: a @ b.T,
        lambda a, b: a @ b.T,
        [F(3, 4), F(5, 4)],
        lambda T, a, b: a @ b.T,
    )
)
add(Case("matmul-int", wl.matmul, np.matmul, [I((2, 3), -3, 3), I((3, 2), -3, 3)]))
add(
    Case(
        "linear",
        Fn.linear,
        lambda x, w, b: x @ w + b,
        [F(4, 3), F(3, 5), F(5)],
        lambda T, x, w, b: x @ w + b,
    )
)

# ----------------------------------------------------------------------------- shapes
add(
    Case(
        "reshape",
        lambda x: x.reshape((4, -1)),
        lambda x: x.reshape(4, -1),
        [F(2, 3, 2)],
        lambda T, x: x.reshape(4, -1),
    ),
    Case(
        "reshape-scalar",
        lambda x: x.reshape((1, 1)),
        lambda x: x.reshape(1, 1),
        [F()],
        lambda T, x: x.reshape(1, 1),
    ),
    Case("reshape-zero", lambda x: x.reshape((3, 0)), lambda x: x.reshape(3, 0), [F(0, 3)]),
    Case("transpose", lambda x: x.T, lambda x: x.T, [F(2, 3)], lambda T, x: x.T),
    Case(
        "permute",
        lambda x: wl.permute(x, (2, 0, 1)),
        lambda x: x.transpose(2, 0, 1),
        [F(2, 3, 4)],
        lambda T, x: x.permute(2, 0, 1),
    ),
    Case(
        "expand",
        lambda x: wl.expand(x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        [F(3, 1)],
        lambda T, x: x.expand(2, 3, 4),
    ),
    Case(
        "expand-scalar",
        lambda x: wl.expand(x, (2, 2)),
        lambda x: np.broadcast_to(x, (2, 2)),
        [F()],
        lambda T, x: x.expand(2, 2),
    ),
    Case("squeeze", lambda x: wl.squeeze(x, 1), lambda x: np.squeeze(x, 1), [F(3, 1, 2)]),
    Case("expand_dims", lambda x: wl.expand_dims(x, -1), lambda x: x[..., None], [F(3, 2)]),
    Case("flatten", lambda x: wl.flatten(x, 1), lambda x: x.reshape(2, -1), [F(2, 3, 2)]),
)
for key, tag in [
    ((slice(1, None), slice(None, None, 2)), "1:,::2"),
    ((slice(None, None, -1),), "::-1"),
    ((1,), "1"),
    ((-1, slice(None, 1)), "-1,:1"),
    ((Ellipsis, None, 0), "...,None,0"),
    ((slice(5, 9),), "5:9"),
    ((slice(None, None, -2), slice(3, 0, -1)), "::-2,3:0:-1"),
]:
    negative = any(isinstance(k, slice) and (k.step or 1) < 0 for k in key)  # torch lacks them
    add(
        Case(
            f"getitem-[{tag}]",
            lambda x, k=key: x[k],
            lambda x, k=key: x[k],
            [F(4, 5)],
            None if negative else (lambda T, x, k=key: x[k]),
        )
    )
add(
    Case(
        "slice-fn",
        lambda x: wl.slice(x, (0, 1), (2, -1), (1, 2)),
        lambda x: x[0:2, 1:-1:2],
        [F(3, 6)],
        lambda T, x: x[0:2, 1:-1:2],
    ),
    Case(
        "concat",
        lambda a, b: wl.concat([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], 1),
        [F(2, 3), F(2, 1)],
        lambda T, a, b: T.cat([a, b], 1),
    ),
    Case(
        "concat-3",
        lambda a, b, c: wl.concat([a, b, c], axis=0),
        lambda a, b, c: np.concatenate([a, b, c]),
        [F(1, 2), F(0, 2), F(3, 2)],
        lambda T, a, b, c: T.cat([a, b, c], 0),
    ),
    Case(
        "stack",
        lambda a, b: wl.stack([a, b], axis=1),
        lambda a, b: np.stack([a, b], 1),
        [F(2, 3), F(2, 3)],
        lambda T, a, b: T.stack([a, b], 1),
    ),
    Case(
        "stack-scalars",
        lambda a, b: wl.stack([a, b]),
        lambda a, b: np.stack([a, b]),
        [F(), F()],
        lambda T, a, b: T.stack([a, b]),
    ),
    Case(
        "pad",
        lambda x: wl.pad(x, ((1, 0), (2, 1))),
        lambda x: np.pad(x, ((1, 0), (2, 1))),
        [F(2, 3)],
        lambda T, x: T.nn.functional.pad(x, (2, 1, 1, 0)),
    ),
    Case(
        "pad-value",
        lambda x: wl.pad(x, ((0, 2),), 1.5),
        lambda x: np.pad(x, ((0, 2),), constant_values=1.5),
        [F(3)],
    ),
    Case(
        "gather-ax0",
        lambda x, i: wl.gather(x, i),
        lambda x, i: np.take(x, i, 0),
        [F(5, 3), I((2, 4), 0, 5)],
        lambda T, x, i: x[i.long()],
    ),
    Case(
        "gather-ax1",
        lambda x, i: wl.gather(x, i, axis=1),
        lambda x, i: np.take(x, i, 1),
        [F(2, 4), I((3,), 0, 4)],
        lambda T, x, i: x[:, i.long()],
    ),
    Case("getitem-index", lambda x, i: x[i], lambda x, i: x[i], [F(4, 2), I((5,), 0, 4)]),
    Case(
        "getitem-index-axis1",
        lambda x, i: x[:, i],
        lambda x, i: x[:, i],
        [F(3, 4), I((2, 2), 0, 4)],
        lambda T, x, i: x[:, i.long()],
    ),
    Case(
        "getitem-index-mixed",
        lambda x, i: x[1:, None, i, ...],
        lambda x, i: x[1:, None, i, ...],
        [F(3, 4, 2), I((3,), -4, 4)],
    ),
    Case("getitem-mask", lambda x, m: x[m], lambda x, m: x[m], [F(3, 4), B(3, 4)]),
    Case(
        "one_hot", lambda i: wl.one_hot(i, 4), lambda i: np.eye(4)[i], [I((2, 3), 0, 4)], grad=False
    ),
)
