"""Tier 2 (Node): captured step programs as one WASM opcode stream (``wasmdl/_wasm/program.py``,
``kernels/wasm/program.c``): every stream kernel against the numpy kernels, whole training
steps (MLP, CNN, LSTM; SGD with momentum and Adam) over 20 steps against the numpy oracle
with exactly one ``run_program`` call per step (the existing call counters), programs split
by an uncovered instruction, and the run's contract (fresh outputs, changing batches)."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_every_stream_kernel_matches_numpy(selenium_wasmdl):
    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.testing import program_cases

    be = wasmdl.get_backend("numpy")
    failures = program_cases.check_ops(lambda p: program.compile(p, be, wasmdl._wasm.kernels()))
    assert failures == [], "\n".join(failures)


@run_in_pyodide
def test_backend_compile_verb_is_the_stream_while_installed(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl._wasm.program import Runner
    from wasmdl.testing.program_cases import transpose_program

    be = wasmdl.get_backend("numpy")
    p, arrays = transpose_program()
    assert isinstance(be.compile(p), Runner)
    try:
        wasmdl.set_cpu_kernels(False)
        assert not isinstance(getattr(be, "compile", lambda p: None)(p), Runner)
    finally:
        wasmdl.set_cpu_kernels(True)
    run = be.compile(p)
    np.testing.assert_allclose(run(arrays)[0], arrays[0].T @ arrays[1], rtol=1e-5)


@run_in_pyodide
def test_transposes_fold_into_the_gemm(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.testing.program_cases import transpose_program
    from wasmdl.testing.trace import reference

    p, arrays = transpose_program()
    run = program.compile(p, wasmdl.get_backend("numpy"), wasmdl._wasm.kernels())
    assert list(run.low.transposed.values()) == [p.externals[0]]  # a.T; c.T is an output
    for got, want in zip(run(arrays), reference(p, arrays), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@run_in_pyodide
def test_every_stream_kernel_matches_numpy_in_the_simd128_build(selenium_wasmdl):
    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.testing import program_cases
    from wasmdl.testing.cpu_modes import switched

    be = wasmdl.get_backend("numpy")
    with switched(True, module="cpu.wasm") as calls:
        assert wasmdl.cpu_kernels()["module"] == "cpu.wasm"
        failures = program_cases.check_ops(lambda p: program.compile(p, be, wasmdl._wasm.kernels()))
    assert failures == [], "\n".join(failures)
    assert calls.wasm["run_program"] == len(program_cases.CASES)


@run_in_pyodide
def test_training_steps_match_numpy_in_one_call(selenium_wasmdl):
    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.testing.cpu_modes import switched
    from wasmdl.testing.program_steps import MODELS, train_check

    be = wasmdl.get_backend("numpy")
    for model in MODELS:
        for opt in ("sgd", "adam"):
            runs = []

            def compile(p, runs=runs):
                runs.append(program.compile(p, be, wasmdl._wasm.kernels()))
                return runs[-1]

            with switched(True) as calls:
                r = train_check(model, opt, compile, steps=20)
            what = f"{model} {opt}: {r}"
            assert r["max_loss_diff"] < 1e-5 and r["max_weight_diff"] < 1e-5, what
            assert r["calls"] == (1, 0), what
            assert calls.wasm["run_program"] == 20, (what, calls.summary())


@run_in_pyodide
def test_uncovered_instruction_splits_the_stream(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.program import Program
    from wasmdl.testing.cpu_modes import switched
    from wasmdl.testing.trace import reference

    p = Program()
    x = p.slot("input", (3, 4), np.float32)
    t = p.slot("const", (), np.float32)
    y = p.emit("gt", (x, t), {}, (3, 4), np.bool_)
    z = p.emit("sum", (y,), {"axis": (1,), "keepdims": False}, (3,), np.int32)  # of bools: numpy
    w = p.emit("reshape", (z,), {"shape": (1, 3)}, (1, 3), np.int32)
    c = p.emit("cast", (w,), {"dtype": np.dtype(np.float32)}, (1, 3), np.float32)
    s = p.emit("sum", (c,), {"axis": (0, 1), "keepdims": False}, (), np.float32)
    p.externals, p.outputs = [x, t], [s, z]
    run = program.compile(p, wasmdl.get_backend("numpy"), wasmdl._wasm.kernels())
    assert (run.wasm_calls, run.numpy_calls) == (2, 1)
    xs = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    arrays = [xs, np.array(0.3, np.float32)]
    with switched(True) as calls:
        got = run(arrays)
    assert calls.wasm["run_program"] == 2
    for a, b in zip(got, reference(p, arrays), strict=True):
        np.testing.assert_array_equal(a, b)


@run_in_pyodide
def test_outputs_are_fresh_and_batches_rebind(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.program import Program

    p = Program()
    x = p.slot("input", (4, 3), np.float32)
    w = p.slot("param", (3, 2), np.float32)
    y = p.emit("matmul", (x, w), {}, (4, 2), np.float32)
    p.externals, p.outputs = [x, w], [y]
    run = program.compile(p, wasmdl.get_backend("numpy"), wasmdl._wasm.kernels())
    rng = np.random.default_rng(1)
    wv = rng.standard_normal((3, 2)).astype(np.float32)
    xs = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3)]
    first = run([xs[0], wv])[0]
    kept = first.copy()
    second = run([xs[1], wv])[0]  # a new batch array: its address is patched
    third = run([np.asfortranarray(xs[2]), wv])[0]  # not C-contiguous: copied, then run
    np.testing.assert_array_equal(first, kept)  # a later run never writes a returned array
    for got, x in ((first, xs[0]), (second, xs[1]), (third, xs[2])):
        np.testing.assert_allclose(got, x @ wv, rtol=1e-6)
    xs[1][:] = 0  # the same array again with new contents: read at run time
    np.testing.assert_array_equal(run([xs[1], wv])[0], np.zeros((4, 2), np.float32))


@run_in_pyodide
def test_indices_outside_the_axis_never_touch_other_memory(selenium_wasmdl):
    """numpy raises IndexError; the stream (which cannot raise) reads zeros and writes
    nothing outside the output."""
    import numpy as np

    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.program import Program

    p = Program()
    x, i = p.slot("input", (4, 3), np.float32), p.slot("input", (3,), np.int32)
    g = p.emit("gather", (x, i), {"axis": 0}, (3, 3), np.float32)
    s = p.emit("scatter_add", (g, i), {"shape": (4, 3), "axis": 0}, (4, 3), np.float32)
    p.externals, p.outputs = [x, i], [g, s]
    run = program.compile(p, wasmdl.get_backend("numpy"), wasmdl._wasm.kernels())
    xs = np.arange(12, dtype=np.float32).reshape(4, 3) + 1
    got_g, got_s = run([xs, np.array([1, 1 << 20, -9], np.int32)])
    np.testing.assert_array_equal(got_g, [xs[1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(got_s, [[0, 0, 0], xs[1], [0, 0, 0], [0, 0, 0]])


@run_in_pyodide
def test_stream_relu_keeps_numpys_nan_and_signed_zero(selenium_wasmdl):
    """ReLU in the stream (elementwise, and the dense and conv2d_bias epilogues) gives numpy's
    values on the edges: NaN stays NaN, infinities and tiny values where they are, zeros zero
    (numpy's own sign of max(-0, 0) differs by platform: +0 natively, -0 in Pyodide)."""
    import numpy as np

    import wasmdl
    from wasmdl._wasm import program
    from wasmdl.program import Program
    from wasmdl.testing.trace import REFERENCE

    be, k = wasmdl.get_backend("numpy"), wasmdl._wasm.kernels()
    edge = np.array([-0.0, np.nan, -1.0, 2.0, np.inf, -np.inf, 0.0, -3e-39], np.float32)
    cases = [
        ("relu", [edge.reshape(2, 4)], {}),
        ("dense", [np.eye(8, dtype=np.float32)[:4], np.diag(edge), np.zeros(8, np.float32)],
         {"activation": "relu"}),
        ("conv2d_bias", [edge.reshape(1, 1, 1, 8), np.eye(8, dtype=np.float32).reshape(1, 1, 8, 8),
                         np.zeros(8, np.float32)],
         {"strides": (1, 1), "padding": ((0, 0), (0, 0)), "dilation": (1, 1), "groups": 1,
          "activation": "relu"}),
    ]  # fmt: skip
    for name, arrays, params in cases:
        want = np.asarray(REFERENCE[name](*arrays, **params), np.float32)
        p = Program()
        ins = [p.slot("input", a.shape, a.dtype) for a in arrays]
        out = p.emit(name, ins, params, want.shape, np.float32)
        p.externals, p.outputs = ins, [out]
        run = program.compile(p, be, k)
        assert run.wasm_calls == 1 and run.numpy_calls == 0, name
        got = run(arrays)[0]
        np.testing.assert_array_equal(got, want, err_msg=name)  # NaN == NaN, -0 == +0
