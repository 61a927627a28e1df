"""TF.js weights manifests: the weight specs, shard bytes, and quantization (the tensorflowjs
converter's affine ``uint8``/``uint16`` scheme, and ``float16``), decoded the way TF.js does:
``q * scale + min`` in float64, stored as float32.

Example:
    >>> import numpy as np
    >>> raw, q = quantize_array(np.array([-1.0, 0.0, 2.0], np.float32), "uint8")
    >>> spec = {"name": "w", "shape": [3], "dtype": "float32", "quantization": q}
    >>> [round(v, 2) for v in read_weights([{"paths": ["a"], "weights": [spec]}],
    ...                                    {"a": raw}.get)[0][1].tolist()]
    [-1.0, 0.0, 2.0]
"""

from __future__ import annotations

import math

import numpy as np

from .format import ModelFileError

MAX_WEIGHTS, MAX_RANK, MAX_TOTAL_BYTES = 100_000, 16, 1 << 31
DTYPES = {"float32": "<f4", "int32": "<i4", "bool": "?"}
QUANT = {"uint8": "u1", "uint16": "<u2", "float16": "<f2"}


def _fail(where, msg):
    raise ModelFileError(f"tfjs: {where}: {msg}")


def _spec(spec, where) -> tuple[str, tuple, np.dtype, dict | None, int]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        _fail(where, f"expected {{name, shape, dtype}}, received {str(spec)[:120]}")
    shape, dtype, quant = spec.get("shape"), spec.get("dtype", "float32"), spec.get("quantization")
    ok = isinstance(shape, list) and len(shape) <= MAX_RANK
    if not ok or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        _fail(where, f"shape must be at most {MAX_RANK} ints >= 0, received {str(shape)[:80]}")
    if dtype not in DTYPES:
        _fail(where, f"dtype {str(dtype)[:20]!r} is not supported (expected {sorted(DTYPES)})")
    stored = np.dtype(DTYPES[dtype])
    if quant is not None:
        if not isinstance(quant, dict) or quant.get("dtype") not in QUANT:
            _fail(where, f"quantization {str(quant)[:80]} is not supported (dtype {sorted(QUANT)})")
        if quant["dtype"] != "float16":
            nums = [quant.get(k) for k in ("scale", "min")]
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in nums):
                _fail(where, "quantization needs finite numbers 'scale' and 'min'")
        stored = np.dtype(QUANT[quant["dtype"]])
    n = math.prod(shape)
    return spec["name"], tuple(shape), np.dtype(DTYPES[dtype]), quant, n * stored.itemsize


def _decode(raw, shape, dtype, quant) -> np.ndarray:
    if quant is None:
        return np.frombuffer(raw, dtype).reshape(shape).astype(dtype.newbyteorder("="))
    q = np.frombuffer(raw, QUANT[quant["dtype"]]).reshape(shape)
    if quant["dtype"] == "float16":
        return q.astype(np.float32)
    return (q * float(quant["scale"]) + float(quant["min"])).astype(dtype.newbyteorder("="))


def read_weights(manifest, read) -> list[tuple[str, np.ndarray]]:
    """``[(name, array)]`` in manifest order, each group's shards concatenated and checked."""
    if not isinstance(manifest, list) or len(manifest) > MAX_WEIGHTS:
        _fail("weightsManifest", "expected a list of groups")
    out, total = [], 0
    for g, group in enumerate(manifest):
        where = f"weightsManifest[{g}]"
        if not isinstance(group, dict):
            _fail(where, "expected {paths, weights}")
        paths, specs = group.get("paths"), group.get("weights")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            _fail(f"{where}.paths", "expected a list of strings")
        if not isinstance(specs, list) or len(specs) + len(out) > MAX_WEIGHTS:
            _fail(f"{where}.weights", f"expected a list of at most {MAX_WEIGHTS} weights")
        chunks = []
        for p in paths:
            chunk = bytes(memoryview(read(p)))
            total += len(chunk)
            if total > MAX_TOTAL_BYTES:
                _fail(f"shard {p[:100]!r}", f"the shards exceed {MAX_TOTAL_BYTES} bytes")
            chunks.append(chunk)
        data, pos = b"".join(chunks), 0
        for i, spec in enumerate(specs):
            name, shape, dtype, quant, size = _spec(spec, f"{where}.weights[{i}]")
            if pos + size > len(data):
                _fail(
                    f"{where}.weights[{i}] {name[:80]!r}",
                    f"needs bytes {pos}-{pos + size}, the group's shards hold {len(data)}",
                )
            out.append((name, _decode(data[pos : pos + size], shape, dtype, quant)))
            pos += size
        if pos != len(data):
            _fail(where, f"the shards hold {len(data) - pos} bytes more than the weights use")
    return out


def quantize_array(arr: np.ndarray, dtype: str) -> tuple[bytes, dict]:
    """The tensorflowjs converter's affine quantization (zero exactly representable)."""
    if dtype == "float16":
        return arr.astype("<f2").tobytes(), {"dtype": "float16", "original_dtype": "float32"}
    top = np.iinfo(QUANT[dtype]).max
    lo, hi = float(min(arr.min(initial=0), 0)), float(max(arr.max(initial=0), 0))
    scale = (hi - lo) / top or 1.0
    zero = round(min(max(-lo / scale, 0), top))
    lo = -zero * scale
    q = np.round((np.clip(arr, lo, lo + top * scale) - lo) / scale).astype(QUANT[dtype])
    return q.tobytes(), {"dtype": dtype, "scale": scale, "min": lo, "original_dtype": "float32"}
