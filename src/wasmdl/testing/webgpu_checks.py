"""Checks of the WebGPU backend against the numpy backend, run inside a browser page (the Chrome
test tier and the benchmark call these; each returns plain data to assert on or print).

    from wasmdl.testing import webgpu_checks as C
    C.coverage()                          # ops of the core table without a WebGPU kernel: []
    await C.mlp_losses("webgpu", 50)      # the 784-128-10 MLP's loss curve on a backend
    await C.step_crossings()              # Python->JS calls and submits per training step

``coverage`` needs no browser:

>>> coverage()["missing"]
[]
"""

import time

import numpy as np

from ..backend.webgpu_kernels import KERNELS
from ..ops import OPS


def coverage():
    """Which primitive ops of the core table have a WebGPU kernel."""
    missing = sorted(set(OPS) - set(KERNELS))
    return {"ops": len(OPS), "covered": len(OPS) - len(missing), "missing": missing}


def mlp_params(sizes=(784, 128, 10), seed=0):
    """Glorot-uniform weights and zero biases as host arrays (the same start on every backend)."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        out.append(rng.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32))
        out.append(np.zeros(fan_out, np.float32))
    return out


def mlp_data(n=64, sizes=(784, 128, 10), seed=1):
    """A fixed batch: MNIST digits when the packaged dataset loads, else seeded noise."""
    try:
        from ..datasets import mnist

        (x, y), _ = mnist.load(flatten=True)
        x, y = np.asarray(x[:n], np.float32), np.asarray(y[:n]).astype(np.int32)
    except Exception:  # the dataset is optional for these checks
        rng = np.random.default_rng(seed)
        x = rng.random((n, sizes[0]), dtype=np.float32)
        y = rng.integers(0, sizes[-1], n).astype(np.int32)
    return x, y


def mlp_model(backend, sizes=(784, 128, 10), seed=0):
    import wasmdl as wl

    return [wl.Tensor(a, backend=backend, requires_grad=True) for a in mlp_params(sizes, seed)]


def mlp_step(params, x, onehot, opt):
    """One SGD step of relu MLP + softmax cross-entropy; returns the loss tensor (on device)."""
    import wasmdl.functional as F

    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = F.relu(h)
    loss = -(F.log_softmax(h, axis=-1) * onehot).sum() * (1.0 / x.shape[0])
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


async def mlp_losses(backend, steps=50, batch=64, sizes=(784, 128, 10), lr=0.1):
    """The loss of each of ``steps`` SGD steps on one fixed batch (read back once, at the end)."""
    import wasmdl as wl
    from wasmdl.optim import SGD

    params = mlp_model(backend, sizes)
    xn, yn = mlp_data(batch, sizes)
    x = wl.Tensor(xn, backend=backend)
    onehot = wl.Tensor(np.eye(sizes[-1], dtype=np.float32)[yn], backend=backend)
    opt = SGD(params, lr=lr)
    losses = []
    for _ in range(steps):
        losses.append(mlp_step(params, x, onehot, opt))
    stacked = wl.stack([wl.reshape(v, ()) for v in losses])  # one readback for the curve
    return (await stacked.numpy_async()).tolist()


async def step_crossings(sizes=(784, 128, 10), batch=64, steps=5):
    """Python->JS calls, submits and dispatches per training step of the MLP (after warm-up)."""
    import wasmdl as wl
    from wasmdl.optim import SGD

    be = wl.backend.get_backend("webgpu")
    params = mlp_model(be, sizes)
    xn, yn = mlp_data(batch, sizes)
    x = wl.Tensor(xn, backend=be)
    onehot = wl.Tensor(np.eye(sizes[-1], dtype=np.float32)[yn], backend=be)
    opt = SGD(params, lr=0.1)
    await mlp_step(params, x, onehot, opt).numpy_async()  # warm-up: compiles every pipeline
    be.stats(reset=True)
    record = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        mlp_step(params, x, onehot, opt)  # records ~46 dispatches: no crossing
        record += time.perf_counter() - t0
        be.flush()  # the step boundary: one run(packet) call, one queue.submit
    s = be.stats(reset=True)
    calls = sum(s["python"].values())
    return {
        "steps": steps,
        "python_to_js_calls_per_step": calls / steps,
        "submits_per_step": s["shim"]["submits"] / steps,
        "dispatches_per_step": s["shim"]["dispatches"] / steps,
        "python_record_ms_per_step": round(record / steps * 1e3, 2),
        "detail": s,
    }


async def memory_loop(steps=500, sizes=(784, 128, 10), batch=32, every=50):
    """Live buffer counts every ``every`` steps of a training loop (flat after warm-up), each
    after a garbage collection (buffers held only by reference cycles are not live)."""
    import gc

    import wasmdl as wl
    from wasmdl.optim import SGD

    be = wl.backend.get_backend("webgpu")
    params = mlp_model(be, sizes)
    xn, yn = mlp_data(batch, sizes)
    x = wl.Tensor(xn, backend=be)
    onehot = wl.Tensor(np.eye(sizes[-1], dtype=np.float32)[yn], backend=be)
    opt = SGD(params, lr=0.05)
    counts = []
    loss = None
    for i in range(steps):
        loss = mlp_step(params, x, onehot, opt)
        be.flush()
        if (i + 1) % every == 0:
            gc.collect()
            be.flush()
            counts.append(be.memory()["buffers"])
    final = float((await loss.numpy_async()).reshape(()))
    return {"buffers": counts, "final_loss": final, "memory": be.memory()}


BAD_WGSL = """// kernel: bad_kernel -- a deliberate WGSL error for the fault checks
@group(0) @binding(0) var<storage, read> p: array<u32>;
@compute @workgroup_size(1)
fn k_bad_kernel() {
  let x: f32 = p[0];
}
"""


async def _error_of(awaitable):
    try:
        await awaitable
    except Exception as e:  # the checks report the type and text to the caller
        return f"{type(e).__name__}: {e}"
    return None


async def faults():
    """Provoke each fault and return the error texts: a WGSL compile error, a tensor above the
    buffer limit, and (last: it ends the device) a lost device followed by numpy work."""
    import wasmdl as wl

    be = wl.backend.get_backend("webgpu")
    out = {}
    x = wl.Tensor(np.ones((2, 2), np.float32), backend=be)
    h = be.alloc((1,), x.dtype)
    be.launch(
        ("bad_kernel",),
        lambda: ("bad_kernel", "kernels/wgsl/bad_kernel.wgsl", BAD_WGSL),
        [0],
        (1, 1, 1),
        [h],
    )
    out["compile"] = await _error_of((x + 1).numpy_async())
    out["after_compile_error"] = (await (x + 1).numpy_async()).tolist()
    limit = be.limits["maxStorageBufferBindingSize"]
    side = int((limit // 4) ** 0.5) + 1
    try:
        wl.expand(wl.reshape(x[:1, :1], (1, 1)), (side, side))
        out["limit"] = None
    except ValueError as e:
        out["limit"] = f"{type(e).__name__}: {e}"
    be.shim.destroyDevice()
    out["lost"] = await _error_of((x * 2).numpy_async())
    out["backend_after_loss"] = wl.backend.get_backend().name
    y = wl.tensor([1.0, 2.0]) * 3
    out["numpy_after_loss"] = y.numpy().tolist()
    return out


def sync_read_error():
    """``t.numpy()`` where Python was entered synchronously (``runPython``): the error text."""
    import wasmdl as wl

    t = wl.Tensor(np.ones(3, np.float32), backend="webgpu")
    try:
        t.numpy()
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


def cnn_model():
    """The training issue's MNIST CNN (conv 16 / pool / conv 32 / pool / dense 10)."""
    import wasmdl as wl
    from wasmdl import nn

    wl.manual_seed(0)
    return wl.Sequential(
        [
            nn.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)),
            nn.MaxPool2D(),
            nn.Conv2D(32, 3, activation="relu"),
            nn.MaxPool2D(),
            nn.Flatten(),
            nn.Dense(10),
        ]
    )


async def cnn_losses(backend, steps=5, batch=16):
    """Losses of ``steps`` Adam steps of the CNN on one MNIST batch, built on ``backend``."""
    import wasmdl as wl

    prev = wl.backend.get_backend()
    wl.set_backend(backend)
    try:
        model = cnn_model()
        model.compile(
            optimizer=wl.optim.Adam(lr=1e-3),
            loss=wl.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        xn, yn = mlp_data(batch)
        x = wl.tensor(xn.reshape(batch, 28, 28, 1))
        y = wl.tensor(yn)
        return [float(model.train_on_batch(x, y)) for _ in range(steps)]
    finally:
        wl.set_backend(prev)


async def fit_in_repl(epochs=2):
    """``model.fit`` / ``predict`` on webgpu with no ``await`` per batch (JSPI reads)."""
    import wasmdl as wl
    from wasmdl import nn

    prev = wl.backend.get_backend()
    wl.set_backend("webgpu")
    try:
        wl.manual_seed(0)
        model = wl.Sequential([nn.Dense(32, activation="relu", input_shape=(784,)), nn.Dense(10)])
        model.compile(
            optimizer="sgd", loss=wl.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        x, y = mlp_data(256)
        hist = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
        pred = model.predict(x[:8])
        return {"loss": hist.history["loss"], "predict_shape": list(pred.shape)}
    finally:
        wl.set_backend(prev)
