"""The fused ops (``wasmdl.ops.fused``: relu, softmax, softmax cross-entropy) natively: the numpy
kernels against their composites (the kernels removed from the table), second-order gradients
(``create_graph``) against PyTorch, argument errors, and a training run with and without them.
The case table (``wasmdl.testing``) checks the kernels against references and PyTorch."""

import numpy as np
import pytest
import torch

import wasmdl as wl
import wasmdl.functional as F
from wasmdl.backend import register_kernels
from wasmdl.ops.fused import FUSED
from wasmdl.testing import CASES, check

ROWS = [c for c in CASES if c.name.startswith(("cross_entropy", "prob_cross", "relu", "softmax"))]


class _Composite:
    """The fused kernels removed from the numpy backend (as on a backend without them)."""

    def __init__(self, names=tuple(FUSED)):
        self.names = names

    def __enter__(self):
        self.saved = register_kernels("numpy", dict.fromkeys(self.names))

    def __exit__(self, *exc):
        register_kernels("numpy", self.saved)


def test_every_fused_op_has_a_numpy_kernel():
    kernels = wl.get_backend("numpy").kernels
    assert set(FUSED) <= set(kernels)


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.name)
def test_composite_path_passes_the_same_rows(case):
    with _Composite():
        check.check_forward(case)
        check.check_grad(case)
        if case.torch is not None:
            check.check_torch(case, torch)


@pytest.mark.parametrize("target", ["labels", "probs"])
def test_second_order_gradients_match_torch(target):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((4, 5)).astype(np.float32)
    t0 = rng.integers(0, 5, 4) if target == "labels" else rng.random((4, 5)).astype(np.float32)
    v0 = rng.standard_normal((4, 5)).astype(np.float32)
    x = wl.tensor(x0, requires_grad=True)
    sm = F.softmax(x * 2.0)
    t = wl.tensor(t0)
    loss = F.cross_entropy(F.relu(x) * x, t) + (sm * sm).sum() + F.prob_cross_entropy(sm, t)
    (gx,) = _grad(loss, x)
    (gx * wl.tensor(v0)).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    tt = torch.tensor(t0).long() if target == "labels" else torch.tensor(t0)
    tsm = torch.softmax(tx * 2.0, -1)
    tloss = torch.nn.functional.cross_entropy(torch.relu(tx) * tx, tt) + (tsm * tsm).sum()
    tloss = tloss + torch.nn.functional.cross_entropy(torch.log(tsm), tt)  # no clip reached
    (tgx,) = torch.autograd.grad(tloss, tx, create_graph=True)
    (tgx * torch.tensor(v0)).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def _grad(y, x):
    y.backward(retain_graph=True, create_graph=True)
    g = x.grad
    x.grad = None
    return (g,)


def test_arguments_are_checked_with_and_without_the_kernels():
    x = wl.tensor(np.zeros((3, 4), np.float32))
    for ctx in (_Nothing(), _Composite()):
        with ctx:
            with pytest.raises(ValueError, match=r"cross_entropy: argument 'target' expected"):
                F.cross_entropy(x, wl.tensor([0, 1]))
            with pytest.raises(ValueError, match=r"cross_entropy: argument 'input' expected"):
                F.cross_entropy(wl.tensor(np.zeros((3, 0), np.float32)), wl.tensor([0, 0, 0]))
    assert F.relu(wl.tensor([-2, 3])).tolist() == [0.0, 3.0]  # ints: the composite (float)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _fit_losses():
    wl.manual_seed(0)
    model = wl.Sequential([wl.nn.Dense(16, activation="relu", input_shape=(8,)), wl.nn.Dense(4)])
    loss = wl.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(wl.optim.Adam(lr=0.01), loss=loss)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, :4].argmax(1)).astype(np.int32)
    return model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"]


def test_training_with_and_without_fused_ops_gives_the_same_losses():
    fused = _fit_losses()
    with _Composite((*FUSED, "adam_update")):
        composite = _fit_losses()
    np.testing.assert_allclose(fused, composite, rtol=1e-5)
    assert fused[-1] < fused[0]


@pytest.mark.parametrize(
    "name",
    ["wasmdl.ops.fused", "wasmdl.backend.numpy_step", "wasmdl.optim.fused", "wasmdl._wasm.cpu_step",
     "wasmdl.testing.cases_fused"],
)  # fmt: skip
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted and not result.failed, (name, result)
