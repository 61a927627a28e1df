"""The WebGL2 backend's host-side bookkeeping: texture handles, the shape-keyed pool and the
plan (the batch of commands sent to ``kernels/shim.js``'s ``glRun`` in one call).

A tensor is one 2-D texture holding its elements row-major, flat element ``i`` at texel
``(i % w, i // w)``; the width ``w`` is a power of two (so shaders use masks and shifts) near
``sqrt(n)``, at most ``MAX_WIDTH``: near-square textures give a rasteriser many rows to spread
over its threads. Python owns the texture-id space: allocating takes an id from the pool (or
records an ALLOC command), freeing returns it; neither crosses into JavaScript. Commands run in
recorded order, so a texture freed while a recorded draw still reads it can be reused at once.

>>> geometry(10), geometry(4096), geometry(50176)
((4, 3), (64, 64), (256, 196))
>>> pool, plan = Pool(), Plan()
>>> h = pool.alloc(10, 0, plan)
>>> (h.w, h.h, pool.stats()["textures"], plan.cmd)
(4, 3, 1, [1, 1, 4, 3, 0])
>>> del h
>>> pool.stats()["textures"], pool.stats()["pooled"]
(0, 1)
"""

import numpy as np

OP_ALLOC, OP_DELETE, OP_WRITE, OP_DRAW = 1, 2, 3, 4
MAX_WIDTH = 4096  # texture width cap (a power of two; WebGL2 guarantees MAX_TEXTURE_SIZE >= 2048)
MAX_PARAMS = 64  # the length of the shaders' ``uniform int p[64]``
MAX_INPUTS = 7  # samplers t0 .. t6: the shim binds them and common.glsl's u_lw has 8 words


# fmt 3 / 4: a 4- / 8-layer RGBA32F array (matmul_block's targets)
FORMATS = ("R32F", "R32I", "RGBA32F", "RGBA32F x4", "RGBA32F x8")


def texel_bytes(fmt):
    """Bytes per texel (all layers): R32F (0) and R32I (1) 4, RGBA32F (2, packed operands) 16,
    4- and 8-layer RGBA32F arrays (3, 4: matmul_block's targets) 64 and 128."""
    return (4, 4, 16, 64, 128)[fmt]


def geometry(n, max_width=MAX_WIDTH):
    """The (width, height) of the texture for ``n`` elements: the width the power of two at or
    above ``sqrt(n)`` (at most ``max_width``), the height the rows needed."""
    n = max(1, int(n))
    w = min(1 << ((n - 1).bit_length() + 1) // 2, max_width)
    return w, -(-n // w)


class Handle:
    """A texture id owned by Python; its death returns the id to the pool.

    Tensors share handles (``detach``, ``reshape``), so lifetime follows the handle object.
    """

    __slots__ = ("id", "w", "h", "fmt", "pool", "__weakref__")

    def __init__(self, id_, w, h, fmt, pool):
        self.id, self.w, self.h, self.fmt, self.pool = id_, w, h, fmt, pool

    @property
    def nbytes(self):
        return texel_bytes(self.fmt) * self.w * self.h

    def release(self):
        """Return the texture to the pool now; later releases are no-ops."""
        if self.pool is not None:
            self.pool.give_back(self)
            self.pool = None

    def __del__(self):
        if self.pool is not None:
            self.pool.give_back(self)

    def __repr__(self):
        return f"<webgl texture {self.id}: {self.w}x{self.h} {FORMATS[self.fmt]}>"


class Pool:
    """Free lists of texture ids keyed by (width, height, format)."""

    def __init__(self, max_pooled_bytes=64 << 20):
        self.next_id = 1
        self.free = {}  # (w, h, fmt) -> [ids]
        self.live = {}  # id -> bytes
        self.live_bytes = 0
        self.pooled_bytes = 0
        self.max_pooled_bytes = max_pooled_bytes

    def alloc(self, n, fmt, plan, max_width=MAX_WIDTH):
        return self.alloc_texture(*geometry(n, max_width), fmt, plan)

    def alloc_texture(self, w, h, fmt, plan):
        """A texture of exactly ``w`` x ``h`` texels of format ``fmt``."""
        key = (w, h, fmt)
        size = texel_bytes(fmt) * w * h
        ids = self.free.get(key)
        if ids:
            id_ = ids.pop()
            self.pooled_bytes -= size
        else:
            id_ = self.next_id
            self.next_id += 1
            plan.cmd += (OP_ALLOC, id_, w, h, fmt)
        self.live[id_] = size
        self.live_bytes += size
        return Handle(id_, w, h, fmt, self)

    def give_back(self, h):
        if self.live.pop(h.id, None) is None:
            return  # from a previous context (lost or reset)
        size = h.nbytes
        self.live_bytes -= size
        self.free.setdefault((h.w, h.h, h.fmt), []).append(h.id)
        self.pooled_bytes += size

    def trim(self, plan):
        """Delete pooled textures above the byte cap (largest first)."""
        while self.pooled_bytes > self.max_pooled_bytes:
            key = max((k for k, ids in self.free.items() if ids), key=_key_bytes)
            plan.cmd += (OP_DELETE, self.free[key].pop())
            self.pooled_bytes -= _key_bytes(key)

    def stats(self):
        return {
            "buffers": len(self.live),
            "bytes": self.live_bytes,
            "textures": len(self.live),
            "pooled": sum(len(v) for v in self.free.values()),
            "pooled_bytes": self.pooled_bytes,
        }


def _key_bytes(key):
    w, h, fmt = key
    return texel_bytes(fmt) * w * h


class Plan:
    """Commands, kernel parameters and upload data waiting for the next ``glRun``.

    The commands and parameters name textures by id only; the data section holds the uploads.
    A captured step could keep ``cmd`` and ``params`` in JavaScript once and send only new data.
    """

    def __init__(self):
        self.clear()

    def clear(self):
        self.cmd = []
        self.params = []
        self.data = []
        self.data_words = 0
        self.draws = 0
        self.sources = []  # [pid, name, file, source] of programs new in this batch

    def write(self, h, words):
        """Upload ``words`` (4 bytes per element) into texture ``h``, padded to whole rows."""
        words = np.ascontiguousarray(words).reshape(-1).view(np.int32)
        rows = -(-max(words.size, 1) // h.w)
        if words.size != rows * h.w:
            words = np.concatenate([words, np.zeros(rows * h.w - words.size, np.int32)])
        self.cmd += (OP_WRITE, h.id, self.data_words, rows)
        self.data.append(words)
        self.data_words += words.size

    def draw(self, pid, params, out_ids, n, ids):
        """Record one draw of program ``pid`` over ``n`` elements into the textures ``out_ids``
        (one geometry; several: render targets 0.. in order) reading textures ``ids``."""
        off = len(self.params)
        self.params += params
        self.cmd += (OP_DRAW, pid, off, len(params), n, len(out_ids), *out_ids, len(ids), *ids)
        self.draws += 1

    def packet(self):
        """One int32 array: [header | commands | params | data]."""
        head = np.array([len(self.cmd), len(self.params), self.data_words, 0], np.int32)
        parts = [head, np.array(self.cmd, np.int32), np.array(self.params, np.int32)]
        return np.concatenate(parts + self.data)


def f32_bits(x):
    """The int32 bit pattern of float32 ``x`` (how float kernel parameters travel).

    >>> hex(f32_bits(1.0))
    '0x3f800000'
    """
    return int(np.float32(x).view(np.int32))
