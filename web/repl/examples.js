// Snippets shown beside the REPL. Each runs as one cell (top-level await allowed).
// tests/chrome/test_site_repl.py runs every one of them and fails on a traceback.
"use strict";
self.REPL_EXAMPLES = [
  {
    id: "hello",
    title: "Hello, wasmdl",
    about: "version, backends, memory",
    code: `import wasmdl
print("wasmdl", wasmdl.__version__)
wasmdl.available_backends()`,
  },
  {
    id: "autograd",
    title: "Autograd",
    about: "tensors, backward(), gradients",
    code: `import wasmdl
x = wasmdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 2).sum()
y.backward()
x.grad  # dy/dx = 2x`,
  },
  {
    id: "train",
    title: "Train a model",
    about: "Sequential, summary(), fit() with a progress bar",
    code: `import wasmdl
from wasmdl import nn
from wasmdl.datasets import mnist
(x, y), (x_test, y_test) = mnist.load_data()
model = wasmdl.Sequential([
    nn.Flatten(input_shape=(28, 28)),
    nn.Dense(32, activation="relu"),
    nn.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
model.fit(x[:2000] / 255, y[:2000], epochs=2, batch_size=64)
model.evaluate(x_test / 255, y_test, return_dict=True)`,
  },
  {
    id: "numpy",
    title: "numpy in the browser",
    about: "arrays print at the terminal's width",
    code: `import numpy as np
x = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
x @ x.T`,
  },
  {
    id: "await",
    title: "Top-level await",
    about: "await works at the prompt",
    code: `import asyncio
await asyncio.sleep(0.2)
"awaited 0.2 s"`,
  },
  {
    id: "plot",
    title: "Plot with matplotlib",
    about: "figures show inline",
    code: `import numpy as np
import matplotlib.pyplot as plt
t = np.linspace(0, 2 * np.pi, 200)
plt.figure(figsize=(5, 2.5))
plt.plot(t, np.sin(t), label="sin")
plt.plot(t, np.cos(t), label="cos")
plt.legend()
plt.show()`,
  },
  {
    id: "error",
    title: "A traceback",
    about: "errors name what went wrong",
    code: `def divide(a, b):
    return a / b

divide(1, 0)`,
  },
];
