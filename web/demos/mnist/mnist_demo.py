"""MNIST in the browser: train a network, draw a digit, save and load the model.

This is the Python behind the demo page, running in Pyodide (in a Web Worker) with wasmdl
installed by ``micropip.install("wasmdl")``. The page calls these functions; everything the
model does is here. ``emit`` (from the site's worker runtime) sends progress to the page's
charts. Natively it runs too:

    >>> import asyncio
    >>> report = asyncio.run(train(epochs=1, limit=512))
    >>> sorted(report)
    ['epochs', 'seconds', 'test_accuracy', 'test_loss']
"""

import time

import numpy as np

import wasmdl
from wasmdl import nn, optim
from wasmdl.callbacks import ProgressCallback
from wasmdl.datasets import mnist

try:
    from wasmdl_site import emit  # the page's event channel (inside the site's worker)
except ImportError:  # natively: print instead

    def emit(kind, **data):
        print(kind, data)


def build_mlp():
    """784 -> 128 (ReLU) -> 10 (softmax): about 100k weights, 92-93% after two epochs."""
    return wasmdl.Sequential(
        [
            nn.Flatten(input_shape=(28, 28)),
            nn.Dense(128, activation="relu"),
            nn.Dense(10, activation="softmax"),
        ],
        name="mnist_mlp",
    )


def build_cnn():
    """A small convnet: two 3x3 convolutions with max pooling, then a softmax layer."""
    return wasmdl.Sequential(
        [
            nn.Reshape((28, 28, 1), input_shape=(28, 28)),
            nn.Conv2D(8, 3, activation="relu"),
            nn.MaxPooling2D(2),
            nn.Conv2D(16, 3, activation="relu"),
            nn.MaxPooling2D(2),
            nn.Flatten(),
            nn.Dense(10, activation="softmax"),
        ],
        name="mnist_cnn",
    )


MODELS = {"mlp": build_mlp, "cnn": build_cnn}
state = {"model": None, "stop": False, "data": None}


def load_data():
    """The 8,000 training and 2,000 test digits shipped in wasmdl, scaled to [0, 1]."""
    if state["data"] is None:
        (x, y), (x_test, y_test) = mnist.load_data()
        state["data"] = (x / np.float32(255), y), (x_test / np.float32(255), y_test)
    return state["data"]


def summary() -> str:
    """The current model's summary table (what ``model.summary()`` prints)."""
    return state["model"].summary(print_fn=None) if state["model"] else ""


def request_stop():
    """Ask a running ``train`` to stop after the current batch."""
    state["stop"] = True


class StopTraining(Exception):
    """Raised by ``LiveCharts`` when the page asks to stop."""


class LiveCharts(ProgressCallback):
    """Send the running loss and accuracy to the page after every batch."""

    def __init__(self, epoch, epochs):
        super().__init__(self.send)
        self.at_epoch, self.total = epoch, epochs

    def send(self, info):
        logs = info["logs"]
        emit(
            "batch",
            epoch=self.at_epoch,
            epochs=self.total,
            batch=info["batch"],
            batches=info["batches"],
            loss=logs.get("loss"),
            accuracy=logs.get("accuracy"),
        )
        if state["stop"]:  # stop now, not at the end of the epoch
            raise StopTraining


async def train(model="mlp", backend="numpy", epochs=3, batch_size=64, lr=0.003, limit=None):
    """Build a fresh model and train it, reporting test accuracy after every epoch."""
    wasmdl.set_backend(backend)
    wasmdl.manual_seed(0)
    (x, y), (x_test, y_test) = load_data()
    if limit:
        x, y, x_test, y_test = x[:limit], y[:limit], x_test[:limit], y_test[:limit]
    net = MODELS[model]()
    net.compile(
        optimizer=optim.Adam(lr=lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    state.update(model=net, stop=False)
    start, test_loss, test_acc, done = time.perf_counter(), None, None, 0
    for epoch in range(1, epochs + 1):
        live = LiveCharts(epoch, epochs)
        try:
            await net.fit_async(x, y, epochs=1, batch_size=batch_size, verbose=0, callbacks=[live])
        except StopTraining:
            net.train()  # what fit does on the way out
        test_loss, test_acc = net.evaluate(x_test, y_test, batch_size=500)
        done = epoch
        emit(
            "epoch",
            epoch=epoch,
            epochs=epochs,
            test_loss=test_loss,
            test_accuracy=test_acc,
            seconds=time.perf_counter() - start,
        )
        if state["stop"]:
            break
    return {
        "epochs": done,
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "seconds": time.perf_counter() - start,
    }


def to_mnist(image):
    """Turn a drawing (2-D array, ink > 0) into an MNIST-style 28x28 input.

    Like the original MNIST preparation: crop to the ink, scale the longer side to 20 pixels,
    and place it in a 28x28 frame with its centre of mass at the centre.
    """
    image = np.asarray(image, dtype=np.float32)
    rows, cols = np.nonzero(image > 0.05)
    out = np.zeros((28, 28), np.float32)
    if rows.size == 0:
        return out
    crop = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = 20.0 / max(crop.shape)
    h, w = (max(1, round(n * scale)) for n in crop.shape)
    small = resize_area(crop, h, w)
    top, left = (28 - h) // 2, (28 - w) // 2
    out[top : top + h, left : left + w] = small
    mass = out.sum()
    cy, cx = (np.indices(out.shape) * out).reshape(2, -1).sum(1) / mass
    dy, dx = int(round(13.5 - cy)), int(round(13.5 - cx))
    out = np.roll(out, (dy, dx), axis=(0, 1))
    return np.clip(out / max(out.max(), 1e-6), 0, 1)


def resize_area(image, h, w):
    """Downscale by averaging each output pixel's source area (an integral image)."""
    integral = np.zeros((image.shape[0] + 1, image.shape[1] + 1), np.float64)
    integral[1:, 1:] = image.astype(np.float64).cumsum(0).cumsum(1)
    ys = np.linspace(0, image.shape[0], h + 1).round().astype(int)
    xs = np.linspace(0, image.shape[1], w + 1).round().astype(int)
    ys[1:] = np.maximum(ys[1:], ys[:-1] + 1).clip(max=image.shape[0])
    xs[1:] = np.maximum(xs[1:], xs[:-1] + 1).clip(max=image.shape[1])
    total = (
        integral[ys[1:]][:, xs[1:]]
        - integral[ys[:-1]][:, xs[1:]]
        - integral[ys[1:]][:, xs[:-1]]
        + integral[ys[:-1]][:, xs[:-1]]
    )
    area = np.outer(np.diff(ys), np.diff(xs)).clip(min=1)
    return (total / area).astype(np.float32)


def predict(pixels, width=280, height=280):
    """Classify a drawing: ``pixels`` is the canvas' ink (0-255), row by row."""
    if state["model"] is None:
        raise RuntimeError(
            "predict: expected a trained or loaded model, received none yet; "
            "train one first (or load a saved one)"
        )
    ink = np.frombuffer(_as_bytes(pixels), np.uint8).reshape(height, width) / np.float32(255)
    digit = to_mnist(ink)
    probs = state["model"].predict(digit[None], batch_size=1)[0]
    return {
        "digit": int(probs.argmax()),
        "probabilities": [float(p) for p in probs],
        "input": [float(v) for v in digit.ravel()],
    }


def _as_bytes(data) -> bytes:
    """bytes from a JS Uint8Array (in the worker) or any Python buffer."""
    return data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)


def save() -> bytes:
    """The model's file (architecture + weights), as bytes for the page to store or download."""
    return state["model"].save()


def load(data) -> dict:
    """Load a model file saved by ``save`` and report its test accuracy."""
    state["model"] = model = wasmdl.load_model(_as_bytes(data))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, (x_test, y_test) = load_data()
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=500)
    return {"name": model.name, "test_accuracy": test_acc, "test_loss": test_loss}
