"""Tier 2: hardening inside Pyodide in Node: atomic saves in Pyodide's in-memory file system (a
write failing midway leaves the previous model loadable), hostile model files contained, bad
arguments and NaN losses named, as natively."""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_atomic_save_in_pyodide_fs(selenium_wasmdl):
    import errno
    import os

    import numpy as np
    import pytest

    import wasmdl
    from wasmdl.io import atomic

    folder = "/tmp/hardening"
    os.makedirs(folder, exist_ok=True)
    path = f"{folder}/m.wasmdl"
    old = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,))])
    old.save(path)
    x = np.ones((2, 4), np.float32)
    want = old.predict(x)

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(bytes(data[:50]))
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()
            return False

    saved = atomic._fdopen
    atomic._fdopen = lambda fd, mode: Full(os.fdopen(fd, mode))
    try:
        with pytest.raises(OSError, match="No space left"):
            wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,))]).save(path)
    finally:
        atomic._fdopen = saved
    assert os.listdir(folder) == ["m.wasmdl"]
    np.testing.assert_array_equal(wasmdl.load_model(path).predict(x), want)
    new = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,))])
    new.save(path)  # and a save that succeeds replaces it
    np.testing.assert_array_equal(wasmdl.load_model(path).predict(x), new.predict(x))


@run_in_pyodide
def test_hostile_files_and_bad_arguments_in_pyodide(selenium_wasmdl):
    import json
    import struct
    import time
    import warnings

    import numpy as np
    import pytest

    import wasmdl
    from wasmdl.io import ModelFileError

    blob = wasmdl.Sequential([wasmdl.nn.LSTM(4, input_shape=(5, 3)), wasmdl.nn.Dense(2)]).save()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    config = json.loads(header["__metadata__"]["config"])
    config["build_input_shape"] = [[None, 4000000, 3]]  # millions of steps: refused, not run
    header["__metadata__"]["config"] = json.dumps(config)
    header["layers.0.bias"]["dtype"] = ["F32"]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with pytest.raises(ModelFileError, match="dtype"):
        wasmdl.load_model(struct.pack("<Q", len(text)) + text + blob[8 + n :])
    header["layers.0.bias"]["dtype"] = "F32"
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    start = time.perf_counter()  # built by shape inference: no step runs, nothing allocated
    loaded = wasmdl.load_model(struct.pack("<Q", len(text)) + text + blob[8 + n :])
    assert time.perf_counter() - start < 2.0 and loaded.count_params() == 138

    model = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,), name="d")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics="accuracy")
    x, y = np.ones((8, 4), np.float32), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 3\), received 5 at index 0"):
        model.evaluate(x, y + 5)
    with pytest.raises(ValueError, match='layer "d" is incompatible'):
        model.predict(np.ones((2, 5), np.float32))
    history = model.fit(x, y, batch_size=None, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    x[3] = np.nan
    stop = wasmdl.callbacks.TerminateOnNaN(restore_last_finite_weights=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0, callbacks=[stop])
    assert stop.stopped_batch == 1 and "epoch 1, batch 2" in str(caught[0].message)
    assert all(np.isfinite(w).all() for w in model.get_weights())
