"""``compile(program)`` for the GPU backends: a captured step's device commands recorded once,
then replayed as templates.

The first run executes every instruction through its kernel (so shader programs and pipelines
are made then, at capture) while the backend's command verb (WebGPU's ``launch``, WebGL's
``draw``) and ``alloc`` are watched: for each instruction it keeps the commands it made (program
id, constant words, grid or element count) and what each handle in them is (an input slot, the
instruction's output, or a scratch buffer/texture it allocated, with its geometry). Every later
run allocates the outputs and scratch storage from the pool and appends the same commands with
the new ids to the plan: no kernel code, no shader keys, no parameter arithmetic in Python. The
step reaches the shim as one packet when something is read, or every ``flush_every`` commands.
An instruction whose kernel uploads data, copies buffers or swaps storage under handles (a
constant it makes; the in-place optimizer updates) is not a template: it runs through its kernel
at every replay, which is always correct.

A backend describes its verb with a ``Verb`` (``webgpu.VERB``, ``webgl.VERB``):

>>> from wasmdl.program import Program
>>> verb = Verb("draw", "programs", ("plan.write",), "draws", "webgl", "context",
...             record=lambda *a: None, emit=lambda *a: None)
>>> compile_program(None, Program(), 512, verb)([])
[]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    """How one GPU backend's kernels talk to its plan.

    ``method``: the backend method kernels call per command; ``table``: the backend attribute
    mapping a command's key to its program id; ``impure``: ``"obj.method"`` paths whose call
    makes an instruction a non-template; ``counter``: the plan's command count;
    ``record(args) -> (constants, handle_lists)`` splits a watched call's arguments after the
    key and source; ``emit(plan, pid, constants, id_lists)`` appends the command again."""

    method: str
    table: str
    impure: tuple
    counter: str
    name: str
    device: str
    record: Callable
    emit: Callable


class _Watch:
    """Collects the commands and allocations one kernel call makes (through ``be.alloc``; a
    direct pool allocation or an ``impure`` call flags the instruction)."""

    def __init__(self, be, verb):
        self.be, self.verb, self.commands, self.allocs = be, verb, [], []
        self.other, self.inside_alloc = False, 0

    def _target(self, path):
        obj, name = path.rsplit(".", 1)
        return getattr(self.be, obj), name

    def __enter__(self):
        be, verb = self.be, self.verb
        command, alloc = getattr(be, verb.method), be.alloc

        def watched_command(key, source, *args):
            command(key, source, *args)
            consts, handles = verb.record(*args)
            self.commands.append((getattr(be, verb.table)[key], consts, handles))

        def watched_alloc(shape, dtype, *extra, **kw):
            self.inside_alloc += 1
            try:
                h = alloc(shape, dtype, *extra, **kw)
            finally:
                self.inside_alloc -= 1
            self.allocs.append((h, tuple(shape), dtype, (extra, kw)))
            return h

        def flag(fn):
            def wrapped(*a, **k):
                self.other = self.other or not self.inside_alloc
                return fn(*a, **k)

            return wrapped

        setattr(be, verb.method, watched_command)
        be.alloc = watched_alloc
        for path in verb.impure + ("pool.alloc_texture",) * hasattr(be.pool, "alloc_texture"):
            obj, name = self._target(path)
            setattr(obj, name, flag(getattr(obj, name)))
        return self

    def __exit__(self, *exc):
        for name in (self.verb.method, "alloc"):  # drop the instance attributes
            self.be.__dict__.pop(name, None)
        for path in self.verb.impure + ("pool.alloc_texture",):
            obj, name = self._target(path)
            obj.__dict__.pop(name, None)
        return False


def _template(instr, vals, out, watch):
    """(output kind, scratch geometries, commands with handle references) or None."""
    if watch.other:
        return None
    ref = {}
    for j in instr.ins:
        ref.setdefault(id(vals[j]), ("slot", j))
    ref[id(out)] = ("out", 0)
    scratch = []
    for h, shape, dtype, extra in watch.allocs:
        if h is not out:
            ref[id(h)] = ("scratch", len(scratch))
            scratch.append((shape, dtype, extra))
    if any(vals[j] is out for j in instr.ins):  # the output is an input (a reshape)
        out_kind = ("alias", next(j for j in instr.ins if vals[j] is out))
    elif any(h is out for h, *_ in watch.allocs):
        extra = next(e for h, _, _, e in watch.allocs if h is out)  # a packed format, say
        out_kind = ("alloc", instr.shape, instr.dtype, extra)
    else:
        return None
    commands = []
    for pid, consts, handle_lists in watch.commands:
        refs = [[ref.get(id(h)) for h in hs] for hs in handle_lists]
        if any(None in r for r in refs):
            return None  # a handle made elsewhere (a cached constant): run the kernel
        commands.append((pid, consts, refs))
    return out_kind, scratch, commands


def compile_program(be, program, flush_every, verb):
    """``run(arrays)`` for ``program`` on GPU backend ``be`` (see the module docstring);
    ``run.templates()`` counts the instructions replayed as templates."""
    from .base import Operand

    slots, instrs, n = program.slots, program.instrs, len(program.slots)
    templates = [None] * len(instrs)
    state = {"recorded": False, "pool": getattr(be, "pool", None)}

    def run_kernel(k, i, vals):
        xs = [Operand(vals[j], slots[j].shape, slots[j].dtype) for j in i.ins]
        if state["recorded"]:
            return be.run(i.kernel, xs, i.shape, i.dtype, i.params)
        with _Watch(be, verb) as watch:
            out = be.run(i.kernel, xs, i.shape, i.dtype, i.params)
        templates[k] = _template(i, vals, out, watch)
        return out

    def replay(t, vals):
        out_kind, scratch, commands = t
        if out_kind[0] == "alias":
            return vals[out_kind[1]]
        more, kw = out_kind[3]
        out = be.alloc(out_kind[1], out_kind[2], *more, **kw)
        extra = [be.alloc(shape, dtype, *more, **kw) for shape, dtype, (more, kw) in scratch]
        plan = be.plan
        for pid, consts, refs in commands:
            ids = [
                [(vals[x] if kind == "slot" else out if kind == "out" else extra[x]).id
                 for kind, x in r]
                for r in refs
            ]  # fmt: skip
            verb.emit(plan, pid, consts, ids)
        if getattr(plan, verb.counter) >= flush_every:
            be.flush()
        return out

    def run(arrays):
        if instrs and be.pool is not state["pool"]:
            raise RuntimeError(
                f"{verb.name}: the {verb.device} was lost or replaced; capture the step again"
            )
        vals = [None] * n
        for s, a in zip(program.externals, arrays, strict=True):
            vals[s] = a
        for k, i in enumerate(instrs):
            t = templates[k]
            vals[i.out] = replay(t, vals) if t is not None else run_kernel(k, i, vals)
        state["recorded"] = True
        return [vals[s] for s in program.outputs]

    run.calls = 1  # one packet per step (sent on a read, or every flush_every commands)
    run.templates = lambda: sum(t is not None for t in templates)
    return run
