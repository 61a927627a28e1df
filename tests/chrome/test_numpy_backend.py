"""Tier 3: the numpy backend in Chromium, with the WASM SIMD CPU kernels on and off (issue #8).

The same checks as Node's tier (tests/pyodide/test_ops.py, test_training.py), from the same
shared code (wasmdl.testing.cpu_modes, wasmdl.testing.recipes), on Chromium's V8:
- the core op table, forward and gradients, contiguous and strided inputs, with the kernels on
  (every installed kernel of a core primitive reached, WASM calls counted) and off (none);
- the MLP and LSTM recipes trained to their targets with the kernels on and off;
- the first batches of the MLP and CNN recipes from the same weights: loss curves with the
  kernels on and off agree and fall; the full CNN recipe with the kernels on (off, its numpy
  convolutions would take ~12 minutes).
One page for the module; each test is one Pyodide call.
"""

import json

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.mark.parametrize("kernels", ["on", "off"])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_op_table_with_kernels(selenium_wasmdl, kernels):
    from wasmdl.testing import CASES, cpu_modes

    assert len(CASES) > 200
    for checker in ("check_forward", "check_grad"):
        report = cpu_modes.op_table(checker, on=kernels == "on")
        print(f"chrome {checker}, kernels {kernels}: {report['checks']} checks, "
              f"{report['table_calls']}, {report['wasm_calls']} WASM calls")  # fmt: skip
        every = checker == "check_grad"
        cpu_modes.assert_table_passed(report, on=kernels == "on", every_kernel=every)


@pytest.mark.parametrize("kernels", ["on", "off"])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_mlp_recipe_reaches_92_percent(selenium_wasmdl, kernels):
    from wasmdl.testing import recipes

    recipes.check_mlp_recipe(kernels == "on", "chrome")


@pytest.mark.parametrize("kernels", ["on", "off"])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_lstm_recipe_learns_the_adding_problem(selenium_wasmdl, kernels):
    from wasmdl.testing import recipes

    recipes.check_lstm_recipe(kernels == "on", "chrome")


@pytest.mark.parametrize("recipe, steps, batch_size", [("mlp", 40, 64), ("cnn", 30, 32)])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_recipe_losses_agree_with_kernels_on_and_off(selenium_wasmdl, recipe, steps, batch_size):
    from wasmdl.testing import recipes

    print("chrome", recipes.kernels_on_off(recipe, steps, batch_size))


@pytest.mark.driver_timeout(115)
def test_cnn_recipe_reaches_96_5_percent_with_kernels_on(selenium_wasmdl):
    """The full CNN recipe with the kernels on (off, its numpy convolutions would take ~12
    minutes), one epoch per Pyodide call: Selenium gives up on a script after 120 s."""
    rt = selenium_wasmdl
    rt.run(
        "from wasmdl.testing import cpu_modes, recipes\n"
        "_mode = cpu_modes.switched(True)\n"
        "_calls = _mode.__enter__()\n"
        "_cnn = recipes.train_mnist_by_epoch(\n"
        "    recipes.cnn_model(), recipes.mnist_data('cnn'), epochs=8, batch_size=32)"
    )
    try:
        for _ in range(8):
            rt.run("next(_cnn)")
        loss, acc, secs = json.loads(rt.run("import json; json.dumps(next(_cnn))"))
    finally:
        calls = json.loads(rt.run("_mode.__exit__(None, None, None); json.dumps(_calls.summary())"))
    print(f"chrome CNN: test accuracy {acc:.4f}, loss {loss:.4f}, {secs:.1f} s, {calls}")
    assert acc >= 0.965, acc
    assert calls["table"].get("conv2d_grad_weight") and calls["wasm_total"] > 0, calls
