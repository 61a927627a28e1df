"""The WebGL2 backend's ``compile(program)``: a captured step's draws recorded once, then replayed
as templates (the WebGL counterpart of ``webgpu_program``).

The first run executes every instruction through its kernel (so its shader programs are made
then, at capture) while ``draw`` and ``alloc`` are watched: for each instruction it keeps the
draws it made (program id, parameter words, element count) and what each texture is (an input
slot, the instruction's output, or a scratch texture it allocated, with its geometry). Every
later run allocates the outputs and scratch textures from the pool and appends the same draws
with the new texture ids to the plan: no kernel code, no GLSL keys, no parameter arithmetic in
Python. The whole step goes to the shim as one packet (``glRun``) when something is read, or
every ``FLUSH_DRAWS`` draws. An instruction whose kernel uploads data or swaps textures under
handles (the in-place optimizer updates, whose learning rate and step arrive as a texture)
is not a template: it runs through its kernel at every replay, which is always correct.

>>> from wasmdl.program import Program
>>> compile_program(None, Program(), 512)([])
[]
"""

from __future__ import annotations


class _Watch:
    """Collects the draws and allocations one kernel call makes."""

    def __init__(self, be):
        self.be, self.draws, self.allocs, self.other = be, [], [], False

    def __enter__(self):
        be = self.be
        self.saved = be.draw, be.alloc, be.plan.write, be.pool.alloc_texture
        draw, alloc, write, alloc_texture = self.saved

        def watched_draw(key, source, params, inputs, out, n):
            draw(key, source, params, inputs, out, n)
            outs = list(out) if isinstance(out, list) else [out]
            self.draws.append((be.programs[key], list(params), outs, n, list(inputs)))

        def watched_alloc(shape, dtype, fmt=None):
            h = alloc(shape, dtype, fmt)
            self.allocs.append((h, tuple(shape), dtype, fmt))
            return h

        def flag(fn):
            def wrapped(*a, **k):
                self.other = True
                return fn(*a, **k)

            return wrapped

        be.draw, be.alloc = watched_draw, watched_alloc
        be.plan.write, be.pool.alloc_texture = flag(write), flag(alloc_texture)
        return self

    def __exit__(self, *exc):
        be = self.be
        for name in ("draw", "alloc"):  # drop the instance attributes: class methods again
            be.__dict__.pop(name, None)
        be.plan.__dict__.pop("write", None)
        be.pool.__dict__.pop("alloc_texture", None)
        return False


def _template(instr, vals, out, watch):
    """(output kind, scratch geometries, draws with texture references) or None."""
    if watch.other:
        return None
    ref = {}
    for j in instr.ins:
        ref.setdefault(id(vals[j]), ("slot", j))
    ref[id(out)] = ("out", 0)
    scratch = []
    for h, shape, dtype, fmt in watch.allocs:
        if h is not out:
            ref[id(h)] = ("scratch", len(scratch))
            scratch.append((shape, dtype, fmt))
    ins = [vals[j] for j in instr.ins]
    if any(out is h for h in ins):  # the output is an input (a reshape shares its texture)
        out_kind = ("alias", next(k for k, h in enumerate(ins) if h is out))
    elif any(h is out for h, _, _, _ in watch.allocs):
        out_kind = ("alloc", instr.shape, instr.dtype)
    else:
        return None
    draws = []
    for pid, params, outs, n, inputs in watch.draws:
        outs_ref = [ref.get(id(h)) for h in outs]
        ins_ref = [ref.get(id(h)) for h in inputs]
        if None in outs_ref or None in ins_ref:
            return None  # a texture made elsewhere (a cached constant): run the kernel
        draws.append((pid, params, outs_ref, n, ins_ref))
    return out_kind, scratch, draws


def compile_program(be, program, flush_every):
    """``run(arrays)`` for ``program`` on WebGL backend ``be`` (see the module docstring)."""
    from .base import Operand

    slots, instrs, n = program.slots, program.instrs, len(program.slots)
    templates = [None] * len(instrs)
    state = {"recorded": False, "pool": getattr(be, "pool", None)}

    def run_kernel(k, i, vals):
        xs = [Operand(vals[j], slots[j].shape, slots[j].dtype) for j in i.ins]
        if state["recorded"]:
            return be.run(i.kernel, xs, i.shape, i.dtype, i.params)
        with _Watch(be) as watch:
            out = be.run(i.kernel, xs, i.shape, i.dtype, i.params)
        templates[k] = _template(i, vals, out, watch)
        return out

    def replay(k, t, vals):
        out_kind, scratch, draws = t
        i = instrs[k]
        if out_kind[0] == "alias":
            return vals[i.ins[out_kind[1]]]
        out = be.alloc(out_kind[1], out_kind[2])
        extra = [be.alloc(shape, dtype, fmt) for shape, dtype, fmt in scratch]
        plan = be.plan
        for pid, params, outs, count, ins in draws:
            out_ids = [
                (vals[i.ins[x]] if kind == "slot" else out if kind == "out" else extra[x]).id
                for kind, x in outs
            ]
            ids = [
                (vals[i.ins[x]] if kind == "slot" else out if kind == "out" else extra[x]).id
                for kind, x in ins
            ]
            plan.draw(pid, params, out_ids, count, ids)
        if plan.draws >= flush_every:
            be.flush()
        return out

    def run(arrays):
        if instrs and be.pool is not state["pool"]:
            raise RuntimeError("webgl: the context was lost or replaced; capture the step again")
        vals = [None] * n
        for s, a in zip(program.externals, arrays, strict=True):
            vals[s] = a
        for k, i in enumerate(instrs):
            t = templates[k]
            vals[i.out] = replay(k, t, vals) if t is not None else run_kernel(k, i, vals)
        state["recorded"] = True
        return [vals[s] for s in program.outputs]

    run.calls = 1  # one packet per step (sent on a read, or every flush_every draws)
    return run
