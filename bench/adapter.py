"""wasmdl's side of the benchmark: build the grid network, save it, run the timed phases.

The same code runs natively (reference outputs at build time, the native CPython run) and in
Pyodide (``BrowserRunner``, driven by ``web/bench/runners/wasmdl.js``). The network is built
with the Keras-style API (``wasmdl.Sequential`` of ``wasmdl.nn.Dense``), loaded from wasmdl's
own model file, and trained with ``wasmdl.optim.SGD(lr=0.15)`` on mean categorical
cross-entropy, batch 64.

Example:
    >>> from bench import grid
    >>> ws = grid.make_weights(grid.CONFIGS[0])
    >>> model = build_model(ws)
    >>> x = grid.to_float(grid.load_data()[2][:2])
    >>> bool(abs(predict(model, x) - grid.forward(ws, x)).max() < 1e-5)
    True
"""

from __future__ import annotations

import glob
import os

import numpy as np

from . import grid

OUTPUT_ACTIVATION = {"softmax": "softmax", "relu_out": "relu", "linear_out": None}


def version() -> str:
    from wasmdl._version import __version__

    return __version__


def build_model(weights, variant: str = "softmax"):
    """A ``wasmdl.Sequential`` of Dense layers holding ``weights`` (``[(kernel, bias), ...]``)."""
    import wasmdl
    from wasmdl import nn

    layers = []
    for i, (w, _) in enumerate(weights):
        last = i == len(weights) - 1
        act = OUTPUT_ACTIVATION[variant] if last else "relu"
        kw = {"input_shape": (int(w.shape[0]),)} if i == 0 else {}
        layers.append(nn.Dense(int(w.shape[1]), activation=act, **kw))
    model = wasmdl.Sequential(layers)
    model.build((None, int(weights[0][0].shape[0])))
    model.set_weights([a for wb in weights for a in wb])
    return model


def model_file(weights) -> bytes:
    """The grid network (softmax output) in wasmdl's native model file format."""
    import wasmdl.io

    return wasmdl.io.save_model(build_model(weights))


def predict(model, x: np.ndarray) -> np.ndarray:
    """Inference, read back to a float32 numpy array (synchronises GPU backends)."""
    return np.asarray(model.predict(x), np.float32)


def compile_for_training(model):
    import wasmdl

    model.compile(
        optimizer=wasmdl.optim.SGD(model.parameters(), lr=grid.LEARNING_RATE),
        loss="categorical_crossentropy",
    )
    return model


def train_step(model, x: np.ndarray, y_onehot: np.ndarray) -> float:
    """One SGD step on one batch; returns the loss read back to the host (a sync point)."""
    return float(model.train_on_batch(x, y_onehot))


def reference(weights, data) -> dict:
    """Reference outputs for the cross-framework check, computed by wasmdl (numpy backend).

    Each variant's outputs on the first ``N_CHECK`` test digits, and the softmax network's
    outputs after one SGD step on training batch 0. Every value is also checked here against
    the float64 numpy oracle of ``grid``; if wasmdl cannot run, the oracle's values are
    used and ``by`` says so.
    """
    xtr, ytr, xte, _ = data
    x = grid.to_float(xte[: grid.N_CHECK])
    xb, yb = grid.to_float(xtr[: grid.BATCH]), ytr[: grid.BATCH]
    oracle = {v: grid.forward(weights, x, v) for v in grid.VARIANTS}
    stepped = grid.forward(grid.sgd_step(weights, xb, yb), x, "softmax")
    out = {"inputs": f"x_test[0:{grid.N_CHECK}]", "after_step_batch": f"x_train[0:{grid.BATCH}]"}
    try:
        got = {v: predict(build_model(weights, v), x) for v in grid.VARIANTS}
        model = compile_for_training(build_model(weights))
        train_step(model, xb, np.eye(grid.N_OUT, dtype=np.float32)[yb])
        got_step = predict(model, x)
        out["by"] = f"wasmdl {version()} (numpy backend, CPython)"
    except Exception as e:  # noqa: BLE001 - recorded; the oracle stands in
        got, got_step = oracle, stepped
        out["by"] = f"numpy float64 oracle (wasmdl could not run: {type(e).__name__}: {e})"
    diffs = [float(np.abs(got[v] - oracle[v]).max()) for v in grid.VARIANTS]
    out["oracle_max_abs_diff"] = max(diffs + [float(np.abs(got_step - stepped).max())])
    out.update({v: np.asarray(got[v], np.float64).tolist() for v in grid.VARIANTS})
    out["after_step"] = {"softmax": np.asarray(got_step, np.float64).tolist()}
    return out


def library_size(site: str) -> dict | None:
    """Bytes a page running wasmdl downloads: Pyodide core + numpy/micropip wheels + wasmdl."""
    from .libraries import PYODIDE_CORE, PYODIDE_PACKAGES, file_sizes

    pyo = os.path.join(site, "pyodide")
    paths = [os.path.join(pyo, f) for f in PYODIDE_CORE if os.path.exists(os.path.join(pyo, f))]
    for pkg in PYODIDE_PACKAGES:
        paths += glob.glob(os.path.join(pyo, f"{pkg}-*.whl"))
    wheels = glob.glob(os.path.join(site, "simple", "wasmdl", "wasmdl-*.whl"))
    if not wheels or len(paths) < len(PYODIDE_CORE):
        return None
    sizes = file_sizes(paths + wheels)
    sizes["wasmdl_wheel_bytes"] = os.path.getsize(wheels[0])
    return sizes


class BrowserRunner:
    """The wasmdl column of the page (Pyodide): one backend, data handed over once."""

    def __init__(self, backend: str, raw: bytes, layout):
        self.backend = backend
        layout = dict(layout)
        n_tr, n_te, d = layout["n_train"], layout["n_test"], layout["n_in"]
        u8 = np.frombuffer(bytes(raw), np.uint8)
        self.x_train = grid.to_float(u8[: n_tr * d].reshape(n_tr, d))
        self.x_test = grid.to_float(u8[n_tr * d : (n_tr + n_te) * d].reshape(n_te, d))
        off = (n_tr + n_te) * d
        self.y_train = np.eye(grid.N_OUT, dtype=np.float32)[u8[off : off + n_tr]]
        self.version, self.backend_name, self.n_out = version(), backend, grid.N_OUT

    async def setup(self):
        import wasmdl

        if self.backend != "numpy":
            wasmdl.set_backend(self.backend)
        self.backend_name = wasmdl.get_backend().name

    def load(self, buf):
        import wasmdl.io

        return compile_for_training(wasmdl.io.load_model(buf))

    def predict(self, model, i: int):
        return predict(model, self.x_test[i : i + 1])[0].tolist()

    def set_output(self, out) -> None:
        """Where ``predict_into`` writes: a JS ``Float32Array`` of ``n_out`` floats (passing it
        once saves making a JsProxy of it on every call)."""
        self.out = out

    def predict_into(self, model, i: int) -> None:
        """``predict`` of test digit ``i`` written into the ``set_output`` array: nothing is
        converted back to JS (a Python list's ``toJs()`` costs several µs a sample)."""
        y = model.predict(self.x_test[i : i + 1])
        self.out.assign(y if y.dtype == np.float32 else np.asarray(y, np.float32))

    def train_step(self, model, b: int, n: int) -> float:
        s = (b * n) % len(self.x_train)
        return train_step(model, self.x_train[s : s + n], self.y_train[s : s + n])
