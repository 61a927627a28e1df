"""Sequence layers against PyTorch: Embedding, SimpleRNN, LSTM, GRU (with return_sequences and
Bidirectional), MultiHeadAttention (with masks)."""

import numpy as np
import pytest
import torch
from torch_compare import Fn, check_layer, rand

from wasmdl import nn

T = torch.nn
U, D_IN = 4, 3  # units, input features


def test_embedding():
    ids = np.array([[0, 3, 3, 9], [1, 2, 0, 5]], np.int32)
    check_layer(
        nn.Embedding(10, 6),
        T.Embedding(10, 6),
        ids,
        {"embeddings": ("weight", None)},
        grad_input=False,
    )


def _swap_rz(a, axis):
    """Keras GRU gate order (z, r, h) <-> PyTorch (r, z, n); the swap is its own inverse."""
    z, r, h = np.split(a, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def rnn_map(kind, prefix="m.", suffix=""):
    if kind == "GRU":
        return {
            "kernel": (
                f"{prefix}weight_ih_l0{suffix}",
                lambda k: _swap_rz(k, 1).T,
                lambda g: _swap_rz(g.T, 1),
            ),
            "recurrent_kernel": (
                f"{prefix}weight_hh_l0{suffix}",
                lambda k: _swap_rz(k, 1).T,
                lambda g: _swap_rz(g.T, 1),
            ),
            "bias[0]": (
                f"{prefix}bias_ih_l0{suffix}",
                lambda b: _swap_rz(b, 0),
                lambda g: _swap_rz(g, 0),
            ),
            "bias[1]": (
                f"{prefix}bias_hh_l0{suffix}",
                lambda b: _swap_rz(b, 0),
                lambda g: _swap_rz(g, 0),
            ),
        }
    return {  # SimpleRNN and LSTM: same gate order; torch's second bias stays 0
        "kernel": (f"{prefix}weight_ih_l0{suffix}", (1, 0)),
        "recurrent_kernel": (f"{prefix}weight_hh_l0{suffix}", (1, 0)),
        "bias": (f"{prefix}bias_ih_l0{suffix}", None),
    }


TORCH_RNN = {"SimpleRNN": T.RNN, "LSTM": T.LSTM, "GRU": T.GRU}


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_recurrent(kind, return_sequences):
    layer = getattr(nn, kind)(U, return_sequences=return_sequences)
    m = TORCH_RNN[kind](D_IN, U, batch_first=True)
    module = Fn(lambda x: m(x)[0] if return_sequences else m(x)[0][:, -1], m)
    check_layer(layer, module, rand(2, 6, D_IN), rnn_map(kind))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional(kind):
    layer = nn.Bidirectional(getattr(nn, kind)(U, return_sequences=True))
    m = TORCH_RNN[kind](D_IN, U, batch_first=True, bidirectional=True)
    weights = {f"forward_layer.{k}": v for k, v in rnn_map(kind).items()}
    weights |= {f"backward_layer.{k}": v for k, v in rnn_map(kind, suffix="_reverse").items()}
    check_layer(layer, Fn(lambda x: m(x)[0], m), rand(2, 5, D_IN), weights)


def test_lstm_unit_forget_bias_and_states():
    lstm = nn.LSTM(U, return_state=True)
    out, h, c = lstm(rand(2, 5, D_IN))
    np.testing.assert_array_equal(lstm.bias.numpy()[U : 2 * U], 1.0)
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    assert c.shape == (2, U)


E, H = 8, 2


def mha_map(e=E, h=H, prefix="m."):
    d = e // h

    def proj(name, rows):
        return {
            f"{name}_kernel": (
                f"{prefix}in_proj_weight[{rows}]",
                lambda k: k.reshape(e, -1).T,
                lambda g: g.T.reshape(e, h, d),
            ),
            f"{name}_bias": (
                f"{prefix}in_proj_bias[{rows}]",
                lambda b: b.reshape(-1),
                lambda g: g.reshape(h, d),
            ),
        }

    out = proj("query", f"0:{e}") | proj("key", f"{e}:{2 * e}") | proj("value", f"{2 * e}:{3 * e}")
    out["output_kernel"] = (
        f"{prefix}out_proj.weight",
        lambda k: k.reshape(e, e).T,
        lambda g: g.T.reshape(h, d, e),
    )
    out["output_bias"] = (f"{prefix}out_proj.bias", None)
    return out


def test_multi_head_attention_cross():
    m = T.MultiheadAttention(E, H, batch_first=True)
    module = Fn(lambda q, v: m(q, v, v, need_weights=False)[0], m)
    check_layer(
        nn.MultiHeadAttention(H, E // H), module, (rand(2, 4, E), rand(2, 6, E, seed=1)), mha_map()
    )


def test_multi_head_attention_causal_self_attention():
    m = T.MultiheadAttention(E, H, batch_first=True)
    causal = ~torch.tril(torch.ones(5, 5, dtype=torch.bool))  # torch: True = masked out
    module = Fn(lambda q, v: m(q, v, v, attn_mask=causal, need_weights=False)[0], m)

    class Causal(nn.MultiHeadAttention):
        def call(self, query, value):
            return super().call(query, value, use_causal_mask=True)

    x = rand(2, 5, E)
    check_layer(Causal(H, E // H), module, (x, x), mha_map())


def test_multi_head_attention_scores_and_mask_shape():
    mha = nn.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_shape=7)
    x = rand(2, 4, 6)
    mask = np.ones((2, 4, 4), bool)
    mask[:, :, -1] = False
    out, scores = mha(x, x, attention_mask=mask, return_attention_scores=True)
    assert out.shape == (2, 4, 7) and scores.shape == (2, 2, 4, 4)
    np.testing.assert_allclose(scores.numpy()[..., -1], 0.0, atol=1e-7)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1.0, rtol=1e-6)
