"""A minimal pure-Python HDF5 reader (h5py is absent in Pyodide): groups, datasets, attributes.

Covers what Keras and h5py write: superblocks 0-3, object headers 1 and 2 (with continuation
blocks), groups as symbol tables (B-tree v1, symbol nodes, local heap) or compact links,
contiguous and compact dataset storage, and the datatypes of ``hdf5_types``. Every address,
size and count is checked against the file's bytes and the limits below, so a truncated or
hostile file raises ``ModelFileError`` naming the object, never another exception.

Example:
    >>> import numpy as np
    >>> from wasmdl.io.hdf5_write import write_hdf5
    >>> f = H5File(write_hdf5({"layers": {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}}))
    >>> sorted(f.root.keys()), f.root["layers"]["w"].read().tolist()
    (['layers'], [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
"""

from __future__ import annotations

from .hdf5_types import Reader, decode_dataspace, decode_datatype, read_values

SIGNATURE = b"\x89HDF\r\n\x1a\n"
UNDEFINED = (1 << 64) - 1
MAX_OBJECTS = 200_000  # object headers, B-tree nodes and messages parsed per file
MAX_MESSAGES = 10_000  # per object header
MAX_DEPTH = 64  # B-tree levels and continuation chains


class H5Object:
    """A group or dataset: ``attrs`` (dict of arrays/strings) and its header messages."""

    def __init__(self, r: Reader, addr: int, path: str):
        self.r, self.addr, self.path = r, addr, path
        self.messages = _read_header(r, addr, path)
        self._attrs = None

    def find(self, kind: int):
        return [pos for k, pos, _ in self.messages if k == kind]

    @property
    def attrs(self) -> dict:
        if self._attrs is None:
            self._attrs = dict(
                _attribute(self.r, pos, size, self.path)
                for pos, size in [(p, s) for k, p, s in self.messages if k == 0x0C]
            )
        return self._attrs


class H5Dataset(H5Object):
    """An array: ``shape``, ``dtype``, ``read()``."""

    def __init__(self, r, addr, path):
        super().__init__(r, addr, path)
        dt, ds = self.find(0x03), self.find(0x01)
        if not dt or not ds:
            r.fail(path, "a dataset without datatype or dataspace")
        self.dtype, self.kind = decode_datatype(r, dt[0], path)
        self.shape = decode_dataspace(r, ds[0], path)

    def read(self):
        layout = self.find(0x08)
        if not layout:
            self.r.fail(self.path, "a dataset without a layout message")
        return read_values(
            self.r,
            _layout_bytes(self.r, layout[0], self.path),
            self.dtype,
            self.kind,
            self.shape or (),
            self.path,
        )


class H5Group(H5Object):
    """A mapping of names to groups and datasets."""

    def __init__(self, r, addr, path):
        super().__init__(r, addr, path)
        self._links = None

    def links(self) -> dict:
        if self._links is None:
            self._links = _group_links(self)
        return self._links

    def keys(self):
        return list(self.links())

    def __contains__(self, name):
        return name in self.links()

    def __getitem__(self, name):
        addr = self.links().get(name)
        if addr is None:
            self.r.fail(f"{self.path.rstrip('/')}/{name}", "no such group or dataset")
        return open_object(self.r, addr, f"{self.path.rstrip('/')}/{name}")


def open_object(r: Reader, addr: int, path: str):
    """The group or dataset whose object header lies at ``addr``."""
    kinds = {k for k, _, _ in _read_header(r, addr, path)}
    return (H5Dataset if 0x08 in kinds else H5Group)(r, addr, path)


class H5File:
    """An HDF5 file's bytes; ``root`` is the root group. ``where`` names the file in errors."""

    def __init__(self, data, where: str = "HDF5 file"):
        r = self.r = Reader(data, where)
        base = next(
            (o for o in (0, 512, 1024, 2048) if bytes(r.data[o : o + 8]) == SIGNATURE), None
        )
        if base is None:
            r.fail("superblock", "no HDF5 signature: not an HDF5 file")
        version = r.unpack("B", base + 8, "superblock")[0]
        if version in (0, 1):
            sizes = r.unpack("BB", base + 13, "superblock")
            root = base + (24 if version == 0 else 28) + 4 * 8
            root_addr = r.uint(root + 8, 8, "superblock")
        elif version in (2, 3):
            sizes = r.unpack("BB", base + 9, "superblock")
            root_addr = r.uint(base + 12 + 3 * 8, 8, "superblock")
        else:
            r.fail("superblock", f"version {version} is not supported")
        if sizes != (8, 8):
            r.fail("superblock", f"offset/length sizes {sizes} are not supported (expected 8, 8)")
        self.root = H5Group(r, root_addr, "/")


def _tick(r: Reader, what: str, n: int = 1):
    r.n_objects += n
    if r.n_objects > MAX_OBJECTS:
        r.fail(what, f"more than {MAX_OBJECTS} objects and messages: refusing the file")


def _read_header(r: Reader, addr: int, path: str) -> list:
    """``[(message type, data position, data size)]`` of the object header at ``addr``."""
    cache = r.__dict__.setdefault("_headers", {})
    if addr in cache:
        return cache[addr]
    _tick(r, path)
    if bytes(r.bytes(addr, 4, path)) == b"OHDR":
        messages = _header_v2(r, addr, path)
    else:
        version, _, count, _, size = r.unpack("BBHII", addr, path)
        if version != 1 or count > MAX_MESSAGES:
            r.fail(path, f"object header version {version} with {count} messages: unsupported")
        messages, blocks = [], [(addr + 16, size)]
        while blocks and len(messages) <= MAX_MESSAGES:
            pos, size = blocks.pop(0)
            end = pos + size
            r.bytes(pos, size, path)
            while pos + 8 <= end:
                kind, msize = r.unpack("HH", pos, path)
                r.bytes(pos + 8, msize, path)
                _tick(r, path)
                if kind == 0x10:
                    blocks.append((r.uint(pos + 8, 8, path), r.uint(pos + 16, 8, path)))
                else:
                    messages.append((kind, pos + 8, msize))
                pos += 8 + msize
                if len(blocks) > MAX_DEPTH:
                    r.fail(path, "too many header continuation blocks")
    cache[addr] = messages
    return messages


def _header_v2(r: Reader, addr: int, path: str) -> list:
    version, flags = r.unpack("BB", addr + 4, path)
    if version != 2:
        r.fail(path, f"object header version {version} is not supported")
    pos = addr + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    width = 1 << (flags & 3)
    size = r.uint(pos, width, path)
    blocks, messages = [(pos + width, size)], []
    while blocks:
        pos, size = blocks.pop(0)
        end = pos + size
        r.bytes(pos, size, path)
        while pos + 4 <= end:
            kind, msize, mflags = r.unpack("BHB", pos, path)
            data = pos + 4 + (2 if flags & 0x04 else 0)
            r.bytes(data, msize, path)
            _tick(r, path)
            if kind == 0x10:  # continuation: "OCHK" + messages + checksum
                cont, clen = r.uint(data, 8, path), r.uint(data + 8, 8, path)
                if bytes(r.bytes(cont, 4, path)) != b"OCHK" or len(blocks) > MAX_DEPTH:
                    r.fail(path, "a header continuation block is missing or too deep")
                blocks.append((cont + 4, clen - 8))
            elif kind:
                messages.append((kind, data, msize))
            pos = data + msize
    return messages


def _attribute(r: Reader, pos: int, size: int, path: str):
    version, flags, nsize, tsize, ssize = r.unpack("BBHHH", pos, path)
    if version not in (1, 2, 3) or flags & 3:
        r.fail(path, f"attribute message version {version} (flags {flags}) is not supported")
    pad = (lambda n: n + (-n % 8)) if version == 1 else (lambda n: n)  # noqa: E731
    p = pos + 8 + (1 if version == 3 else 0)
    name = bytes(r.bytes(p, nsize, path)).rstrip(b"\0").decode("utf-8", "replace")
    where = f"{path} attribute {name[:100]!r}"
    p += pad(nsize)
    dtype, kind = decode_datatype(r, p, where)
    shape = decode_dataspace(r, p + pad(tsize), where)
    data = p + pad(tsize) + pad(ssize)
    raw = r.bytes(data, max(0, pos + size - data), where)
    value = read_values(r, raw, dtype, kind, shape, where)
    if value is not None and value.shape == ():  # scalars as Python values, bytes as text
        value = value[()]
        value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return name, value


def _layout_bytes(r: Reader, pos: int, path: str):
    """The raw bytes of a contiguous or compact dataset (chunked storage is refused)."""
    version = r.unpack("B", pos, path)[0]
    if version == 3 or version == 4:
        cls = r.unpack("B", pos + 1, path)[0]
        if cls == 0:
            size = r.unpack("H", pos + 2, path)[0]
            return r.bytes(pos + 4, size, path)
        if cls == 1:
            addr, size = r.uint(pos + 2, 8, path), r.uint(pos + 10, 8, path)
            return r.bytes(addr, size, path) if addr != UNDEFINED else memoryview(b"")
    r.fail(path, f"data layout version {version} (chunked or virtual storage) is not supported")


def _group_links(group: H5Group) -> dict:
    r, path = group.r, group.path
    table = group.find(0x11)
    if table:
        btree, heap = r.uint(table[0], 8, path), r.uint(table[0] + 8, 8, path)
        return _symbol_table(r, btree, _local_heap(r, heap, path), path)
    links = {}
    for pos in group.find(0x06):
        name, addr = _link(r, pos, path)
        if addr is not None:
            links[name] = addr
    for pos in group.find(0x02):  # link info: dense storage needs a fractal heap
        flags = r.unpack("B", pos + 1, path)[0]
        if r.uint(pos + 2 + (8 if flags & 1 else 0), 8, path) != UNDEFINED:
            r.fail(path, "dense link storage (fractal heap) is not supported")
    return links


def _link(r: Reader, pos: int, path: str):
    version, flags = r.unpack("BB", pos, path)
    if version != 1:
        r.fail(path, f"link message version {version} is not supported")
    p = pos + 2
    ltype = r.unpack("B", p, path)[0] if flags & 0x08 else 0
    p += (1 if flags & 0x08 else 0) + (8 if flags & 0x04 else 0) + (1 if flags & 0x10 else 0)
    width = 1 << (flags & 3)
    nlen = r.uint(p, width, path)
    name = bytes(r.bytes(p + width, nlen, path)).decode("utf-8", "replace")
    addr = r.uint(p + width + nlen, 8, path) if ltype == 0 else None
    return name, addr


def _local_heap(r: Reader, addr: int, path: str):
    if bytes(r.bytes(addr, 4, path)) != b"HEAP":
        r.fail(path, f"no local heap at address {addr}")
    size, data = r.uint(addr + 8, 8, path), r.uint(addr + 24, 8, path)
    return r.bytes(data, size, path)


def _heap_name(r: Reader, heap, offset: int, path: str) -> str:
    end = bytes(heap[offset:]).find(b"\0") if offset < len(heap) else -1
    if end < 0:
        r.fail(path, f"a link name at heap offset {offset} is not terminated")
    return bytes(heap[offset : offset + end]).decode("utf-8", "replace")


def _symbol_table(r: Reader, addr: int, heap, path: str, depth: int = 0) -> dict:
    """Walk a group's B-tree (v1, type 0) down to its symbol nodes."""
    if depth > MAX_DEPTH or bytes(r.bytes(addr, 4, path)) != b"TREE":
        r.fail(path, f"no group B-tree node at address {addr}")
    _tick(r, path)
    ntype, level, used = r.unpack("BBH", addr + 4, path)
    if ntype != 0:
        r.fail(path, f"B-tree node type {ntype} where a group node belongs")
    _tick(r, path, used)
    links = {}
    for i in range(used):
        child = r.uint(addr + 24 + 8 + 16 * i, 8, path)
        if level > 0:
            links.update(_symbol_table(r, child, heap, path, depth + 1))
            continue
        if bytes(r.bytes(child, 4, path)) != b"SNOD":
            r.fail(path, f"no symbol table node at address {child}")
        count = r.unpack("H", child + 6, path)[0]
        _tick(r, path, count)
        for j in range(count):
            entry = child + 8 + 40 * j
            name = _heap_name(r, heap, r.uint(entry, 8, path), path)
            links[name] = r.uint(entry + 8, 8, path)
    return links
