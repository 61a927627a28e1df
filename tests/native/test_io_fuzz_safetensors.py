"""Fuzzing the safetensors reader and the state_dict mapping with mutated real files (written by
the ``safetensors`` package from a torch CNN's state_dict, and by wasmdl): only ModelFileError
escapes, no case over 2 s or 200 MB. ``WASMDL_FUZZ_CASES=100000`` runs more."""

import numpy as np
import pytest
from fuzzing import cases, fuzz, summary

import wasmdl
from wasmdl import nn
from wasmdl.io import safetensors as st

torch = pytest.importorskip("torch")
sttorch = pytest.importorskip("safetensors.torch")


def test_fuzz_safetensors(record_property):
    t = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3),
        torch.nn.BatchNorm2d(3),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 2),
    )
    w = wasmdl.Sequential(
        [
            nn.Conv2D(3, 3, input_shape=(4, 4, 2)),
            nn.BatchNormalization(epsilon=1e-5),
            nn.Flatten(),
            nn.Dense(2),
        ]
    )
    seeds = [
        sttorch.save(t.state_dict()),
        sttorch.save({k: v.half() for k, v in t.state_dict().items() if v.is_floating_point()}),
        st.save(w),
        st.write({"x": np.arange(5, dtype=np.int64), "y": np.ones((2, 2), np.float16)}),
    ]

    def load(data):
        st.load(data)
        st.load(data, model=w)

    report = fuzz(load, seeds, cases(10_000))
    print(summary("safetensors", report))
    record_property("fuzz", summary("safetensors", report))
    assert report["escaped"] == [], report["escaped"][:5]
    assert report["slow"] == [] and report["big"] == []


def test_sniffers_tell_the_formats_apart():
    import wasmdl.io.format as native
    from wasmdl.io import onnx, tfjs

    net = wasmdl.Sequential([nn.Dense(2, input_shape=(3,))])
    blobs = {
        "onnx": onnx.save(net),
        "safetensors": st.save(net),
        "tfjs": tfjs.save(net)["model.json"],
    }
    for length in range(8, 4096, 8):  # safetensors files whose length prefix starts 08 0x
        header = b"{" + b" " * (length - 1)
        assert not onnx.sniff(len(header).to_bytes(8, "little") + header)
    assert st.sniff(native.write_bytes({}, {"w": np.zeros(2, np.float32)}))  # native is one
    for name, blob in blobs.items():
        found = [m.__name__.rsplit(".", 1)[1] for m in (onnx, st, tfjs) if m.sniff(blob)]
        assert found == [name], (name, found)
