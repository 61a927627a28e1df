"""Tensor and autograd semantics: accumulation, no_grad, detach, graph release, non-leaf
grads, non-scalar backward, immutability, dtypes and promotion, host transfer, registry."""

import asyncio
import gc

import numpy as np
import pytest

import wasmdl as wl
from wasmdl.backend import numpy_matmul


def test_grad_accumulates_across_backward_calls():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_shared_input_and_diamond_graph():
    x = wl.tensor([0.5, -1.5], requires_grad=True)
    a = wl.exp(x)
    y = (a * x + a * a).sum()  # d/dx = e^x x + e^x + 2 e^{2x}
    y.backward()
    xv = x.numpy()
    np.testing.assert_allclose(
        x.grad.numpy(), np.exp(xv) * (xv + 1) + 2 * np.exp(2 * xv), rtol=1e-5
    )


def test_broadcast_grad_has_leaf_shape_and_dtype():
    b = wl.tensor([[1.0], [2.0]], requires_grad=True)
    (wl.ones((2, 3)) * b).sum().backward()
    assert b.grad.shape == (2, 1) and b.grad.dtype == wl.float32
    assert b.grad.tolist() == [[3.0], [3.0]]


def test_no_grad_context_and_decorator_and_enable_grad():
    w = wl.ones(2, requires_grad=True)
    with wl.no_grad():
        y = w * 2
        assert not wl.is_grad_enabled()
        with wl.enable_grad():
            z = w * 2
    assert wl.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None and z.requires_grad

    @wl.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad


def test_detach_shares_data_and_stops_gradient():
    x = wl.tensor([2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.tolist() == [2.0]
    (x * d).sum().backward()
    assert x.grad.tolist() == [2.0]  # d is a constant


def test_graph_released_after_backward_unless_retained():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_non_leaf_grad_only_when_retained():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = (x * 3).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None and not h.is_leaf
    np.testing.assert_allclose(k.grad.numpy(), h.numpy())


def test_backward_with_gradient_argument_on_non_scalar():
    x = wl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * x
    y.backward(np.array([[1.0, 0.0], [0.5, 2.0]]))
    assert x.grad.tolist() == [[2.0, 0.0], [3.0, 16.0]]


def test_create_graph_gives_second_derivative():
    x = wl.tensor([1.5, -2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.5, -2.0]), rtol=1e-6)


def test_deep_graph_has_no_recursion_limit():
    x = wl.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**5000], rtol=1e-3)


def test_tensors_are_immutable_and_assign_swaps_data():
    w = wl.zeros(2, requires_grad=True)
    with pytest.raises(TypeError):
        w[0] = 1.0
    with wl.no_grad():
        same = w.assign(w + 1)
    assert same is w and w.tolist() == [1.0, 1.0] and w.requires_grad


def test_assign_does_not_corrupt_views_or_saved_values():
    base = wl.tensor([1.0, 2.0, 3.0])
    view = base[1:]
    base.assign(wl.tensor([7.0, 8.0, 9.0]))
    assert view.tolist() == [2.0, 3.0]


def test_host_copies_are_private():
    a = np.array([1.0, 2.0], np.float32)
    t = wl.tensor(a)
    a[0] = 99
    out = t.numpy()
    out[1] = 42
    assert t.tolist() == [1.0, 2.0]


def test_dtype_inference_and_weak_scalars():
    assert wl.tensor(1.5).dtype == wl.float32 and wl.tensor(np.float64(2)).dtype == wl.float32
    assert wl.tensor([1, 2]).dtype == wl.int32 and wl.tensor(True).dtype == wl.bool_
    assert wl.tensor([1.0], dtype="float64").dtype == wl.float64
    i = wl.tensor([1, 2])
    assert (i + 1).dtype == wl.int32 and (i + 1.5).dtype == wl.float32
    assert (i / 2).dtype == wl.float32 and (i / 2).tolist() == [0.5, 1.0]
    f = wl.tensor([1.0])
    assert (f + np.float64(1)).dtype == wl.float32
    assert (f + wl.tensor([1.0], dtype="float64")).dtype == wl.float64
    assert (wl.tensor([True]) * f).dtype == wl.float32


def test_numpy_array_on_the_left_gives_a_tensor():
    out = np.ones(2, np.float32) + wl.tensor([1.0, 2.0])
    assert isinstance(out, wl.Tensor) and out.tolist() == [2.0, 3.0]


def test_host_conversions():
    t = wl.tensor([[1.0, 2.0]])
    assert float(t[0, 1]) == 2.0 and t[0, 0].item() == 1.0 and int(t[0, 1]) == 2
    assert np.asarray(t).tolist() == [[1.0, 2.0]] and len(t) == 1
    assert [r.tolist() for r in t] == [[1.0, 2.0]]
    assert "tensor([[1., 2.]]" in repr(t)
    assert asyncio.run(t.numpy_async()).tolist() == [[1.0, 2.0]]


def test_memory_counts_live_tensors():
    gc.collect()
    before = wl.memory()
    keep = [wl.zeros((256,)) for _ in range(3)]
    during = wl.memory()
    assert during["tensors"] >= before["tensors"] + 3
    assert during["bytes"] >= before["bytes"] + 3 * 1024
    del keep
    gc.collect()
    assert wl.memory()["tensors"] <= during["tensors"] - 3


def test_seeded_random_numbers():
    wl.manual_seed(3)
    a = wl.randn(4)
    wl.manual_seed(3)
    b = wl.randn(4)
    assert a.tolist() == b.tolist()
    g1, g2 = wl.Generator(5), wl.Generator(5)
    assert g1.uniform((3,)).tolist() == g2.uniform((3,)).tolist()
    assert wl.rand(2, 3).shape == (2, 3) and wl.randint(0, 4, (5,)).dtype == wl.int32


def test_registry_and_kernel_override():
    assert wl.set_backend("numpy") is wl.get_backend()
    assert "numpy" in wl.available_backends()
    calls = []

    def counting(a, b):
        calls.append(a.shape)
        return np.matmul(a, b)

    old = wl.register_kernels("numpy", {"matmul": counting})
    try:
        wl.ones((2, 3)) @ wl.ones((3, 4))
        wl.conv2d(wl.ones((1, 4, 4, 2)), wl.ones((3, 3, 2, 2)))  # convs use the table's GEMM
    finally:
        wl.register_kernels("numpy", old)
    assert calls == [(2, 3), (4, 18)]


def _fake_gemm(alpha, a, b, trans_a=0, trans_b=0):
    """BLAS gemm's contract as scipy's f2py wrapper sees it: Fortran-ordered operands (else
    f2py would copy them, which the Pyodide path must avoid), a Fortran-ordered result."""
    assert a.flags.f_contiguous and b.flags.f_contiguous, "operand would be copied"
    out = alpha * ((a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b))
    return np.asfortranarray(out.astype(a.dtype))


@pytest.mark.parametrize(
    "sa, sb, ta, tb",
    [
        ((70, 80), (80, 90), False, False),
        ((70, 80), (90, 80), False, True),
        ((80, 70), (80, 90), True, False),
        ((80, 70), (90, 80), True, True),
        ((3, 70, 80), (80, 64), False, False),
        ((2, 64, 80), (2, 80, 72), False, False),
    ],
)
def test_gemm_path_layouts(monkeypatch, sa, sb, ta, tb):
    """The Pyodide matmul path (BLAS gemm via scipy, transposed views passed without copies),
    forced natively with a gemm double that checks operand layouts."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    a, b = (a.T if ta else a), (b.T if tb else b)
    monkeypatch.setattr(numpy_matmul, "USE_SCIPY", True)
    monkeypatch.setattr(numpy_matmul, "_GEMM", {"ok": True, "float32": _fake_gemm})
    got = numpy_matmul.matmul(a, b)
    assert got.flags.c_contiguous or got.ndim > 2
    np.testing.assert_allclose(got, np.matmul(a.astype(np.float64), b), rtol=1e-4, atol=1e-4)


def test_maximum_minimum_send_ties_to_the_second_argument():
    """maximum(x, 0) is relu with PyTorch's gradient 0 at 0; clamps are flat at their bounds."""
    a = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = wl.tensor([2.0, 2.0, 2.0], requires_grad=True)
    (wl.maximum(a, b) + wl.minimum(a, b) * 10).sum().backward()
    assert a.grad.tolist() == [10.0, 0.0, 1.0] and b.grad.tolist() == [1.0, 11.0, 10.0]


def test_reshape_and_permute_take_sizes_as_arguments_or_one_tuple():
    """numpy's and PyTorch's spelling (``x.reshape(2, 3)``, ``x.permute(1, 0)``) and the tuple
    one give the same tensors; integers that fit int32 stay exact at its edges."""
    import wasmdl as wl

    x = wl.arange(24)
    for a, b in ((x.reshape(2, 3, 4), x.reshape((2, 3, 4))), (x.reshape(-1, 6), x.reshape((4, 6)))):
        assert a.shape == b.shape and a.tolist() == b.tolist()
    y = x.reshape(2, 3, 4)
    assert y.permute(2, 0, 1).tolist() == y.permute((2, 0, 1)).tolist()
    assert y.permute(2, 0, 1).tolist() == np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1).tolist()
    assert wl.tensor([2**31 - 1, -(2**31)]).tolist() == [2**31 - 1, -(2**31)]
    assert wl.tensor([2**40], dtype="float32").tolist() == [2.0**40]


def test_transpose_reads_numpy_permutations_and_pytorch_axis_pairs():
    """No axes reverse them, a tuple or three or more axes permute (numpy), two axes swap
    (PyTorch's ``transpose(dim0, dim1)``, e.g. ``k.transpose(-2, -1)``), checked against numpy
    and against the gradient of the swap."""
    import wasmdl as wl

    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = wl.tensor(a)
    assert x.transpose().tolist() == a.transpose().tolist()
    assert x.transpose(2, 0, 1).tolist() == a.transpose(2, 0, 1).tolist()
    assert x.transpose((1, 0, 2)).tolist() == a.transpose(1, 0, 2).tolist()
    assert x.transpose(-2, -1).tolist() == np.swapaxes(a, -2, -1).tolist()
    assert x.transpose(0, 2).tolist() == np.swapaxes(a, 0, 2).tolist()
    m = wl.tensor(a[0])
    assert m.transpose(0, 1).tolist() == m.transpose(1, 0).tolist() == a[0].T.tolist()
    w = wl.tensor(a, requires_grad=True)
    (w.transpose(1, 2) * wl.tensor(np.swapaxes(a, 1, 2))).sum().backward()
    assert w.grad.tolist() == a.tolist()
    with pytest.raises(ValueError, match="transpose: argument 'axes'.*received 5"):
        x.transpose(0, 5)
