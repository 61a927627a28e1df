"""Tier 2 (Node): the per-step WASM kernels inside Pyodide (``wasmdl/_wasm/cpu_step.py``):
each against the numpy backend's kernel (``wasmdl/backend/numpy_step.py``, itself checked
against PyTorch natively), their fallbacks, and whole training runs (SGD with momentum, Adam,
AdamW; a small MLP on logits and with a softmax output, a small CNN) giving the same losses
with the kernels on and off."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_step_kernels_are_installed_and_match_numpy(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl.backend import numpy_step as ref
    from wasmdl.testing.trace import ref_adam, ref_sgd

    kernels = wasmdl.get_backend("numpy").kernels
    names = ["relu", "relu_grad", "softmax", "softmax_cross_entropy",
             "softmax_cross_entropy_grad", "sgd_update", "adam_update"]  # fmt: skip
    assert all("WASM SIMD" in kernels[n].__doc__ for n in names), names
    rng = np.random.default_rng(0)

    def close(got, want, what):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=what)

    for shape in ((1, 1), (7, 5), (64, 10), (2, 3, 13), (300,)):
        x = (rng.standard_normal(shape) * 3).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        x.reshape(-1)[0] = np.nan  # relu keeps NaN (as np.maximum and torch)
        y = kernels["relu"](x)
        close(y, ref.relu(x), f"relu {shape}")
        x.reshape(-1)[0] = 1.0
        close(kernels["softmax"](x), ref.softmax(x), f"softmax {shape}")
        y = ref.relu(x)
        close(kernels["relu_grad"](g, y), ref.relu_grad(g, y), f"relu_grad {shape}")
        labels = rng.integers(0, shape[-1], shape[:-1]).astype(np.int32)
        probs = rng.random(shape).astype(np.float32)
        for t in (labels, probs):
            what = f"cross-entropy {shape} {t.dtype}"
            close(kernels["softmax_cross_entropy"](x, t), ref.softmax_cross_entropy(x, t), what)
            s = np.array(0.7, np.float32)
            got = kernels["softmax_cross_entropy_grad"](x, t, s)
            close(got, ref.softmax_cross_entropy_grad(x, t, s), what + " grad")

    # the in-place updates (hp-array signatures) against torch.optim's rules in float64
    sgd = [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
           {"momentum": 0.5, "dampening": 0.3}, {"momentum": 0.9, "maximize": True}]  # fmt: skip
    adam = [{}, {"weight_decay": 0.1}, {"weight_decay": 0.05, "decoupled": True},
            {"maximize": True, "decoupled": True, "weight_decay": 0.01}]  # fmt: skip
    for n in (1, 7, 1031):
        for opts in sgd:
            p, buf = rng.standard_normal(n).astype(np.float32), np.zeros(n, np.float32)
            p2, buf2 = p.copy(), buf.copy()
            hp = np.array([0.1], np.float32)
            for step in range(3):
                g = rng.standard_normal(n).astype(np.float32)
                bufs = (buf,) if opts.get("momentum") else ()
                bufs2 = (buf2,) if opts.get("momentum") else ()
                assert kernels["sgd_update"](p, g, hp, *bufs, first=step == 0, **opts) is p
                ref_sgd(p2, g, hp, *bufs2, first=step == 0, **opts)
            close(p, p2, f"sgd {n} {opts}")
        for opts in adam:
            p = rng.standard_normal(n).astype(np.float32)
            m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
            p2, m2, v2 = p.copy(), m.copy(), v.copy()
            for step in (1, 2, 3):
                g = rng.standard_normal(n).astype(np.float32)
                hp = np.array([1e-2, step], np.float32)
                assert kernels["adam_update"](p, g, hp, m, v, 0.9, 0.999, 1e-8, **opts) is p
                ref_adam(p2, g, hp, m2, v2, 0.9, 0.999, 1e-8, **opts)
            for a, b in ((p, p2), (m, m2), (v, v2)):
                close(a, b, f"adam {n} {opts}")


@run_in_pyodide
def test_unhandled_inputs_fall_back_to_numpy(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl._wasm import cpu_step
    from wasmdl._wasm.cpu import addr
    from wasmdl.backend import numpy_step as ref

    fast = cpu_step.table(wasmdl._wasm.kernels())
    kernels = wasmdl.get_backend("numpy").kernels
    x = np.random.default_rng(1).standard_normal((6, 8))
    out_of_range = np.array([0, 1, 8, -1, 2, 3], np.int32)
    strided = x.astype(np.float32)[:, ::2]
    cases = [  # (kernel, args): float64, strided, labels outside [0, C), float64 state
        ("relu_grad", (x, np.maximum(x, 0))),
        ("relu_grad", (strided, strided)),
        ("softmax_cross_entropy", (x.astype(np.float32), out_of_range)),
        ("softmax_cross_entropy", (strided, np.zeros(6, np.int32))),
        ("softmax_cross_entropy_grad", (x.astype(np.float32), out_of_range, np.float32(1))),
    ]
    for name, args in cases:
        assert fast[name](*args) is None, name
        np.testing.assert_allclose(kernels[name](*args), ref.KERNELS[name](*args), rtol=1e-6)
    cache = cpu_step.Addresses(limit=2)
    for _ in range(5):  # new arrays, maybe at a freed array's id: always their own address
        a = np.ones(7, np.float32)
        assert cache(a) == addr(a)
    ro = np.ones(3, np.float32)
    ro.flags.writeable = False
    assert cache(ro) is None and cache(np.ones(3)) is None and cache(strided) is None
    p64, g64, hp = np.ones(5), np.full(5, 0.5), np.array([0.1], np.float32)
    assert fast["sgd_update"](p64, g64, hp) is None  # float64: numpy's
    assert fast["sgd_update"](p64.astype(np.float32), g64.astype(np.float32), [0.1]) is None


@run_in_pyodide
def test_training_losses_match_with_kernels_on_and_off(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl import nn, optim

    def model(kind):
        wasmdl.manual_seed(0)
        if kind.startswith("mlp"):  # mlp: logits; mlp-softmax: probabilities (Keras default)
            out = "softmax" if kind == "mlp-softmax" else None
            layers = [nn.Dense(32, activation="relu", input_shape=(20,)), nn.Dense(5, out)]
        else:
            layers = [
                nn.Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
                nn.MaxPool2D(),
                nn.Flatten(),
                nn.Dense(5),
            ]
        return wasmdl.Sequential(layers)

    def losses(kind, make_opt, steps=8):
        rng = np.random.default_rng(3)
        shape = (16, 8, 8, 2) if kind == "cnn" else (16, 20)
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, 5, 16).astype(np.int32)
        m = model(kind)
        logits = kind != "mlp-softmax"
        m.compile(make_opt(), loss=wasmdl.losses.SparseCategoricalCrossentropy(from_logits=logits))
        return [m.train_on_batch(x, y) for _ in range(steps)], m

    optimizers = {
        "sgd-momentum": lambda: optim.SGD(lr=0.05, momentum=0.9, nesterov=True),
        "adam": lambda: optim.Adam(lr=0.01),
        "adamw": lambda: optim.AdamW(lr=0.01, weight_decay=0.05),
    }
    kernels = wasmdl.get_backend("numpy").kernels
    for kind in ("mlp", "mlp-softmax", "cnn"):
        for name, make_opt in optimizers.items():
            assert wasmdl.set_cpu_kernels(True)["enabled"]
            assert "WASM" in kernels["adam_update"].__doc__
            on, m_on = losses(kind, make_opt)
            try:
                assert not wasmdl.set_cpu_kernels(False)["active"]
                assert "WASM" not in (kernels["adam_update"].__doc__ or "")
                off, m_off = losses(kind, make_opt)
            finally:
                wasmdl.set_cpu_kernels(True)
            np.testing.assert_allclose(on, off, rtol=2e-4, err_msg=f"{kind} {name}")
            for a, b in zip(m_on.get_weights(), m_off.get_weights(), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg=f"{kind} {name}")
            assert on[-1] < on[0], (kind, name, on)
