"""Recording a step: the hooks ``ops.apply``, ``Tensor.assign`` and ``Tensor.numpy`` call while a
``Recorder`` is active, and ``host_value``, the one way a step takes a value computed on the host
at every step (``wasmdl.capture.host_value``: a learning rate, a step count, a dropout mask).

A recorder maps every handle it has seen to a slot of a ``Program``: the declared inputs, the
tensors alive before the step that it reads (parameters, optimizer state, metric sums, cached
constants: "external" until two recordings are compared, see ``wasmdl.capture``), host values and
the outputs of recorded ops (``wasmdl.capture.host_value`` and ``host_effect`` feed ``host`` and
``effect``). Recording never changes what a step computes: the step runs eagerly
as always, and whatever cannot be replayed (a host read) only marks the recording unusable, with
the reason.

>>> import wasmdl as wl
>>> x = wl.tensor([1.0, 2.0])
>>> rec = Recorder([x])
>>> with rec:
...     y = (x * 2.0).exp()
>>> rec.program.instrs
[Instr(mul, (0, 1) -> 2, (2,)), Instr(exp, (2,) -> 3, (2,))]
>>> rec.reason is None
True
"""

from __future__ import annotations

from .program import INPLACE, Program


class _Active:
    rec = None  # the Recorder in use, or None: read by ops.apply on every call


ACTIVE = _Active()


def key(t):
    """The recorder's key of tensor ``t``: its handle's identity, shape and dtype."""
    return id(t._h), t.shape, t.dtype


class Recorder:
    """Records the ops of one run of a step whose tensor inputs are ``inputs``."""

    def __init__(self, inputs):
        self.program = Program()
        self.slot_of: dict = {}  # key(tensor): (id(handle), shape, dtype) -> slot
        self.keep: list = []  # every handle seen, alive until the recorder goes (ids stay unique)
        self.tensors: dict = {}  # external slot -> the tensor first seen holding it
        self.hostcalls: list = []  # (slot or None, fn), in call order: host values and effects
        self.assigned: list = []  # tensors whose handle an assign replaced
        self.made: dict = {}  # id(handle) -> the host array a tensor was made from in the step
        self.checks: list = []  # (input slot, fn): host checks of step inputs, rerun per replay
        self.reason = None
        for t in inputs:
            self._bind(t, self.program.slot("input", t.shape, t.dtype))

    def __enter__(self):
        if ACTIVE.rec is not None:
            raise RuntimeError("Recorder: expected no other recording, received a nested one")
        ACTIVE.rec = self
        return self

    def __exit__(self, *exc):
        ACTIVE.rec = None
        return False

    def _bind(self, t, s):
        # a handle may back tensors of several shapes (a reshape that shares its input's
        # buffer on a GPU backend): the slot is that of the handle seen with this shape
        self.slot_of[key(t)] = s
        self.keep.append(t._h)

    def slot(self, t) -> int:
        """The slot of tensor ``t`` (a new external slot the first time its handle is seen)."""
        s = self.slot_of.get(key(t))
        if s is None:
            s = self.program.slot("external", t.shape, t.dtype)
            self._bind(t, s)
            self.tensors[s] = t
        return s

    def op(self, name, xs, params, out) -> None:
        """``ops.apply`` ran kernel ``name`` on ``xs`` with canonical ``params`` into ``out``."""
        ins = tuple([self.slot(x) for x in xs])
        s = self.program.emit(name, ins, dict(params), out.shape, out.dtype)
        if name not in INPLACE:
            self._bind(out, s)

    def assign(self, t) -> None:
        self.assigned.append(t)

    def host_read(self, what) -> None:
        if self.reason is None:
            self.reason = f"the step reads a value on the host ({what}); a replay cannot"

    def check(self, t, fn) -> None:
        s = self.slot_of.get(key(t))
        if s is not None and self.program.slots[s].kind == "input":
            self.checks.append((s, fn))
        else:  # a value computed in the step: checking it needs a read of the device
            self.host_read(f"a check of a computed tensor of shape {t.shape}")

    def host(self, t, fn) -> None:
        s = self.program.slot("host", t.shape, t.dtype)
        self._bind(t, s)
        self.hostcalls.append((s, fn))

    def effect(self, fn) -> None:
        self.hostcalls.append((None, fn))


def made(h, arr):
    """Note that handle ``h`` was made from host array ``arr`` during a recording (two recordings
    compare such values without reading the device back). Returns ``h``."""
    rec = ACTIVE.rec
    if rec is not None:
        rec.made[id(h)] = arr
        rec.keep.append(h)
    return h


def host_check(t, fn) -> None:
    """Run ``fn`` on the host value of ``t`` (a backend whose arrays live on the host, such as
    numpy: no device read). In a recording ``t`` must be an input of the step: the check runs
    again on every replay, on that call's input, before the program (bad data never reaches
    the kernels); a check of a computed tensor makes the step uncapturable."""
    rec = ACTIVE.rec
    if rec is not None:
        rec.check(t, fn)
    fn(t.backend.to_host(t._h, t.shape, t.dtype))
