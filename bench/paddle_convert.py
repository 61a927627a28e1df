"""Runs inside the PaddlePaddle venv (``bench/paddle_export.py`` starts it): build the grid
network in PaddlePaddle from ``weights.npz``, check it against numpy, save it as a Paddle
inference model and convert that with Paddle.js's own converter (``paddlejsconverter``).

    <paddle venv>/bin/python bench/paddle_convert.py WEIGHTS_NPZ OUT_DIR

The network is what Paddle.js's runner feeds: one 1 x 28 x 28 image named ``image`` (NCHW),
flattened, then ``matmul_v2`` + ``elementwise_add`` (+ ReLU) per layer and a softmax. The
converter (1.0.8) was written for PaddlePaddle's ``fluid`` API, which 2.6 no longer has; the
four names it uses (``global_scope``, ``Executor``, ``CPUPlace``, ``io.load_inference_model``)
are given to it from ``paddle.static`` under that name (``fluid_shim``). Prints one JSON line:
the output files and the largest difference from numpy.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import types

import numpy as np


def fluid_shim(paddle):
    """A ``paddle.fluid`` module with what paddlejsconverter 1.0.8 calls, from paddle.static."""
    fluid = types.ModuleType("paddle.fluid")
    fluid.global_scope, fluid.Executor = paddle.static.global_scope, paddle.static.Executor
    fluid.CPUPlace = paddle.CPUPlace

    def load_inference_model(dirname, executor, model_filename=None, params_filename=None):
        return paddle.static.load_inference_model(
            dirname, executor, model_filename=model_filename, params_filename=params_filename
        )

    fluid.io = types.SimpleNamespace(load_inference_model=load_inference_model)
    return fluid


def layers(npz) -> list:
    n = len([k for k in npz.files if k.startswith("w")])
    return [(npz[f"w{i}"].astype(np.float32), npz[f"b{i}"].astype(np.float32)) for i in range(n)]


def reference(ws, x):
    for k, (w, b) in enumerate(ws):
        x = x @ w + b
        x = np.maximum(x, 0) if k < len(ws) - 1 else x
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def main(weights_npz: str, out_dir: str) -> dict:
    import paddle

    paddle.enable_static()
    ws = layers(np.load(weights_npz))
    main_prog, start = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main_prog, start):
        image = paddle.static.data("image", [1, 1, 28, 28], "float32")
        h = paddle.flatten(image, 1)
        for k, (w, b) in enumerate(ws):
            init = paddle.nn.initializer.Assign
            wv = paddle.static.create_parameter(
                w.shape, "float32", f"w{k}", default_initializer=init(w)
            )
            bv = paddle.static.create_parameter(
                b.shape, "float32", f"b{k}", default_initializer=init(b)
            )
            h = paddle.matmul(h, wv) + bv
            h = paddle.nn.functional.relu(h) if k < len(ws) - 1 else paddle.nn.functional.softmax(h)
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(start)
    x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
    got = exe.run(main_prog, feed={"image": x}, fetch_list=[h])[0]
    diff = float(np.abs(got - reference(ws, x.reshape(1, -1))).max())
    if not diff < 1e-5:
        raise RuntimeError(f"paddle_convert: PaddlePaddle's network differs from numpy by {diff}")
    with tempfile.TemporaryDirectory() as tmp:
        paddle.static.save_inference_model(
            os.path.join(tmp, "model"), [image], [h], exe, program=main_prog
        )
        sys.modules["paddle.fluid"] = paddle.fluid = fluid_shim(paddle)
        import convertModel  # paddlejsconverter's module (top level in its wheel)

        os.makedirs(out_dir, exist_ok=True)
        model, params = (os.path.join(tmp, f"model.{e}") for e in ("pdmodel", "pdiparams"))
        sys.argv = ["convertModel", "--modelPath", model, "--paramPath", params]
        sys.argv += ["--outputDir", out_dir]
        convertModel.main()  # exits 1 (printing the traceback) on failure
    return {"files": sorted(os.listdir(out_dir)), "paddle_vs_numpy": diff}


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2])
    print("PADDLE_CONVERT " + json.dumps(result))
