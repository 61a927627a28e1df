"""Captured step programs: run a step once eagerly, record it twice, replay it ever after.

``wasmdl.function(fn)`` wraps a function of tensors (a training step, a ``predict`` batch, a
custom loop's step). For each key (the shapes and dtypes of its tensor arguments, its other
arguments, grad mode, the backend and an optional ``key()`` of the caller: trainable flags,
optimizer configuration...) it runs ``fn`` eagerly ``warmup`` times (optimizer state is created
then), records two further calls (``tracing.Recorder``: every op through ``ops.apply``, every
``assign``, every host value) and compares them. When both recordings agree, the second becomes a
``Program``: tensors alive before the step that it reads are ``"param"`` slots (read again at
every replay, so ``set_weights`` or a new learning rate are seen), tensors made inside it with the
same value both times are ``"const"``, values made by ``host_value`` are ``"host"`` (recomputed at
every replay). ``wasmdl.rewrite`` fuses it with the backend's pattern table, the backend's
``compile(program)`` (or the generic replay, one kernel call per instruction) runs it, and every
later call is a replay: no Python per op, outputs and the tensors the step assigned (weights,
optimizer state, metric sums, ``.grad``) set from its results.

What cannot be replayed leaves the step eager, exactly as it was, with one logged line and the
reason in ``capture_info()``: a host read inside the step (``.item()``, ``float(t)``), recordings
that differ (Python control flow on values), a value made on the host that changes from call to
call without ``host_value``, an output that still requires grad.

>>> import numpy as np, wasmdl as wl
>>> w = wl.tensor([1.0, 2.0])
>>> step = wl.function(lambda x: (x * w).sum())
>>> [float(step(np.array([1.0, 1.0]))) for _ in range(5)]
[3.0, 3.0, 3.0, 3.0, 3.0]
>>> info = step.capture_info()
>>> info["captured"], info["instructions"], info["replays"]
(True, 2, 2)
"""

from __future__ import annotations

import logging

import numpy as np

from .autograd import GRAD
from .backend import get_backend
from .dtypes import infer_dtype
from .replay import Replay
from .tensor import Tensor
from .tracing import ACTIVE, Recorder, key

log = logging.getLogger("wasmdl.capture")


def host_value(fn, dtype, backend):
    """A tensor on ``backend`` holding ``np.asarray(fn(), dtype)``; in a captured step ``fn`` is
    called again at every replay (it may read and change host state, never a tensor).

    >>> import numpy as np, wasmdl as wl
    >>> host_value(lambda: [0.5, 2.0], np.float32, wl.backend.get_backend()).tolist()
    [0.5, 2.0]
    """
    arr = np.ascontiguousarray(np.asarray(fn(), dtype))
    t = Tensor._wrap(backend.from_host(arr), arr.shape, arr.dtype, backend)
    if ACTIVE.rec is not None:
        ACTIVE.rec.host(t, fn)
    return t


def host_effect(fn):
    """``fn()`` now, and again at every replay of a captured step (host bookkeeping such as
    step counters; it must not read tensors). Returns what ``fn`` returns."""
    if ACTIVE.rec is not None:
        ACTIVE.rec.effect(fn)
    return fn()


# ----------------------------------------------------------------------------- arguments
def _flatten(args, tensors, backend):
    """The structure of ``args`` with tensors (and numpy arrays, made tensors) pulled out."""
    if isinstance(args, Tensor):
        tensors.append(args)
        return ("T", args.shape, args.dtype.char)
    if isinstance(args, np.ndarray):  # a private copy in wasmdl's dtype (as tensor() makes)
        dt = infer_dtype(args)
        arr = np.array(args, dt, order="C")
        tensors.append(Tensor._wrap(backend.from_host(arr), arr.shape, dt, backend))
        return ("T", arr.shape, dt.char)
    if isinstance(args, list | tuple):
        return (type(args).__name__, tuple(_flatten(a, tensors, backend) for a in args))
    if isinstance(args, dict):
        return ("dict", tuple((k, _flatten(args[k], tensors, backend)) for k in sorted(args)))
    try:
        hash(args)
    except TypeError:
        return ("id", id(args))
    return ("v", type(args).__name__, args)


def _flat_signature(args):
    """``((type, shape, dtype), ...)`` when every argument is an array or a tensor, else None."""
    sig = []
    for a in args:
        t = type(a)
        if t is not np.ndarray and t is not Tensor:
            return None
        sig.append((t, a.shape, a.dtype, getattr(a, "backend", None)))
    return tuple(sig)


def _handle(a, backend, borrow=False):
    """The backend handle of argument ``a`` (an array: a private copy in wasmdl's dtype, or
    with ``borrow`` the array itself where it already is one)."""
    if type(a) is Tensor:
        return a._h
    dt = infer_dtype(a)
    if borrow and a.dtype == dt and a.flags.c_contiguous:
        return a
    return backend.from_host(np.array(a, dt, order="C"))


def _rebuild_args(args, tensors):
    it = iter(tensors)

    def walk(a):
        if isinstance(a, Tensor | np.ndarray):
            return next(it)
        if isinstance(a, list | tuple):
            items = [walk(x) for x in a]
            return items if isinstance(a, list) else tuple(items)
        if isinstance(a, dict):
            done = {k: walk(a[k]) for k in sorted(a)}
            return {k: done[k] for k in a}
        return a

    return [walk(a) for a in args]


def _flatten_out(out, flat):
    """The structure of a step's result, its tensors appended to ``flat``."""
    if isinstance(out, Tensor):
        flat.append(out)
        return ("T",)
    if isinstance(out, list | tuple):
        return (type(out).__name__, tuple(_flatten_out(o, flat) for o in out))
    if isinstance(out, dict):
        return ("dict", tuple((k, _flatten_out(v, flat)) for k, v in out.items()))
    if out is None or isinstance(out, bool | int | float | str):
        return ("v", out)
    return ("?", type(out).__name__)


# ----------------------------------------------------------------------------- recordings
class Trace:
    """A finished recording: the recorder, the result's structure and slots, write-backs."""

    def __init__(self, rec, out):
        self.rec = rec
        flat = []
        self.tree = _flatten_out(out, flat)
        self.reason = rec.reason
        if self.tree[0] == "?" or "('?'," in repr(self.tree):
            self.reason = self.reason or "the step returns something other than tensors"
        if any(t.requires_grad for t in flat):
            self.reason = self.reason or (
                "the step returns a tensor that requires grad (a replay has no graph): run "
                "backward() inside the step, or call it under no_grad()"
            )
        slot_of = rec.slot_of
        self.out_slots = [rec.slot(t) for t in flat]
        seen, self.writes, self.grads = set(), [], []
        assigned = {id(t) for t in rec.assigned}
        for t in [*rec.assigned, *rec.tensors.values()]:
            if id(t) in seen:
                continue
            seen.add(id(t))
            if id(t) in assigned and key(t) in slot_of:
                self.writes.append((t, slot_of[key(t)]))
            g = t.grad
            if g is not None and key(g) in slot_of:
                self.grads.append((t, slot_of[key(g)]))

    def signature(self):
        p = self.rec.program
        instrs = [(i.kernel, i.ins, i.out, i.shape, i.dtype) for i in p.instrs]
        slots = [(s.kind, s.shape, s.dtype) for s in p.slots]
        host = [(s, _code(fn)) for s, fn in self.rec.hostcalls]
        host += [("check", s, _code(fn)) for s, fn in self.rec.checks]
        writes = [(id(t), s) for t, s in self.writes]
        grads = [(id(t), s) for t, s in self.grads]
        return instrs, slots, host, self.tree, self.out_slots, writes, grads


def _code(fn):
    fn = getattr(fn, "func", fn)  # functools.partial
    return getattr(fn, "__code__", fn)


def _same_params(a, b):
    try:
        return bool(a == b)
    except Exception:  # arrays in params: compare element-wise
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _host_array(t, made):
    """The value of external tensor ``t``: the host array it was made from in the step, else a
    read of the device (a backend that cannot read synchronously raises)."""
    arr = made.get(id(t._h))
    return np.asarray(t.backend.to_host(t._h, t.shape, t.dtype) if arr is None else arr)


def compare(a: Trace, b: Trace):
    """None when recordings ``a`` and ``b`` of one step agree (then ``b`` is replayable: its
    external slots are classified), else the reason they do not."""
    if a.reason or b.reason:
        return a.reason or b.reason
    if a.signature() != b.signature():
        return (
            "two calls of the step ran different ops (Python control flow that depends on "
            "values or on call counts)"
        )
    pa, pb = a.rec.program, b.rec.program
    for ia, ib in zip(pa.instrs, pb.instrs, strict=True):
        if not _same_params(ia.params, ib.params):
            return f"two calls ran op '{ib.kernel}' with different parameters"
    for s, tb in b.rec.tensors.items():
        ta = a.rec.tensors[s]
        if ta is tb:
            pb.slots[s].kind = "param"
            continue
        try:
            va, vb = _host_array(ta, a.rec.made), _host_array(tb, b.rec.made)
            same = np.array_equal(va, vb, equal_nan=True)
        except Exception:  # a backend that cannot read synchronously
            same = False
        if not same:
            return (
                f"a tensor made on the host inside the step (shape {tb.shape}, {tb.dtype}) "
                "changes from call to call; make it with wasmdl.capture.host_value"
            )
        pb.slots[s].kind = "const"
    return None


# ----------------------------------------------------------------------------- function
class _Entry:
    """The state of one key: eager calls so far, the first recording, the replay or why not."""

    __slots__ = ("calls", "first", "replay", "reason")

    def __init__(self):
        self.calls, self.first, self.replay, self.reason = 0, None, None, None


class function:  # noqa: N801  (a decorator, named like jax.jit / tf.function)
    """Capture ``fn`` (a function of tensors) into a program and replay it (see the module).

    ``jit_compile``: ``"auto"`` (capture when possible, else stay eager with the reason logged),
    ``True`` (raise ``RuntimeError`` with the reason when the step cannot be captured), ``False``
    (always eager). ``key``: a function whose (hashable) result joins the cache key: the caller's
    state a program depends on. ``warmup``: eager calls before the two recordings.
    """

    def __init__(self, fn, jit_compile="auto", key=None, warmup=1, name=None):
        if jit_compile not in ("auto", True, False):
            raise ValueError(
                f"function: argument 'jit_compile' expected 'auto', True or False, received "
                f"{jit_compile!r}"
            )
        self.fn, self.jit_compile, self.key, self.warmup = fn, jit_compile, key, int(warmup)
        self.name = name or getattr(fn, "__name__", "function")
        self._entries: dict = {}
        self._last = self._fast = None
        self.replays = 0

    def __call__(self, *args):
        if self.jit_compile is False or ACTIVE.rec is not None:  # eager, or inside a capture
            return self.fn(*args)
        be = get_backend()
        fast = self._fast  # the last replayed key, for flat array/tensor arguments
        if fast is not None and fast[0] is be and GRAD.enabled is fast[1]:
            sig = _flat_signature(args)
            if sig == fast[2] and (self.key is None or self.key() == fast[3]):
                self.replays += 1
                replay = fast[4]
                return replay([_handle(a, be, replay.borrows) for a in args])
        tensors: list = []
        spec = _flatten(args, tensors, be)
        user_key = self.key() if self.key is not None else None
        k = (spec, GRAD.enabled, be, user_key)
        e = self._entries.get(k)
        if e is None:
            if len(self._entries) > 64:  # a step called with ever new shapes: keep it bounded
                self._entries.clear()
            e = self._entries[k] = _Entry()
        self._last = e
        if e.replay is not None:
            sig = _flat_signature(args)
            if sig is not None:
                self._fast = (be, GRAD.enabled, sig, user_key, e.replay)
            self.replays += 1
            return e.replay([t._h for t in tensors])
        if e.reason is not None or e.calls < self.warmup:
            e.calls += 1
            return self.fn(*args)
        return self._record(e, args, tensors, be)

    def host_call(self, *args):
        """The step's one output as a fresh host array, when the call takes the fast path of
        the last replay (arrays or tensors of the same signature, same backend, grad mode and
        key) and that replay returns host arrays (``Replay.host_result``); else None, and the
        caller calls the function. ``predict``'s per-sample case: no tensor is made."""
        fast = self._fast
        if (fast is None or not fast[4].host_result or self.jit_compile is False
                or ACTIVE.rec is not None or GRAD.enabled is not fast[1]
                or get_backend() is not fast[0] or _flat_signature(args) != fast[2]
                or (self.key is not None and self.key() != fast[3])):  # fmt: skip
            return None
        self.replays += 1
        replay = fast[4]
        return replay.run_host([_handle(a, fast[0], True) for a in args])

    def _record(self, e, args, tensors, be):
        e.calls += 1
        rec = Recorder(tensors)
        with rec:
            out = self.fn(*_rebuild_args(args, tensors))
        trace = Trace(rec, out)
        if e.first is None and trace.reason is None:
            e.first = trace
            return out
        reason = compare(e.first, trace) if trace.reason is None else trace.reason
        e.first = None
        if reason is None:
            try:
                e.replay = Replay(trace, be)
            except Exception as exc:  # a backend that cannot compile it: stay eager, say why
                reason = f"the backend could not compile the program ({exc})"
        if reason is not None:
            e.reason = reason
            log.info("wasmdl.function(%s): not captured, running eagerly: %s", self.name, reason)
            if self.jit_compile is True:
                raise RuntimeError(
                    f"{self.name}: jit_compile=True but the step cannot be captured: {reason}"
                )
        return out

    def capture_info(self) -> dict:
        """What happened to the most recent key: captured or not (and why), instructions
        recorded and after rewriting, backend calls per replay, replays so far."""
        e = self._last
        info = {"captured": False, "reason": "not called yet", "replays": self.replays}
        if self.jit_compile is False:
            return {**info, "reason": "jit_compile=False"}
        if e is None:
            return info
        if e.replay is not None:
            return {**info, "reason": None, **e.replay.info(), "captured": True}
        if e.reason is not None:
            return {**info, "reason": e.reason}
        return {**info, "reason": f"warming up ({e.calls} eager calls so far)"}
