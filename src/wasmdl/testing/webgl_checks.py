"""Checks of the WebGL2 backend against the numpy backend, run inside a browser page (the
Chrome tier calls these; each returns plain data to assert on or print).

    from wasmdl.testing import webgl_checks as C
    C.coverage()                        # ops of the core table without a WebGL kernel: []
    C.losses("mlp", "webgl", 50)        # the README MLP's first 50 losses on a backend
    C.step_report()                     # ms per step vs numpy, calls and draws per step

``coverage`` needs no browser:

>>> coverage()["missing"]
[]
"""

import time

import numpy as np

import wasmdl as wl
from wasmdl import nn

from ..backend.webgl_kernels import KERNELS
from ..ops import OPS
from . import recipes


def coverage():
    """Which primitive ops of the core table have a WebGL kernel."""
    missing = sorted(set(OPS) - set(KERNELS))
    return {"ops": len(OPS), "covered": len(OPS) - len(missing), "missing": missing}


def readme_mlp():
    """The README's model: Flatten, Dense(64, relu), Dense(10, softmax); Adam and sparse
    categorical cross-entropy on probabilities."""
    wl.manual_seed(0)
    model = wl.Sequential(
        [
            nn.Flatten(input_shape=(28, 28)),
            nn.Dense(64, activation="relu"),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _cnn():
    model = recipes.cnn_model()
    recipes._compile_mnist(model)
    return model


def _lstm():
    wl.manual_seed(0)
    model = wl.Sequential([nn.LSTM(16, input_shape=(10, 2)), nn.Dense(1)])
    model.compile(wl.optim.Adam(lr=1e-2), "mse")
    return model


def _mnist(nhwc):
    (x, y), _ = wl.datasets.mnist.load()
    x = np.asarray(x, np.float32) / (255.0 if np.asarray(x).max() > 1 else 1.0)
    return (x[..., None] if nhwc else x), np.asarray(y)


# recipe -> (model builder, data maker): the models of the acceptance list
RECIPES = {
    "mlp": (readme_mlp, lambda: _mnist(False)),
    "cnn": (_cnn, lambda: _mnist(True)),
    "lstm": (_lstm, lambda: recipes.adding_problem(1000)),
}


_RUNS = {}  # (recipe, backend, batch) -> [model, x, y, next batch index]


def losses(recipe, backend, steps=50, batch=32, fresh=True):
    """The losses of ``steps`` ``train_on_batch`` calls of ``recipe`` on consecutive batches,
    the model built on ``backend`` from the seeded initial weights. With ``fresh=False`` it
    continues the previous call's model (a browser test may so train over several scripts)."""
    key = (recipe, backend, batch)
    prev = wl.backend.get_backend()
    wl.set_backend(backend)
    try:
        if fresh or key not in _RUNS:
            build, data = RECIPES[recipe]
            _RUNS[key] = [build(), *data(), 0]
        run = _RUNS[key]
        model, x, y, i0 = run
        out = []
        nb = len(x) // batch
        for i in range(i0, i0 + steps):
            sl = slice((i % nb) * batch, (i % nb + 1) * batch)  # epochs wrap around
            out.append(float(model.train_on_batch(x[sl], y[sl])))
        run[3] = i0 + steps
        return out
    finally:
        wl.set_backend(prev)


def step_report(steps=20, batch=64):
    """The README MLP's training step on webgl and numpy in this page: the first batch's ms
    (shader compiles included), ms per step (median of the next ``steps``), and per webgl step
    the Python->JS calls, draws, uploads."""
    x, y = _mnist(False)
    out = {}
    for backend in ("numpy", "webgl"):
        prev = wl.backend.get_backend()
        wl.set_backend(backend)
        try:
            model = readme_mlp()
            if backend == "webgl":  # a cold first batch: every program compiled again
                wl.backend.get_backend("webgl").forget_programs()
            t0 = time.perf_counter()
            model.train_on_batch(x[:batch], y[:batch])  # the first batch compiles every program
            out[f"{backend}_first_batch_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
            be = wl.backend.get_backend()
            if backend == "webgl":
                be.stats(reset=True)
            times = []
            for i in range(1, steps + 1):
                t0 = time.perf_counter()
                model.train_on_batch(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch])
                times.append((time.perf_counter() - t0) * 1e3)
            out[f"{backend}_ms_per_step"] = round(float(np.median(times)), 2)
            if backend == "webgl":
                s = be.stats(reset=True)
                out["python_to_js_calls_per_step"] = sum(s["python"].values()) / steps
                for k in ("draws", "uploads", "reads", "batches"):
                    out[f"{k}_per_step"] = s["shim"][k] / steps
                out["programs"] = s["programs"]
        finally:
            wl.set_backend(prev)
    return out


def memory_loop(steps=2000, every=100, batch=8, sizes=(784, 32, 10)):
    """Live textures every ``every`` steps of an SGD loop on webgl (flat after warm-up)."""
    from wasmdl.optim import SGD
    from wasmdl.testing import webgpu_checks as G

    be = wl.backend.get_backend("webgl")
    params = G.mlp_model(be, sizes)
    xn, yn = G.mlp_data(batch, sizes)
    x = wl.Tensor(xn, backend=be)
    onehot = wl.Tensor(np.eye(sizes[-1], dtype=np.float32)[yn], backend=be)
    opt = SGD(params, lr=0.05)
    counts, loss = [], None
    for i in range(steps):
        loss = G.mlp_step(params, x, onehot, opt)
        be.flush()
        if (i + 1) % every == 0:
            counts.append(be.memory()["textures"])
    return {"textures": counts, "final_loss": float(loss.numpy()), "memory": be.memory()}


BAD_GLSL = """// kernel: bad_kernel -- a deliberate GLSL error for the fault checks
out float o;
void main() { o = undefined_name; }
"""


def _error_of(fn):
    try:
        fn()
    except Exception as e:  # the checks report the type and text to the caller
        return f"{type(e).__name__}: {e}"
    return None


def faults(lose_after=3):
    """Provoke each fault and return the error texts: a GLSL compile error, a tensor beyond
    MAX_TEXTURE_SIZE, and (last: it ends the context) a context lost mid-training, followed by
    training on numpy after ``set_backend("numpy")``."""
    from wasmdl.backend.webgl_glsl import template

    be = wl.backend.get_backend("webgl")
    out = {}
    x = wl.Tensor(np.ones((2, 2), np.float32), backend=be)
    h = be.alloc((1,), x.dtype)
    src = template("elementwise.glsl").split("\n", 1)[0] + "\n" + BAD_GLSL
    be.draw(("bad",), lambda: ("bad_kernel", "kernels/glsl/bad_kernel.glsl", src), [], [], h, 1)
    out["compile"] = _error_of(lambda: (x + 1).numpy())
    out["after_compile_error"] = (x + 1).numpy().tolist()
    side = be.info["maxTextureSize"] * 4096 + 1
    out["limit"] = _error_of(lambda: wl.expand(wl.reshape(x[:1, :1], (1,)), (side,)))
    prev = wl.backend.get_backend()
    wl.set_backend("webgl")
    model = readme_mlp()
    xs, ys = _mnist(False)
    for i in range(lose_after):
        model.train_on_batch(xs[i * 32 : (i + 1) * 32], ys[i * 32 : (i + 1) * 32])
    be.shim.glLoseContext()
    out["lost"] = _error_of(lambda: model.train_on_batch(xs[:32], ys[:32]))
    out["backend_after_loss"] = wl.backend.get_backend().name
    wl.set_backend("numpy")
    model = readme_mlp()
    out["numpy_losses"] = [float(model.train_on_batch(xs[:32], ys[:32])) for _ in range(3)]
    wl.set_backend(prev if prev is not be else "numpy")
    return out


def _layer_models():
    """Small models that together use every layer class of ``wasmdl.nn``, each with its
    input shape, label count and loss: name -> (build, x shape, classes or None, int input)."""
    L = nn

    def image_a():
        return wl.Sequential([
            L.ZeroPadding2D(1, input_shape=(8, 8, 3)), L.Conv2D(4, 3, activation="relu"),
            L.BatchNormalization(), L.MaxPooling2D(), L.UpSampling2D(), L.AveragePooling2D(),
            L.Dropout(0.25), L.GlobalAveragePooling2D(), L.Dense(3),
        ])  # fmt: skip

    def image_b():
        return wl.Sequential([
            L.DepthwiseConv2D(3, padding="same", input_shape=(8, 8, 3)),
            L.SeparableConv2D(4, 3, activation="tanh"), L.Conv2DTranspose(2, 3, strides=2),
            L.GlobalMaxPooling2D(), L.Activation("sigmoid"), L.Dense(3),
        ])  # fmt: skip

    def series():
        return wl.Sequential([
            L.ZeroPadding1D(1, input_shape=(12, 4)), L.Conv1D(5, 3, activation="relu"),
            L.MaxPooling1D(), L.UpSampling1D(), L.AveragePooling1D(), L.SimpleRNN(
                6, return_sequences=True), L.GlobalMaxPooling1D(), L.Dense(3),
        ])  # fmt: skip

    def text():
        return wl.Sequential([
            L.Embedding(20, 6, input_shape=(7,)), L.GRU(5, return_sequences=True),
            L.Bidirectional(L.LSTM(4, return_sequences=True)), L.LayerNormalization(),
            L.GlobalAveragePooling1D(), L.Dense(3),
        ])  # fmt: skip

    def graph():
        x = wl.Input((6, 4))
        a = L.Dense(4)(x)
        att = L.MultiHeadAttention(num_heads=2, key_dim=3)(a, a)
        m = [L.Add()([a, att]), L.Subtract()([a, att]), L.Multiply()([a, att]),
             L.Average()([a, att]), L.Maximum()([a, att]), L.Minimum()([a, att])]  # fmt: skip
        y = L.Concatenate()(m)
        y = L.Permute((2, 1))(y)
        y = L.Reshape((24 * 6,))(y)
        y = L.Flatten()(L.Reshape((12, 12))(y))
        return wl.Model(x, L.Dense(3)(y))

    return {"image_a": (image_a, (8, 8, 8, 3), False), "image_b": (image_b, (8, 8, 8, 3), False),
            "series": (series, (8, 12, 4), False), "text": (text, (8, 7), True),
            "graph": (graph, (8, 6, 4), False)}  # fmt: skip


def layer_losses(backend, steps=5):
    """Per model of ``_layer_models`` (every layer class, Adam, logits cross-entropy): the
    losses of ``steps`` training steps on ``backend``, from seeded weights and data (dropout
    masks from the same seed), and the layer classes used."""
    prev = wl.backend.get_backend()
    wl.set_backend(backend)
    out, used = {}, set()
    try:
        for name, (build, shape, ints) in _layer_models().items():
            rng = np.random.default_rng(3)
            x = rng.integers(0, 20, shape) if ints else rng.standard_normal(shape)
            x = x.astype(np.int32 if ints else np.float32)
            y = rng.integers(0, 3, shape[0])
            wl.manual_seed(5)
            np.random.seed(5)
            model = build()
            loss = wl.losses.SparseCategoricalCrossentropy(from_logits=True)
            model.compile(optimizer="adam", loss=loss)
            out[name] = [float(model.train_on_batch(x, y)) for _ in range(steps)]
            used |= {type(layer).__name__ for layer in _walk(model)}
    finally:
        wl.set_backend(prev)
    return {"losses": out, "layers": sorted(used)}


def _walk(layer):
    yield layer
    for child in getattr(layer, "layers", None) or []:
        yield from _walk(child)
    inner = getattr(layer, "layer", None) or getattr(layer, "forward_layer", None)
    if inner is not None:
        yield from _walk(inner)
