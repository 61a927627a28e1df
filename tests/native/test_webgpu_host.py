"""Tier 1: the host side of the WebGPU backend (no browser): kernel coverage of the core op
table, the WGSL files and their templates, the buffer pool and the plan packet layout. The GPU
itself is exercised in tests/chrome/test_webgpu*.py."""

import re
from pathlib import Path

import numpy as np
import pytest

import wasmdl as wl
from wasmdl.backend import webgpu_plan
from wasmdl.backend.webgpu_kernels import EXPRESSIONS, KERNELS, REDUCTIONS
from wasmdl.backend.webgpu_wgsl import WGSL, template
from wasmdl.testing import webgpu_checks

WGSL_DIR = Path(__file__).resolve().parents[2] / "kernels" / "wgsl"


def test_every_core_op_has_a_webgpu_kernel():
    assert webgpu_checks.coverage()["missing"] == []
    assert set(KERNELS) >= set(wl.OPS)


@pytest.mark.parametrize("path", sorted(WGSL_DIR.glob("*.wgsl")), ids=lambda p: p.name)
def test_wgsl_files_have_a_header_and_an_entry_point(path):
    text = path.read_text()
    head = text.splitlines()[0]
    assert head.startswith(f"// kernel: {path.stem}"), head
    assert "// bindings:" in text and "// params" in text and "// dispatch:" in text
    entries = re.findall(r"@compute[^\n]*\n(?:fn|\s*fn) (k_\w+|k_\{\{NAME\}\})", text)
    assert entries in ([f"k_{path.stem}"], ["k_{{NAME}}"]), entries


def test_templates_leave_no_placeholder():
    codes = [
        template("elementwise.wgsl", NAME=n, TA="f32", TB="f32", TC="f32", TO="f32", EXPR=e)
        for n, e in EXPRESSIONS.items()
    ]
    for name, (inits, combine) in REDUCTIONS.items():
        for file in ("reduce.wgsl", "reduce_serial.wgsl"):
            codes.append(template(file, NAME=name, T="f32", INIT=inits["f32"], COMBINE=combine))
    for file in (
        "matmul",
        "matmul_regs",
        "argmax",
        "slice_grad",
        "gather",
        "scatter_add",
        "pad",
        "place",
    ):
        codes.append(template(f"{file}.wgsl", T="f32"))
    codes += [template(f, NAME="p", MAX="true") for f in ("pool2d.wgsl", "pool2d_grad.wgsl")]
    assert all("{{" not in c for c in codes)
    assert {d.name: t for d, t in WGSL.items()} == {"float32": "f32", "int32": "i32", "bool": "u32"}


def ops_of(cmd):
    """The opcodes of a plan holding only ALLOC (3 words) and DESTROY (2 words) commands."""
    out, i = [], 0
    while i < len(cmd):
        out.append(cmd[i])
        i += 3 if cmd[i] == webgpu_plan.OP_ALLOC else 2
    return out


def test_pool_reuses_buffers_for_uploads_only_after_a_submit():
    pool, plan = webgpu_plan.Pool(), webgpu_plan.Plan()
    a = pool.alloc(1000, plan)
    first = a.id
    del a  # back to the pool, pending until the batch is submitted
    b = pool.alloc(1000, plan, upload=True)  # an upload may not reuse it yet
    assert b.id != first and ops_of(plan.cmd).count(webgpu_plan.OP_ALLOC) == 2
    k = pool.alloc(1000, plan)  # a kernel output may (dispatches run in order)
    assert k.id == first
    del k
    pool.settle(plan)
    c = pool.alloc(900, plan)  # same bucket (1024): recycled, no new ALLOC
    assert c.id == first and ops_of(plan.cmd).count(webgpu_plan.OP_ALLOC) == 2
    assert pool.stats()["buffers"] == 2 and pool.stats()["bytes"] == 2048
    c.release()
    c.release()  # idempotent
    assert pool.stats()["buffers"] == 1


def test_pool_trims_spares_above_its_cap():
    pool, plan = webgpu_plan.Pool(max_pooled_bytes=4096), webgpu_plan.Plan()
    hs = [pool.alloc(2048, plan) for _ in range(4)]
    del hs
    pool.settle(plan)
    assert pool.stats()["pooled_bytes"] <= 4096
    assert ops_of(plan.cmd).count(webgpu_plan.OP_DESTROY) == 2


def test_plan_packet_layout():
    plan = webgpu_plan.Plan()
    plan.cmd += (webgpu_plan.OP_ALLOC, 1, 16)
    plan.write(1, np.arange(4, dtype=np.float32))
    plan.dispatch(7, [3, webgpu_plan.f32_word(0.5)], (2, 1, 1), [1, 1])
    p = plan.packet()
    ncmd, nparam, ndata = p[:3]
    assert ncmd == len(plan.cmd) and nparam == webgpu_plan.PARAM_ALIGN and ndata == 4
    cmd = p[4 : 4 + ncmd].tolist()
    assert cmd[:3] == [1, 1, 16] and cmd[3:7] == [3, 1, 0, 4]
    assert cmd[7:] == [4, 7, 0, 2, 2, 1, 1, 2, 1, 1]
    params = p[4 + ncmd : 4 + ncmd + nparam]
    assert params[0] == 3 and params[1:2].view(np.float32)[0] == 0.5
    assert p[4 + ncmd + nparam :].view(np.float32).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_webgpu_outside_a_browser_is_a_clear_error():
    assert "webgpu" not in wl.backend.available_backends()
    with pytest.raises(RuntimeError, match="received 'webgpu'"):
        wl.set_backend("webgpu")
    assert wl.backend.get_backend().name == "numpy"
