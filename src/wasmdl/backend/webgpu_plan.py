"""The WebGPU backend's host-side bookkeeping: buffer handles, the size-bucketed pool and the
plan (the batch of commands sent to ``kernels/shim.js`` in one call).

Python owns the buffer-id space. Allocating takes an id from the pool (or records an ALLOC
command for a new GPU buffer); freeing returns the id to the pool. Neither crosses into
JavaScript: the commands ride along with the next ``run(packet)``.

>>> pool = Pool()
>>> plan = Plan()
>>> h = pool.alloc(1000, plan)
>>> (h.nbytes, pool.stats()["buffers"], plan.cmd)
(1024, 1, [1, 1, 1024])
>>> del h
>>> pool.stats()["buffers"], pool.stats()["pooled"]
(0, 1)
"""

import numpy as np

OP_ALLOC, OP_DESTROY, OP_WRITE, OP_DISPATCH, OP_COPY = 1, 2, 3, 4, 5
PARAM_ALIGN = 64  # words: minStorageBufferOffsetAlignment (256 bytes)


def bucket(nbytes):
    """The pooled size for a request: powers of two up to 64 KiB, then quarter steps.

    >>> [bucket(n) for n in (1, 300, 70000)]
    [16, 512, 81920]
    """
    n = max(16, int(nbytes))
    p = 1 << (n - 1).bit_length()
    if p <= 65536:
        return p
    step = p // 8
    return -(-n // step) * step


class Handle:
    """A GPU buffer id owned by Python; its death returns the id to the pool.

    Tensors share handles (``detach``, ``assign``), so lifetime follows the handle object,
    not any one tensor.
    """

    __slots__ = ("id", "nbytes", "pool", "__weakref__")

    def __init__(self, id_, nbytes, pool):
        self.id, self.nbytes, self.pool = id_, nbytes, pool

    def release(self):
        """Return the buffer to the pool now (``dispose``); later releases are no-ops."""
        if self.pool is not None:
            self.pool.give_back(self.id, self.nbytes)
            self.pool = None

    def __del__(self):
        if self.pool is not None:
            self.pool.give_back(self.id, self.nbytes)

    def __repr__(self):
        return f"<webgpu buffer {self.id}: {self.nbytes} bytes>"


class Pool:
    """Size-bucketed free lists of buffer ids. Ids freed since the last submit wait in
    ``pending``: kernel outputs may reuse them at once (dispatches run in recorded order), but
    uploads may not (``queue.writeBuffer`` lands before the batch's dispatches, which may still
    read the old contents)."""

    def __init__(self, max_pooled_bytes=64 << 20):
        self.next_id = 1
        self.free = {}  # bucket size -> [ids]
        self.pending = {}  # bucket size -> [ids] released since the last submit
        self.live = {}  # id -> size
        self.live_bytes = 0
        self.pooled_bytes = 0
        self.max_pooled_bytes = max_pooled_bytes

    def alloc(self, nbytes, plan, cap=1 << 62, upload=False):
        size = min(bucket(nbytes), cap)
        ids = self.free.get(size)
        recent = None if upload else self.pending.get(size)
        if ids:
            id_ = ids.pop()
            self.pooled_bytes -= size
        elif recent:
            id_ = recent.pop()
        else:
            id_ = self.next_id
            self.next_id += 1
            plan.cmd += (OP_ALLOC, id_, size)
        self.live[id_] = size
        self.live_bytes += size
        return Handle(id_, size, self)

    def give_back(self, id_, size):
        if self.live.pop(id_, None) is None:
            return  # from a previous device (lost or reset)
        self.live_bytes -= size
        self.pending.setdefault(size, []).append(id_)

    def settle(self, plan):
        """After a submit: pending ids become reusable; trim the pool above its byte cap."""
        for size, ids in self.pending.items():
            self.free.setdefault(size, []).extend(ids)
            self.pooled_bytes += size * len(ids)
        self.pending = {}
        while self.pooled_bytes > self.max_pooled_bytes:
            size = max(s for s, ids in self.free.items() if ids)
            plan.cmd += (OP_DESTROY, self.free[size].pop())
            self.pooled_bytes -= size

    def stats(self):
        pooled = sum(len(v) for v in self.free.values()) + sum(map(len, self.pending.values()))
        return {
            "buffers": len(self.live),
            "bytes": self.live_bytes,
            "pooled": pooled,
            "pooled_bytes": self.pooled_bytes,
        }


class Plan:
    """Commands, kernel parameters and upload data waiting for the next ``run(packet)``."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.cmd = []
        self.params = []
        self.data = []
        self.data_words = 0
        self.dispatches = 0

    def __len__(self):
        return len(self.cmd)

    def write(self, id_, words):
        """Upload ``words`` (a contiguous 4-byte-per-element array) into buffer ``id_``."""
        words = np.ascontiguousarray(words).reshape(-1).view(np.uint32)
        self.cmd += (OP_WRITE, id_, self.data_words, words.size)
        self.data.append(words)
        self.data_words += words.size

    def dispatch(self, pipe, params, groups, ids):
        """Record one kernel launch: ``params`` are u32 words (floats already bit-cast)."""
        off = len(self.params)
        self.params += params
        pad = -len(self.params) % PARAM_ALIGN
        self.params += [0] * pad
        self.cmd += (OP_DISPATCH, pipe, off, max(1, len(params)), *groups, len(ids), *ids)
        self.dispatches += 1

    def copy(self, src, dst, nbytes):
        self.cmd += (OP_COPY, src, dst, nbytes)

    def packet(self):
        """One uint32 array: [header | commands | params | data]."""
        head = np.array([len(self.cmd), len(self.params), self.data_words, 0], np.uint32)
        parts = [head, np.array(self.cmd, np.uint32), np.array(self.params, np.uint32)]
        return np.concatenate(parts + self.data)


def f32_word(x):
    """The u32 bit pattern of float32 ``x`` (how float kernel parameters travel).

    >>> hex(f32_word(1.0))
    '0x3f800000'
    """
    return int(np.float32(x).view(np.uint32))
