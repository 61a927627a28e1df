"""HDF5 datatype and dataspace messages: decode them, and read a dataset's or attribute's
values (numbers, fixed and variable-length strings) into numpy.

The subset Keras files use: little- or big-endian integers and IEEE floats of 1-8 bytes,
fixed-length strings, variable-length strings (held in global heaps) and 8-bit enums (h5py's
bool). Anything else raises ``ModelFileError`` naming the object.

Example:
    >>> import struct
    >>> dtype, _ = decode_datatype(Reader(bytes([0x11, 0x20, 0x3F, 0]) + struct.pack("<I", 4)
    ...                                   + bytes(12), "x"), 0, "x")
    >>> dtype
    dtype('float32')
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .format import ModelFileError

MAX_ELEMENTS = 1 << 28  # values in one dataset or attribute
MAX_RANK = 32
MAX_STRINGS = 100_000  # variable-length strings in one attribute


class Reader:
    """Bounds-checked little-endian reads from the file's bytes; ``where`` names the file."""

    def __init__(self, data, where: str):
        self.data, self.where = memoryview(data).cast("B"), where
        self.n_objects = 0

    def fail(self, what: str, msg: str):
        raise ModelFileError(f"load_model: {self.where}: {what}: {msg}")

    def bytes(self, offset: int, size: int, what: str) -> memoryview:
        if not (0 <= offset and 0 <= size and offset + size <= len(self.data)):
            self.fail(
                what,
                f"reads bytes [{offset}, {offset + size}) beyond the file's "
                f"{len(self.data)} (truncated or corrupted)",
            )
        return self.data[offset : offset + size]

    def unpack(self, fmt: str, offset: int, what: str):
        return struct.unpack_from("<" + fmt, self.bytes(offset, struct.calcsize("<" + fmt), what))

    def uint(self, offset: int, size: int, what: str) -> int:
        return int.from_bytes(self.bytes(offset, size, what), "little")


_FLOATS = {2: "f2", 4: "f4", 8: "f8"}


def decode_datatype(r: Reader, pos: int, what: str):
    """``(dtype, kind)`` of the datatype message at ``pos``; kind is 'num', 'str' or 'vlen'."""
    head, b0, b1, _, size = r.unpack("BBBBI", pos, what)
    cls, order = head & 0x0F, ">" if b0 & 1 else "<"
    if cls == 0 and size in (1, 2, 4, 8):  # fixed-point
        return np.dtype(f"{order}{'i' if b0 & 8 else 'u'}{size}"), "num"
    if cls == 1 and size in _FLOATS and not b0 & 0x40:  # IEEE float
        return np.dtype(order + _FLOATS[size]), "num"
    if cls == 3 and 0 < size <= 1 << 20:  # fixed-length string
        return np.dtype(f"S{size}"), "str"
    if cls == 8 and size == 1:  # enum of 8-bit ints (h5py's bool)
        return np.dtype("u1"), "num"
    if cls == 9 and (b0 & 0x0F) == 1:  # variable-length string
        return np.dtype(object), "vlen"
    r.fail(what, f"datatype class {cls} of {size} bytes is not supported")


def decode_dataspace(r: Reader, pos: int, what: str) -> tuple:
    """The shape of the dataspace message at ``pos`` (() for a scalar, None for null)."""
    version, rank, flags = r.unpack("BBB", pos, what)
    if version not in (1, 2) or rank > MAX_RANK:
        r.fail(what, f"dataspace version {version} of rank {rank} is not supported")
    if version == 2 and r.unpack("B", pos + 3, what)[0] == 2:
        return None
    start = pos + (8 if version == 1 else 4)
    dims = tuple(r.uint(start + 8 * i, 8, what) for i in range(rank))
    if math.prod(dims) > MAX_ELEMENTS:
        r.fail(what, f"shape {dims} holds more than {MAX_ELEMENTS} values")
    return dims


def read_values(r: Reader, raw: memoryview, dtype, kind, shape, what):
    """The values stored in ``raw`` (a dataset's or attribute's bytes) as an array."""
    if shape is None:
        return None
    count = math.prod(shape)
    item = 16 if kind == "vlen" else dtype.itemsize
    if len(raw) < count * item:
        r.fail(what, f"holds {len(raw)} bytes, its shape {shape} needs {count * item}")
    if kind == "vlen":
        if count > MAX_STRINGS:
            r.fail(what, f"{count} variable-length strings exceed the limit {MAX_STRINGS}")
        out = np.empty(count, object)
        for i in range(count):
            length, addr, index = struct.unpack_from("<IQI", raw, 16 * i)
            out[i] = _global_heap_string(r, addr, index, length, what)
        return out.reshape(shape)
    arr = np.frombuffer(raw[: count * item], dtype).reshape(shape)
    return arr.astype(arr.dtype.newbyteorder("=")) if kind == "num" else arr.copy()


def _global_heap_string(r: Reader, addr: int, index: int, length: int, what: str) -> str:
    """Object ``index`` of the global heap collection at ``addr``, decoded as UTF-8."""
    cache = r.__dict__.setdefault("_gcol", {})
    if addr not in cache:
        if bytes(r.bytes(addr, 4, what)) != b"GCOL":
            r.fail(what, f"no global heap at address {addr}")
        size = r.uint(addr + 8, 8, what)
        r.bytes(addr, size, what)
        objects, pos = {}, addr + 16
        while pos + 16 <= addr + size:
            idx, _, _, osize = r.unpack("HHIQ", pos, what)
            if idx == 0:
                break
            objects[idx] = (pos + 16, osize)
            pos += 16 + osize + (-osize % 8)
        cache[addr] = objects
    obj = cache[addr].get(index)
    if obj is None or obj[1] < length:
        r.fail(what, f"string {index} of the global heap at {addr} is missing or short")
    try:
        return bytes(r.bytes(obj[0], length, what)).decode("utf-8")
    except UnicodeDecodeError:
        r.fail(what, "a variable-length string is not valid UTF-8")
