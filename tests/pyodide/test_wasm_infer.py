"""Tier 2 (Node; also passes with --runtime chrome): small-batch inference on the captured path.

``model.predict`` of a batch that fits in one call replays the captured predict step: on the WASM
CPU path one call into the C instruction stream (``_wasm/program``), whose matmul takes GEMV for
1-3 rows and sgemm above. Against the general path (kernels off, eager) and a float64 numpy
forward, on odd sizes (K not a multiple of 8, N not a multiple of 4, N < 4, N > 32 and not a
multiple of 32), every hidden activation, a layer without bias; plus replaced weights and weights
changed in place by captured training steps, the switch, and the benchmark adapter's
``predict_into`` (outputs written into a JS Float32Array).
"""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_gemv_and_sgemm_forward_match_the_general_path(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl import nn

    def reference(model, x, acts):
        """float64 numpy forward: the independent oracle."""
        h = x.astype(np.float64)
        for layer, act in zip(model.layers, acts, strict=True):
            h = h @ layer.kernel.numpy().astype(np.float64)
            if layer.use_bias:
                h = h + layer.bias.numpy()
            if act == "softmax":
                e = np.exp(h - h.max(1, keepdims=True))
                h = e / e.sum(1, keepdims=True)
            else:
                h = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, None: lambda v: v,
                     "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[act](h)  # fmt: skip
        return h

    rng = np.random.default_rng(3)
    nets = [  # sizes, activations (last: output)
        ((37, 13, 6, 7), ("relu", "tanh", "softmax")),
        ((29, 70, 3), ("sigmoid", None)),
        ((8, 33, 1), ("relu", "relu")),
        ((100, 64, 2, 10), (None, "relu", "softmax")),
    ]
    for sizes, acts in nets:
        first = {"input_shape": (sizes[0],)}
        layers = [
            nn.Dense(n, activation=a, use_bias=i != 1, **(first if i == 0 else {}))
            for i, (n, a) in enumerate(zip(sizes[1:], acts, strict=True))
        ]
        model = wasmdl.Sequential(layers)
        x = rng.standard_normal((6, sizes[0])).astype(np.float32)
        x[:, ::3] = 0.0  # MNIST-like zeros
        for batch in (1, 2, 3, 4, 5):
            # warm-up and two recordings run eagerly; the fourth call on a shape replays
            outs = [model.predict(x[:batch]) for _ in range(5)]
            got = outs[-1]
            assert got.shape == (batch, sizes[-1]) and got.dtype == np.float32
            np.testing.assert_allclose(got, reference(model, x[:batch], acts), atol=2e-6, rtol=1e-5)
            np.testing.assert_allclose(outs[0], got, atol=2e-6, rtol=1e-5)  # eager vs replay
            assert np.array_equal(outs[3], got)  # replays are deterministic
        info = model.capture_info()["predict"]
        assert info["captured"] and info["backend_calls"] == 1, info
        rows = [model.predict(x[i : i + 1]) for i in range(6)]
        try:
            wasmdl.set_cpu_kernels(False)
            want = model.predict(x)
        finally:
            wasmdl.set_cpu_kernels(True)
        np.testing.assert_allclose(np.concatenate(rows), want, atol=2e-6, rtol=1e-5)


@run_in_pyodide
def test_one_sample_predict_follows_replaced_weights_and_casts(selenium_wasmdl):
    import numpy as np
    import pytest

    import wasmdl
    from wasmdl import nn

    rng = np.random.default_rng(4)
    model = wasmdl.Sequential(
        [nn.Dense(12, activation="relu", input_shape=(9,)), nn.Dense(4, activation="softmax")]
    )
    x = rng.standard_normal((1, 9)).astype(np.float32)
    first = model.predict(x)
    weights = [w * 2 + 0.1 for w in model.get_weights()]
    model.set_weights(weights)  # the plan's addresses are stale now
    second = model.predict(x)
    try:
        wasmdl.set_cpu_kernels(False)
        want = model.predict(x)
    finally:
        wasmdl.set_cpu_kernels(True)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(second, want, atol=2e-6)
    np.testing.assert_allclose(model.predict(x.astype(np.float64)), want, atol=2e-6)
    np.testing.assert_allclose(model.predict(x.tolist()), want, atol=2e-6)
    out = model.predict(x)
    out[:] = -1.0  # a new array each call, never the plan's buffer
    np.testing.assert_allclose(model.predict(x), want, atol=2e-6)
    with pytest.raises(ValueError):
        model.predict(np.ones((1, 8), np.float32))  # wrong width: the general path's error


@run_in_pyodide
def test_small_batch_predict_sees_every_fused_training_step(selenium_wasmdl):
    """Captured SGD steps write the weights in place (same arrays): a one- or two-row ``predict``
    between them must use the new weights, and a one-row training step's own forward must read
    the updated weights (kernels off as the reference)."""
    import numpy as np

    import wasmdl
    from wasmdl import nn, optim

    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 45)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 8)]

    def make():
        m = wasmdl.Sequential(
            [nn.Dense(40, activation="relu", input_shape=(45,)), nn.Dense(5, activation="softmax")]
        )
        m.compile(optimizer=optim.SGD(m.parameters(), lr=0.5), loss="categorical_crossentropy")
        return m

    fast, ref = make(), make()
    ref.set_weights(fast.get_weights())

    def run(model):
        out = []
        for i in range(4):  # batch 1 steps (GEMV forward), batch 8 steps (sgemm), predicts
            out.append(model.train_on_batch(x[i : i + 1], y[i : i + 1]))
            out += [model.predict(x[:1]), model.predict(x[2:4])]
            out.append(model.train_on_batch(x, y))
            out.append(model.predict(x[5:6]))
        return out

    got = run(fast)
    assert fast.capture_info()["train"]["captured"], fast.capture_info()
    try:
        wasmdl.set_cpu_kernels(False)
        want = run(ref)
    finally:
        wasmdl.set_cpu_kernels(True)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    assert not np.allclose(got[1], got[-1])  # the weights did change


@run_in_pyodide
async def test_bench_adapter_predict_into_writes_a_float32array(selenium_wasmdl):
    import micropip
    import numpy as np
    from js import Float32Array

    await micropip.install("wasmdl-bench")  # the bench's own wheel, from the site's index
    from bench import adapter, grid, infer_profile

    cid, runner, model = infer_profile.make_case("d1_w128")
    out = Float32Array.new(runner.n_out)
    runner.set_output(out)
    for i in (0, 7):
        runner.predict_into(model, i)
        want = grid.forward(grid.make_weights(grid.config_by_id(cid)), runner.x_test[i : i + 1])
        np.testing.assert_allclose(out.to_py(), want[0], atol=1e-6)
        assert (
            runner.predict(model, i) == adapter.predict(model, runner.x_test[i : i + 1])[0].tolist()
        )
    phases = infer_profile.measure_case((cid, runner, model), rounds=1, budget_s=0.001)
    assert {"adapter", "predict"} <= set(phases)
