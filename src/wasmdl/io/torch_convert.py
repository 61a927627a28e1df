"""Per-layer PyTorch <-> wasmdl weight converters: the ``CONVERTERS`` table of
``wasmdl.io.torch_state``. Each row, keyed by the wasmdl layer class, is
``(to_wasmdl(layer, {torch suffix: array}) -> {weight: array}, to_torch(layer, {weight: array})
-> {torch suffix: array})``: Linear's ``weight (out, in)`` is Dense's ``kernel (in, out)``
transposed, convolution kernels are permuted OIHW <-> HWIO, GRU gates reordered (r, z, n <->
z, r, h), an LSTM's two biases summed, MultiheadAttention's packed projections split by head.

Example:
    >>> import numpy as np
    >>> to_wasmdl, _ = CONVERTERS[nn.Dense]
    >>> to_wasmdl(None, {"weight": np.zeros((3, 2)), "bias": np.zeros(3)})["kernel"].shape
    (2, 3)
"""

from __future__ import annotations

import re

import numpy as np

from .. import nn


def _t(a):
    return np.ascontiguousarray(np.asarray(a, np.float32).T)


def _dense_in(layer, t):
    return {"kernel": _t(t["weight"]), **({"bias": t["bias"]} if "bias" in t else {})}


def _dense_out(layer, w):
    return {"weight": _t(w["kernel"]), **({"bias": w["bias"]} if "bias" in w else {})}


def _conv_in(perm):
    def f(layer, t):
        k = np.transpose(t["weight"], perm)
        if isinstance(layer, nn.DepthwiseConv2D):  # torch (C*m, 1, kh, kw) -> (kh, kw, C, m)
            kh, kw, _, cm = k.shape
            k = k.reshape(kh, kw, cm // layer.depth_multiplier, layer.depth_multiplier)
        return {"kernel": np.ascontiguousarray(k), **({"bias": t["bias"]} if "bias" in t else {})}

    return f


def _conv_out(perm):
    inv = tuple(np.argsort(perm))

    def f(layer, w):
        k = w["kernel"]
        if isinstance(layer, nn.DepthwiseConv2D):
            k = k.reshape(*k.shape[:2], 1, -1)
        out = {"weight": np.ascontiguousarray(np.transpose(k, inv))}
        return {**out, **({"bias": w["bias"]} if "bias" in w else {})}

    return f


_NORM = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}


def _norm_in(layer, t):
    return {k: t[v] for k, v in _NORM.items() if v in t}


def _norm_out(layer, w):
    out = {v: w[k] for k, v in _NORM.items() if k in w}
    if isinstance(layer, nn.BatchNormalization):
        out["num_batches_tracked"] = np.zeros((), np.int64)
    return out


def _gate_order(layer):
    """Row blocks of torch's gate order in wasmdl's: LSTM i,f,g,o == i,f,c,o; GRU r,z,n -> z,r,h."""
    return [1, 0, 2] if isinstance(layer, nn.GRU) else list(range(layer.gates))


def _reorder(a, order, u):
    return np.concatenate([a[i * u : (i + 1) * u] for i in order], axis=0)


def _rnn_in(layer, t, sfx=""):
    u, order = layer.units, _gate_order(layer)
    out = {
        "kernel": _t(_reorder(t[f"weight_ih{sfx}"], order, u)),
        "recurrent_kernel": _t(_reorder(t[f"weight_hh{sfx}"], order, u)),
    }
    if layer.use_bias:
        bi, bh = (_reorder(t[f"bias_{k}{sfx}"], order, u) for k in ("ih", "hh"))
        out["bias"] = np.stack([bi, bh]) if isinstance(layer, nn.GRU) else bi + bh
    return out


def _rnn_out(layer, w, sfx=""):
    u, order = layer.units, np.argsort(_gate_order(layer))
    out = {
        f"weight_ih{sfx}": _reorder(_t(w["kernel"]), order, u),
        f"weight_hh{sfx}": _reorder(_t(w["recurrent_kernel"]), order, u),
    }
    if layer.use_bias:
        b = w["bias"]
        bi, bh = (b[0], b[1]) if b.ndim == 2 else (b, np.zeros_like(b))
        out[f"bias_ih{sfx}"], out[f"bias_hh{sfx}"] = _reorder(bi, order, u), _reorder(bh, order, u)
    return out


def _split_sfx(t):
    """Strip the ``_l<k>`` layer suffix: ``weight_ih_l0_reverse`` -> ``weight_ih_reverse``."""
    return {re.sub(r"_l\d+", "", k): v for k, v in t.items()}


def _bi_in(layer, t):
    t = _split_sfx(t)
    f = _rnn_in(layer.forward_layer, t)
    b = _rnn_in(layer.backward_layer, t, "_reverse")
    return {
        **{f"forward_layer.{k}": v for k, v in f.items()},
        **{f"backward_layer.{k}": v for k, v in b.items()},
    }


def _bi_out(layer, w, index=0):
    f = _rnn_out(
        layer.forward_layer, {k[14:]: v for k, v in w.items() if k.startswith("forward_layer.")}
    )
    b = _rnn_out(
        layer.backward_layer,
        {k[15:]: v for k, v in w.items() if k.startswith("backward_layer.")},
        "_reverse",
    )
    return {**f, **b}


def _mha_in(layer, t):
    h = layer.num_heads
    if "in_proj_weight" in t:
        q, k, v = np.split(t["in_proj_weight"], 3)
    else:
        q, k, v = t["q_proj_weight"], t["k_proj_weight"], t["v_proj_weight"]
    out = {}
    for name, w in (("query", q), ("key", k), ("value", v)):
        out[f"{name}_kernel"] = _t(w).reshape(w.shape[1], h, -1)
    if "in_proj_bias" in t:
        for name, b in zip(("query", "key", "value"), np.split(t["in_proj_bias"], 3), strict=True):
            out[f"{name}_bias"] = b.reshape(h, -1)
    wo = t["out_proj.weight"]
    out["output_kernel"] = _t(wo).reshape(h, -1, wo.shape[0])
    if "out_proj.bias" in t:
        out["output_bias"] = t["out_proj.bias"]
    return out


def _mha_out(layer, w):
    qkv = [
        _t(w[f"{n}_kernel"].reshape(w[f"{n}_kernel"].shape[0], -1))
        for n in ("query", "key", "value")
    ]
    same = len({a.shape for a in qkv}) == 1 and qkv[0].shape[0] == qkv[0].shape[1]
    out = (
        {"in_proj_weight": np.concatenate(qkv)}
        if same
        else {f"{n}_proj_weight": a for n, a in zip("qkv", qkv, strict=True)}
    )
    if "query_bias" in w:
        out["in_proj_bias"] = np.concatenate(
            [w[f"{n}_bias"].ravel() for n in ("query", "key", "value")]
        )
    wo = w["output_kernel"]
    out["out_proj.weight"] = _t(wo.reshape(-1, wo.shape[-1]))
    if "output_bias" in w:
        out["out_proj.bias"] = w["output_bias"]
    return out


def _strip_l(f_in, f_out):
    return (lambda layer, t: f_in(layer, _split_sfx(t)), lambda layer, w: f_out(layer, w))


CONVERTERS = {
    nn.Dense: (_dense_in, _dense_out),
    nn.Conv1D: (_conv_in((2, 1, 0)), _conv_out((2, 1, 0))),
    nn.Conv2D: (_conv_in((2, 3, 1, 0)), _conv_out((2, 3, 1, 0))),
    nn.DepthwiseConv2D: (_conv_in((2, 3, 1, 0)), _conv_out((2, 3, 1, 0))),
    nn.Conv2DTranspose: (_conv_in((2, 3, 1, 0)), _conv_out((2, 3, 1, 0))),
    nn.BatchNormalization: (_norm_in, _norm_out),
    nn.LayerNormalization: (_norm_in, _norm_out),
    nn.Embedding: (
        lambda layer, t: {"embeddings": t["weight"]},
        lambda layer, w: {"weight": w["embeddings"]},
    ),
    nn.LSTM: _strip_l(_rnn_in, _rnn_out),
    nn.GRU: _strip_l(_rnn_in, _rnn_out),
    nn.Bidirectional: (_bi_in, _bi_out),
    nn.MultiHeadAttention: (_mha_in, _mha_out),
}
