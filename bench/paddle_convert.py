"""Runs inside the PaddlePaddle venv (``bench/paddle_export.py`` starts it): build a network in
PaddlePaddle from an ``.npz`` of weights, check it, save it as a Paddle inference model and
convert that with Paddle.js's own converter (``paddlejsconverter``).

    <paddle venv>/bin/python bench/paddle_convert.py WEIGHTS_NPZ OUT_DIR

The network is what Paddle.js's runner feeds: one 1 x 28 x 28 image named ``image`` (NCHW).
The npz's ``layers`` entry (a JSON string) lists the layers: ``{"type": "dense" | "conv2d",
"w", "b", "act": "relu" | "softmax" | null}`` (arrays already in Paddle's layouts: dense
(in, out), conv OIHW, valid padding, stride 1), ``{"type": "lstm", "w", "u", "b", "units"}``
(the image's rows as 28 steps; (4h, in) / (4h, h) layouts; its last output),
``{"type": "maxpool2d"}`` (2 x 2, stride 2)
and ``{"type": "flatten"}``; without it, the grid MLP (``w0, b0, w1, ...``: flatten, then
dense + ReLU layers and a softmax). ``x_check``/``y_check`` (an input and the outputs another
framework gave for it), else numpy's dense forward, check PaddlePaddle's output before
anything is written. The converter (1.0.8) was written for PaddlePaddle's ``fluid`` API, which
2.6 no longer has; the four names it uses (``global_scope``, ``Executor``, ``CPUPlace``,
``io.load_inference_model``) are given to it from ``paddle.static`` under that name
(``fluid_shim``). Prints one JSON line: the output files and the largest difference.
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


def spec(npz) -> list:
    """The layer list (see the module), the grid MLP's when the npz has none."""
    if "layers" in npz.files:
        return json.loads(str(npz["layers"]))
    n = len([k for k in npz.files if k.startswith("w")])
    dense = [{"type": "dense", "w": f"w{i}", "b": f"b{i}", "act": "relu"} for i in range(n)]
    dense[-1]["act"] = "softmax"
    return [{"type": "flatten"}, *dense]


def reference(npz, layers, x):
    """numpy's forward of a flatten + dense network (the grid MLP's check)."""
    x = x.reshape(len(x), -1)
    for layer in layers[1:]:
        x = x @ npz[layer["w"]] + npz[layer["b"]]
        if layer["act"] == "relu":
            x = np.maximum(x, 0)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def build(paddle, npz, layers, image):
    f = paddle.nn.functional
    h = image
    k = 0  # weighted layers so far: their parameters are w0, b0, w1, ...
    for layer in layers:
        kind = layer["type"]
        if kind == "flatten":
            h = paddle.flatten(h, 1)
        elif kind == "lstm":  # over the image's rows; Paddle's gates are i, f, g, o as Keras'
            w, u, b = (npz[layer[n]].astype(np.float32) for n in ("w", "u", "b"))
            attrs = [paddle.ParamAttr(initializer=paddle.nn.initializer.Assign(a))
                     for a in (w, u, b, 0 * b)]  # fmt: skip
            lstm = paddle.nn.LSTM(w.shape[1], layer["units"], weight_ih_attr=attrs[0],
                                  weight_hh_attr=attrs[1], bias_ih_attr=attrs[2],
                                  bias_hh_attr=attrs[3])  # fmt: skip
            out, _ = lstm(paddle.reshape(h, [h.shape[0], h.shape[2], h.shape[3]]))
            h = out[:, -1, :]
            k += 1
        elif kind == "maxpool2d":
            h = f.max_pool2d(h, kernel_size=2, stride=2)
        elif kind in ("dense", "conv2d"):
            w, b = npz[layer["w"]].astype(np.float32), npz[layer["b"]].astype(np.float32)
            attr = [paddle.ParamAttr(name=f"{n}{k}", initializer=paddle.nn.initializer.Assign(a))
                    for n, a in (("w", w), ("b", b))]  # fmt: skip
            if kind == "dense":
                wv, bv = (paddle.static.create_parameter(a.shape, "float32", attr=pa)
                          for a, pa in ((w, attr[0]), (b, attr[1])))  # fmt: skip
                h = paddle.matmul(h, wv) + bv
            else:  # the classic conv2d + elementwise_add(bias, axis=1), as Paddle.js expects
                h = paddle.static.nn.conv2d(h, w.shape[0], w.shape[2:], param_attr=attr[0],
                                            bias_attr=attr[1])  # fmt: skip
            k += 1
            if layer["act"] == "relu":
                h = f.relu(h)
            elif layer["act"] == "softmax":
                h = f.softmax(h)
            elif layer["act"] is not None:
                raise ValueError(f"paddle_convert: activation {layer['act']!r} is not handled")
        else:
            raise ValueError(f"paddle_convert: layer type {kind!r} is not handled")
    return h


def main(weights_npz: str, out_dir: str) -> dict:
    import paddle

    paddle.enable_static()
    npz = np.load(weights_npz)
    layers = spec(npz)
    main_prog, start = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main_prog, start):
        image = paddle.static.data("image", [1, 1, 28, 28], "float32")
        h = build(paddle, npz, layers, image)
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(start)
    if "x_check" in npz.files:
        checks = [(x[None], y[None]) for x, y in zip(npz["x_check"], npz["y_check"], strict=True)]
    else:
        x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
        checks = [(x, reference(npz, layers, x))]
    diff = 0.0
    for x, want in checks:
        got = exe.run(main_prog, feed={"image": x.astype(np.float32)}, fetch_list=[h])[0]
        diff = max(diff, float(np.abs(got - want).max()))
    if not diff < 1e-5:
        raise RuntimeError(f"paddle_convert: PaddlePaddle's network is off the check by {diff}")
    for op in main_prog.global_block().ops:  # Paddle.js's conv2d shader reads this attribute,
        if op.type == "conv2d" and not op.has_attr("fuse_relu"):  # which 2.6's op no longer has
            op._set_attr("fuse_relu", False)
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
    return {"files": sorted(os.listdir(out_dir)), "check_diff": diff}


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2])
    print("PADDLE_CONVERT " + json.dumps(result))
