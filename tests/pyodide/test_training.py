"""Tier 2 (Pyodide in Node): the issue's training recipes on the 2,000 held-out MNIST digits,
an LSTM sequence task, fit_async, and save/load through Pyodide's file system and raw bytes.

The MLP and LSTM recipes run with the WASM CPU kernels on and off (wasmdl.testing.cpu_modes
counts the calls that reached WASM: some when on, none when off); the CNN recipe runs with
them on (off, its numpy convolutions would take ~7 minutes here), and the first 30 batches of
the CNN and 40 of the MLP recipe are trained both ways from the same weights, whose losses
must agree and fall (recipes.kernels_on_off). tests/chrome/test_numpy_backend.py runs the same
in Chromium.

The same recipes run natively, with PyTorch from the same initial weights, in
scripts/mnist_recipes.py (tests/native/test_training_mnist.py runs its MLP and LSTM).
Each test prints its accuracy and time (see the pytest output with -s, or the JUnit XML).
"""

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.fixture(scope="module", autouse=True)
def mnist_cached(selenium_wasmdl_module):
    """Node has no synchronous fetch: download MNIST once with the JS fetch (from the site's
    /datasets/, verified), so the recipes' plain ``mnist.load_data()`` finds it in the cache."""
    selenium_wasmdl_module.run_async(
        "from wasmdl.datasets import mnist\nawait mnist.load_data_async()"
    )


@pytest.mark.parametrize("kernels", ["on", "off"])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_mlp_784_128_10_reaches_92_percent(selenium_wasmdl, kernels):
    """The MLP recipe of wasmdl.testing.recipes (the code scripts/mnist_recipes.py runs), with
    the WASM CPU kernels on and off."""
    from wasmdl.testing import recipes

    recipes.check_mlp_recipe(kernels == "on", "pyodide")


@pytest.mark.parametrize("kernels", ["on", "off"])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_lstm_learns_the_adding_problem(selenium_wasmdl, kernels):
    """Sequences of 10 (value, marker) pairs; the target is the sum of the two marked values.
    Predicting the mean scores MSE 1/6 ~ 0.167; the LSTM must get below 0.01 (kernels on and
    off)."""
    from wasmdl.testing import recipes

    recipes.check_lstm_recipe(kernels == "on", "pyodide")


@pytest.mark.parametrize("recipe, steps, batch_size", [("mlp", 40, 64), ("cnn", 30, 32)])
@pytest.mark.driver_timeout(300)
@run_in_pyodide
def test_recipe_losses_agree_with_kernels_on_and_off(selenium_wasmdl, recipe, steps, batch_size):
    """The first batches of the MLP and CNN recipes from the same initial weights: the loss
    curves with the kernels on and off agree to float32 rounding and fall (the full CNN recipe
    with kernels off, numpy convolutions, would take minutes)."""
    from wasmdl.testing import recipes

    print(recipes.kernels_on_off(recipe, steps, batch_size))


@run_in_pyodide
def test_save_load_through_emscripten_fs_and_js_bytes(selenium_wasmdl):
    import numpy as np
    import pytest
    from pyodide.ffi import to_js

    import wasmdl
    from wasmdl import nn
    from wasmdl.io import ModelFileError

    model = wasmdl.Sequential(
        [nn.Conv2D(2, 3, input_shape=(6, 6, 1)), nn.BatchNormalization(), nn.Flatten(), nn.Dense(3)]
    )
    x = np.random.default_rng(0).random((4, 6, 6, 1)).astype(np.float32)
    model.save("/tmp/model.wasmdl")  # Pyodide's in-memory file system
    np.testing.assert_array_equal(
        wasmdl.load_model("/tmp/model.wasmdl").predict(x), model.predict(x)
    )
    js_bytes = to_js(model.save())  # a JS Uint8Array, as bytes fetched by a page
    np.testing.assert_array_equal(wasmdl.load_model(js_bytes).predict(x), model.predict(x))
    with pytest.raises(ModelFileError, match="load_model: "):
        wasmdl.load_model(model.save()[:200])


@run_in_pyodide
async def test_fit_async_lets_the_event_loop_run(selenium_wasmdl):
    import asyncio

    import numpy as np

    import wasmdl
    from wasmdl import nn

    x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = wasmdl.Sequential([nn.Dense(2, input_shape=(4,))])
    model.compile("adam", wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True))
    ticks, progress = [], []

    async def ticker():
        while True:
            ticks.append(1)
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    cb = wasmdl.callbacks.ProgressCallback(progress.append)
    history = await model.fit_async(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    preds = await model.predict_async(x)
    task.cancel()
    assert len(history.history["loss"]) == 2 and preds.shape == (64, 2)
    assert len(ticks) >= 8 and len(progress) == 10  # 8 batches + 2 epoch ends


@run_in_pyodide
def test_mnist_file_verifies_in_pyodide(selenium_wasmdl):
    import numpy as np
    import pytest

    from wasmdl.datasets import files, mnist

    (x, y), (xt, yt) = mnist.load_data()  # the copy mnist_cached downloaded and verified
    assert x.shape == (8000, 28, 28) and xt.shape == (2000, 28, 28)
    assert np.bincount(yt).tolist() == [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]
    assert (files.folders()[0] / "mnist.npz").is_file()
    # a file not yet cached: Node cannot fetch synchronously, and the error says what to do
    with pytest.raises(FileNotFoundError, match=r"absent\.npz.*XMLHttpRequest.*get_file_async"):
        files.get_file("absent.npz", "0" * 64)


@pytest.mark.driver_timeout(1500)  # last in the module: a timeout stops the runtime
@run_in_pyodide
def test_small_cnn_reaches_96_5_percent(selenium_wasmdl):
    """Two blocks of 3x3 conv (16, 32 filters, same padding) + 2x2 max pool, a linear
    classifier; Adam 1e-3, batch 32, 8 epochs (wasmdl.testing.recipes); kernels on."""
    from wasmdl.testing import cpu_modes, recipes

    with cpu_modes.switched(True) as calls:
        loss, acc, secs = recipes.train_mnist(
            recipes.cnn_model(), recipes.mnist_data("cnn"), epochs=8, batch_size=32
        )
    print(f"pyodide CNN: test accuracy {acc:.4f}, loss {loss:.4f}, {secs:.1f} s, "
          f"{calls.summary()}")  # fmt: skip
    assert acc >= 0.965, acc
    assert calls.table.get("conv2d_grad_weight") and calls.total > 0, calls.summary()
