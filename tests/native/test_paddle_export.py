"""Paddle.js models for the benchmark (bench/paddle_export.py): PaddlePaddle 2.6.2 and Paddle.js's
own converter in their venv turn a network's weights into model.json + chunk_1.dat. Checked
against the weights themselves (the converter stores every parameter, sorted by name, as
float32) and the network's op list; PaddlePaddle's own output was checked against numpy by the
converter script before it wrote anything. The page runs the result (tests/chrome/test_bench.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the top-level bench/ package

from bench import paddle_export  # noqa: E402


def test_converter_writes_the_network_and_its_weights(tmp_path):
    reason = paddle_export.available()  # the site build made the venv; a failure says why
    assert reason is None, reason
    rng = np.random.default_rng(3)
    sizes = [784, 12, 7, 10]
    arrays = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        arrays[f"w{i}"] = rng.standard_normal((a, b)).astype(np.float32)
        arrays[f"b{i}"] = rng.standard_normal(b).astype(np.float32)
    np.savez(tmp_path / "weights.npz", **arrays)
    report = paddle_export.convert(str(tmp_path / "weights.npz"), str(tmp_path / "pj"))
    assert report["files"] == ["chunk_1.dat", "model.json"], report
    assert report["check_diff"] < 1e-5, report
    model = json.loads((tmp_path / "pj" / "model.json").read_text())
    ops = [op["type"] for op in model["ops"]]
    assert ops[:2] == ["feed", "flatten_contiguous_range"] and ops[-1] == "fetch", ops
    assert ops.count("matmul_v2") == 3 and ops.count("relu") == 2 and "softmax" in ops, ops
    assert model["feedShape"] == {"fc": 1, "fh": 28, "fw": 28}, model["feedShape"]
    for name, a in arrays.items():
        assert model["vars"][name]["persistable"] and model["vars"][name]["shape"] == list(a.shape)
    chunk = np.fromfile(tmp_path / "pj" / "chunk_1.dat", dtype=np.float32)
    expected = np.concatenate([arrays[k].ravel() for k in sorted(arrays)])
    np.testing.assert_array_equal(chunk, expected)


def test_converter_failure_is_reported_with_its_error(tmp_path):
    np.savez(tmp_path / "weights.npz", w0=np.ones((3, 2), np.float32))  # no b0: not a network
    try:
        paddle_export.convert(str(tmp_path / "weights.npz"), str(tmp_path / "pj"))
    except RuntimeError as e:
        assert "failed" in str(e) and "b0" in str(e), e
    else:
        raise AssertionError("convert accepted weights without biases")


def test_workload_cnn_converts_and_matches_wasmdl(tmp_path):
    """The MNIST CNN workload (Conv2D, MaxPool2D, Flatten, Dense on NHWC) as a Paddle network
    (NCHW: conv kernels OIHW, the Dense rows reordered for NCHW's flattening): PaddlePaddle's
    outputs must match wasmdl's on the same images before the converter runs."""
    from bench import workloads

    model = workloads.build("cnn")
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    y = np.asarray(model.predict(x))
    report = paddle_export.export_network(model, x, y, str(tmp_path / "pj"))
    assert report["check_diff"] < 1e-5, report
    graph = json.loads((tmp_path / "pj" / "model.json").read_text())["ops"]
    ops = [op["type"] for op in graph]
    assert ops.count("conv2d") == 2 and ops.count("pool2d") == 2, ops
    assert "reshape2" not in ops, ops  # the bias is conv2d + elementwise_add, as Paddle.js expects
    # Paddle.js's conv2d shader reads fuse_relu, which PaddlePaddle 2.6's conv2d op lacks
    assert all(op["attrs"].get("fuse_relu") == 0 for op in graph if op["type"] == "conv2d")


def test_workload_lstm_converts_and_matches_wasmdl(tmp_path):
    """The LSTM workload (LSTM(64) over the image's 28 rows, Dense softmax): PaddlePaddle's
    LSTM with the same weights (gates i, f, g, o; one bias) matches wasmdl before conversion,
    and the converter unrolls it into its rnn ops; a layer it cannot express is named."""
    import wasmdl
    from bench import workloads
    from wasmdl import nn

    model = workloads.build("lstm")
    x = np.random.default_rng(2).random((2, 28, 28), dtype=np.float32)
    y = np.asarray(model.predict(x))
    report = paddle_export.export_network(model, x, y, str(tmp_path / "pj"))
    assert report["check_diff"] < 1e-5, report
    ops = [op["type"] for op in json.loads((tmp_path / "pj" / "model.json").read_text())["ops"]]
    assert ops.count("rnn_cell") == 28, ops
    gru = wasmdl.Sequential([nn.GRU(8, input_shape=(28, 28)), nn.Dense(10)])
    gru.predict(x)
    try:
        paddle_export.network_arrays(gru, x, y)
    except ValueError as e:
        assert "GRU is not handled" in str(e), e
    else:
        raise AssertionError("network_arrays accepted a GRU")
