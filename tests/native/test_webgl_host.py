"""Tier 1: the host side of the WebGL2 backend (no browser): kernel coverage of the core op
table, the GLSL files and their templates, the texture geometry, the pool and the packet
layout. The GPU itself is exercised in tests/chrome/test_webgl.py."""

from pathlib import Path

import numpy as np
import pytest

import wasmdl as wl
from wasmdl.backend import webgl_plan
from wasmdl.backend.webgl import WebGLBackend
from wasmdl.backend.webgl_conv import CONV, CONV_BIAS, CONV_BIAS4, LANES1, LANES4
from wasmdl.backend.webgl_fused import GRAD, ROW_LOSS, TARGET
from wasmdl.backend.webgl_glsl import GL, REDUCTIONS, template
from wasmdl.backend.webgl_kernels import (
    DENSE,
    DENSE_ACT,
    DENSE_PLAIN,
    EXPRESSIONS,
    KERNELS,
    UNPACK,
    _block_source,
    elementwise_subs,
)
from wasmdl.backend.webgl_step import SGD_UNPACK

GLSL_DIR = Path(__file__).resolve().parents[2] / "kernels" / "glsl"


def test_every_core_op_has_a_webgl_kernel():
    assert set(KERNELS) >= set(wl.OPS)
    assert "webgl" in wl.backend.base._FACTORIES


@pytest.mark.parametrize(
    "path",
    sorted(p for p in GLSL_DIR.glob("*.glsl") if p.stem not in ("common", "math")),
    ids=lambda p: p.name,
)
def test_glsl_files_have_a_header_and_one_main(path):
    text = path.read_text()
    head = text.splitlines()[0]
    assert head.startswith(f"// kernel: {path.stem}"), head
    assert "// textures:" in text and "// params" in text
    assert text.count("void main()") == 1


def test_templates_leave_no_placeholder_and_start_with_the_version():
    s = {"S": "sampler2D", "T": "float"}
    f32 = np.dtype("float32")
    views = [(0, [4, 1]), (3, [0, 1]), (0, [-1, 2])]  # contiguous, broadcast, strided
    codes = [
        template("elementwise.glsl", **elementwise_subs(e, [f32] * 3, f32, [2, 4], views))
        for e in EXPRESSIONS.values()
    ]
    for inits, combine in REDUCTIONS.values():
        codes.append(template("reduce.glsl", **s, INIT=inits["float"], COMBINE=combine))
    for file in ("argmax", "slice_grad", "gather", "scatter_add", "concat"):
        codes.append(template(f"{file}.glsl", **s))
    codes.append(template("matmul.glsl", **s, **UNPACK))
    codes += [template("matmul.glsl", **s, **DENSE_PLAIN, ACT=a) for a in DENSE_ACT.values()]
    codes.append(template("pad.glsl", **s, VALUE="intBitsToFloat(v)"))
    codes += [template(f, MAX="true") for f in ("pool2d.glsl", "pool2d_grad.glsl")]
    for lanes in (LANES1, LANES4):
        codes += [template(f"{f}.glsl", **lanes) for f in ("conv2d_grad_input",
                                                            "conv2d_grad_weight")]  # fmt: skip
        bias = CONV_BIAS4 if lanes is LANES4 else CONV_BIAS
        codes.append(template("conv2d.glsl", **lanes, **CONV))
        codes += [template("conv2d.glsl", **lanes, **bias, ACT=a) for a in DENSE_ACT.values()]
    codes.append(template("unpack4.glsl"))
    codes.append(template("unpack_block.glsl", **UNPACK))
    codes += [template("unpack_block.glsl", **DENSE, ACT=a) for a in DENSE_ACT.values()]
    sgd = SGD_UNPACK["ACT"].replace("{{SIGN}}", "")
    codes.append(template("unpack_block.glsl", **{**SGD_UNPACK, "ACT": sgd}))
    codes += [_block_source(r) for r in (4, 8)]
    codes += [template(f"{f}.glsl") for f in ("softmax", "softmax_grad")]
    for target in TARGET.values():
        codes += [
            template("cross_entropy.glsl", TARGET=target, ROW_LOSS=r) for r in ROW_LOSS.values()
        ]
        codes += [template("cross_entropy_grad.glsl", TARGET=target, GRAD=g) for g in GRAD.values()]
    assert all("{{" not in c for c in codes)
    assert all(c.startswith("#version 300 es\n") for c in codes)
    assert {d.name: t[0] for d, t in GL.items()} == {
        "float32": "float",
        "int32": "int",
        "bool": "int",
    }


def test_geometry_is_power_of_two_wide_and_covers_n():
    for n in [1, 2, 3, 10, 64, 65, 4096, 50176, 10**6, 3 * 10**7]:
        w, h = webgl_plan.geometry(n)
        assert w & (w - 1) == 0 and w <= webgl_plan.MAX_WIDTH
        assert w * h >= n > w * (h - 1)


def test_pool_reuses_textures_of_the_same_geometry_and_trims():
    pool, plan = webgl_plan.Pool(max_pooled_bytes=4 * 64 * 64), webgl_plan.Plan()
    a = pool.alloc(4096, 0, plan)
    a_id = a.id
    del a
    b = pool.alloc(4000, 0, plan)  # 64x63: another geometry, a new texture
    c = pool.alloc(4096, 0, plan)  # reuses a's id
    assert c.id == a_id and b.id != a_id
    assert pool.stats()["textures"] == 2
    del b, c
    plan.clear()
    pool.trim(plan)
    assert plan.cmd[0] == webgl_plan.OP_DELETE and pool.pooled_bytes <= 4 * 64 * 64


def test_packet_layout():
    pool, plan = webgl_plan.Pool(), webgl_plan.Plan()
    h = pool.alloc(5, 0, plan)  # ALLOC id 1, 4x2
    plan.write(h, np.arange(5, dtype=np.float32))
    plan.draw(7, [3, -1], [h.id], 5, [h.id])
    p = plan.packet()
    ncmd, nparam, ndata, _ = p[:4]
    cmd = p[4 : 4 + ncmd].tolist()
    assert cmd == [1, 1, 4, 2, 0, 3, 1, 0, 2, 4, 7, 0, 2, 5, 1, 1, 1, 1]
    assert p[4 + ncmd : 4 + ncmd + nparam].tolist() == [3, -1]
    data = p[4 + ncmd + nparam :].view(np.float32)
    assert ndata == 8 and data.tolist() == [0, 1, 2, 3, 4, 0, 0, 0]


def test_backend_rejects_float64_and_oversize_tensors_by_name():
    be = WebGLBackend()
    with pytest.raises(TypeError, match="webgl: expected a tensor dtype .* float64"):
        be.alloc((2,), np.dtype("float64"))
    be.info = {"maxTextureSize": 16}
    be.max_width = 16
    from wasmdl.backend.webgl import TextureLimitError

    with pytest.raises(TextureLimitError, match="MAX_TEXTURE_SIZE of 16"):
        be.alloc((17, 16), np.dtype("float32"))
    assert be.alloc((16, 16), np.dtype("float32")).w == 16


class _Shim:
    def __init__(self, last):
        self.last = last

    def lastFailureText(self):  # noqa: N802  (the shim's JS name)
        last, self.last = self.last, None
        return last


def test_a_js_error_that_lost_its_message_is_named_from_the_shims_record():
    """Pyodide can hand a thrown Error over as a bare SystemError; the backend then names the
    failure from the shim's record, and a record never outlives the error it belongs to."""
    be = WebGLBackend()
    be.shim = _Shim("[compile] bad_kernel: 'x' : undeclared identifier")
    err = be._translate(SystemError("error return without exception set"), "read")
    assert type(err).__name__ == "WebGLError" and "bad_kernel" in str(err), err
    assert be.shim.last is None
    be.shim = _Shim("[compile] stale")
    err = be._translate(RuntimeError("[gl-error] read: WebGL error 0x502"), "read")
    assert "0x502" in str(err) and "stale" not in str(err) and be.shim.last is None
