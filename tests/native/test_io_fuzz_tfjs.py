"""Fuzzing the TF.js layers-model reader with mutated real files (model.json and shards that
TF.js 4.22 saved, and wasmdl's own): only ModelFileError escapes, no case over 2 s or 200 MB.
``WASMDL_FUZZ_CASES=100000`` runs more."""

import json

from fuzzing import cases, fuzz, summary
from test_io_tfjs import made, node, pytestmark  # noqa: F401  (fixture, skip mark)

import wasmdl
from wasmdl import nn
from wasmdl.io import tfjs


def _one_shard(d):
    """A TF.js-saved model as (model.json bytes, its single shard)."""
    doc = json.loads((d / "model.json").read_text())
    data = b"".join((d / p).read_bytes() for p in doc["weightsManifest"][0]["paths"])
    doc["weightsManifest"][0]["paths"] = ["w.bin"]
    return json.dumps(doc).encode(), data


def test_fuzz_tfjs(made, record_property):  # noqa: F811  (the imported fixture)
    pairs = [_one_shard(made[k]) for k in ("mlp", "cnn", "lstm", "gru", "functional")]
    net = wasmdl.Sequential([nn.Conv2D(2, 3, input_shape=(5, 5, 1)), nn.Flatten(), nn.Dense(2)])
    files = tfjs.save(net, quantize="uint8")
    doc = json.loads(files["model.json"])
    doc["weightsManifest"][0]["paths"] = ["w.bin"]
    pairs.append((json.dumps(doc).encode(), files["group1-shard1of1.bin"]))
    shards = {j: {"w.bin": w} for j, w in pairs}

    def load_json(data):
        seed = max(shards, key=lambda j: _common_prefix(j, data))
        tfjs.load(data, weights=shards[seed])

    n = cases(10_000)
    r1 = fuzz(load_json, [j for j, _ in pairs], n * 7 // 10)
    r2 = fuzz(
        lambda data: tfjs.load(pairs[len(data) % len(pairs)][0], weights={"w.bin": data}),
        [w for _, w in pairs],
        n - n * 7 // 10,
        seed=1,
    )
    for name, r in (("tfjs model.json", r1), ("tfjs shards", r2)):
        print(summary(name, r))
        record_property(name, summary(name, r))
        assert r["escaped"] == [], r["escaped"][:5]
        assert r["slow"] == [] and r["big"] == []


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b), 400)
    return next((i for i in range(n) if a[i] != b[i]), n) + (len(a) == len(b))
