"""The WebGPU backend's ``compile(program)``: a captured step's dispatches recorded once, then
replayed as templates.

The first run executes every instruction through its kernel (so pipelines are compiled then, at
capture) while ``launch`` is watched: for each instruction it keeps the dispatches it made
(pipeline id, parameter words, workgroups) and what each bound buffer is (an input slot, the
instruction's output, or a scratch buffer it allocated). Every later run allocates the outputs
and scratch buffers from the pool and appends the same dispatches with the new buffer ids to the
plan: no kernel code, no shader keys, no parameter arithmetic in Python. An instruction whose
kernel uploads data or copies buffers (a constant it makes, for example) is not a template: it
runs through its kernel at every replay, which is always correct.

>>> from wasmdl.program import Program
>>> p = Program()
>>> p.instrs, p.externals
([], [])
"""

from __future__ import annotations


class _Watch:
    """Collects the launches and allocations one kernel call makes."""

    def __init__(self, be):
        self.be, self.launches, self.allocs, self.other = be, [], [], False

    def __enter__(self):
        be = self.be
        self.saved = be.launch, be.alloc, be.plan.write, be.plan.copy
        launch, alloc, write, copy = self.saved

        def watched_launch(key, source, params, groups, handles):
            launch(key, source, params, groups, handles)
            self.launches.append((be.pipes[key], list(params), tuple(groups), list(handles)))

        def watched_alloc(shape, dtype, upload=False):
            h = alloc(shape, dtype, upload)
            self.allocs.append((h, tuple(shape), dtype))
            return h

        def flag(fn):
            def wrapped(*a, **k):
                self.other = True
                return fn(*a, **k)

            return wrapped

        be.launch, be.alloc = watched_launch, watched_alloc
        be.plan.write, be.plan.copy = flag(write), flag(copy)
        return self

    def __exit__(self, *exc):
        be = self.be
        be.launch, be.alloc, be.plan.write, be.plan.copy = self.saved
        for name in ("launch", "alloc"):  # drop the instance attributes: class methods again
            be.__dict__.pop(name, None)
        for name in ("write", "copy"):
            be.plan.__dict__.pop(name, None)
        return False


def _template(instr, vals, out, watch):
    """(output kind, scratch shapes, dispatches with buffer references) or None."""
    if watch.other:
        return None
    ref = {}
    for j in instr.ins:
        ref.setdefault(id(vals[j]), ("slot", j))
    ref[id(out)] = ("out", 0)
    scratch = []
    for h, shape, dtype in watch.allocs:
        if h is not out:
            ref[id(h)] = ("scratch", len(scratch))
            scratch.append((shape, dtype))
    if id(out) in {id(vals[j]) for j in instr.ins}:  # the output is an input (a reshape)
        out_kind = ("alias", instr.ins.index(next(j for j in instr.ins if vals[j] is out)))
    elif any(h is out for h, _, _ in watch.allocs):
        out_kind = ("alloc", instr.shape, instr.dtype)
    else:
        return None
    dispatches = []
    for pid, params, groups, handles in watch.launches:
        refs = [ref.get(id(h)) for h in handles]
        if None in refs:
            return None
        dispatches.append((pid, params, groups, refs))
    return out_kind, scratch, dispatches


def compile_program(be, program, flush_every):
    """``run(arrays)`` for ``program`` on WebGPU backend ``be`` (see the module docstring)."""
    from .base import Operand

    slots, instrs, n = program.slots, program.instrs, len(program.slots)
    templates = [None] * len(instrs)
    state = {"recorded": False, "pool": be.pool}

    def run_kernel(k, i, vals):
        xs = [Operand(vals[j], slots[j].shape, slots[j].dtype) for j in i.ins]
        if state["recorded"]:
            return be.run(i.kernel, xs, i.shape, i.dtype, i.params)
        with _Watch(be) as watch:
            out = be.run(i.kernel, xs, i.shape, i.dtype, i.params)
        templates[k] = _template(i, vals, out, watch)
        return out

    def replay(k, t, vals):
        out_kind, scratch, dispatches = t
        i = instrs[k]
        if out_kind[0] == "alias":
            return vals[i.ins[out_kind[1]]]
        out = be.alloc(out_kind[1], out_kind[2])
        extra = [be.alloc(shape, dtype) for shape, dtype in scratch]
        plan = be.plan
        for pid, params, groups, refs in dispatches:
            ids = [
                (vals[x] if kind == "slot" else out if kind == "out" else extra[x]).id
                for kind, x in refs
            ]
            plan.dispatch(pid, params, groups, ids)
        if plan.dispatches >= flush_every:
            be.flush()
        return out

    def run(arrays):
        if be.pool is not state["pool"]:
            raise RuntimeError("webgpu: the device was lost or replaced; capture the step again")
        vals = [None] * n
        for s, a in zip(program.externals, arrays, strict=True):
            vals[s] = a
        for k, i in enumerate(instrs):
            t = templates[k]
            vals[i.out] = replay(k, t, vals) if t is not None else run_kernel(k, i, vals)
        state["recorded"] = True
        return [vals[s] for s in program.outputs]

    run.calls = 1  # one command packet per step (flushed on read, or every FLUSH_DISPATCHES)
    return run
