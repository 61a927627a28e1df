"""Protocol-buffers wire format, read and written in pure Python from a small schema table.

A schema maps a message name to ``{field number: (name, kind, repeated)}``; ``kind`` is
``"int"`` (varint, int64 two's complement), ``"uint"``, ``"float"`` (fixed32), ``"double"``,
``"string"``, ``"bytes"`` or another message's name. Decoding gives a dict (repeated numbers
as numpy arrays, other repeated fields as lists, absent fields absent); packed and unpacked
repeated numbers are both read, as the protobuf spec requires, and written packed. Unknown
fields are checked for a valid wire type and skipped.

Reading is bounded: every length is checked against the bytes left, nesting is limited to
``MAX_DEPTH`` and the number of fields to ``MAX_FIELDS``; any fault raises ``ModelFileError``
naming the field path (``ModelProto.graph.node[3].attribute[0]``).

Example:
    >>> schema = {"Pt": {1: ("x", "int", False), 2: ("tags", "string", True)}}
    >>> blob = encode({"x": -2, "tags": ["a", "b"]}, schema, "Pt")
    >>> decode(blob, schema, "Pt")
    {'x': -2, 'tags': ['a', 'b']}
"""

from __future__ import annotations

import struct

import numpy as np

from .format import ModelFileError

MAX_DEPTH = 32
MAX_FIELDS = 5_000_000
_NUMERIC = {"int": 0, "uint": 0, "float": 5, "double": 1}  # kind -> wire type
_ARRAY = {"int": np.int64, "uint": np.uint64, "float": "<f4", "double": "<f8"}


class _Reader:
    """Bounded cursor over one buffer; ``fields`` counts every field read in the whole file."""

    def __init__(self, data, fmt: str):
        self.data, self.fmt, self.fields = memoryview(data).cast("B"), fmt, 0

    def fail(self, path: str, msg: str):
        raise ModelFileError(f"{self.fmt}: {path}: {msg}")

    def varint(self, pos: int, end: int, path: str) -> tuple[int, int]:
        value, shift, data = 0, 0, self.data
        while True:
            if pos >= end:
                self.fail(path, "truncated varint")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value, pos
            shift += 7
            if shift >= 70:
                self.fail(path, "varint longer than 10 bytes")


def _signed(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def _scalar(r: _Reader, kind: str, wire: int, pos: int, end: int, path: str):
    """One non-packed value at ``pos``: ``(value, new pos)``."""
    if wire == 0:
        v, pos = r.varint(pos, end, path)
        return (_signed(v) if kind == "int" else v), pos
    size = 4 if wire == 5 else 8
    if pos + size > end:
        r.fail(path, f"truncated fixed{size * 8} value")
    fmt = {"float": "<f", "double": "<d"}.get(kind, "<I" if size == 4 else "<Q")
    return struct.unpack(fmt, r.data[pos : pos + size])[0], pos + size


def _packed(r: _Reader, kind: str, pos: int, end: int, path: str) -> np.ndarray:
    if kind in ("float", "double"):
        size = 4 if kind == "float" else 8
        if (end - pos) % size:
            r.fail(path, f"packed {kind}s: {end - pos} bytes is not a multiple of {size}")
        r.fields += (end - pos) // size
        return np.frombuffer(r.data[pos:end], _ARRAY[kind]).astype(_ARRAY[kind][1:])
    out = []
    while pos < end:
        v, pos = r.varint(pos, end, path)
        out.append(_signed(v) if kind == "int" else v)
    r.fields += len(out)
    return np.array(out, _ARRAY[kind])


def _skip(r: _Reader, wire: int, pos: int, end: int, path: str) -> int:
    if wire == 0:
        return r.varint(pos, end, path)[1]
    if wire in (1, 5):
        pos += 8 if wire == 1 else 4
    elif wire == 2:
        n, pos = r.varint(pos, end, path)
        pos += n
    else:
        r.fail(path, f"unsupported wire type {wire} (groups are not read)")
    if pos > end:
        r.fail(path, "field runs past the end of its message")
    return pos


def _message(r: _Reader, schema: dict, name: str, pos: int, end: int, path: str, depth: int):
    if depth > MAX_DEPTH:
        r.fail(path, f"messages nested deeper than {MAX_DEPTH}")
    fields, out, counts = schema[name], {}, {}
    while pos < end:
        key, pos = r.varint(pos, end, path)
        number, wire = key >> 3, key & 7
        r.fields += 1
        if r.fields > MAX_FIELDS:
            r.fail(path, f"more than {MAX_FIELDS} fields")
        spec = fields.get(number)
        if spec is None:
            pos = _skip(r, wire, pos, end, f"{path}.<field {number}>")
            continue
        fname, kind, repeated = spec
        i = counts[number] = counts.get(number, -1) + 1
        where = f"{path}.{fname}" + (f"[{i}]" if repeated else "")
        if not repeated and kind in _NUMERIC and wire == 2:
            r.fail(where, f"expected one {kind}, received a packed list")
        value, pos = _value(r, schema, kind, wire, pos, end, where, depth)
        if repeated:
            out.setdefault(fname, []).append(value)
        else:
            out[fname] = value
    for fname, kind, repeated in fields.values():  # repeated numbers: one array per field
        if repeated and kind in _NUMERIC and fname in out:
            chunks = [np.atleast_1d(np.asarray(v, _ARRAY[kind])) for v in out[fname]]
            out[fname] = np.concatenate(chunks)
    return out


def _value(r, schema, kind, wire, pos, end, where, depth):
    if kind in _NUMERIC and wire == _NUMERIC[kind] or (kind == "uint" and wire == 0):
        return _scalar(r, kind, wire, pos, end, where)
    if wire != 2:
        r.fail(where, f"expected wire type {_NUMERIC.get(kind, 2)} for a {kind}, received {wire}")
    n, pos = r.varint(pos, end, where)
    if n > end - pos:
        r.fail(where, f"declares {n} bytes, {end - pos} remain in the enclosing message")
    stop = pos + n
    if kind in _NUMERIC:
        return _packed(r, kind, pos, stop, where), stop
    if kind == "bytes":
        return bytes(r.data[pos:stop]), stop
    if kind == "string":
        try:
            return str(r.data[pos:stop], "utf-8"), stop
        except UnicodeDecodeError:
            r.fail(where, "string is not valid UTF-8")
    return _message(r, schema, kind, pos, stop, where, depth + 1), stop


def decode(data, schema: dict, name: str, fmt: str = "protobuf") -> dict:
    """Decode message ``name`` from ``data`` (see the module docstring)."""
    r = _Reader(data, fmt)
    return _message(r, schema, name, 0, len(r.data), name, 0)


# ----------------------------------------------------------------------------- writing
def varint(n: int) -> bytes:
    """A varint; negative ints as 64-bit two's complement (10 bytes)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _encode_one(kind: str, value, schema) -> tuple[int, bytes]:
    if kind in ("int", "uint"):
        return 0, varint(int(value))
    if kind in ("float", "double"):
        return (5, struct.pack("<f", value)) if kind == "float" else (1, struct.pack("<d", value))
    if kind == "string":
        value = value.encode()
    elif kind != "bytes":
        value = encode(value, schema, kind)
    return 2, varint(len(value)) + bytes(value)


def encode(obj: dict, schema: dict, name: str) -> bytes:
    """Encode ``obj`` (the shape ``decode`` returns) as message ``name``; fields in number order."""
    parts = []
    for number, (fname, kind, repeated) in sorted(schema[name].items()):
        value = obj.get(fname)
        if value is None:
            continue
        if repeated and kind in _NUMERIC:
            arr = np.asarray(value)
            if kind in ("float", "double"):
                body = arr.astype(_ARRAY[kind]).tobytes()
            else:
                body = b"".join(varint(int(v)) for v in arr.ravel())
            parts.append(varint(number << 3 | 2) + varint(len(body)) + body)
            continue
        for v in value if repeated else [value]:
            wire, body = _encode_one(kind, v, schema)
            parts.append(varint(number << 3 | wire) + body)
    return b"".join(parts)
