"""The benchmark's Python side: the grid oracle against PyTorch, and the peer model formats
(read back independently of the writers: JSON parsed, protobuf fields walked, shards summed).
The browser-side checks (every framework loading these files and agreeing) are in
tests/chrome/test_bench.py."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from bench import adapter, formats, grid, protobuf, report

CFG = grid.config_by_id("d2_w64")


@pytest.fixture(scope="module")
def weights():
    return grid.make_weights(CFG)


def _torch_net(weights):
    layers = []
    for i, (w, b) in enumerate(weights):
        lin = torch.nn.Linear(*w.shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.astype(np.float64)))
            lin.bias.copy_(torch.from_numpy(b.astype(np.float64)))
        layers += [lin] + ([torch.nn.ReLU()] if i < len(weights) - 1 else [])
    return torch.nn.Sequential(*layers)


def test_oracle_forward_and_sgd_step_match_torch(weights):
    rng = np.random.default_rng(0)
    x = rng.random((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    net = _torch_net(weights)
    xt = torch.from_numpy(x.astype(np.float64))
    np.testing.assert_allclose(
        grid.forward(weights, x), torch.softmax(net(xt), 1).detach(), atol=1e-12
    )
    loss = torch.nn.functional.cross_entropy(net(xt), torch.from_numpy(y))
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= grid.LEARNING_RATE * p.grad
    stepped = grid.sgd_step(weights, x, y)
    np.testing.assert_allclose(
        grid.forward(stepped, x), torch.softmax(net(xt), 1).detach(), atol=1e-6
    )


def test_wasmdl_reference_agrees_with_the_oracle(weights):
    ref = adapter.reference(weights, grid.load_data())
    assert ref["by"].startswith("wasmdl"), ref["by"]
    assert ref["oracle_max_abs_diff"] < 1e-5
    assert set(grid.VARIANTS) <= set(ref) and len(ref["softmax"]) == grid.N_CHECK


def test_tfjs_manifest_matches_shards(weights):
    files = formats.tfjs_layers(weights)
    model = json.loads(files["model.json"])
    specs = model["weightsManifest"][0]["weights"]
    total = sum(np.prod(s["shape"]) * 4 for s in specs)
    assert total == sum(len(files[p]) for p in model["weightsManifest"][0]["paths"])
    first = np.frombuffer(files["group1-shard1of1.bin"][: 784 * 64 * 4], "<f4")
    np.testing.assert_array_equal(first.reshape(784, 64), weights[0][0])


def test_json_formats_hold_the_same_weights(weights):
    conv = json.loads(formats.convnetjs(weights)["convnetjs.json"])
    fc = [layer for layer in conv["layers"] if layer["layer_type"] == "fc"]
    np.testing.assert_array_equal(np.float32(fc[1]["filters"][3]["w"]), weights[1][0][:, 3])
    brain = json.loads(formats.brainjs(weights)["brainjs.json"])
    assert brain["sizes"] == CFG.sizes and brain["activation"] == "relu"
    assert np.float32(brain["layers"][2]["7"]["weights"]["5"]) == weights[1][0][5, 7]
    syn = json.loads(formats.synaptic(weights)["synaptic.json"])
    assert len(syn["neurons"]) == sum(CFG.sizes)
    assert len(syn["connections"]) == sum(w.size for w, _ in weights)
    assert {n["squash"] for n in syn["neurons"] if n["layer"] == "output"} == {"IDENTITY"}


def _fields(buf: bytes):
    """Walk one protobuf message: yield (field number, wire type, value)."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            val, i = buf[i : i + n], i + n
        elif wt == 5:
            val, i = struct.unpack("<f", buf[i : i + 4])[0], i + 4
        else:
            raise AssertionError(f"unexpected wire type {wt}")
        yield num, wt, val


def _varint(buf, i):
    shift = val = 0
    while True:
        b = buf[i]
        i += 1
        val |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return val, i


def test_onnx_graph_structure_and_initializers(weights):
    model = dict((n, v) for n, _, v in _fields(protobuf.onnx_model(weights)))
    assert model[1] == 8  # ir_version
    graph = list(_fields(model[7]))
    ops = [dict((n, v) for n, _, v in _fields(v))[4].decode() for n, _, v in graph if n == 1]
    assert ops == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"]
    inits = [dict((n, v) for n, _, v in _fields(v)) for n, _, v in graph if n == 5]
    w0 = next(t for t in inits if t[8] == b"W0")
    np.testing.assert_array_equal(np.frombuffer(w0[9], "<f4").reshape(784, 64), weights[0][0])


def test_kerasjs_protobuf_weights_and_config(weights):
    fields = list(_fields(protobuf.kerasjs_model(weights)))
    config = json.loads(next(v for n, _, v in fields if n == 5))
    assert [layer["config"]["activation"] for layer in config["config"]] == [
        "relu",
        "relu",
        "softmax",
    ]
    ws = [dict((n, v) for n, _, v in _fields(v)) for n, _, v in fields if n == 6]
    assert ws[2][2] == b"dense_2/kernel:0"
    np.testing.assert_array_equal(np.frombuffer(ws[2][5], "<f4").reshape(64, 64), weights[1][0])


def test_report_tables_and_ratios():
    rows = [
        {
            "framework": "wasmdl",
            "name": "wasmdl",
            "backend": "numpy",
            "config": "d1_w64",
            "status": "ok",
            "train": {"median": 30.0},
            "infer": {"median": 2.0},
        },
        {
            "framework": "tfjs",
            "name": "TF.js",
            "backend": "cpu",
            "config": "d1_w64",
            "status": "failed",
            "error": "boom",
        },
        {
            "framework": "torch-native",
            "name": "PyTorch",
            "backend": "cpu",
            "config": "d1_w64",
            "status": "ok",
            "native": True,
            "train": {"median": 10.0},
            "infer": {"median": 0.5},
        },
    ]
    table = report.phase_table(rows, "train", ["d1_w64"])
    assert "| d1_w64 | 30.0 | 10.0 | wasmdl · numpy |" in table
    ratios = report.ratio_table(rows, ["d1_w64"])
    assert "3.0×" in ratios and "4.0×" in ratios
    assert "boom" in report.notes(rows)
