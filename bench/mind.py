"""Mind (the WWW'19 study's seventh framework) for the benchmark page.

Mind (``/work/shared/peers/mind/``, node-mind 1.0.1, MIT) is a CommonJS module for Node whose
npm package is not in the registry; ``bundle`` makes the page's script: Mind's ``index.js``
and its five small dependencies from npm (``npm pack`` of pinned versions into
``.cache/bench/mind/``, tar-verified by npm's integrity) wrapped with a minimal ``require``;
``htan`` / ``htan-prime`` (not in the registry) are ``Math.tanh`` and ``1 - tanh(x)^2``.

What Mind can express is a sigmoid network without biases, trained on squared error by full
batch gradient descent. Its row uses the grid's seeded kernels (no biases) and is checked
against the same network in wasmdl (``reference``: ``Dense(use_bias=False,
activation="sigmoid")`` layers), whose outputs ``export_reference`` writes to
``<config>/mind_reference.json``.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import tarfile

import numpy as np

MIND_SRC = os.environ.get("WASMDL_MIND_SRC", "/work/shared/peers/mind")
DEPS = {  # name -> (npm spec, file inside the package)
    "emitter-component": ("emitter-component@1.1.1", "package/index.js"),
    "node-matrix": ("node-matrix@0.1.1", "package/lib/index.js"),
    "samples": ("samples@0.0.2", "package/lib/index.js"),
    "sigmoid": ("sigmoid@0.0.1", "package/lib/index.js"),
    "sigmoid-prime": ("sigmoid-prime@0.0.1", "package/lib/index.js"),
}
SHIMS = {
    "htan": "module.exports = Math.tanh;",
    "htan-prime": "module.exports = function (x) { var t = Math.tanh(x); return 1 - t * t; };",
}


def _dep_source(cache: str, name: str) -> str:
    spec, inner = DEPS[name]
    tgz = os.path.join(cache, spec.replace("@", "-") + ".tgz")
    if not os.path.exists(tgz):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            ["npm", "pack", spec, "--silent"], cwd=cache, check=True, capture_output=True
        )
    with tarfile.open(tgz) as t:
        return t.extractfile(inner).read().decode()


def bundle(out_path: str, cache: str) -> str:
    """Write the browser bundle (``window.Mind``) to ``out_path``; return it."""
    index = os.path.join(MIND_SRC, "index.js")
    if not os.path.exists(index):
        raise FileNotFoundError(f"bench.mind: Mind's source {index} is missing")
    mods = {name: _dep_source(cache, name) for name in DEPS}
    mods.update(SHIMS)
    with open(index) as f:
        mods["mind"] = f.read()
    body = ",\n".join(
        f"{json.dumps(n)}: function (module, exports, require) {{\n{src}\n}}"
        for n, src in mods.items()
    )
    js = (
        "// Mind (node-mind 1.0.1, MIT) and its dependencies, bundled by bench/mind.py\n"
        "(function () {\nvar defs = {\n" + body + "\n};\nvar cache = {};\n"
        "function req(n) { if (cache[n]) return cache[n].exports;\n"
        "  if (!defs[n]) throw new Error('Mind bundle: no module ' + n);\n"
        "  var m = { exports: {} }; cache[n] = m; defs[n](m, m.exports, req);\n"
        "  return m.exports; }\nwindow.Mind = req('mind');\n"
        "window.MindMatrix = req('node-matrix');\n"
        "})();\n"
    )
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(js)
    return out_path


def reference(kernels, x):
    """wasmdl's outputs of the sigmoid, bias-free network with these kernels on ``x``."""
    import wasmdl
    from wasmdl import nn

    model = wasmdl.Sequential(
        [nn.Dense(k.shape[1], activation="sigmoid", use_bias=False) for k in kernels]
    )
    model.predict(x[:1])
    for layer, k in zip(model.layers, kernels, strict=True):
        layer.set_weights([k])
    return np.asarray(model.predict(x))


def export_reference(models_dir: str, n: int = 8) -> None:
    """``<config>/mind_reference.json``: wasmdl's outputs on the first ``n`` test digits."""
    with open(os.path.join(models_dir, "manifest.json")) as f:
        layout = json.load(f)["data"]
    u8 = np.fromfile(os.path.join(models_dir, layout["file"]), np.uint8)
    d, ntr = layout["n_in"], layout["n_train"]
    x = u8[ntr * d : (ntr + n) * d].reshape(n, d).astype(np.float32) / 255
    for path in sorted(glob.glob(os.path.join(models_dir, "*", "weights.npz"))):
        z = np.load(path)
        kernels = [
            z[k]
            for k in sorted((k for k in z.files if k.startswith("w")), key=lambda k: int(k[1:]))
        ]
        out = reference(kernels, x)
        with open(os.path.join(os.path.dirname(path), "mind_reference.json"), "w") as f:
            json.dump(out.tolist(), f)
