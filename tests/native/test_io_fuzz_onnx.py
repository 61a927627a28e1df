"""Fuzzing the ONNX reader (protobuf, tensors, graph checks and the load-time dry run) with
mutated real files (``torch.onnx.export`` of an MLP, a CNN and an LSTM, and wasmdl's own
exports): only ModelFileError escapes, no case over 2 s or 200 MB.
``WASMDL_FUZZ_CASES=100000`` runs more."""

import numpy as np
import pytest
from fuzzing import cases, fuzz, summary
from test_io_onnx import torch_export

import wasmdl
from wasmdl import nn
from wasmdl.io import onnx as wo

torch = pytest.importorskip("torch")


def _seeds():
    torch.manual_seed(0)
    t = torch.nn
    rng = np.random.default_rng(0)
    mlp = t.Sequential(t.Linear(4, 6), t.ReLU(), t.Linear(6, 2), t.Softmax(-1))
    cnn = t.Sequential(
        t.Conv2d(2, 3, 3, padding=1),
        t.BatchNorm2d(3),
        t.ReLU6(),
        t.MaxPool2d(2),
        t.ConvTranspose2d(3, 2, 2, stride=2),
        t.AvgPool2d(2),
        t.Flatten(),
        t.Linear(8, 2),
    )
    lstm = t.LSTM(3, 4, batch_first=True, bidirectional=True)
    seeds = [
        torch_export(mlp, rng.normal(size=(1, 4)).astype(np.float32)),
        torch_export(cnn, rng.normal(size=(1, 2, 4, 4)).astype(np.float32)),
        torch_export(lstm, rng.normal(size=(1, 3, 3)).astype(np.float32)),
    ]
    net = wasmdl.Sequential(
        [nn.Embedding(9, 3, input_shape=(3,)), nn.GRU(2), nn.Dense(2, "softmax")]
    )
    cnet = wasmdl.Sequential(
        [nn.Conv2D(2, 3, padding="same", input_shape=(4, 4, 1)), nn.Flatten(), nn.Dense(2)]
    )
    return seeds + [wo.save(net), wo.save(cnet)]


def test_fuzz_onnx(record_property):
    seeds = _seeds()
    for s in seeds:  # every seed loads as it is
        wo.load(s)
    report = fuzz(wo.load, seeds, cases(10_000))
    print(summary("onnx", report))
    record_property("fuzz", summary("onnx", report))
    assert report["escaped"] == [], report["escaped"][:5]
    assert report["slow"] == [] and report["big"] == []
