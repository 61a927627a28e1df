"""Mutation fuzzing of model-file loaders: only ``ModelFileError`` may escape, and no case may take
more than 2 s or allocate more than 200 MB (peak, traced by ``tracemalloc``; numpy reports its
buffers to it). ``WASMDL_FUZZ_CASES`` raises the case count; the default keeps a format's run
under about 40 s on this machine.

Example (in a test):
    report = fuzz(lambda data: load(data), seeds=[blob], cases=10_000)
    assert report["escaped"] == []
"""

from __future__ import annotations

import os
import random
import resource
import time
import traceback
import tracemalloc

from wasmdl.io import ModelFileError

MAX_SECONDS, MAX_BYTES = 2.0, 200 * 1024 * 1024
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x3F, 0x40]
BIG = [
    (1 << 31) - 1,
    1 << 32,
    (1 << 63) - 1,
    1 << 40,
    0xFFFFFFFF,
    0x7FFFFFFF,
]


def cases(default: int) -> int:
    return int(os.environ.get("WASMDL_FUZZ_CASES", default))


def _flip(b, r):
    i = r.randrange(len(b))
    b[i] ^= 1 << r.randrange(8)


def _byte(b, r):
    b[r.randrange(len(b))] = r.choice(INTERESTING + [r.randrange(256)])


def _truncate(b, r):
    del b[r.randrange(len(b)) :]


def _delete(b, r):
    i = r.randrange(len(b))
    del b[i : i + r.randrange(1, 16)]


def _insert(b, r):
    i = r.randrange(len(b) + 1)
    b[i:i] = bytes(r.randrange(256) for _ in range(r.randrange(1, 8)))


def _dup(b, r):
    i = r.randrange(len(b))
    chunk = b[i : i + r.randrange(1, 64)]
    j = r.randrange(len(b) + 1)
    b[j:j] = chunk


def _bigint(b, r):
    """Overwrite 4 or 8 bytes with a huge little-endian number, or a huge varint."""
    i = r.randrange(len(b))
    v = r.choice(BIG)
    if r.random() < 0.5:
        n = r.choice([4, 8])
        b[i : i + n] = (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")
    else:
        out = bytearray()
        while True:
            out.append((v & 0x7F) | (0x80 if v >> 7 else 0))
            v >>= 7
            if not v:
                break
        b[i : i + len(out)] = out


def _digits(b, r):
    """Rewrite an ASCII digit run (JSON numbers, shapes, offsets) to a huge or odd number."""
    starts = [i for i in range(len(b) - 1) if 48 <= b[i] <= 57][:4096]
    if not starts:
        return _flip(b, r)
    i = r.choice(starts)
    j = i
    while j < len(b) and 48 <= b[j] <= 57:
        j += 1
    b[i:j] = str(r.choice([0, 1, 7, 10**9, 2**31, 2**63, -1, 10**30])).encode()


MUTATORS = [_flip, _byte, _truncate, _delete, _insert, _dup, _bigint, _digits]


def mutate(seed: bytes, r: random.Random) -> bytes:
    b = bytearray(seed)
    for _ in range(r.choice([1, 1, 1, 2, 3, 8])):
        if not b:
            break
        r.choice(MUTATORS)(b, r)
    return bytes(b)


def _one(load, data, trace: bool):
    """Run one case: ``(outcome, seconds, traced MB or None, error)``."""
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    try:
        load(data)
        outcome, err = "loaded", None
    except ModelFileError:
        outcome, err = "rejected", None
    except Exception as e:  # noqa: BLE001 - this is what the fuzzer looks for
        where = traceback.extract_tb(e.__traceback__)[-1]
        at = f"{os.path.basename(where.filename)}:{where.lineno}"
        outcome, err = "escaped", f"{type(e).__name__} at {at}: {str(e)[:300]}"
    dt = time.perf_counter() - t0
    mb = None
    if trace:
        mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return outcome, dt, mb, err


def fuzz(load, seeds: list[bytes], n: int, seed: int = 0) -> dict:
    """Run ``load`` on ``n`` mutants of ``seeds``; return the figures and the offenders.

    Time is measured on every case; peak memory with ``tracemalloc`` (which slows allocation
    several-fold) on every ``WASMDL_FUZZ_TRACE_EVERY``-th case (default 4; 1 traces all), and
    the process's peak RSS growth over the whole run bounds every case."""
    r, every = random.Random(seed), int(os.environ.get("WASMDL_FUZZ_TRACE_EVERY", 4))
    report = {"cases": n, "loaded": 0, "rejected": 0, "escaped": [], "slow": [], "big": []}
    report.update(max_seconds=0.0, max_mb=0.0, traced=0)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t_all = time.perf_counter()
    for k in range(n):
        data = mutate(r.choice(seeds), r)
        outcome, dt, mb, err = _one(load, data, k % every == 0)
        if outcome == "escaped":
            report["escaped"].append((k, err))
        else:
            report[outcome] += 1
        report["max_seconds"] = max(report["max_seconds"], dt)
        if dt > MAX_SECONDS:
            report["slow"].append((k, dt))
        if mb is not None:
            report["traced"] += 1
            report["max_mb"] = max(report["max_mb"], mb)
            if mb * 2**20 > MAX_BYTES:
                report["big"].append((k, mb))
    report["total_seconds"] = time.perf_counter() - t_all
    report["rss_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    if report["rss_growth_mb"] * 2**20 > MAX_BYTES:
        report["big"].append(("process peak RSS", report["rss_growth_mb"]))
    return report


def summary(name: str, report: dict) -> str:
    return (
        f"{name}: {report['cases']} cases in {report['total_seconds']:.1f} s, "
        f"{report['loaded']} loaded, {report['rejected']} rejected with ModelFileError, "
        f"{len(report['escaped'])} escaped; slowest {report['max_seconds'] * 1e3:.1f} ms, "
        f"peak {report['max_mb']:.2f} MB traced ({report['traced']} cases), process peak RSS "
        f"+{report['rss_growth_mb']:.0f} MB"
    )
