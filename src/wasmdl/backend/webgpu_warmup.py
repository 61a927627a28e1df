"""Explicit pipeline warm-up for the WebGPU backend (no shader-compile stall on the first step).

Pipelines are keyed by kernel specialisation (file, kernel name, template substitutions), not
by tensor values, and their WGSL is generated in Python on first use. So the exact set a model
needs is what one training step launches. ``warmup_async(step)`` runs ``step()`` with compiles
*deferred*: each new pipeline gets its id and its source is collected instead of compiled; then
one JS call (``shim.compileMany``) compiles them all in parallel with
``createComputePipelineAsync`` (per-pipeline milliseconds come back), and only then is the
recorded work submitted. ``warmup_model`` does this for a compiled Keras-style model and puts
its weights and optimizer state back, so warm-up does not train.

    from wasmdl.backend import webgpu
    report = await webgpu.warmup_async(lambda: (w @ w).sum())
    report = await model.warmup_async(x_batch, y_batch)   # same as warmup_model(model, ...)
    webgpu.stats()   # {"pipelines": 20, "compile_ms": ..., ...}

On CPython (no device) only the empty report exists:

>>> empty_report()["pipelines"]
0
"""

import json
import time


def stats(reset=False):
    """``WebGPUBackend.stats`` of the page's webgpu backend ({} before it exists): compiled
    ``pipelines``, crossings, and the shim's ``compiles`` and ``compile_ms``.

    >>> stats()
    {}
    """
    from .base import _INSTANCES

    be = _INSTANCES.get("webgpu")
    return {} if be is None else be.stats(reset)


def empty_report():
    """A warm-up report for when nothing was compiled."""
    return {"pipelines": 0, "compile_ms": {}, "sum_ms": 0.0, "wall_ms": 0.0}


async def compile_deferred(be):
    """Compile every pipeline collected while compiles were deferred (one parallel JS call)."""
    rows, be._deferred = be._deferred, None
    if not rows:
        return empty_report()
    be.crossings["compile"] += 1
    try:
        r = json.loads(await be.shim.compileMany(json.dumps(rows)))
    except Exception as e:
        _forget(be, rows)
        raise be._translate(e, "warmup compile") from None
    per = {f"{name}#{pid}": round(ms, 3) for pid, name, ms in r["ms"]}
    return {
        "pipelines": len(rows),
        "compile_ms": per,
        "sum_ms": round(sum(per.values()), 3),
        "wall_ms": round(r["wall_ms"], 3),
    }


def _forget(be, rows):
    """Drop the keys of pipelines that were never compiled (a failed or abandoned warm-up)."""
    pids = {row[0] for row in rows}
    for key in [k for k, pid in be.pipes.items() if pid in pids]:
        del be.pipes[key]
    be.plan.clear()  # the recorded dispatches name those pipelines


async def warmup_async(step, backend):
    """Run ``step()`` (sync: it records GPU work) with every new pipeline compiled in one
    parallel call before the work is submitted; returns the report (pipelines, per-pipeline
    ``compile_ms``, their ``sum_ms`` and the call's ``wall_ms``). ``step``'s work runs too.
    (``webgpu.warmup_async`` is this with the backend defaulting to the page's device.)"""
    be = backend
    be.ensure_ready()
    be.flush()  # earlier work goes out with the pipelines it already has
    if be._deferred is not None:
        raise RuntimeError("webgpu.warmup_async: expected no warm-up in progress, found one")
    be._deferred = []
    t0 = time.perf_counter()
    try:
        out = step()
    except BaseException:
        rows, be._deferred = be._deferred, None
        _forget(be, rows)
        raise
    report = await compile_deferred(be)
    be.flush()
    report["step_ms"] = round(1000 * (time.perf_counter() - t0), 3)
    report["result"] = out
    return report


async def warmup_model(model, x, y):
    """``model.warmup_async(x, y)`` (kept under this name): precompile one training step's
    pipelines and put the weights back (the model layer does it: it owns the weights)."""
    return await model.warmup_async(x, y)


def warmers():
    """backend name -> its ``warmup_async(step, backend)``."""
    from .webgl import warmup_async as webgl_warmup

    return {"webgpu": warmup_async, "webgl": webgl_warmup}
