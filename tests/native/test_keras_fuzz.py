"""Fuzzing the Keras loaders: mutated real .keras and .h5 files (written by Keras itself).

Every case must load or raise ``ModelFileError``: no other exception escapes, no case takes
more than 2 s, and the process grows by less than 200 MB over the whole run. Mutations: byte
flips, random runs, huge 8-byte fields, truncation, insertion and deletion on the raw files;
the same on the .keras members (config.json, model.weights.h5) re-zipped, so the mutations
reach the HDF5 reader and the config mapping past the zip checksums; and structural JSON
mutations (a value replaced by a hostile one). ``WASMDL_FUZZ_CASES`` sets the case count
(default 10,000); the seed is fixed and printed with every failure.
"""

import io
import json
import os
import resource
import time
import warnings
import zipfile

import numpy as np

import wasmdl
from wasmdl.io import ModelFileError

CASES = int(os.environ.get("WASMDL_FUZZ_CASES", "10000"))
SEED = int(os.environ.get("WASMDL_FUZZ_SEED", "0"))
SOURCES = ["mlp", "two_in_two_out", "rnn"]
HOSTILE = [
    None, True, -1, 0, 1 << 40, 1e308, float("nan"), "", "x" * 300, [], {}, [None],
    [1 << 30, 1 << 30], {"class_name": "Lambda", "config": {}}, [[[[[]]]]], "__keras_tensor__",
]  # fmt: skip


def _bytes_mutation(rng, data: bytes) -> bytes:
    b = bytearray(data)
    if not b:
        return bytes(b)
    kind = rng.integers(7)
    at = int(rng.integers(len(b)))
    if kind == 0:  # flip a few bits
        for pos in rng.integers(0, len(b), size=rng.integers(1, 9)):
            b[pos] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # a random run
        n = int(rng.integers(1, 64))
        b[at : at + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    elif kind == 2:  # a huge or all-ones 8-byte field, aligned as HDF5 addresses are
        at -= at % 8
        b[at : at + 8] = rng.choice([b"\xff" * 8, (1 << 62).to_bytes(8, "little"),
                                     int(rng.integers(1 << 31)).to_bytes(8, "little")])  # fmt: skip
    elif kind == 3:
        return bytes(b[:at])  # truncated
    elif kind == 4:
        b[at:at] = rng.integers(0, 256, int(rng.integers(1, 32)), dtype=np.uint8).tobytes()
    elif kind == 5:
        del b[at : at + int(rng.integers(1, 64))]
    else:  # a small integer where a count or size may be
        b[at : at + 2] = int(rng.integers(65536)).to_bytes(2, "little")
    return bytes(b)


def _json_mutation(rng, text: bytes) -> bytes:
    config = json.loads(text)
    slots = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            slots.append((node, key))
            if isinstance(value, dict | list):
                walk(value)

    walk(config)
    for _ in range(int(rng.integers(1, 4))):
        node, key = slots[int(rng.integers(len(slots)))]
        node[key] = HOSTILE[int(rng.integers(len(HOSTILE)))]
    return json.dumps(config).encode()


def _rezip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _case(rng, files):
    name = SOURCES[int(rng.integers(len(SOURCES)))]
    kind = int(rng.integers(5))
    if kind == 0:
        return f"{name}.keras raw", _bytes_mutation(rng, files[name]["keras"])
    if kind == 1:
        return f"{name}.h5 raw", _bytes_mutation(rng, files[name]["h5"])
    members = files[name]["members"]
    if kind == 2:
        mutated = {**members, "model.weights.h5": _bytes_mutation(rng, members["model.weights.h5"])}
        return f"{name}.keras weights", _rezip(mutated)
    if kind == 3:
        mutated = {**members, "config.json": _bytes_mutation(rng, members["config.json"])}
        return f"{name}.keras config bytes", _rezip(mutated)
    mutated = {**members, "config.json": _json_mutation(rng, members["config.json"])}
    return f"{name}.keras config values", _rezip(mutated)


def test_mutated_keras_files_raise_only_model_file_error(keras_files):
    for name in SOURCES:
        z = zipfile.ZipFile(io.BytesIO(keras_files[name]["keras"]))
        keras_files[name]["members"] = {n: z.read(n) for n in z.namelist()}
    rng = np.random.default_rng(SEED)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    failures, slowest, outcomes = [], (0.0, ""), {"loaded": 0, "ModelFileError": 0}
    start = time.perf_counter()
    for i in range(CASES):
        label, blob = _case(rng, keras_files)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wasmdl.load_model(blob)
            outcomes["loaded"] += 1
        except ModelFileError:
            outcomes["ModelFileError"] += 1
        except Exception as e:  # noqa: BLE001 - the point of the test
            failures.append(f"case {i} ({label}): {type(e).__name__}: {str(e)[:200]}")
        dt = time.perf_counter() - t0
        slowest = max(slowest, (dt, f"case {i} ({label})"))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    print(
        f"\nfuzz: {CASES} cases in {time.perf_counter() - start:.1f} s, {outcomes}, "
        f"slowest {slowest[0] * 1000:.0f} ms ({slowest[1]}), peak RSS grew {grown_mb:.0f} MB"
    )
    assert not failures, f"{len(failures)} cases escaped (seed {SEED}):\n" + "\n".join(
        failures[:20]
    )
    assert slowest[0] < 2.0, f"slowest case {slowest}"
    assert grown_mb < 200
