"""EfficientNet-Lite0 in the browser: classify photos, then fine-tune a new head on your own.

The Python behind the demo page, running in Pyodide (in a Web Worker) with wasmdl installed by
``micropip.install("wasmdl")``; the ImageNet weights (18.8 MB) are fetched from the site's
``/models/`` on first use and checked by sha256. The page draws each image onto a 224x224
canvas and sends its RGBA bytes here.

1. ``load(backend)`` then ``classify(rgba)``: ImageNet's top 5 with probabilities and latency.
2. ``add_example(rgba, label)`` for each class (webcam frames or files), ``train(epochs)``: the
   pretrained backbone is frozen (``trainable = False``; its BatchNormalization layers stay in
   inference mode), only a new softmax head learns; ``classify_custom(rgba)`` uses it.
3. ``save()`` / ``load_saved(data)``: the fine-tuned model as one wasmdl model file.
"""

import time

import numpy as np

import wasmdl
from wasmdl.applications import EfficientNetLite0_async, decode_predictions, preprocess_input
from wasmdl.callbacks import ProgressCallback

try:
    from wasmdl_site import emit  # the page's event channel (inside the site's worker)
except ImportError:  # natively: print instead

    def emit(kind, **data):
        print(kind, data)


SIZE = 224
state = {"net": None, "base": None, "head": None, "labels": [], "x": [], "y": []}


def _rgb(rgba, width=SIZE, height=SIZE):
    """(1, 224, 224, 3) network input from a canvas' RGBA bytes (JS Uint8ClampedArray)."""
    data = rgba.to_bytes() if hasattr(rgba, "to_bytes") else bytes(rgba)
    pixels = np.frombuffer(data, np.uint8).reshape(height, width, 4)[..., :3]
    return preprocess_input(pixels)[None]


async def load(backend="numpy"):
    """Build EfficientNet-Lite0 with ImageNet weights on ``backend``; report the seconds."""
    if backend == "webgpu":
        from wasmdl.backend import webgpu

        await webgpu.init_async()
    wasmdl.set_backend(backend)
    t0 = time.perf_counter()
    state.update(net=await EfficientNetLite0_async(weights="imagenet"), base=None, head=None)
    load_s = time.perf_counter() - t0
    x = np.zeros((1, SIZE, SIZE, 3), np.float32)
    t0 = time.perf_counter()
    state["net"].predict(x)  # the first image compiles kernels and captures the program
    return {"backend": backend, "load_s": load_s, "warmup_s": time.perf_counter() - t0}


def classify(rgba):
    """ImageNet's top 5 for one 224x224 RGBA image, and the milliseconds it took."""
    t0 = time.perf_counter()
    probs = state["net"].predict(_rgb(rgba))
    ms = (time.perf_counter() - t0) * 1000
    top = [{"index": int(i), "name": n, "p": p} for i, n, p in decode_predictions(probs)[0]]
    return {"top5": top, "ms": ms}


def add_example(rgba, label):
    """Keep one training image for class ``label`` (a new class name starts a new class)."""
    if label not in state["labels"]:
        state["labels"].append(label)
    state["x"].append(_rgb(rgba)[0])
    state["y"].append(state["labels"].index(label))
    return {lab: state["y"].count(i) for i, lab in enumerate(state["labels"])}


def _fine_tune_model():
    """A frozen pretrained backbone (its pooled 1280 features) and a new softmax head."""
    if state["base"] is None:
        base = wasmdl.applications.EfficientNetLite0(
            weights="imagenet", include_top=False, pooling="avg"
        )
        base.trainable = False
        state["base"] = base
    head = wasmdl.nn.Dense(len(state["labels"]), activation="softmax", name="new_head")
    model = wasmdl.Sequential([state["base"], head], name="efficientnet_lite0_finetuned")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


async def train(epochs=10, batch_size=8):
    """Fit the new head on the examples; the page's chart gets the accuracy after each batch."""
    if len(state["labels"]) < 2:
        raise ValueError(
            f"train: expected examples of at least 2 classes, received {len(state['labels'])}"
        )
    model = state["head"] = _fine_tune_model()
    x, y = np.stack(state["x"]), np.array(state["y"])

    def send(info):
        emit(
            "batch",
            epoch=info.get("epoch"),
            batch=info["batch"],
            batches=info["batches"],
            loss=info["logs"].get("loss"),
            accuracy=info["logs"].get("accuracy"),
        )

    t0 = time.perf_counter()
    hist = await model.fit_async(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        shuffle=True,
        callbacks=[ProgressCallback(send)],
    )
    acc = float((model.predict(x).argmax(1) == y).mean())
    return {
        "seconds": time.perf_counter() - t0,
        "accuracy": hist.history["accuracy"],
        "train_accuracy": acc,
    }


def classify_custom(rgba):
    """The fine-tuned model's probability for each of the user's classes."""
    probs = state["head"].predict(_rgb(rgba))[0]
    return [{"name": n, "p": float(p)} for n, p in zip(state["labels"], probs, strict=True)]


def save() -> dict:
    """The fine-tuned model's file (architecture + weights) and its class names."""
    return {"data": state["head"].save(), "labels": list(state["labels"])}


def load_saved(data, labels) -> dict:
    """Load a model saved by ``save``."""
    raw = data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)
    state["head"] = wasmdl.load_model(raw)
    state["labels"] = list(labels)
    frozen = sum(w.size for w in state["head"].weights) - sum(
        w.size for w in state["head"].trainable_weights
    )
    return {"name": state["head"].name, "labels": state["labels"], "frozen": int(frozen)}
