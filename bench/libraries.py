"""What each framework's page downloads: the browser bundles (npm paths) per framework/backend.

``scripts/build_bench_models.py`` copies these files into ``site/vendor/<npm package>/...``
and records their sizes (raw and gzip) as the benchmark's library sizes (paper Table 1).

Example:
    >>> sorted(LIBRARIES["convnetjs"]["cpu"])
    ['convnetjs/build/convnet-min.js']
"""

from __future__ import annotations

import gzip
import os

TFJS = "@tensorflow/tfjs/dist/tf.min.js"
ORT = "onnxruntime-web/dist/"

# framework -> backend -> npm files the page loads for it (the first .js files are <script>s)
LIBRARIES: dict[str, dict[str, list[str]]] = {
    "tfjs": {
        "cpu": [TFJS],
        "webgl": [TFJS],
        "wasm": [
            TFJS,
            "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
            "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
        ],
        "wasm-mt": [
            TFJS,
            "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
            "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
        ],
        "webgpu": [TFJS, "@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js"],
    },
    "convnetjs": {"cpu": ["convnetjs/build/convnet-min.js"]},
    "brainjs": {"cpu": ["brain.js/browser.min.js"]},
    "synaptic": {"cpu": ["synaptic/dist/synaptic.min.js"]},
    "kerasjs": {"cpu": ["keras-js/dist/keras.min.js"], "webgl": ["keras-js/dist/keras.min.js"]},
    "webdnn": {"fallback": ["webdnn/dist/webdnn.js"], "webgl": ["webdnn/dist/webdnn.js"]},
    "ort": {
        "wasm": [
            ORT + "ort.wasm.min.js",
            ORT + "ort-wasm-simd-threaded.mjs",
            ORT + "ort-wasm-simd-threaded.wasm",
        ],
        "wasm-mt": [
            ORT + "ort.wasm.min.js",
            ORT + "ort-wasm-simd-threaded.mjs",
            ORT + "ort-wasm-simd-threaded.wasm",
        ],
        "webgl": [ORT + "ort.webgl.min.js"],
        "webgpu": [
            ORT + "ort.webgpu.min.js",
            ORT + "ort-wasm-simd-threaded.asyncify.mjs",
            ORT + "ort-wasm-simd-threaded.asyncify.wasm",
        ],
    },
    "mind": {"cpu": []},
    "paddlejs": {
        "webgl": [
            "@paddlejs/paddlejs-core/lib/index.js",
            "@paddlejs/paddlejs-backend-webgl/lib/index.js",
        ]
    },
}

# Files of the verified Pyodide dist that a page running wasmdl downloads (under /pyodide/).
PYODIDE_CORE = [
    "pyodide.js",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]
PYODIDE_PACKAGES = ["numpy", "micropip", "packaging"]


PAGE_FILES = ["chart.js/dist/chart.umd.min.js"]  # the benchmark page's own charts


def all_npm_files() -> list[str]:
    fw = {f for backends in LIBRARIES.values() for fs in backends.values() for f in fs}
    return sorted(fw | set(PAGE_FILES))


def file_sizes(paths: list[str]) -> dict:
    """``{"bytes": raw total, "gzip_bytes": gzip -6 total, "files": {path: bytes}}``."""
    raw, gz, files = 0, 0, {}
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        files[os.path.basename(p)] = len(data)
        raw += len(data)
        gz += len(gzip.compress(data, 6, mtime=0))
    return {"bytes": raw, "gzip_bytes": gz, "files": files}
