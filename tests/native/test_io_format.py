"""The native file container: round trip, safetensors compatibility, hostile files."""

import json
import struct

import numpy as np
import pytest

from wasmdl.io import read_source
from wasmdl.io.format import ModelFileError, read_bytes, write_bytes

CONFIG = {"class_name": "Sequential", "config": {"layers": []}}


def _weights():
    rng = np.random.default_rng(0)
    return {
        "dense/kernel": rng.standard_normal((4, 3)).astype(np.float32),
        "dense/bias": np.zeros(3, np.float32),
        "emb/ids": np.arange(5, dtype=np.int32),
        "empty": np.zeros((0, 7), np.float32),
    }


def _craft(header: dict, body: bytes = b"", meta: dict | None = None) -> bytes:
    meta = {"format": "wasmdl", "format_version": "1", "config": json.dumps(CONFIG)} | (meta or {})
    text = json.dumps({"__metadata__": meta} | header).encode()
    return struct.pack("<Q", len(text)) + text + body


def test_round_trip_bit_exact():
    w = _weights()
    config, tensors = read_bytes(write_bytes(CONFIG, w))
    assert config == CONFIG and list(tensors) == list(w)
    for k in w:
        assert tensors[k].dtype == w[k].dtype and tensors[k].shape == w[k].shape
        np.testing.assert_array_equal(tensors[k], w[k])
        tensors[k][...] = 0  # loaded arrays are writable copies, not views of the file


def test_header_is_plain_safetensors_layout():
    # Independent reader written from the safetensors spec: u64 length, JSON, raw LE data.
    blob = write_bytes(CONFIG, _weights())
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0
    header = json.loads(blob[8 : 8 + n])
    b, e = header["dense/kernel"]["data_offsets"]
    got = np.frombuffer(blob[8 + n + b : 8 + n + e], "<f4").reshape(4, 3)
    np.testing.assert_array_equal(got, _weights()["dense/kernel"])
    assert json.loads(header["__metadata__"]["config"]) == CONFIG


def test_every_truncation_raises_model_file_error():
    blob = write_bytes(CONFIG, _weights())
    for cut in range(0, len(blob), 7):
        with pytest.raises(ModelFileError, match="load_model"):
            read_bytes(blob[:cut])


def test_random_byte_corruption_never_crashes():
    blob = bytearray(write_bytes(CONFIG, _weights()))
    rng = np.random.default_rng(1)
    for _ in range(300):
        bad = bytearray(blob)
        for i in rng.integers(0, len(bad), 3):
            bad[i] = rng.integers(0, 256)
        try:
            read_bytes(bytes(bad))  # may still be valid (corrupted weight bytes)
        except ModelFileError:
            pass


F32_12 = np.zeros(3, np.float32).tobytes()
HOSTILE = {
    "huge header length": struct.pack("<Q", 2**63) + b"{}",
    "header past end": struct.pack("<Q", 100) + b"{}",
    "bad json": struct.pack("<Q", 5) + b"{abc}",
    "not utf8": struct.pack("<Q", 2) + b"\xff\xfe",
    "json list": struct.pack("<Q", 2) + b"[]",
    "deep nesting": struct.pack("<Q", 200000) + b"[" * 100000 + b"]" * 100000,
    "no metadata": struct.pack("<Q", 2) + b"{}",
    "wrong format": _craft({}, meta={"format": "pickle"}),
    "future version": _craft({}, meta={"format_version": "99"}),
    "config not json": _craft({}, meta={"config": "{oops"}),
    "config not object": _craft({}, meta={"config": "[1, 2]"}),
    "huge declared shape": _craft(
        {"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 12]}}, F32_12
    ),
    "offsets past end": _craft(
        {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 10**15]}}, F32_12
    ),
    "offsets reversed": _craft({"w": {"dtype": "F32", "shape": [0], "data_offsets": [12, 0]}}),
    "size mismatch": _craft({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, F32_12),
    "negative dim": _craft({"w": {"dtype": "F32", "shape": [-3], "data_offsets": [0, 12]}}, F32_12),
    "float dim": _craft({"w": {"dtype": "F32", "shape": [3.0], "data_offsets": [0, 12]}}, F32_12),
    "bool dim": _craft({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, F32_12),
    "rank 1000": _craft({"w": {"dtype": "F32", "shape": [1] * 1000, "data_offsets": [0, 4]}}),
    "object dtype": _craft({"w": {"dtype": "O", "shape": [3], "data_offsets": [0, 12]}}, F32_12),
    "extra key": _craft(
        {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12], "x": 1}}, F32_12
    ),
    "overlap": _craft(
        {
            "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
        },
        F32_12,
    ),
    "gap": _craft({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, F32_12),
    "trailing bytes": _craft({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, F32_12),
    "entry not object": _craft({"w": [1, 2, 3]}),
    "huge int in json": struct.pack("<Q", 20005) + b"[" + b"9" * 20000 + b"]   ",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_raises_clear_error(name):
    with pytest.raises(ModelFileError, match="^load_model: "):
        read_bytes(HOSTILE[name])


def test_read_source_accepts_paths_bytes_and_files(tmp_path):
    blob = write_bytes(CONFIG, _weights())
    p = tmp_path / "m.wasmdl"
    p.write_bytes(blob)
    with open(p, "rb") as f:
        sources = [str(p), p, blob, bytearray(blob), memoryview(blob), f]
        for s in sources:
            assert read_bytes(read_source(s))[0] == CONFIG
    with pytest.raises(TypeError, match="load_model: source must be a path"):
        read_source(42)
