"""Losses (value and gradient) against PyTorch or numpy formulas, and metrics against numpy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import wasmdl
from wasmdl import losses, metrics

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 5)).astype(np.float32) * 2
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
LABELS = RNG.integers(0, 5, 6)
ONEHOT = np.eye(5, dtype=np.float32)[LABELS]
REG_P, REG_T = (RNG.standard_normal((6, 3)).astype(np.float32) * 2 for _ in range(2))
BIN_T = RNG.integers(0, 2, (6, 3)).astype(np.float32)
SIG = (1 / (1 + np.exp(-REG_P))).astype(np.float32)
SOFT_T = RNG.dirichlet(np.ones(5), 6).astype(np.float32)

CASES = {  # name: (wasmdl loss, y_true, y_pred, torch function of (y_true, y_pred))
    "mse": (losses.mean_squared_error, REG_T, REG_P, TF.mse_loss),
    "mae": (losses.mean_absolute_error, REG_T, REG_P, TF.l1_loss),
    "huber": (losses.huber, REG_T, REG_P, lambda t, p: TF.huber_loss(p, t, delta=1.0)),
    "huber_delta": (
        lambda t, p: losses.huber(t, p, delta=0.5),
        REG_T,
        REG_P,
        lambda t, p: TF.huber_loss(p, t, delta=0.5),
    ),
    "bce_probs": (
        losses.binary_crossentropy,
        BIN_T,
        SIG,
        lambda t, p: TF.binary_cross_entropy(p, t),
    ),
    "bce_logits": (
        lambda t, p: losses.binary_crossentropy(t, p, from_logits=True),
        BIN_T,
        REG_P,
        lambda t, p: TF.binary_cross_entropy_with_logits(p, t),
    ),
    "cce_probs": (
        losses.categorical_crossentropy,
        SOFT_T,
        PROBS,
        lambda t, p: -(t * torch.log(p / p.sum(1, keepdim=True))).sum(1).mean(),
    ),
    "cce_logits": (
        lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True),
        SOFT_T,
        LOGITS,
        lambda t, p: TF.cross_entropy(p, t),
    ),
    "sparse_logits": (
        lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True),
        LABELS,
        LOGITS,
        lambda t, p: TF.cross_entropy(p, t.long()),
    ),
    "sparse_probs": (
        losses.sparse_categorical_crossentropy,
        LABELS,
        PROBS,
        lambda t, p: TF.nll_loss(torch.log(p / p.sum(1, keepdim=True)), t.long()),
    ),
    "kld": (
        losses.kl_divergence,
        SOFT_T,
        PROBS,
        lambda t, p: TF.kl_div(torch.log(p), t, reduction="batchmean"),
    ),
    "hinge": (
        losses.hinge,
        BIN_T,
        REG_P,
        lambda t, p: torch.clamp(1 - (2 * t - 1) * p, min=0).mean(),
    ),
    "cosine": (
        losses.cosine_similarity,
        REG_T,
        REG_P,
        lambda t, p: -TF.cosine_similarity(t, p, dim=-1).mean(),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_value_and_gradient_match_torch(name):
    fn, y_true, y_pred, ref = CASES[name]
    p = wasmdl.tensor(y_pred, requires_grad=True)
    loss = fn(y_true, p)
    loss.backward()
    tp = torch.tensor(y_pred, requires_grad=True)
    tloss = ref(torch.tensor(y_true), tp)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_losses_by_name_and_class():
    a = losses.get("sparse_categorical_crossentropy", from_logits=True)(
        LABELS, wasmdl.tensor(LOGITS)
    )
    b = losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, wasmdl.tensor(LOGITS))
    assert a.item() == pytest.approx(b.item())
    with pytest.raises(ValueError, match="losses.get: expected one of"):
        losses.get("msee")


def _metric(m, y_true, y_pred):
    m.update_state(y_true[:3], wasmdl.tensor(y_pred[:3]))  # two batches: state accumulates
    m.update_state(y_true[3:], wasmdl.tensor(y_pred[3:]))
    return m.result()


def test_metrics_match_numpy():
    pred_cls = LOGITS.argmax(1)
    assert _metric(metrics.SparseCategoricalAccuracy(), LABELS, LOGITS) == pytest.approx(
        (pred_cls == LABELS).mean()
    )
    assert _metric(metrics.CategoricalAccuracy(), ONEHOT, LOGITS) == pytest.approx(
        (pred_cls == LABELS).mean()
    )
    bin_acc = ((SIG > 0.5) == BIN_T).mean()
    assert _metric(metrics.BinaryAccuracy(), BIN_T, SIG) == pytest.approx(bin_acc)
    ranks = (LOGITS > LOGITS[np.arange(6), LABELS][:, None]).sum(1)
    top2 = _metric(metrics.SparseTopKCategoricalAccuracy(k=2), LABELS, LOGITS)
    assert top2 == pytest.approx((ranks < 2).mean())
    assert _metric(metrics.TopKCategoricalAccuracy(k=3), ONEHOT, LOGITS) == pytest.approx(
        (ranks < 3).mean()
    )
    pred = SIG > 0.5
    tp = (pred & (BIN_T > 0.5)).sum()
    assert _metric(metrics.Precision(), BIN_T, SIG) == pytest.approx(tp / pred.sum())
    assert _metric(metrics.Recall(), BIN_T, SIG) == pytest.approx(tp / (BIN_T > 0.5).sum())
    assert _metric(metrics.MeanAbsoluteError(), REG_T, REG_P) == pytest.approx(
        np.abs(REG_P - REG_T).mean(), rel=1e-5
    )
    assert _metric(metrics.MeanSquaredError(), REG_T, REG_P) == pytest.approx(
        ((REG_P - REG_T) ** 2).mean(), rel=1e-5
    )


def test_accuracy_follows_the_loss():
    assert isinstance(
        metrics.get("accuracy", "sparse_categorical_crossentropy"),
        metrics.SparseCategoricalAccuracy,
    )
    assert isinstance(metrics.get("acc", "binary_crossentropy"), metrics.BinaryAccuracy)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert isinstance(metrics.get("accuracy", loss), metrics.SparseCategoricalAccuracy)
