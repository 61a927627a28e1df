"""Fuzzing ``wasmdl.load_model`` with mutations of real saved models (run as a child process).

``python tests/native/fuzz_load.py --cases N --seed S`` saves an MLP, a CNN with BatchNorm, an
LSTM model and an attention model, mutates their files N times (bytes flipped, truncated or
spliced; header JSON values replaced with hostile ones; architecture entries deleted, duplicated
or retyped; tensor dtypes, shapes and offsets rewritten), loads each mutant, and prints one JSON
line: the cases, the exceptions other than ``ModelFileError`` that escaped, the slowest case and
the growth of the peak resident memory over the baseline. Each case runs under a 2 s alarm;
``--memory-mb M`` caps the address space at M MiB above the warmed-up process (RLIMIT_AS), and a
``MemoryError`` behind a ``ModelFileError`` counts as a case over the memory limit.
"""

import argparse
import copy
import json
import os
import random
import resource
import signal
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))

import wasmdl  # noqa: E402
from wasmdl import nn  # noqa: E402
from wasmdl.io import ModelFileError  # noqa: E402
from wasmdl.nn.base import _REGISTRY  # noqa: E402

CASE_SECONDS = 2.0


@wasmdl.nn.register
class FuzzAttention(wasmdl.Model):
    """Self-attention over a sequence, built only from layers (so it loads by shape inference)."""

    def __init__(self, units=8, heads=2, **kw):
        super().__init__(**kw)
        self.units, self.heads = units, heads
        self.embed = nn.Dense(units)
        self.mha = nn.MultiHeadAttention(heads, units // heads)
        self.add, self.norm = nn.Add(), nn.LayerNormalization()
        self.pool, self.head = nn.GlobalAvgPool1D(), nn.Dense(3)

    def call(self, x):
        h = self.embed(x)
        h = self.norm(self.add([h, self.mha(h, h)]))
        return self.head(self.pool(h))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "heads": self.heads}


def models():
    mlp = wasmdl.Sequential([nn.Dense(16, "relu", input_shape=(8,)), nn.Dropout(0.2), nn.Dense(3)])
    cnn = wasmdl.Sequential(
        [
            nn.Conv2D(4, 3, padding="same", input_shape=(8, 8, 1)),
            nn.BatchNormalization(),
            nn.MaxPool2D(),
            nn.Conv2D(4, 3),
            nn.Flatten(),
            nn.Dense(3, activation="softmax"),
        ]
    )
    lstm = wasmdl.Sequential(
        [
            nn.Embedding(20, 6, input_shape=(7,)),
            nn.LSTM(5, return_sequences=True),
            nn.LSTM(4),
            nn.Dense(2),
        ]  # fmt: skip
    )
    attention = FuzzAttention()
    attention(np.zeros((1, 6, 4), np.float32))
    return {
        "mlp": mlp.save(),
        "cnn": cnn.save(),
        "lstm": lstm.save(),
        "attention": attention.save(),
    }


# ---------------------------------------------------------------------------- mutations
HOSTILE = [
    -1, 0, 1, 2, 3, 7, 2**31, 2**63, 10**9, 10**30, -(10**9), 0.5, 1e308, -0.0, float("nan"),
    float("inf"), None, True, False, "", "relu", "same", "causal", "zeros", "orthogonal", "x" * 300,
    [], [0], [1], [[1]], [None], [1, 2, 3], [10**9, 10**9], [-1, -1], [[1, 2], [3, 4]], {},
    {"a": 1}, {"class_name": "Dense", "config": {"units": 3}}, [None, 10**6, 10**6],
    [[None, 10**7, 10**7]], [[None, 4000000, 8]], "F32", "I32", "F64", "BOOL", "U8", "I64",
]  # fmt: skip
CLASS_NAMES = sorted(_REGISTRY) + ["Model", "_Conv", "Layer", "__import__", "os.system"]


def _split(blob):
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _join(header, body):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def _nodes(tree, path=()):
    """Every (container, key) in a JSON tree."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for k, v in list(items):
        yield tree, k
        if isinstance(v, dict | list):
            yield from _nodes(v, (*path, k))


def _mutate_tree(rng, tree):
    nodes = list(_nodes(tree))
    if not nodes:
        return
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        parent, key = rng.choice(nodes)
        op, value = rng.random(), parent[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        try:
            if op < 0.45:
                parent[key] = copy.deepcopy(rng.choice(HOSTILE))
            elif op < 0.6 and key == "class_name" or op < 0.52:
                parent[key] = rng.choice(CLASS_NAMES)
            elif op < 0.7:
                del parent[key]
            elif op < 0.72 and isinstance(value, list) and value:  # thousands of layers
                value.extend(value * rng.choice((500, 2000, 5000)))
            elif op < 0.8 and isinstance(value, list) and value:
                value.extend(value[: rng.randint(1, 3)] * rng.randint(1, 4))
            elif op < 0.9 and number:
                parent[key] = value * rng.choice((-1, 2, 10, 1000, 10**6)) + rng.choice((0, 1))
            else:
                parent[key] = [parent[key]] if rng.random() < 0.5 else {"v": parent[key]}
        except (KeyError, IndexError, TypeError):
            pass
        nodes = list(_nodes(tree)) or nodes


def mutate(rng, blob):
    """One mutant of a saved model file."""
    kind = rng.random()
    if kind < 0.15:  # raw bytes
        data = bytearray(blob)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
        return bytes(data)
    if kind < 0.2:
        return blob[: rng.randrange(len(blob))]
    header, body = _split(blob)
    config = json.loads(header["__metadata__"]["config"])
    if kind < 0.75:  # the architecture
        _mutate_tree(rng, config)
    elif kind < 0.95:  # tensor entries
        entries = {k: v for k, v in header.items() if k != "__metadata__"}
        _mutate_tree(rng, entries)
        header = {"__metadata__": header["__metadata__"], **entries}
        if rng.random() < 0.3:
            body = body + bytes(rng.randrange(64))
    else:  # the whole header
        _mutate_tree(rng, header)
    if isinstance(header.get("__metadata__"), dict):
        header["__metadata__"]["config"] = json.dumps(config)
    return _join(header, body)


# ---------------------------------------------------------------------------- running
class CaseTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def _maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vm_bytes():
    with open("/proc/self/status") as f:
        sizes = [line.split()[1] for line in f if line.startswith("VmSize:")]
    return int(sizes[0]) * 1024


def _over_memory(e):
    while e is not None:
        if isinstance(e, MemoryError):
            return True
        e = e.__cause__ or e.__context__
    return False


def run(cases, seed, memory_mb=0):
    rng = random.Random(seed)
    blobs = models()
    for blob in blobs.values():  # warm up: every path of a clean load once
        wasmdl.load_model(blob)
    signal.signal(signal.SIGALRM, _alarm)
    if memory_mb:  # from here on, every allocation beyond memory_mb raises MemoryError
        resource.setrlimit(resource.RLIMIT_AS, (_vm_bytes() + memory_mb * 2**20, -1))
    base = _maxrss_mb()
    escapes, over_memory, timeouts, loaded, slowest = [], 0, 0, 0, (0.0, "")
    names = sorted(blobs)
    for i in range(cases):
        name = names[i % len(names)]
        blob = mutate(rng, blobs[name])
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
        try:
            wasmdl.load_model(blob)
            loaded += 1
        except ModelFileError as e:
            over_memory += _over_memory(e)
        except CaseTimeout:
            timeouts += 1
        except BaseException as e:  # noqa: BLE001 - what the fuzzer looks for
            escapes.append(f"{name} case {i}: {type(e).__name__}: {str(e)[:200]}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.perf_counter() - start
        if took > slowest[0]:
            slowest = (took, f"{name} case {i}")
    return {
        "cases": cases,
        "loaded": loaded,
        "escapes": escapes,
        "timeouts": timeouts,
        "over_memory": over_memory,
        "max_seconds": round(slowest[0], 4),
        "slowest": slowest[1],
        "max_rss_growth_mb": round(_maxrss_mb() - base, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(run(args.cases, args.seed, args.memory_mb)))
