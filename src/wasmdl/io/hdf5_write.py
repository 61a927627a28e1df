"""A small pure-Python HDF5 writer for the subset Keras reads: nested groups of numeric arrays.

``write_hdf5({"layers": {"dense": {"vars": {"0": kernel, "1": bias}}}})`` returns the bytes of
an HDF5 file (superblock 0, version-1 object headers, groups as symbol tables: a local heap, one
B-tree node and symbol nodes; datasets stored contiguously) that h5py, Keras and
``wasmdl.io.hdf5`` read.

Example:
    >>> import numpy as np
    >>> blob = write_hdf5({"vars": {"0": np.ones(3, np.float32)}})
    >>> blob[:8] == b"\\x89HDF\\r\\n\\x1a\\n", len(blob) > 96
    (True, True)
"""

from __future__ import annotations

import struct

import numpy as np

UNDEFINED = b"\xff" * 8
LEAF_K, INTERNAL_K = 16, 32  # symbols per node: 2 * LEAF_K; nodes per group: 2 * INTERNAL_K
MAX_GROUP = 4 * LEAF_K * INTERNAL_K
# IEEE layouts: (sign bit, exponent location, exponent size, mantissa size, bias)
_FLOAT = {2: (15, 10, 5, 10, 15), 4: (31, 23, 8, 23, 127), 8: (63, 52, 11, 52, 1023)}


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 8)


def _message(kind: int, data: bytes) -> bytes:
    data = _pad(data)
    return struct.pack("<HHB3x", kind, len(data), 0) + data


def _header(messages: list[bytes]) -> bytes:
    body = b"".join(messages)
    return struct.pack("<BBHII4x", 1, 0, len(messages), 1, len(body)) + body


def _datatype(dtype: np.dtype) -> bytes:
    dtype = np.dtype(dtype).newbyteorder("<") if dtype.itemsize > 1 else np.dtype(dtype)
    size = dtype.itemsize
    if dtype.kind == "f" and size in _FLOAT:
        sign, eloc, esize, msize, bias = _FLOAT[size]
        bits = struct.pack("<BBBBI", 0x11, 0x20, sign, 0, size)
        return bits + struct.pack("<HHBBBBI", 0, 8 * size, eloc, esize, 0, msize, bias)
    if dtype.kind in "iub" and size in (1, 2, 4, 8):
        signed = 0x08 if dtype.kind == "i" else 0
        return struct.pack("<BBBBIHH", 0x10, signed, 0, 0, size, 0, 8 * size)
    raise TypeError(f"write_hdf5: dtype {dtype} is not supported (floats and integers only)")


class _Writer:
    def __init__(self):
        self.out = bytearray(b"\0" * 96)  # the superblock is written last

    def put(self, data: bytes) -> int:
        self.out += b"\0" * (-len(self.out) % 8)
        addr = len(self.out)
        self.out += data
        return addr

    def dataset(self, array) -> int:
        arr = np.asarray(array)
        arr = np.ascontiguousarray(arr) if arr.ndim else arr  # (ascontiguousarray makes 0-d 1-d)
        if arr.dtype.kind == "b":
            arr = arr.astype(np.uint8)
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        addr = self.put(raw) if raw else None
        space = struct.pack("<BBB5x", 1, arr.ndim, 0) + b"".join(
            struct.pack("<Q", d) for d in arr.shape
        )
        where = struct.pack("<Q", addr) if addr is not None else UNDEFINED
        layout = struct.pack("<BB", 3, 1) + where + struct.pack("<Q", len(raw))
        fill = struct.pack("<BBBB", 2, 1, 0, 0)  # version 2, early allocation, no fill value
        messages = [
            _message(0x01, space),
            _message(0x03, _datatype(arr.dtype)),
            _message(0x05, fill),
            _message(0x08, layout),
        ]
        return self.put(_header(messages))

    def group(self, tree: dict) -> tuple[int, int, int]:
        """Write a group; returns (object header, B-tree, local heap) addresses."""
        if len(tree) > MAX_GROUP:
            raise ValueError(f"write_hdf5: a group holds {len(tree)} entries, limit {MAX_GROUP}")
        names = sorted(tree, key=lambda n: n.encode())
        children = [
            self.group(tree[n])[0] if isinstance(tree[n], dict) else self.dataset(tree[n])
            for n in names
        ]
        heap, offsets = bytearray(b"\0" * 8), []
        for n in names:
            offsets.append(len(heap))
            heap += _pad(n.encode() + b"\0")
        data_addr = self.put(bytes(heap))
        heap_addr = self.put(b"HEAP" + struct.pack("<B3xQQQ", 0, len(heap), 1, data_addr))
        per = 2 * LEAF_K
        nodes, keys = [], [0]
        for start in range(0, len(names), per):
            part = range(start, min(start + per, len(names)))
            entries = b"".join(struct.pack("<QQII16x", offsets[i], children[i], 0, 0) for i in part)
            entries += b"\0" * (40 * per - len(entries))
            nodes.append(self.put(b"SNOD" + struct.pack("<BBH", 1, 0, len(part)) + entries))
            keys.append(offsets[part[-1]] if len(part) else 0)
        body = b"".join(struct.pack("<QQ", k, c) for k, c in zip(keys, nodes, strict=False))
        body += struct.pack("<Q", keys[-1])
        body += b"\0" * (8 * (4 * INTERNAL_K + 1) - len(body))
        tree_addr = self.put(b"TREE" + struct.pack("<BBH", 0, 0, len(nodes)) + UNDEFINED * 2 + body)
        header = _header([_message(0x11, struct.pack("<QQ", tree_addr, heap_addr))])
        return self.put(header), tree_addr, heap_addr


def write_hdf5(tree: dict) -> bytes:
    """The HDF5 file of ``tree``: dicts are groups, arrays are datasets (names are strings)."""
    w = _Writer()
    root, tree_addr, heap_addr = w.group(tree)
    w.out += b"\0" * (-len(w.out) % 8)
    superblock = (
        b"\x89HDF\r\n\x1a\n"
        + struct.pack("<BBBBBBBBHHI", 0, 0, 0, 0, 0, 8, 8, 0, LEAF_K, INTERNAL_K, 0)
        + struct.pack("<Q", 0)
        + UNDEFINED
        + struct.pack("<Q", len(w.out))
        + UNDEFINED
        + struct.pack("<QQII", 0, root, 1, 0)
        + struct.pack("<QQ", tree_addr, heap_addr)
    )
    w.out[:96] = superblock
    return bytes(w.out)
