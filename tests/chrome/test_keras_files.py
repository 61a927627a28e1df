"""Keras files in the browser (Pyodide in Chromium, where h5py does not exist).

Keras 3 (natively, torch backend) writes .keras and legacy .h5 files for the four acceptance
models (an MLP, a CNN with BatchNorm, an LSTM/GRU model, a two-input two-output functional
model with a shared layer) and the model of the other mapped layers; their bytes go into the
page, where wasmdl loads them (as bytes and as a JS Uint8Array) and must predict within 1e-5 of
Keras' own outputs. Then a model built in the page is saved as .keras, and Keras (natively)
loads those bytes with the same predictions.
"""

import os
import sys
from pathlib import Path

import numpy as np
from pytest_pyodide import run_in_pyodide

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "keras_files"))
from keras_fixture import ALL, max_rel_err  # noqa: E402


@run_in_pyodide
def _load_in_pyodide(selenium_wasmdl, files):
    import numpy as np
    from pyodide.ffi import to_js

    import wasmdl

    assert "h5py" not in __import__("sys").modules
    errors = {}
    for name, case in files.items():
        xs = case["xs"] if len(case["xs"]) > 1 else case["xs"][0]
        for ext in ("keras", "h5"):
            for source in (case[ext], to_js(case[ext])):  # bytes and a JS Uint8Array
                out = wasmdl.load_model(source).predict(xs)
                out = out if isinstance(out, list) else [out]
                errors[f"{name}.{ext}"] = max(
                    float(np.max(np.abs(np.float64(o) - y)) / np.max(np.abs(y)))
                    for o, y in zip(out, case["ys"], strict=True)
                )
    return errors


def test_keras_written_files_predict_like_keras_in_chromium(selenium_wasmdl, keras_files):
    files = {n: {k: keras_files[n][k] for k in ("keras", "h5", "xs", "ys")} for n in ALL}
    errors = _load_in_pyodide(selenium_wasmdl, files)
    print("max relative error per file in Chromium:", errors)
    assert len(errors) == 2 * len(ALL)
    assert max(errors.values()) < 1e-5, errors


@run_in_pyodide
def _save_in_pyodide(selenium_wasmdl, x1, x2):
    import wasmdl
    from wasmdl import nn

    a, b = wasmdl.Input((6,), name="a"), wasmdl.Input((6,), name="b")
    shared = nn.Dense(5, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    y1 = nn.Dense(1, name="y1")(nn.Concatenate()([sa, sb]))
    y2 = nn.Dense(3, activation="softmax", name="y2")(nn.Add()([sa, sb]))
    model = wasmdl.Model([a, b], [y1, y2])
    model.compile("sgd", loss=["mse", "categorical_crossentropy"], loss_weights=[1.0, 0.5])
    return model.save(format="keras"), model.predict([x1, x2])


def test_keras_file_written_in_chromium_loads_in_keras(selenium_wasmdl, tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    rng = np.random.default_rng(0)
    x1, x2 = (rng.normal(size=(4, 6)).astype(np.float32) for _ in range(2))
    blob, want = _save_in_pyodide(selenium_wasmdl, x1, x2)
    path = tmp_path / "from_chromium.keras"
    path.write_bytes(blob)
    got = keras.saving.load_model(path).predict([x1, x2], verbose=0)
    assert max_rel_err([np.asarray(g) for g in got], want) < 1e-5
