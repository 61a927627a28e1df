"""The PyTorch oracle for layers: copy wasmdl's weights into the torch module, run both on the
same input, compare the outputs and the gradients of the input and of every weight.

    check_layer(wasmdl.nn.Dense(3), torch.nn.Linear(4, 3), x,
                weights=perm_map(kernel=("weight", (1, 0)), bias=("bias", None)))

``weights`` maps wasmdl weight names to ``(torch name, permutation or None)``, or to
``(torch name, to_torch, grad_from_torch)`` with explicit functions; torch parameters absent from
the map are set to zero (for example LSTM's second bias) and their gradients ignored.
"""

import numpy as np
import torch

import wasmdl

RTOL, ATOL = 2e-4, 2e-5


class Fn(torch.nn.Module):
    """A torch module around a function (optionally holding a submodule ``m``, whose
    parameters ``check_layer`` then finds as ``m.<name>``)."""

    def __init__(self, f, m=None):
        super().__init__()
        self.f, self.m = f, m

    def forward(self, *xs):
        return self.f(*xs)


def rand(*shape, seed=0, scale=1.0):
    """Seeded standard-normal float32 values (times ``scale``): the inputs of a comparison."""
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def nhwc_to_nchw(a):
    return np.moveaxis(a, -1, 1)


def nchw_to_nhwc(a):
    return np.moveaxis(a, 1, -1)


def close(got, want, what, rtol=RTOL, atol=ATOL):
    """Max-norm comparison scaled by the reference's magnitude (float32 sums drift)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != torch {want.shape}"
    err = np.abs(got - want).max(initial=0.0)
    tol = atol + rtol * np.abs(want).max(initial=0.0)
    assert err <= tol, f"{what}: max |wasmdl - torch| = {err:.3g} > {tol:.3g}"


def _perm_fns(perm):
    if perm is None:
        return (lambda a: a), (lambda a: a)
    inv = tuple(np.argsort(perm))
    return (lambda a: np.transpose(a, perm)), (lambda a: np.transpose(a, inv))


def _entries(weights):
    for wname, spec in weights.items():
        if len(spec) == 2:
            tname, perm = spec
            yield (wname, tname, *_perm_fns(perm))
        else:
            yield (wname, *spec)


def _param(params, tname):
    """``"name"`` or ``"name[a:b]"`` (rows a..b of a packed torch parameter)."""
    if "[" not in tname:
        return params[tname]
    base, rows = tname[:-1].split("[")
    a, b = (int(v) for v in rows.split(":"))
    return params[base][a:b]


def copy_weights(layer, module, weights):
    """Copy the layer's weights into the torch module (unmapped torch params set to 0)."""
    mine = dict(layer.named_weights())
    bases = {w.split("[")[0] for w in weights}
    assert bases == set(mine), f"mapped {sorted(bases)} but layer has {sorted(mine)}"
    params = dict(module.named_parameters()) | dict(module.named_buffers())
    module.zero_grad(set_to_none=True)
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        for wname, tname, to_torch, _ in _entries(weights):
            w, row = _mine(mine, wname)
            value = w.numpy() if row is None else w.numpy()[row]
            value = np.ascontiguousarray(to_torch(value))
            _param(params, tname).copy_(torch.from_numpy(value))


def check_layer(
    layer,
    module,
    x,
    weights,
    nchw=False,
    training=False,
    rtol=RTOL,
    atol=ATOL,
    seed=0,
    grad_input=True,
):
    """Forward + backward of ``layer`` against ``module``; returns wasmdl's output array.

    ``x``: an array; a list of arrays (passed as one list, merge layers); a tuple of arrays
    (passed positionally, attention). ``nchw``: torch takes and gives
    channels-first tensors where wasmdl uses channels-last (the input and output are moved).
    """
    to_t, from_t = (nhwc_to_nchw, nchw_to_nhwc) if nchw else ((lambda a: a), (lambda a: a))
    xs = list(x) if isinstance(x, list | tuple) else [x]
    wx = [wasmdl.tensor(a, requires_grad=grad_input and a.dtype.kind == "f") for a in xs]
    args = [wx] if isinstance(x, list) else wx
    layer(*args, training=training)  # build
    copy_weights(layer, module, weights)
    module.train(training)
    layer.zero_grad()
    out = layer(*args, training=training)
    tx = [_to_torch_input(to_t(a), grad_input) for a in xs]
    tout = module(*tx)
    tout = tout[0] if isinstance(tout, tuple) else tout
    close(out.numpy(), from_t(tout.detach().numpy()), "output", rtol, atol)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(wasmdl.tensor(g))
    tout.backward(torch.from_numpy(np.ascontiguousarray(to_t(g))))
    for i, (w, t) in enumerate(zip(wx, tx, strict=True)):
        if t.requires_grad:
            close(w.grad.numpy(), from_t(t.grad.numpy()), f"grad input {i}", rtol, atol)
    params = dict(module.named_parameters())
    mine = dict(layer.named_weights())
    for wname, tname, _, from_torch in _entries(weights):
        w, row = _mine(mine, wname)
        if w.requires_grad:
            assert w.grad is not None, f"weight {wname!r} got no gradient"
            base = tname.split("[")[0]
            want = from_torch(_param({base: params[base].grad}, tname).numpy())
            got = w.grad.numpy() if row is None else w.grad.numpy()[row]
            close(got, want, f"grad {wname}", rtol, atol)
    return out.numpy()


def _to_torch_input(a, grad_input):
    if a.dtype.kind in "iu":  # ids: torch wants int64
        return torch.tensor(a.astype(np.int64))
    return torch.tensor(a, requires_grad=grad_input)


def _mine(named, wname):
    """``"name"`` or ``"name[i]"`` (row i of a wasmdl weight, e.g. GRU's two bias rows)."""
    if "[" not in wname:
        return named[wname], None
    base, i = wname[:-1].split("[")
    return named[base], int(i)


def perm_map(**spec):
    """``perm_map(kernel=("weight", (1, 0)), bias=("bias", None))`` -> a ``weights`` map."""
    return dict(spec)
