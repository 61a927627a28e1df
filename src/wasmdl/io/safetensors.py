"""safetensors read and write in pure Python (Hugging Face's format, what PyTorch users share).

Layout (little-endian): ``u64 N``, an ``N``-byte UTF-8 JSON header ``{"__metadata__": {str:
str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}``, then
the tensors' bytes (offsets relative to the end of the header). Reading validates every size,
offset and dtype before touching the data; anything wrong raises ``ModelFileError`` naming the
part (header, tensor name, field). Nothing in a file is executed.

``load(data, model=None)`` returns ``{name: array}`` (float16/bfloat16 kept as float16/float32),
or, given a built wasmdl ``model``, maps the PyTorch ``state_dict`` into it
(``wasmdl.io.torch_state``) and returns the model. ``save(obj, path=None)`` writes a dict of
arrays, or a model's weights as a PyTorch ``state_dict``.

Example:
    >>> import numpy as np
    >>> blob = write({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, {"note": "hi"})
    >>> sniff(blob)
    True
    >>> tensors, meta = read(blob)
    >>> tensors["w"].tolist(), meta
    ([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], {'note': 'hi'})
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

from .format import ModelFileError

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the Rust reference's limit
MAX_TENSORS = 1 << 16
MAX_RANK = 16
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # decoded to float32 (numpy has no bfloat16)
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_CODES = {np.dtype(v).newbyteorder("<"): k for k, v in DTYPES.items() if k != "BF16"}


def _fail(where: str, msg: str):
    raise ModelFileError(f"safetensors: {where}: {msg}")


def sniff(data) -> bool:
    """True when ``data`` starts like a safetensors file (a sane length, then a JSON object)."""
    view = memoryview(data).cast("B")
    if len(view) < 10:
        return False
    (n,) = struct.unpack("<Q", view[:8])
    return 2 <= n <= min(MAX_HEADER_BYTES, len(view) - 8) and view[8] == ord("{")


def write(tensors: dict, metadata: dict | None = None) -> bytes:
    """Serialise ``{name: array}`` (and string metadata) as safetensors bytes."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(np.asarray(arr))
        code = _CODES.get(arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype)
        if code is None:
            raise TypeError(
                f"safetensors.write: argument 'tensors' expected arrays of dtypes "
                f"{sorted(_CODES.values())}, received {name!r} of dtype {arr.dtype}"
            )
        data = arr.astype(DTYPES[code], copy=False).tobytes()
        header[str(name)] = {
            "dtype": code,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def _header(view: memoryview) -> tuple[dict, int]:
    if len(view) < 8:
        _fail("header length", f"expected at least 8 bytes, received {len(view)}")
    (n,) = struct.unpack("<Q", view[:8])
    if n > MAX_HEADER_BYTES or n > len(view) - 8:
        _fail(
            "header length",
            f"declares {n} bytes; the file holds {len(view) - 8} after it "
            f"(limit {MAX_HEADER_BYTES})",
        )
    try:
        header = json.loads(bytes(view[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        _fail("header", f"not valid UTF-8 JSON ({type(e).__name__}: {str(e)[:120]})")
    if not isinstance(header, dict):
        _fail("header", f"expected a JSON object, received {type(header).__name__}")
    if len(header) > MAX_TENSORS + 1:
        _fail("header", f"expected at most {MAX_TENSORS} tensors, received {len(header)}")
    return header, 8 + n


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _entry(name: str, entry, data_len: int) -> tuple[str, tuple, int, int]:
    where = f"tensor {name[:100]!r}"
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        _fail(where, f"expected keys dtype, shape, data_offsets, received {str(entry)[:200]}")
    code, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(code, str) or code not in DTYPES:
        _fail(f"{where} dtype", f"expected one of {sorted(DTYPES)}, received {str(code)[:40]!r}")
    if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(map(_is_count, shape)):
        _fail(
            f"{where} shape",
            f"expected at most {MAX_RANK} non-negative ints, received {str(shape)[:200]}",
        )
    if not (isinstance(offs, list) and len(offs) == 2 and all(map(_is_count, offs))):
        _fail(f"{where} data_offsets", f"expected [begin, end] ints, received {str(offs)[:200]}")
    begin, end = offs
    if not begin <= end <= data_len:
        _fail(f"{where} data_offsets", f"[{begin}, {end}] fall outside the {data_len} data bytes")
    want = math.prod(shape) * DTYPES[code].itemsize
    if want != end - begin:
        _fail(
            f"{where} data_offsets",
            f"shape {shape} of {code} needs {want} bytes, the offsets give {end - begin}",
        )
    return code, tuple(shape), begin, end


def _decode(code: str, raw: memoryview, shape: tuple) -> np.ndarray:
    arr = np.frombuffer(raw, DTYPES[code]).reshape(shape)
    if code == "BF16":
        return (arr.astype(np.uint32) << 16).view(np.float32)
    return arr.astype(DTYPES[code].newbyteorder("="), copy=True)


def read(data) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse and validate safetensors bytes; return ``({name: array}, metadata)``."""
    view = memoryview(data).cast("B")
    header, start = _header(view)
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        _fail("__metadata__", f"expected a map of strings, received {str(meta)[:200]}")
    body = view[start:]
    entries = {name: _entry(name, e, len(body)) for name, e in header.items()}
    pos = 0
    for b, e, name in sorted((b, e, n) for n, (_, _, b, e) in entries.items()):
        if b != pos:
            _fail(
                f"tensor {name[:100]!r} data_offsets",
                f"data starts at byte {b}, expected {pos} (overlap or gap)",
            )
        pos = e
    if pos != len(body):
        _fail("data", f"{len(body) - pos} bytes follow the last tensor (corrupted)")
    tensors = {n: _decode(c, body[b:e], s) for n, (c, s, b, e) in entries.items()}
    return tensors, dict(meta)


def load(data, model=None, **kw):
    """``{name: array}``, or ``model`` with the PyTorch state_dict in ``data`` loaded into it
    (keyword arguments go to ``wasmdl.io.torch_state.load_state_dict``; a file's key order
    means nothing, so modules pair with layers by name, else in natural name order)."""
    tensors, _ = read(data)
    if model is None:
        return tensors
    from .torch_state import load_state_dict

    load_state_dict(model, tensors, **{"order": "natural", **kw})
    return model


def save(obj, path=None, metadata: dict | None = None, **kw) -> bytes | None:
    """Write a dict of arrays, or a wasmdl model's weights as a PyTorch state_dict (keyword
    arguments go to ``wasmdl.io.torch_state.to_state_dict``); the bytes if ``path`` is None."""
    if not isinstance(obj, dict):
        from .torch_state import to_state_dict

        obj = to_state_dict(obj, **kw)
    blob = write(obj, metadata or {"format": "pt"})
    if path is None:
        return blob
    with open(path, "wb") as f:
        f.write(blob)
    return None
