"""Tier 3: the WebGL2 backend in headless Chromium (SwiftShader, default flags).

One page for the module (``selenium_wasmdl``). Reads are synchronous ``readPixels``, so
``t.numpy()`` works even where Python was entered with plain ``runPython``. The checks live in
``wasmdl.backend.webgl_checks``; the op cases are the core table ``wasmdl.testing.CASES``,
compared with the numpy references at the table's float32 tolerances (forward rtol/atol 1e-5;
gradients against float64 finite differences rtol/atol 1e-4), widened per op only where
``WEBGL_TOL`` says so.
"""

import json

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.fixture(autouse=True)
def _long_scripts(selenium_wasmdl):
    selenium_wasmdl.set_script_timeout(300)  # SwiftShader runs shaders on the CPU


def test_smoke_sync_read_under_plain_run_python(selenium_wasmdl):
    code = """
import numpy as np, wasmdl as wl
wl.set_backend("webgl")
x = wl.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
y = (x @ wl.ones((3, 2))) * 2 + 1
r = [y.numpy().tolist(), (x > 2).numpy().tolist(), wl.argmax(x, axis=1).numpy().tolist()]
wl.set_backend("numpy")
str(r)
"""
    out = selenium_wasmdl.run(code)  # runPython: no JSPI, yet the read is synchronous
    assert out == str(
        [[[7.0, 7.0], [25.0, 25.0]], [[False, False, False], [True, True, True]], [2, 2]]
    ), out


# Table rows that need a dtype WebGL lacks (float64): they must fail with a clear TypeError.
GL_DTYPE_GAPS = {"cast-f2f64"}


def test_op_table_forward_and_gradients_match_numpy(selenium_wasmdl):
    code = """
import json
import wasmdl as wl
from wasmdl.testing import CASES, check
wl.set_backend("webgl")
failures, gaps, n = [], {}, 0
for case in CASES:
    for fn, nc in ((check.check_forward, False), (check.check_forward, True),
                   (check.check_grad, False)):
        n += 1
        try:
            fn(case, noncontig=nc, backend="webgl")
        except Exception as e:
            msg = f"{type(e).__name__}: {e}"
            if case.name in GAPS:
                gaps[case.name] = msg
            else:
                failures.append(f"{fn.__name__}[{case.name}, noncontig={nc}]: {msg[:400]}")
wl.set_backend("numpy")
json.dumps({"checks": n, "cases": len(CASES), "failures": failures, "gaps": gaps})
""".replace("GAPS", repr(GL_DTYPE_GAPS))
    r = json.loads(selenium_wasmdl.run(code))
    print(f"{r['checks']} checks over {r['cases']} cases")
    assert r["cases"] > 200
    assert not r["failures"], "\n".join(r["failures"])
    assert set(r["gaps"]) == GL_DTYPE_GAPS, r["gaps"]
    for msg in r["gaps"].values():
        assert msg.startswith("TypeError") and "float64" in msg, msg


@run_in_pyodide
def test_coverage_report_is_empty_for_the_core_table(selenium_wasmdl):
    from wasmdl.testing import webgl_checks as C

    report = C.coverage()
    assert report["missing"] == [] and report["covered"] == report["ops"] > 40


@pytest.mark.parametrize("recipe", ["mlp", "cnn", "lstm"])
def test_training_follows_the_numpy_losses(selenium_wasmdl, recipe):
    """50 steps from the same weights on consecutive batches (CNN: batch 8, the others 32),
    in scripts of 10 steps (SwiftShader runs a CNN step in about a second): every loss within
    rtol 1e-3 of the numpy backend's."""
    batch = 8 if recipe == "cnn" else 32
    curves = {}
    for backend in ("webgl", "numpy"):
        curves[backend] = []
        for k in range(5):
            code = (
                "import json\nfrom wasmdl.testing import webgl_checks as C\n"
                f"json.dumps(C.losses({recipe!r}, {backend!r}, 10, {batch}, fresh={k == 0}))"
            )
            curves[backend] += json.loads(selenium_wasmdl.run(code))
    gl, ref = curves["webgl"], curves["numpy"]
    rel = max(abs(a - b) / abs(b) for a, b in zip(gl, ref, strict=True))
    print(f"{recipe}: loss {ref[0]:.4f} -> {ref[-1]:.4f}, max relative difference {rel:.2e}")
    assert len(gl) == 50 and min(ref[-5:]) < ref[0]
    assert rel < 1e-3, (gl, ref)


def test_2000_step_loop_keeps_live_textures_flat(selenium_wasmdl):
    code = "import json\nfrom wasmdl.testing import webgl_checks as C\njson.dumps(C.memory_loop())"
    r = json.loads(selenium_wasmdl.run(code))
    print("live textures every 100 steps:", r["textures"], r["memory"])
    assert len(r["textures"]) == 20 and len(set(r["textures"][1:])) == 1, r["textures"]
    assert r["final_loss"] == r["final_loss"]  # finite, not NaN


def test_step_report_calls_and_draws(selenium_wasmdl, chrome_report):
    code = "import json\nfrom wasmdl.testing import webgl_checks as C\njson.dumps(C.step_report())"
    r = json.loads(selenium_wasmdl.run(code))
    chrome_report("webgl README MLP step (batch 64)", r)
    print("webgl vs numpy, README MLP step:", r)
    assert r["python_to_js_calls_per_step"] <= 2  # the packet rides on the loss read
    # the batch's x and y, and the scalars Adam makes each step (bias corrections)
    assert r["uploads_per_step"] <= 8
    assert r["draws_per_step"] < 160


@run_in_pyodide
async def test_async_read_and_memory_verbs(selenium_wasmdl):
    import numpy as np

    import wasmdl as wl

    be = wl.backend.get_backend("webgl")
    t = wl.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), backend=be) * 2
    assert (await t.numpy_async()).tolist() == [[0, 2, 4], [6, 8, 10]]
    i = wl.Tensor(np.array([-3, 7], np.int32), backend=be)
    assert (await (i * 2).numpy_async()).tolist() == [-6, 14]
    assert float(t.sum()) == 30.0
    before = be.memory()["textures"]
    u = t + t
    assert be.memory()["textures"] == before + 1
    be.free(u._h)
    assert be.memory()["textures"] == before
    del t, u
    assert be.memory()["textures"] < before
    wl.set_backend("webgl")
    try:
        assert wl.memory()["textures"] == be.memory()["textures"]
    finally:
        wl.set_backend("numpy")


def test_faults_give_named_errors_and_numpy_stays_usable(selenium_wasmdl):
    code = "import json\nfrom wasmdl.testing import webgl_checks as C\njson.dumps(C.faults())"
    r = json.loads(selenium_wasmdl.run(code))
    print(json.dumps(r, indent=1))
    assert r["compile"].startswith("WebGLError") and "bad_kernel" in r["compile"], r["compile"]
    assert r["after_compile_error"] == [[2.0, 2.0], [2.0, 2.0]]
    assert r["limit"].startswith("TextureLimitError") and "MAX_TEXTURE_SIZE" in r["limit"]
    assert r["lost"].startswith("ContextLostError") and "context was lost" in r["lost"]
    assert r["backend_after_loss"] == "numpy"
    losses = r["numpy_losses"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    after = selenium_wasmdl.run(
        "import wasmdl as wl\nwl.set_backend('webgl')\nv = (wl.ones(3) * 2).numpy().tolist()\n"
        "wl.set_backend('numpy')\nstr(v)"
    )
    assert after == "[2.0, 2.0, 2.0]"  # a new context after the loss


@run_in_pyodide
async def test_model_warmup_compiles_programs_and_keeps_the_weights(selenium_wasmdl):
    import numpy as np

    import wasmdl as wl
    from wasmdl.testing import webgl_checks as C

    x, y = C._mnist(False)
    x, y = x[:32], y[:32]
    first = {}
    for backend in ("webgl", "numpy"):
        wl.set_backend(backend)
        try:
            model = C.readme_mlp()
            if backend == "webgl":
                be = wl.backend.get_backend("webgl")
                be.forget_programs()  # a fresh program cache: every program is new again
                report = await model.warmup_async(x, y)
                print("webgl warm-up:", report)
                assert report["programs"] > 10
            first[backend] = float(model.train_on_batch(x, y))
        finally:
            wl.set_backend("numpy")
    np.testing.assert_allclose(first["webgl"], first["numpy"], rtol=1e-5)  # weights kept


@run_in_pyodide
async def test_warmup_after_training_puts_weights_and_adam_state_back(selenium_wasmdl):
    """Warm-up after some steps (parameters and Adam moments already written in place by the
    fused update) must leave weights, moments and the step count as they were."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.testing import webgl_checks as C

    x, y = C._mnist(False)
    x, y = x[:32], y[:32]
    wl.set_backend("webgl")
    try:
        model = C.readme_mlp()
        for _ in range(3):
            model.train_on_batch(x, y)
        opt = model.optimizer
        before = [w.copy() for w in model.get_weights()]
        moments = [v.numpy() for s in opt.state.values() for v in s.values() if hasattr(v, "numpy")]
        steps = opt.iterations
        await model.warmup_async(x, y)
        after = model.get_weights()
        again = [v.numpy() for s in opt.state.values() for v in s.values() if hasattr(v, "numpy")]
        assert opt.iterations == steps
    finally:
        wl.set_backend("numpy")
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(moments, again, strict=True):
        np.testing.assert_array_equal(a, b)


@run_in_pyodide
def test_every_matmul_variant_matches_numpy(selenium_wasmdl):
    """'block' (8x4 outputs per fragment where the context has 8 draw buffers, as
    SwiftShader does, and 4x4), 'packed' and 'plain' on odd, batched and broadcast shapes, and
    the table's matmul rows (forward and gradients). B's second batch starts with an inf: the
    block kernel's zero rows padding batch 0's K = 9 to 12 must not read it (0 * inf would
    make batch 0 NaN)."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.testing import CASES, check

    be = wl.backend.get_backend("webgl")
    prev = be.matmul_variant
    rng = np.random.default_rng(0)
    shapes = [((3, 37, 45), (45, 29)), ((2, 1, 7, 9), (3, 9, 5)), ((64, 784), (784, 128)),
              ((2, 5, 9), (2, 9, 6)), ((13, 16), (16, 3))]  # fmt: skip
    cases = [c for c in CASES if "matmul" in c.name]
    assert cases
    from wasmdl.backend import webgl_kernels

    assert webgl_kernels.block_rows(be) == 8, be.info
    try:
        for variant, rows in (("block", 8), ("block", 4), ("packed", 8), ("plain", 8)):
            be.matmul_variant = variant
            webgl_kernels.BLOCK_ROWS_MAX = rows
            for sa, sb in shapes:
                a = rng.standard_normal(sa).astype(np.float32)
                b = rng.standard_normal(sb).astype(np.float32)
                if sb == (2, 9, 6):
                    b[1, 0, 0] = np.inf
                got = (wl.Tensor(a, backend=be) @ wl.Tensor(b, backend=be)).numpy()
                np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4,
                                           err_msg=f"{variant} {rows} {sa} {sb}")  # fmt: skip
            for case in cases:
                check.check_forward(case, backend="webgl")
                check.check_grad(case, backend="webgl")
    finally:
        be.matmul_variant = prev
        webgl_kernels.BLOCK_ROWS_MAX = 8


@run_in_pyodide
def test_fused_optimizer_updates_match_the_numpy_kernels(selenium_wasmdl):
    """adam_update / sgd_update on webgl (new textures, handles swapped; the learning rate and
    step read from the ``hp`` texture) against numpy_step's in-place kernels, over their
    options; a handle shared with another tensor sees the update."""
    import itertools

    import numpy as np

    import wasmdl as wl
    from wasmdl.backend import numpy_step
    from wasmdl.backend.base import Operand

    be = wl.backend.get_backend("webgl")
    rng = np.random.default_rng(0)
    f32 = np.dtype("float32")

    def run(name, arrays, hp, **opts):
        want = [a.copy() for a in arrays]
        numpy_step.KERNELS[name](*want[:2], hp, *want[2:], **opts)
        hs = [be.from_host(a) for a in arrays]
        alias = wl.Tensor._wrap(hs[0], arrays[0].shape, f32, be)  # shares p's handle
        xs = [Operand(h, a.shape, f32) for h, a in zip(hs, arrays, strict=True)]
        xs.insert(2, Operand(be.from_host(hp), hp.shape, f32))
        out = be.run(name, xs, arrays[0].shape, f32, opts)
        assert out is hs[0]  # in place: the output is p's handle
        got = [be.to_host(h, a.shape, f32) for h, a in zip(hs, arrays, strict=True)]
        for k in (0, *range(2, len(arrays))):  # p and the state arrays
            np.testing.assert_allclose(got[k], want[k], rtol=2e-6, atol=1e-7, err_msg=f"{opts}")
        np.testing.assert_array_equal(alias.numpy(), got[0])

    shape = (37, 29)
    for wd, dec, mx, step in itertools.product((0.0, 0.01), (False, True), (False, True), (1, 3)):
        arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
        arrays.append(rng.random(shape).astype(np.float32))
        run("adam_update", arrays, np.array([1e-3, step], np.float32), beta1=0.9, beta2=0.999,
            eps=1e-8, weight_decay=wd, decoupled=dec, maximize=mx)  # fmt: skip
    for mom, damp, nest, first in itertools.product((0.0, 0.9), (0.0, 0.1), (False, True),
                                                    (False, True)):  # fmt: skip
        if nest and (not mom or damp):
            continue  # torch: nesterov needs momentum and no dampening
        arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
        run("sgd_update", arrays, np.array([0.1, 1], np.float32), momentum=mom, dampening=damp,
            weight_decay=0.01, nesterov=nest, maximize=False, first=first)  # fmt: skip


@run_in_pyodide
def test_dense_and_relu_kernels_match_numpy(selenium_wasmdl):
    """The rewrite's dense target on webgl (the blocked product with bias and activation in its
    unpack pass; one plain-product draw with them on 1-3 rows, short K and other variants;
    an empty K gives act(bias)) and the fused
    relu / relu_grad, against the numpy backend's kernels on odd shapes; a captured Dense
    layer's step uses them (the rewritten program holds dense, not matmul + add)."""
    import numpy as np

    import wasmdl as wl
    from wasmdl import nn
    from wasmdl.backend.base import Operand

    be, ref = wl.backend.get_backend("webgl"), wl.backend.get_backend("numpy")
    rng = np.random.default_rng(0)
    f32 = np.dtype("float32")
    prev = be.matmul_variant
    try:
        for variant in ("block", "packed", "plain"):
            be.matmul_variant = variant
            for m, k, n in ((1, 784, 64), (3, 40, 10), (37, 45, 29), (5, 3, 7), (64, 8, 1)):
                for act in ("linear", "relu"):
                    x, w = rng.standard_normal((m, k)), rng.standard_normal((k, n))
                    arrays = [a.astype(np.float32) for a in (x, w, rng.standard_normal(n))]
                    xs = [Operand(be.from_host(a), a.shape, f32) for a in arrays]
                    got = be.to_host(be.run("dense", xs, (m, n), f32, {"activation": act}),
                                     (m, n), f32)  # fmt: skip
                    want = ref.kernels["dense"](*arrays, activation=act)
                    # float32 sums of k unit-normal products (|y| ~ sqrt(k)): the plain
                    # product adds them in order, so its rounding grows with k
                    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * max(1, k / 100),
                                               err_msg=f"{variant} {(m, k, n)} {act}")  # fmt: skip
    finally:
        be.matmul_variant = prev
    g, y = (rng.standard_normal((13, 7)).astype(np.float32) for _ in range(2))
    y[0, :3] = 0.0  # the gradient at 0 is 0 (torch)
    for name, arrays, want in (("relu", [y], np.maximum(y, 0)),
                               ("relu_grad", [g, y], g * (y > 0))):  # fmt: skip
        xs = [Operand(be.from_host(a), a.shape, f32) for a in arrays]
        got = be.to_host(be.run(name, xs, y.shape, f32, {}), y.shape, f32)
        np.testing.assert_array_equal(got, want.astype(np.float32), err_msg=name)
    wl.set_backend("webgl")
    try:
        wl.manual_seed(0)
        m = wl.Sequential([nn.Dense(16, activation="relu", input_shape=(12,)), nn.Dense(3)])
        m.compile(optimizer="sgd", loss="mse")
        x3, y3 = rng.random((8, 12), dtype=np.float32), rng.random((8, 3), dtype=np.float32)
        for _ in range(4):
            m.train_on_batch(x3, y3)
        assert m.capture_info()["train"]["captured"], m.capture_info()
        instrs = m.train_function._last.replay.program.instrs
        kernels = [i.kernel for i in instrs]
        # the ReLU's gradient: its own kernel, or inside the GEMM epilogue that made its input
        relu_grad = [i for i in instrs if i.kernel == "relu_grad"
                     or "relu_grad" in str(i.params.get("expr", ""))]  # fmt: skip
        assert kernels.count("dense") == 2 and relu_grad, kernels
    finally:
        wl.set_backend("numpy")


@run_in_pyodide
def test_row_kernels_match_numpy_on_long_rows_and_many_rows(selenium_wasmdl):
    """The fused row kernels (webgl_fused.py) against the numpy backend's: softmax and its
    gradient on short rows (one looping draw) and long ones (the composite), the two
    cross-entropies with int labels (one out of range) and target rows, over one fragment's
    rows and over many (partial sums added by the sum kernel), with probabilities that hit the
    clip; no rows gives NaN as numpy does."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.backend.base import Operand

    be, ref = wl.backend.get_backend("webgl"), wl.backend.get_backend("numpy")
    rng = np.random.default_rng(1)
    f32 = np.dtype("float32")

    def run(name, arrays, shape, **params):
        xs = [Operand(be.from_host(a), a.shape, a.dtype) for a in arrays]
        return be.to_host(be.run(name, xs, shape, f32, params), shape, f32)

    for shape in ((3, 7), (2, 5, 64), (4, 65), (2, 300)):
        x = (rng.standard_normal(shape) * 3).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        y = ref.kernels["softmax"](x)
        np.testing.assert_allclose(run("softmax", [x], shape), y, rtol=1e-5, atol=1e-7)
        want = ref.kernels["softmax_grad"](g, y)
        np.testing.assert_allclose(run("softmax_grad", [g, y], shape), want, rtol=1e-4,
                                   atol=1e-6, err_msg=str(shape))  # fmt: skip
    for rows, c in ((6, 10), (500, 10), (3, 1), (2, 70)):
        x = rng.standard_normal((rows, c)).astype(np.float32)
        probs = ref.kernels["softmax"](x * 4)  # saturated rows: some q past the clip
        probs[0, 0] = 0.0
        labels = rng.integers(0, c, rows).astype(np.int32)
        labels[-1] = c  # out of range: a zero row
        rows_t = rng.random((rows, c)).astype(np.float32)
        g = np.array(0.75, np.float32)
        for t in (labels, rows_t):
            for name, inp, params in (("softmax_cross_entropy", x, {}),
                                      ("prob_cross_entropy", probs, {"eps": 1e-7})):  # fmt: skip
                want = ref.kernels[name](inp, t, **params)
                got = run(name, [inp, t], (), **params)
                np.testing.assert_allclose(got, want, rtol=2e-5, err_msg=f"{name} {rows}x{c}")
                want = ref.kernels[name + "_grad"](inp, t, g, **params)
                got = run(name + "_grad", [inp, t, g], inp.shape, **params)
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6,
                                           err_msg=f"{name}_grad {rows}x{c} {t.dtype}")  # fmt: skip
    empty = np.zeros((0, 4), np.float32)
    got = run("softmax_cross_entropy", [empty, np.zeros(0, np.int32)], ())
    assert np.isnan(got) and np.isnan(
        ref.kernels["softmax_cross_entropy"](empty, np.zeros(0, np.int32))
    )


@run_in_pyodide
def test_sgd_update_targets_match_numpy(selenium_wasmdl):
    """The rewrite's plain-SGD targets on webgl (sgd_colsum: a bias from the column sums;
    sgd_matmul: a weight from one GEMM, its update in the blocked product's unpack pass, or
    matmul then sgd_update for short K) against the numpy backend's, both signs; the update
    lands in the parameter's handle (every holder sees it); a captured Dense step with plain
    SGD holds them."""
    import numpy as np

    import wasmdl as wl
    from wasmdl import nn
    from wasmdl.backend.base import Operand

    be, ref = wl.backend.get_backend("webgl"), wl.backend.get_backend("numpy")
    rng = np.random.default_rng(2)
    f32 = np.dtype("float32")
    hp = np.array([0.15, 3.0], np.float32)

    def op(a):
        return Operand(be.from_host(a), a.shape, a.dtype)

    for maximize in (False, True):
        for m, k, n in ((64, 784, 64), (7, 5, 3), (9, 33, 1)):
            p, a, b = (rng.standard_normal(s).astype(np.float32) for s in ((k, n), (k, m), (m, n)))
            want = ref.kernels["sgd_matmul"](p.copy(), a, b, hp, maximize=maximize)
            ph = op(p)
            h = be.run(
                "sgd_matmul", [ph, op(a), op(b), op(hp)], p.shape, f32, {"maximize": maximize}
            )
            assert h is ph._h
            np.testing.assert_allclose(be.to_host(ph._h, p.shape, f32), want, rtol=1e-5, atol=2e-5,
                                       err_msg=f"sgd_matmul {(m, k, n)} {maximize}")  # fmt: skip
            bias, x = rng.standard_normal(n).astype(np.float32), b
            want = ref.kernels["sgd_colsum"](bias.copy(), x, hp, maximize=maximize)
            bh = op(bias)
            be.run("sgd_colsum", [bh, op(x), op(hp)], bias.shape, f32, {"maximize": maximize})
            np.testing.assert_allclose(be.to_host(bh._h, bias.shape, f32), want, rtol=1e-5,
                                       atol=1e-5, err_msg=f"sgd_colsum {(m, n)}")  # fmt: skip
    wl.set_backend("webgl")
    try:
        wl.manual_seed(0)
        model = wl.Sequential([nn.Dense(16, activation="relu", input_shape=(12,)), nn.Dense(3)])
        model.compile(optimizer=wl.optim.SGD(lr=0.1), loss="mse")
        x3, y3 = rng.random((8, 12), dtype=np.float32), rng.random((8, 3), dtype=np.float32)
        for _ in range(3):
            model.train_on_batch(x3, y3)
        kernels = [i.kernel for i in model.train_function._last.replay.program.instrs]
        assert kernels.count("sgd_matmul") == 2 and kernels.count("sgd_colsum") == 2, kernels
    finally:
        wl.set_backend("numpy")


@run_in_pyodide
def test_gemm_kernels_read_transposed_operands_in_place(selenium_wasmdl):
    """matmul, dense and sgd_matmul with the rewrite's ``transpose`` flags (the operand stored
    transposed, read through strides by every matmul variant) equal the product of the
    transposed copies; a captured Dense step on webgl then holds no permute."""
    import numpy as np

    import wasmdl as wl
    from wasmdl import nn
    from wasmdl.backend.base import Operand

    be = wl.backend.get_backend("webgl")
    rng = np.random.default_rng(3)
    f32 = np.dtype("float32")

    def op(a):
        return Operand(be.from_host(a), a.shape, a.dtype)

    prev = be.matmul_variant
    try:
        for variant in ("block", "packed", "plain"):
            be.matmul_variant = variant
            for m, k, n in ((64, 40, 16), (2, 9, 5), (6, 3, 7)):
                a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
                a, b, bias = (v.astype(np.float32) for v in (a, b, rng.standard_normal(n)))
                for ta, tb in ((True, False), (False, True), (True, True)):
                    xs = [op(a.T.copy() if ta else a), op(b.T.copy() if tb else b)]
                    msg = f"{variant} {(m, k, n)} {(ta, tb)}"
                    got = be.to_host(be.run("matmul", xs, (m, n), f32, {"transpose": (ta, tb)}),
                                     (m, n), f32)  # fmt: skip
                    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5, err_msg=msg)
                    h = be.run("dense", [*xs, op(bias)], (m, n), f32,
                               {"activation": "relu", "transpose": (ta, tb)})  # fmt: skip
                    np.testing.assert_allclose(be.to_host(h, (m, n), f32),
                                               np.maximum(a @ b + bias, 0), rtol=1e-5,
                                               atol=1e-5, err_msg=msg)  # fmt: skip
                    p = rng.standard_normal((m, n)).astype(np.float32)
                    hp = np.array([0.5, 1.0], np.float32)
                    ph = op(p)
                    be.run("sgd_matmul", [ph, *xs, op(hp)], (m, n), f32, {"transpose": (ta, tb)})
                    np.testing.assert_allclose(be.to_host(ph._h, (m, n), f32), p - 0.5 * (a @ b),
                                               rtol=1e-5, atol=1e-5, err_msg=msg)  # fmt: skip
    finally:
        be.matmul_variant = prev
    wl.set_backend("webgl")
    try:
        wl.manual_seed(0)
        model = wl.Sequential([nn.Dense(16, activation="relu", input_shape=(12,)), nn.Dense(3)])
        model.compile(optimizer="adam", loss="mse")
        x3, y3 = rng.random((8, 12), dtype=np.float32), rng.random((8, 3), dtype=np.float32)
        for _ in range(3):
            model.train_on_batch(x3, y3)
        kernels = [i.kernel for i in model.train_function._last.replay.program.instrs]
        assert "permute" not in kernels, kernels
        model.compile(optimizer=wl.optim.SGD(lr=0.1), loss="mse")  # plain SGD: sgd_matmul
        for _ in range(3):
            model.train_on_batch(x3, y3)
        instrs = model.train_function._last.replay.program.instrs
        assert "permute" not in [i.kernel for i in instrs], [i.kernel for i in instrs]
        assert [i.params.get("transpose") for i in instrs if i.kernel == "sgd_matmul"] == [
            (True, False)
        ] * 2
    finally:
        wl.set_backend("numpy")


@run_in_pyodide
def test_rewrite_targets_on_the_program_case_rows(selenium_wasmdl):
    """Every row of the program case table (``wasmdl.testing.program_cases``) for a fused or
    rewrite-target kernel webgl has (dense, conv2d_bias with groups, strides and dilation, the
    row kernels, slice_grad_sum over more windows than one draw takes) against the numpy
    reference; then conv2d, conv2d_bias and both gradients on
    layers whose channels per group are a multiple of 4 (the four-channels-per-fragment
    kernels)."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.backend.base import Operand
    from wasmdl.testing import program_cases as pc
    from wasmdl.testing.trace import REFERENCE

    be = wl.backend.get_backend("webgl")
    names = {"dense", "conv2d_bias", "softmax", "softmax_grad", "slice_grad_sum"}
    names |= {f"{k}_cross_entropy{g}" for k in ("softmax", "prob") for g in ("", "_grad")}
    rng, seen = np.random.default_rng(4), set()
    for kernel, specs, params in pc.CASES:
        if kernel not in names:
            continue
        arrays = [pc._array(rng, s) for s in specs]
        want = np.asarray(REFERENCE[kernel](*[a.copy() for a in arrays], **params))
        xs = [Operand(be.from_host(a), a.shape, a.dtype) for a in arrays]
        h = be.run(kernel, xs, want.shape, want.dtype, dict(params))
        got = be.to_host(h, want.shape, want.dtype)
        what = f"{kernel} {[a.shape for a in arrays]} {params}"
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=what)
        seen.add(kernel)
    assert seen == names, names - seen
    # convolutions with four output channels per fragment (a group's channels a multiple of 4)
    conv = {"strides": (1, 1), "padding": ((1, 1), (0, 0)), "dilation": (1, 1), "groups": 1}
    wide = {"strides": (2, 1), "padding": ((0, 0), (2, 1)), "dilation": (1, 2), "groups": 2}
    for (xs_, ws_, params) in (((2, 9, 8, 3), (3, 2, 3, 8), conv),
                               ((1, 7, 9, 6), (2, 3, 3, 8), wide)):  # fmt: skip
        x = rng.standard_normal(xs_).astype(np.float32)
        w = rng.standard_normal(ws_).astype(np.float32)
        b = rng.standard_normal(ws_[-1]).astype(np.float32)
        relu = {"activation": "relu"}
        for kernel, arrays, extra in (("conv2d", [x, w], {}), ("conv2d_bias", [x, w, b], relu)):
            want = np.asarray(REFERENCE[kernel](*arrays, **params, **extra))
            xs = [Operand(be.from_host(a), a.shape, a.dtype) for a in arrays]
            got = be.to_host(be.run(kernel, xs, want.shape, want.dtype, {**params, **extra}),
                             want.shape, want.dtype)  # fmt: skip
            what = f"{kernel} {params}"
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=what)
        g = rng.standard_normal(want.shape).astype(np.float32)
        for kernel, arrays, extra, shape in (
            ("conv2d_grad_input", [g, w], {"input_shape": x.shape}, x.shape),
            ("conv2d_grad_weight", [x, g], {"weight_shape": w.shape}, w.shape),
        ):
            want = np.asarray(REFERENCE[kernel](*arrays, **params, **extra))
            xs = [Operand(be.from_host(a), a.shape, a.dtype) for a in arrays]
            got = be.to_host(be.run(kernel, xs, shape, want.dtype, {**params, **extra}), shape,
                             want.dtype)  # fmt: skip
            what = f"{kernel} {params}"
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=what)


@run_in_pyodide
def test_fused_elementwise_programs_match_the_reference(selenium_wasmdl):
    """Random elementwise programs (``program_cases.elementwise_program`` over the ops that
    keep values finite: GLSL leaves NaN undefined; slices with negative strides, transposes
    and broadcasts read through views) rewritten for webgl, where they become
    ``fused_elementwise`` draws, and replayed twice against the numpy reference of the
    original program; then each unary op, div and pow in one fused draw on wide inputs in
    their domains (the math.glsl helpers)."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.backend.base import Operand
    from wasmdl.rewrite import rewrite
    from wasmdl.testing.program_cases import _array, elementwise_program
    from wasmdl.testing.trace import REFERENCE, reference

    be = wl.backend.get_backend("webgl")
    f32 = np.dtype("float32")
    fused = 0

    def replay(program, arrays):
        run = be.compile(program)
        for _ in range(2):  # recorded, then replayed from its templates
            outs = run([be.from_host(a) for a in arrays])
        return [
            be.to_host(h, program.slots[s].shape, f32)
            for h, s in zip(outs, program.outputs, strict=True)
        ]

    for seed in range(8):
        p, arrays = elementwise_program(seed, tame=True)
        want = reference(p, [a.copy() for a in arrays])
        q = rewrite(p.copy(), be)
        fused += sum(i.kernel == "fused_elementwise" for i in q.instrs)
        for got, w in zip(replay(q, arrays), want, strict=True):
            np.testing.assert_allclose(got, w, rtol=2e-4, atol=2e-5,
                                       err_msg=f"seed {seed}: {q.instrs}")  # fmt: skip
    assert fused >= 8
    rng = np.random.default_rng(5)
    x = _array(rng, ((3, 40), "w"))
    y = _array(rng, ((40,), "p"))
    trees = [("mul", (op, ("leaf", 0)), ("leaf", 1)) for op in
             ("neg", "abs", "exp", "tanh", "sigmoid", "sin", "cos", "erf", "relu")]  # fmt: skip
    trees += [("sub", ("log", ("leaf", 1)), ("sqrt", ("leaf", 1))),
              ("div", ("leaf", 0), ("pow", ("leaf", 1), ("tanh", ("leaf", 0))))]  # fmt: skip
    for tree in trees:
        op = str(tree)
        params = {"expr": tree, "views": ((0, (40, 1)), (0, (0, 1))), "shape": (3, 40)}
        want = REFERENCE["fused_elementwise"](x, y, **params)
        xs = [Operand(be.from_host(a), a.shape, a.dtype) for a in (x, y)]
        got = be.to_host(be.run("fused_elementwise", xs, (3, 40), np.dtype("float32"), params),
                         (3, 40), np.dtype("float32"))  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=op)


@run_in_pyodide
def test_matmul_epilogues_match_the_reference(selenium_wasmdl):
    """A GEMM whose result one elementwise tree reads becomes ``matmul_epilogue`` on webgl (the
    tree in the blocked product's unpack pass, or the product then a fused draw on 1-3 rows):
    transposed operands, a broadcast bias, a strided view of another input; replayed twice
    against the numpy reference of the original program."""
    import numpy as np

    import wasmdl as wl
    from wasmdl.program import Program
    from wasmdl.rewrite import rewrite
    from wasmdl.testing.trace import reference

    be = wl.backend.get_backend("webgl")
    f32 = np.dtype("float32")
    rng = np.random.default_rng(9)
    for m, k, n in ((64, 40, 24), (3, 9, 5), (13, 70, 6)):
        p = Program()
        g, w, y = (p.slot("input", s, f32) for s in ((m, k), (n, k), (m, 2 * n)))
        b = p.slot("input", (n,), f32)
        wt = p.emit("permute", (w,), {"axes": (1, 0)}, (k, n), f32)
        mm = p.emit("matmul", (g, wt), {}, (m, n), f32)
        ys = p.emit("slice", (y,), {"starts": (0, 1), "stops": (m, 2 * n), "steps": (1, 2)},
                    (m, n), f32)  # fmt: skip
        r = p.emit("relu_grad", (mm, ys), {}, (m, n), f32)
        out = p.emit("add", (r, b), {}, (m, n), f32)
        p.externals, p.outputs = [g, w, y, b], [out]
        arrays = [rng.standard_normal(s).astype(f32) for s in ((m, k), (n, k), (m, 2 * n), (n,))]
        want = reference(p, [a.copy() for a in arrays])[0]
        q = rewrite(p.copy(), be)
        assert [i.kernel for i in q.instrs] == ["matmul_epilogue"], q.instrs
        run = be.compile(q)
        for _ in range(2):
            (h,) = run([be.from_host(a) for a in arrays])
            got = be.to_host(h, (m, n), f32)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=str((m, k, n)))


@run_in_pyodide
def test_shared_gemm_operands_match_the_reference(selenium_wasmdl):
    """A program whose weight several products read (as a recurrent weight per time step),
    as B and transposed, updated in place in between (``program_cases.shared_operands_program``),
    rewritten for webgl: each operand read alike is packed once per value (``gemm_operand``),
    and two replays equal the numpy reference of the original program, the weight's
    update included; the packing draws drop accordingly. Then an LSTM step on webgl packs its
    recurrent weight once per direction (forward U, backward U^T)."""
    import numpy as np

    import wasmdl as wl
    from wasmdl import nn
    from wasmdl.program import Instr
    from wasmdl.rewrite import rewrite
    from wasmdl.testing.program_cases import shared_operands_program
    from wasmdl.testing.trace import reference

    be = wl.backend.get_backend("webgl")
    rng = np.random.default_rng(6)
    f32 = np.dtype("float32")
    p = shared_operands_program()
    arrays = [rng.standard_normal(p.slots[s].shape).astype(np.float32) for s in p.externals]
    arrays[2] = np.array([0.1, 1.0], np.float32)  # hp: the learning rate
    want = reference(p, [a.copy() for a in arrays])
    q = rewrite(p.copy(), be)
    assert sum(i.kernel == "gemm_operand" for i in q.instrs) == 5, q.instrs
    run = be.compile(q)
    for attempt in range(2):  # recorded, then replayed from its templates
        be.flush()
        be.stats(reset=True)
        outs = run([be.from_host(a) for a in arrays])
        got = [be.to_host(h, q.slots[s].shape, f32) for h, s in zip(outs, q.outputs, strict=True)]
        draws = be.stats(reset=True)["shim"]["draws"]
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"{attempt} {k}")
    # the same program with every product packing its own operands
    base, src = q.copy(), {i.out: i.ins[0] for i in q.instrs if i.kernel == "gemm_operand"}
    base.instrs = [
        Instr(i.kernel, tuple(src.get(s, s) for s in i.ins), i.out,
              {k: v for k, v in i.params.items() if k != "packed"}, i.shape, i.dtype)
        for i in q.instrs if i.kernel != "gemm_operand"
    ]  # fmt: skip
    run0 = be.compile(base)
    for _ in range(2):
        be.flush()
        be.stats(reset=True)
        outs = run0([be.from_host(a) for a in arrays])
        got0 = [be.to_host(h, base.slots[s].shape, f32)
                for h, s in zip(outs, base.outputs, strict=True)]  # fmt: skip
        draws0 = be.stats(reset=True)["shim"]["draws"]
    for g, w in zip(got0, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    # 5 shared packs serve 11 operand reads, which unshared are 11 packs
    assert draws0 - draws == 11 - 5, (draws0, draws)
    wl.set_backend("webgl")
    try:
        wl.manual_seed(0)
        model = wl.Sequential([nn.LSTM(16, input_shape=(6, 8)), nn.Dense(3)])
        model.compile(optimizer="adam", loss="mse")
        x, y = rng.random((8, 6, 8), dtype=np.float32), rng.random((8, 3), dtype=np.float32)
        for _ in range(4):
            model.train_on_batch(x, y)
        instrs = model.train_function._last.replay.program.instrs
        packs = [i for i in instrs if i.kernel == "gemm_operand"]
        readers = [i for i in instrs if "packed" in i.params]
        assert len(packs) >= 2 and len(readers) >= 2 * 5, [i.kernel for i in instrs]
    finally:
        wl.set_backend("numpy")


@run_in_pyodide
def test_a_captured_step_of_many_draws_is_one_call(selenium_wasmdl):
    """A captured training step with more draws than an eager batch holds (an LSTM over 40
    time steps: over 512 draws) still reaches JavaScript as one packet per step, and trains as
    the numpy backend does from the same weights."""
    import numpy as np

    import wasmdl as wl
    from wasmdl import nn

    rng = np.random.default_rng(7)
    x, y = rng.random((8, 40, 6), dtype=np.float32), rng.integers(0, 3, 8)
    losses = {}
    for name in ("numpy", "webgl"):
        wl.set_backend(name)
        try:
            wl.manual_seed(1)
            model = wl.Sequential([nn.LSTM(12, input_shape=(40, 6)), nn.Dense(3)])
            model.compile(optimizer="adam", loss=wl.losses.SparseCategoricalCrossentropy(
                from_logits=True))  # fmt: skip
            losses[name] = [float(model.train_on_batch(x, y)) for _ in range(4)]
            if name == "webgl":
                be = wl.get_backend()
                be.stats(reset=True)
                for _ in range(3):
                    losses[name].append(float(model.train_on_batch(x, y)))
                s = be.stats(reset=True)
                calls, draws = sum(s["python"].values()) / 3, s["shim"]["draws"] / 3
            else:
                losses[name] += [float(model.train_on_batch(x, y)) for _ in range(3)]
        finally:
            wl.set_backend("numpy")
    assert draws > 512, draws
    assert calls == 1, (calls, draws)
    np.testing.assert_allclose(losses["webgl"], losses["numpy"], rtol=1e-3)


@run_in_pyodide
def test_every_layer_trains_on_webgl_as_on_numpy(selenium_wasmdl):
    """Small models that together hold every layer class of ``wasmdl.nn`` (convolutions of
    each kind, pooling, normalisation, dropout with the same seeded masks, recurrent layers,
    bidirectional, embedding, attention, the merge and reshape layers) train 5 Adam steps on
    webgl with the numpy backend's losses from the same weights (relative 1e-4)."""
    import inspect

    import numpy as np

    from wasmdl import nn
    from wasmdl.testing import webgl_checks as C

    ref, gl = C.layer_losses("numpy"), C.layer_losses("webgl")
    classes = {c for n in dir(nn) if inspect.isclass(c := getattr(nn, n))
               and issubclass(c, nn.Layer) and c is not nn.Layer}  # fmt: skip
    assert {c.__name__ for c in classes} <= set(gl["layers"]), set(gl["layers"])
    for name, want in ref["losses"].items():
        got = gl["losses"][name]
        assert len(got) == 5 and all(np.isfinite(got)), (name, got)
        np.testing.assert_allclose(got, want, rtol=1e-4, err_msg=name)
