"""The native model file: a safetensors file whose metadata carries the architecture as JSON.

Layout (little-endian), readable by any safetensors reader:
    8 bytes   u64 N, the header length
    N bytes   UTF-8 JSON header, padded with spaces to a multiple of 8:
              {"__metadata__": {"format": "wasmdl", "format_version": "1", "config": "<json>"},
               "<weight name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
    rest      the tensors' bytes, row-major, contiguous, offsets relative to the end of the header

Reading checks every declared size against the actual bytes before touching them, so truncated,
corrupted or hostile files (huge sizes, overlapping or out-of-range offsets, bad JSON) raise
``ModelFileError`` naming what was wrong; nothing in the file is ever executed.

Example:
    >>> import numpy as np
    >>> blob = write_bytes({"class_name": "Sequential"}, {"w": np.ones((2, 3), np.float32)})
    >>> config, tensors = read_bytes(blob)
    >>> config["class_name"], tensors["w"].shape
    ('Sequential', (2, 3))
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

FORMAT, FORMAT_VERSION = "wasmdl", "1"
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_RANK = 16
DTYPES = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_CODES = {v: k for k, v in DTYPES.items()}


class ModelFileError(ValueError):
    """A model file is truncated, corrupted, hostile, or not a wasmdl file."""


def _fail(msg: str):
    raise ModelFileError(f"load_model: {msg}")


def write_bytes(
    config: dict, tensors: dict[str, np.ndarray], metadata: dict | None = None
) -> bytes:
    """Serialise an architecture ``config`` (JSON-able) and named arrays into one file's bytes."""
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": json.dumps(config)}
    meta.update({str(k): str(v) for k, v in (metadata or {}).items()})
    header, chunks, offset = {"__metadata__": meta}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        code = _CODES.get(arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype)
        if code is None:
            raise TypeError(
                f"save_model: weight {name!r} has dtype {arr.dtype}; expected one of "
                f"{sorted(str(d) for d in DTYPES.values())}"
            )
        data = arr.astype(DTYPES[code], copy=False).tobytes()
        header[name] = {
            "dtype": code,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def _parse_header(data: memoryview) -> tuple[dict, int]:
    if len(data) < 8:
        _fail(f"the file is truncated: expected at least 8 bytes, received {len(data)}")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or n > len(data) - 8:
        _fail(
            f"the header declares {n} bytes but the file holds {len(data) - 8} after the "
            f"length field (limit {MAX_HEADER_BYTES}): truncated or not a wasmdl file"
        )
    try:
        header = json.loads(bytes(data[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        _fail(f"the header is not valid JSON ({type(e).__name__}: {str(e)[:200]})")
    if not isinstance(header, dict):
        _fail(f"the header must be a JSON object, received {type(header).__name__}")
    return header, 8 + n


def _check_entry(name: str, entry, data_len: int) -> tuple[np.dtype, tuple, int, int]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        _fail(f"tensor {name!r}: expected keys dtype, shape, data_offsets, received {entry!r:.200}")
    dtype, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:  # a list or dict is not hashable
        _fail(f"tensor {name!r}: dtype must be one of {sorted(DTYPES)}, received {dtype!r:.50}")
    ok_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
    if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(map(ok_int, shape)):
        _fail(
            f"tensor {name!r}: shape must be a list of at most {MAX_RANK} non-negative ints, "
            f"received {shape!r:.200}"
        )
    if not (isinstance(offs, list) and len(offs) == 2 and all(map(ok_int, offs))):
        _fail(f"tensor {name!r}: data_offsets must be [begin, end] ints, received {offs!r:.200}")
    begin, end = offs
    if not begin <= end <= data_len:
        _fail(
            f"tensor {name!r}: data_offsets [{begin}, {end}] fall outside the "
            f"{data_len} data bytes of the file (truncated or corrupted)"
        )
    want = math.prod(shape) * DTYPES[dtype].itemsize  # Python ints: no overflow on huge shapes
    if want != end - begin:
        _fail(
            f"tensor {name!r}: shape {shape} of {dtype} needs {want} bytes, "
            f"data_offsets give {end - begin}"
        )
    return DTYPES[dtype], tuple(shape), begin, end


def read_bytes(data) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse and validate a model file's bytes; return ``(config, {name: array})``."""
    view = memoryview(data).cast("B")
    header, start = _parse_header(view)
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        _fail(
            "not a wasmdl model file: its metadata has no 'format': 'wasmdl' "
            f"(received metadata {meta!r:.200})"
        )
    if meta.get("format_version") != FORMAT_VERSION:
        _fail(
            f"format_version {meta.get('format_version')!r:.20} is not supported "
            f"(expected {FORMAT_VERSION!r})"
        )
    try:
        config = json.loads(meta["config"])
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        _fail(f"the architecture config is missing or not valid JSON ({type(e).__name__})")
    if not isinstance(config, dict):
        _fail(f"the architecture config must be a JSON object, received {type(config).__name__}")
    body = view[start:]
    entries = {name: _check_entry(name, e, len(body)) for name, e in header.items()}
    spans = sorted((b, e, name) for name, (_, _, b, e) in entries.items())
    pos = 0
    for b, e, name in spans:
        if b != pos:
            _fail(
                f"tensor {name!r}: data starts at byte {b}, expected {pos} (overlapping or "
                "gapped data_offsets)"
            )
        pos = e
    if pos != len(body):
        _fail(f"the file has {len(body) - pos} bytes after the last tensor (corrupted)")
    tensors = {
        name: np.frombuffer(body[b:e], dtype).reshape(shape).copy()
        for name, (dtype, shape, b, e) in entries.items()
    }
    return config, tensors
