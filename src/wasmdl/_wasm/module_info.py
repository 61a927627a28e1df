"""Read the sections of a WebAssembly binary (imports, exports, globals, data) in pure Python.

wasmdl's CPU kernels run inside Pyodide's own memory, so a kernel module must not be able to
touch anything but the arrays it is given: it may import only ``env.memory``, must carry no data
segment (it would be copied to a fixed address of Pyodide's heap on instantiation) and no global
(a ``__stack_pointer`` global means the code uses a C stack at a fixed address). This parser is
small enough to read and needs nothing outside the standard library.

>>> info = parse_module(bytes.fromhex("0061736d01000000"))
>>> info.imports, info.exports, info.globals, info.data_segments
([], [], 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAGIC = b"\0asm\x01\0\0\0"
KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
# section ids
CUSTOM, IMPORT, MEMORY, GLOBAL, EXPORT, START, DATA = 0, 2, 5, 6, 7, 8, 11


@dataclass
class ModuleInfo:
    """What a module asks for and offers: the facts the safety checks need."""

    imports: list[tuple[str, str, str]] = field(default_factory=list)  # (module, name, kind)
    exports: list[tuple[str, str]] = field(default_factory=list)  # (name, kind)
    memory_import_limits: tuple[int, int | None] | None = None  # (min pages, max pages)
    defined_memories: int = 0
    globals: int = 0  # defined plus imported globals
    data_segments: int = 0
    has_start: bool = False
    custom_sections: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise ValueError(f"parse_module: truncated module at byte {self.pos}")
        self.pos += 1
        return self.data[self.pos - 1]

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def name(self) -> str:
        n = self.uleb()
        self.pos += n
        return self.data[self.pos - n : self.pos].decode("utf-8")

    def limits(self) -> tuple[int, int | None]:
        flags = self.byte()
        lo = self.uleb()
        return lo, (self.uleb() if flags & 1 else None)


def _imports(r: _Reader, info: ModuleInfo) -> None:
    for _ in range(r.uleb()):
        module, name, kind = r.name(), r.name(), r.byte()
        info.imports.append((module, name, KINDS.get(kind, str(kind))))
        if kind == 0:  # function: type index
            r.uleb()
        elif kind == 1:  # table: reftype + limits
            r.byte()
            r.limits()
        elif kind == 2:
            info.memory_import_limits = r.limits()
        elif kind == 3:  # global: valtype + mutability
            r.byte()
            r.byte()
            info.globals += 1
        else:
            raise ValueError(f"parse_module: unknown import kind {kind} for {module}.{name}")


def _exports(r: _Reader, info: ModuleInfo) -> None:
    for _ in range(r.uleb()):
        name, kind = r.name(), r.byte()
        r.uleb()
        info.exports.append((name, KINDS.get(kind, str(kind))))


def _check_magic(data: bytes, func: str) -> None:
    if data[:8] != MAGIC:
        raise ValueError(
            f"{func}: expected the wasm magic and version {MAGIC!r}, received {data[:8]!r}"
        )


def sections(data: bytes) -> list[tuple[int, int, int]]:
    """(section id, start, end) of each section, headers included, in file order.

    >>> sections(bytes.fromhex("0061736d01000000") + bytes([6, 1, 0]))
    [(6, 8, 11)]
    """
    _check_magic(data, "sections")
    out, r = [], _Reader(data, 8)
    while r.pos < len(data):
        start = r.pos
        sid, size = r.byte(), r.uleb()
        out.append((sid, start, r.pos + size))
        r.pos += size
    return out


def drop_global_section(data: bytes) -> bytes:
    """Remove the global section (wasm-ld always defines ``__stack_pointer``, used or not).

    A module whose code still reads or writes a global then fails validation, so the result is
    either a module that provably uses no stack or one that no engine will load.

    >>> drop_global_section(bytes.fromhex("0061736d01000000") + bytes([6, 1, 0])).hex()
    '0061736d01000000'
    """
    keep = [data[a:b] for sid, a, b in sections(data) if sid != GLOBAL]
    return data[:8] + b"".join(keep)


def parse_module(data: bytes) -> ModuleInfo:
    """Parse the module header and the sections the kernel safety checks need.

    Raises ``ValueError`` naming the byte offset when the binary is not a wasm module.
    """
    _check_magic(data, "parse_module")
    info, r = ModuleInfo(), _Reader(data, 8)
    while r.pos < len(data):
        sid, size = r.byte(), r.uleb()
        body = _Reader(data, r.pos, r.pos + size)
        if sid == CUSTOM:
            info.custom_sections.append(body.name())
        elif sid == IMPORT:
            _imports(body, info)
        elif sid == MEMORY:
            info.defined_memories = body.uleb()
        elif sid == GLOBAL:
            info.globals += body.uleb()
        elif sid == EXPORT:
            _exports(body, info)
        elif sid == START:
            info.has_start = True
        elif sid == DATA:
            info.data_segments = body.uleb()
        r.pos += size
    return info


def safety_problems(info: ModuleInfo) -> list[str]:
    """List every way a module breaks the in-place kernel rules (empty when it is safe).

    >>> safety_problems(parse_module(bytes.fromhex("0061736d01000000")))
    ["imports ['env.memory'] expected, found []"]
    """
    problems = []
    names = [f"{m}.{n}" for m, n, _ in info.imports]
    if names != ["env.memory"] or info.imports[0][2] != "memory":
        problems.append(f"imports ['env.memory'] expected, found {names}")
    if info.defined_memories:
        problems.append(f"defines {info.defined_memories} memory of its own")
    if info.globals:
        problems.append(f"has {info.globals} globals (a stack pointer?); expected none")
    if info.data_segments:
        problems.append(f"has {info.data_segments} data segments; expected none")
    if info.has_start:
        problems.append("has a start function; expected none")
    bad = [n for n, kind in info.exports if kind != "func"]
    if bad:
        problems.append(f"exports non-functions {bad}")
    return problems
