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
