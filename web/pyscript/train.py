"""wasmdl in a PyScript worker: the README's model on MNIST; the page calls ``train()``."""

import json

from polyscript import xworker

import wasmdl
from wasmdl import nn
from wasmdl.datasets import mnist


def train():
    (x, y), (x_test, y_test) = mnist.load_data()  # the site's /datasets/mnist.npz
    model = wasmdl.Sequential(
        [
            nn.Flatten(input_shape=(28, 28)),
            nn.Dense(64, activation="relu"),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x / 255, y, epochs=1, batch_size=64, verbose=0)
    loss, accuracy = model.evaluate(x_test / 255, y_test, verbose=0)
    return json.dumps(
        {
            "wasmdl": wasmdl.__version__,
            "cpu_kernels": wasmdl.cpu_kernels()["module"],
            "train_loss": history.history["loss"][-1],
            "test_loss": loss,
            "accuracy": accuracy,
        }
    )


# Expose train() to the page (``await worker.sync.train()``): polyscript's worker API, which
# PyScript's PyWorker runs on (a PyWorker started by JavaScript has no ``pyscript`` module here).
xworker.sync.train = train
