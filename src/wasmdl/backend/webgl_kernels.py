"""The WebGL2 kernel table: primitive op name -> a launcher that records one draw (or a few).

Elementwise ops are one row each in ``EXPRESSIONS`` (a GLSL expression of ``a``, ``b``, ``c``)
fed into the shared template ``kernels/glsl/elementwise.glsl``; views (permute, expand, slice)
are the same template reading through strides; ``reshape`` is free (the handle is shared).
Every launcher has the signature ``(backend, xs, out_shape, out_dtype, params) -> Handle``.

>>> sorted(k for k in KERNELS if k.startswith("sl"))
['slice', 'slice_grad', 'slice_grad_sum']
"""

import functools
import math
import re

import numpy as np

from .webgl_conv import CONV_KERNELS
from .webgl_fused import Value, fused_kernels
from .webgl_glsl import (
    EPILOGUE_ACT,
    GL,
    REDUCTIONS,
    pack4,
    reduce_draw,
    simple,
    template,
    typed,
)
from .webgl_index import INDEX_KERNELS
from .webgpu_kernels import collapse, reduce_params
from .webgpu_wgsl import broadcast_strides, contiguous_strides

# fmt: off
EXPRESSIONS = {  # op -> GLSL expression (inputs a, b, c; comparisons give int 0/1)
    "neg": "-a", "abs": "abs(a)", "exp": "exp(a)", "log": "log(a)", "sqrt": "sqrt(a)",
    "tanh": "tanh_(a)", "sigmoid": "sigmoid_(a)", "sin": "sin_(a)", "cos": "cos_(a)",
    "erf": "erf_(a)",
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "pow": "pow_(a, b)",
    "maximum": "max(a, b)", "minimum": "min(a, b)",
    "eq": "int(a == b)", "ne": "int(a != b)", "lt": "int(a < b)", "le": "int(a <= b)",
    "gt": "int(a > b)", "ge": "int(a >= b)",
    "where": "a != 0 ? b : c",
    # the fused ReLU (ops.fused: float tensors): max(x, 0), and g * (y > 0) for its gradient
    "relu": "max(a, 0.0)", "relu_grad": "a * float(b > 0.0)",
}
CASTS = {  # (from, to) dtype kinds -> expression of a (bool is int 0/1 in an R32I texture)
    ("f", "i"): "int(a)", ("i", "f"): "float(a)", ("b", "f"): "float(a)",
    ("b", "i"): "a", ("f", "b"): "int(a != 0.0)", ("i", "b"): "int(a != 0)",
}
# fmt: on
TWO_PASS = 2048  # reduce rows longer than this in two passes when outputs are few
ZERO = {"float": "0.0", "int": "0"}


def elementwise_subs(expr, in_dtypes, out_dtype, dims, views, names="abc"):
    """elementwise.glsl's substitutions for ``expr`` over inputs of ``in_dtypes`` (named
    ``names`` in it) read through ``views`` (offset, strides) at the collapsed ``dims``."""
    return elementwise_source(expr, in_dtypes, out_dtype, dims, views, names)[0]


def elementwise_source(expr, in_dtypes, out_dtype, dims, views, names="abc"):
    """``(substitutions, program key)`` of ``elementwise_subs``, cached: the generated code
    depends on the views only through which inputs are read at offset 0 and their strides, so
    an eager op pays a dictionary lookup, not the code generation, on its hot path."""
    shape = tuple((off == 0, tuple(st)) for off, st in views)
    dts = tuple(np.dtype(d) for d in in_dtypes)
    return _source(expr, dts, np.dtype(out_dtype), tuple(dims), shape, tuple(names))


@functools.lru_cache(maxsize=4096)
def _source(expr, in_dtypes, out_dtype, dims, views, names):
    types = [GL[d][:2] for d in in_dtypes]
    subs = {
        "TO": GL[out_dtype][0],
        "EXPR": expr,
        "UNIFORMS": "\n".join(f"uniform {s} t{k};" for k, (_, s) in enumerate(types)),
        "INDEX": _fused_index(dims, [(0 if zero else 1, st) for zero, st in views]),
        "READS": "\n  ".join(
            f"{t} {names[k]} = texelFetch(t{k}, at({k + 1}, i{k}), 0).r;"
            for k, (t, _) in enumerate(types)
        ),
    }
    return subs, ("elementwise", tuple(sorted(subs.items())))


def elementwise(be, name, expr, ins, views, out_shape, out_dtype):
    """Draw the template for ``expr``: ``ins`` read through ``views`` (offset, strides)."""
    n = math.prod(out_shape)
    out = be.alloc(out_shape, out_dtype)
    if n == 0:
        return out
    dims, views = collapse(out_shape, list(views))
    subs, key = elementwise_source(expr, [x.dtype for x in ins], out_dtype, dims, views)
    params = [len(dims), *dims]
    for off, st in views:
        params += [off, *st]

    def source():
        return name, "kernels/glsl/elementwise.glsl", template("elementwise.glsl", **subs)

    be.draw(key, source, params, [x._h for x in ins], out, n)
    return out


def _map(name):
    def launch(be, xs, shape, dtype, p):
        views = [(0, broadcast_strides(x.shape, shape)) for x in xs]
        return elementwise(be, name, EXPRESSIONS[name], xs, views, shape, dtype)

    return launch


def _kind(dtype):
    return "b" if dtype == np.bool_ else dtype.kind


def _cast(be, xs, shape, dtype, p):
    (x,) = xs
    pair = (_kind(x.dtype), _kind(dtype))
    expr = "a" if pair[0] == pair[1] else CASTS[pair]
    return elementwise(be, "cast", expr, xs, [(0, contiguous_strides(x.shape))], shape, dtype)


def _permute(be, xs, shape, dtype, p):
    st = contiguous_strides(xs[0].shape)
    return elementwise(be, "permute", "a", xs, [(0, [st[a] for a in p["axes"]])], shape, dtype)


def _expand(be, xs, shape, dtype, p):
    return elementwise(
        be, "expand", "a", xs, [(0, broadcast_strides(xs[0].shape, shape))], shape, dtype
    )


def _slice(be, xs, shape, dtype, p):
    st = contiguous_strides(xs[0].shape)
    off = sum(b * s for b, s in zip(p["starts"], st, strict=True))
    strides = [s * k for s, k in zip(st, p["steps"], strict=True)]
    return elementwise(be, "slice", "a", xs, [(off, strides)], shape, dtype)


def _reshape(be, xs, shape, dtype, p):
    return xs[0]._h  # one flat texture layout: a reshape is the same texels


def _reduction(name):
    def launch(be, xs, shape, dtype, p):
        (x,) = xs
        nout, params = reduce_params(x, p["axis"])
        params = params[1:]  # the output count travels as u_n
        if nout == 0:
            return be.alloc(shape, dtype)
        R = params[0]
        if R <= TWO_PASS or nout >= 64:  # one pass: a fragment per output
            return reduce_draw(be, name, x._h, dtype, params, nout, 1, R)
        nch = math.isqrt(R)  # two passes: chunks of ~sqrt(R), then the rows of partials
        part = reduce_draw(be, name, x._h, dtype, params, nout, nch, -(-R // nch))
        second = [nch, 1, nout, nch, 1, nch, 1]  # rows of the (nout, nch) partials
        return reduce_draw(be, name, part, dtype, second, nout, 1, nch)

    return launch


def _argmax(be, xs, shape, dtype, p):
    (x,) = xs
    axes = tuple(range(len(x.shape))) if p["axis"] is None else (p["axis"],)
    _, params = reduce_params(x, axes)
    return simple(be, "argmax.glsl", "argmax", typed(x.dtype), params[1:], [x._h], shape, dtype)


def _trans(p):
    """The GEMM kernels' ``transpose`` flags (the rewrite's folded 2-D transposes)."""
    return tuple(p.get("transpose", (False, False)))


def _mkn(a, b, trans):
    return _mkn_of(a.shape, b.shape, trans)


def _mkn_of(ashape, bshape, trans):
    ta, tb = trans
    M, K = (ashape[-1], ashape[-2]) if ta else (ashape[-2], ashape[-1])
    return M, K, (bshape[-2] if tb else bshape[-1])


def _pack_strides(M, K, N, trans):
    """(row, K) element strides of A's rows and of B's columns, as stored."""
    ta, tb = trans
    return ((1, M) if ta else (K, 1)), ((K, 1) if tb else (1, N))


def _matmul(be, xs, shape, dtype, p):
    a, b = xs
    trans = _trans(p)
    M, K, N = _mkn(a, b, trans)
    batch = shape[:-2]
    if K == 0 or math.prod(shape) == 0:  # an empty sum: zeros
        z = ZERO[GL[dtype][0]]
        return elementwise(be, "matmul", z, [a], [(0, [0] * len(shape))], shape, dtype)
    sa = broadcast_strides(a.shape[:-2], batch) if batch else []
    sb = broadcast_strides(b.shape[:-2], batch) if batch else []
    variant = getattr(be, "matmul_variant", "block")
    if isinstance(a, Packed) or isinstance(b, Packed):  # the rewrite chose the blocked path
        return _matmul_packed(be, a, b, shape, (M, K, N), sa + sb, True, trans)
    if dtype == np.float32 and K >= PACK_MIN_K and variant != "plain":
        return _matmul_packed(be, a, b, shape, (M, K, N), sa + sb, variant == "block", trans)
    st = [*(s * M * K for s in sa), *(s * K * N for s in sb)]
    (sam, sak), (sbn, sbk) = _pack_strides(M, K, N, trans)
    params = [M, N, K, len(batch), *batch, *st, sam, sak, sbk, sbn]
    subs = {**typed(dtype), **UNPACK}
    return simple(be, "matmul.glsl", "matmul", subs, params, [a._h, b._h], shape, dtype)


PACK_MIN_K = 8  # float32 products with K >= 8 read operands packed 4 per texel along K
# a Dense layer on fewer rows (batch-1 predict) reads x and w where they are, in one draw: the
# packed paths would copy all of w (N * K values) every call to save fetches on 1-3 rows
DENSE_PLAIN_ROWS = 4
# matmul variants (WebGLBackend.matmul_variant): "packed" (one output per fragment from packed
# operands), "block" (R x 4 outputs per fragment + an unpack pass), "plain" (matmul.glsl only)
MATMUL_VARIANTS = ("packed", "block", "plain")


def _matmul_packed(be, a, b, shape, mkn, batch_strides, block, trans=(False, False)):
    """Pack A by rows and B by columns (4 K-values per texel), then one vec4 multiply-add per
    4 products (kernels/glsl/matmul_packed.glsl), or with ``block`` 4x4 output blocks per
    fragment (matmul_block.glsl) unpacked by unpack_block.glsl."""
    M, K, N = mkn
    f32 = np.dtype("float32")
    if block:
        blocks, R = _matmul_blocks(be, a, b, shape, mkn, batch_strides, trans)
        return simple(be, "unpack_block.glsl", "matmul", UNPACK, [M, N, R], [blocks], shape, f32)
    sa, sb = _pack_strides(M, K, N, trans)
    a4 = pack4(be, a._h, math.prod(a.shape[:-2]), M, K, M * K, *sa)
    b4 = pack4(be, b._h, math.prod(b.shape[:-2]), N, K, K * N, *sb)
    batch = shape[:-2]
    params = [M, N, -(-K // 4), len(batch), *batch, *batch_strides]
    out = be.alloc(shape, f32)

    def source():
        return "matmul", "kernels/glsl/matmul_packed.glsl", template("matmul_packed.glsl")

    be.draw(("matmul_packed",), source, params, [a4, b4], out, math.prod(shape))
    return out


def block_rows(be):
    """Rows of C per matmul_block fragment: 8 where the context has 8 draw buffers (more
    products per fetch), else 4 (WebGL2's guaranteed minimum)."""
    return 8 if be.info.get("maxDrawBuffers", 4) >= 8 and BLOCK_ROWS_MAX >= 8 else 4


BLOCK_ROWS_MAX = 8


def _block_source(R):
    rows = range(R)
    mac = "a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3"
    subs = {
        "R": str(R),
        "OUTS": "\n".join(f"layout(location = {j}) out vec4 o{j};" for j in rows),
        "ROWS_A": "\n  ".join(f"int ia{j} = (ab * M + min(r0 + {j}, M - 1)) * K4;" for j in rows),
        "ACC": "\n  ".join(f"vec4 s{j} = vec4(0.0);" for j in rows),
        "MAC": "\n    ".join(
            f"a = texelFetch(t0, ivec2((ia{j} + k) & ma, (ia{j} + k) >> la), 0);\n"
            f"    s{j} += {mac};"
            for j in rows
        ),
        "WRITE": "\n  ".join(f"o{j} = s{j};" for j in rows),
    }
    return template("matmul_block.glsl", **subs)


def _matmul_blocks(be, a, b, shape, mkn, batch_strides, trans=(False, False)):
    """A packed along K and B along N (read as stored, ``trans`` saying which is transposed;
    B's K padded to a multiple of 4 with zero rows), then matmul_block.glsl: the product as
    R x 4 blocks (``block_rows``) in the R RGBA32F layers of one array texture: returns
    ``(blocks, R)``."""
    M, K, N = mkn
    R = block_rows(be)
    K4 = -(-K // 4)
    a4, b4 = (_packed(be, role, x, mkn, trans) for role, x in (("a", a), ("b", b)))
    batch = shape[:-2]
    params = [M, N, K4, len(batch), *batch, *batch_strides]
    nblk = math.prod(batch) * -(-M // R) * -(-N // 4)
    blocks = be.alloc((nblk,), np.dtype("float32"), fmt=3 if R == 4 else 4)

    def block_source():
        return "matmul", "kernels/glsl/matmul_block.glsl", _block_source(R)

    be.draw(("matmul_block", R), block_source, params, [a4, b4], blocks, nblk)
    return blocks, R


def _packed(be, role, x, mkn, trans):
    """GEMM operand ``x`` (``role`` "a" or "b") packed for matmul_block.glsl (``operand_pack``),
    or its texture where the rewrite packed it already (``Packed``)."""
    if isinstance(x, Packed):
        return x._h
    return pack4(be, x._h, *operand_pack(role, mkn, trans, x.shape[:-2]))


def block_product(be, a, b, trans=(False, False)):
    """``(blocks, R)``: the R x 4 blocks (an R-layer RGBA32F array texture) of the 2-D float32
    product ``a @ b`` (``trans``: operands stored transposed) where the blocked variant takes
    it (K >= ``PACK_MIN_K``, nothing empty), else None: for the kernels that fold their
    epilogue into the unpack pass (dense, sgd_matmul)."""
    if len(a.shape) != 2 or len(b.shape) != 2 or {a.dtype, b.dtype} != {np.dtype("float32")}:
        return None
    M, K, N = _mkn(a, b, trans)
    packed = isinstance(a, Packed) or isinstance(b, Packed)  # the rewrite chose the block path
    if not packed and (getattr(be, "matmul_variant", "block") != "block" or K < PACK_MIN_K
                       or M * N == 0):  # fmt: skip
        return None
    return _matmul_blocks(be, a, b, (M, N), (M, K, N), [], trans)


class Packed:
    """A GEMM operand the rewrite packed once for several products (``gemm_operand``): the
    packed texture ``_h`` standing for a float32 matrix of ``shape``."""

    __slots__ = ("_h", "shape", "dtype")

    def __init__(self, h, shape):
        self._h, self.shape, self.dtype = h, tuple(shape), np.dtype("float32")


def operand_pack(role, mkn, trans, batch=()):
    """``pack4``'s arguments after the handle for GEMM operand ``role`` ("a": packed along K
    by rows; "b": along N, K padded to a multiple of 4 with zero rows) of the product
    ``mkn`` = (M, K, N) with operands stored as ``trans`` says."""
    M, K, N = mkn
    sa, (sbn, sbk) = _pack_strides(M, K, N, trans)
    nmat = math.prod(batch)
    if role == "a":
        return nmat, M, K, M * K, *sa
    return nmat, K, N, K * N, sbk, sbn, 4 * -(-K // 4)


# GEMM kernels and the input positions of their (a, b) operands (the rewrite's operand sharing)
GEMM_OPERANDS = {"matmul": (0, 1), "dense": (0, 1), "matmul_epilogue": (0, 1),
                 "sgd_matmul": (1, 2)}  # fmt: skip


def gemm_packs(be, kernel, shapes, dtypes, params):
    """``{input position: (gemm_operand params, texels)}`` for the operands that GEMM
    instruction ``kernel`` (inputs of ``shapes``/``dtypes``) would pack on this backend:
    float32 2-D products on the blocked path. The rewrite packs an operand read the same way by
    several products once (``gemm_operand``); {} where nothing would be packed."""
    pos = GEMM_OPERANDS.get(kernel)
    f32 = np.dtype("float32")
    if (pos is None or getattr(be, "matmul_variant", "block") != "block"
            or any(len(shapes[j]) != 2 or dtypes[j] != f32 for j in pos)):  # fmt: skip
        return {}
    trans = _trans(params)
    mkn = _mkn_of(shapes[pos[0]], shapes[pos[1]], trans)
    M, K, N = mkn
    if K < PACK_MIN_K or M * N == 0 or (kernel in ROW_GATED and M < DENSE_PLAIN_ROWS):
        return {}
    out = {}
    for role, j in zip("ab", pos, strict=True):
        args = operand_pack(role, mkn, trans)
        out[j] = ({"pack": args}, pack_texels(args))
    return out


ROW_GATED = ("dense", "matmul_epilogue")  # these take the blocked path from DENSE_PLAIN_ROWS on


def pack_texels(args):
    """Texels of the RGBA32F texture ``pack4`` fills for ``operand_pack`` arguments."""
    nmat, rows, K = args[:3]
    R = args[6] if len(args) > 6 else rows
    return nmat * R * -(-K // 4)


def _gemm_operand(be, xs, shape, dtype, p):
    """The rewrite's shared GEMM operand: ``xs[0]`` packed as ``p["pack"]`` (``operand_pack``
    arguments) into an RGBA32F texture of ``shape[0]`` texels."""
    return pack4(be, xs[0]._h, *p["pack"])


def unpacking(fn):
    """A GEMM launcher that reads operands the rewrite packed: ``params["packed"]`` lists
    ``(input position, matrix shape)`` of inputs that are ``gemm_operand`` textures."""

    @functools.wraps(fn)
    def launch(be, xs, shape, dtype, p):
        if "packed" in p:
            xs = list(xs)
            for j, matrix in p["packed"]:
                xs[j] = Packed(xs[j]._h, matrix)
        return fn(be, xs, shape, dtype, p)

    return launch


DENSE_ACT = EPILOGUE_ACT
# unpack_block.glsl's substitutions: the plain product, and a Dense layer's bias + activation
UNPACK = {"UNIFORMS": "", "BIAS": "", "ACT": "y"}
DENSE = {"UNIFORMS": "uniform sampler2D t1;", "BIAS": "y += texelFetch(t1, at(2, c), 0).x;"}
DENSE_PLAIN = {"UNIFORMS": "uniform sampler2D t2;", "BIAS": "y += texelFetch(t2, at(3, col), 0).x;"}


def _dense(be, xs, shape, dtype, p):
    """The rewrite target for a Dense layer, act(x @ w + b) with x (M, K), w (K, N), b (N,):
    with the blocked float32 product, its unpack pass adds the bias and applies the activation
    (kernels/glsl/unpack_block.glsl as dense: one draw for the three passes unpack, add,
    relu);
    on fewer than ``DENSE_PLAIN_ROWS`` rows, short K or another variant, matmul.glsl as dense
    does all of it in one draw from the unpacked operands (the same arithmetic)."""
    x, w, b = xs
    act = p.get("activation", "linear")
    if act not in DENSE_ACT:
        raise ValueError(f"dense: argument 'activation' expected one of {sorted(DENSE_ACT)}, "
                         f"received {act!r}")  # fmt: skip
    trans = _trans(p)
    M, K, N = _mkn(x, w, trans)
    packed = isinstance(x, Packed) or isinstance(w, Packed)
    made = block_product(be, x, w, trans) if M >= DENSE_PLAIN_ROWS or packed else None
    if made is not None:
        subs = {**DENSE, "ACT": DENSE_ACT[act]}
        params = [M, N, made[1]]
        return simple(be, "unpack_block.glsl", "dense", subs, params, [made[0], b._h], shape, dtype)
    if K == 0:  # an empty product: the bias alone
        y = Value(_matmul(be, [x, w], shape, dtype, {"transpose": trans}), shape, dtype)
        y = Value(KERNELS["add"](be, [y, b], shape, dtype, {}), shape, dtype)
        return KERNELS["relu"](be, [y], shape, dtype, {}) if act == "relu" else y._h
    subs = {**typed(dtype), **DENSE_PLAIN, "ACT": DENSE_ACT[act]}
    (sam, sak), (sbn, sbk) = _pack_strides(M, K, N, trans)
    params = [M, N, K, 0, sam, sak, sbk, sbn]
    return simple(be, "matmul.glsl", "dense", subs, params, [x._h, w._h, b._h], shape, dtype)


_VAR = re.compile(r"\b[abc]\b")


def glsl_expr(tree):
    """The GLSL expression of a fusion tree (``wasmdl.fusion``: ``("leaf", k)`` is ``vk``;
    ``(op, *children)`` is the op's ``EXPRESSIONS`` row with a, b, c its children)."""
    if tree[0] == "leaf":
        return f"v{tree[1]}"
    if tree[0] == "product":  # matmul_epilogue: the GEMM's value in the unpack pass
        return "y"
    kids = {v: f"({glsl_expr(t)})" for v, t in zip("abc", tree[1:], strict=False)}
    return _VAR.sub(lambda m: kids[m[0]], EXPRESSIONS[tree[0]])


def _fused_index(dims, views, at=0):
    """Straight-line GLSL computing each input's flat index ``iK`` from the output index ``i``:
    ``i`` itself where the input is read contiguously, else its view's offset and strides (the
    kernel's parameters, so one program serves every offset) over the output coordinates; a
    broadcast axis (stride 0) adds no term. The layout ``[nd, dims, (off, strides) per
    input]`` starts at parameter word ``at``."""
    nd = len(dims)
    contiguous = contiguous_strides(dims)
    plain = [off == 0 and list(st) == contiguous for off, st in views]
    lines = []
    if not all(plain):
        lines.append("int rem = i;")
        for d in range(nd - 1, 0, -1):
            lines.append(f"int c{d} = rem % p[{at + 1 + d}];")
            lines.append(f"rem = rem / p[{at + 1 + d}];")
        lines.append("int c0 = rem;")
    for k, (ok, (_, st)) in enumerate(zip(plain, views, strict=True)):
        base = at + 1 + nd + k * (1 + nd)
        if ok:
            lines.append(f"int i{k} = i;")
            continue
        terms = [f"p[{base}]"] + [f"c{d} * p[{base + 1 + d}]" for d in range(nd) if st[d] != 0]
        lines.append(f"int i{k} = {' + '.join(terms)};")
    return "\n  ".join(lines)


def _fused_elementwise(be, xs, shape, dtype, p):
    """The rewrite's fused elementwise tree (src/wasmdl/fusion.py) in one draw of the
    elementwise template (kernels/glsl/elementwise.glsl: inputs v0.. read through their views,
    the tree as one expression)."""
    n = math.prod(shape)
    out = be.alloc(shape, dtype)
    if n == 0:
        return out
    dims, views = collapse(shape, [(off, list(st)) for off, st in p["views"]])
    params = [len(dims), *dims]
    for off, st in views:
        params += [off, *st]
    names = [f"v{k}" for k in range(len(xs))]
    expr = glsl_expr(p["expr"])
    subs, key = elementwise_source(expr, [x.dtype for x in xs], dtype, dims, views, names)

    def source():
        return (
            "fused_elementwise",
            "kernels/glsl/elementwise.glsl",
            template("elementwise.glsl", **subs),
        )

    be.draw(key, source, params, [x._h for x in xs], out, n)
    return out


def _with_product(tree, k):
    """``tree`` reading leaf ``k`` where it read ``("product",)``."""
    if tree[0] == "product":
        return ("leaf", k)
    if tree[0] == "leaf":
        return tree
    return (tree[0], *(_with_product(t, k) for t in tree[1:]))


def _matmul_epilogue(be, xs, shape, dtype, p):
    """The rewrite's GEMM with an elementwise epilogue (``wasmdl.fusion``): ``a @ b`` then the
    tree over the product and the other inputs, evaluated in the blocked product's unpack pass
    (unpack_block.glsl as ``matmul_epilogue``: the inputs read through their views); where the
    blocked product does not apply, the product then one fused_elementwise draw."""
    a, b, leaves = xs[0], xs[1], list(xs[2:])
    trans = _trans(p)
    M, _, N = _mkn(a, b, trans)
    packed = isinstance(a, Packed) or isinstance(b, Packed)
    made = block_product(be, a, b, trans) if M >= DENSE_PLAIN_ROWS or packed else None
    if made is None:
        prod = Value(_matmul(be, [a, b], shape, dtype, {"transpose": trans}), shape, dtype)
        fused = {"expr": _with_product(p["expr"], len(leaves)), "shape": shape,
                 "views": (*p["views"], (0, tuple(contiguous_strides(shape))))}  # fmt: skip
        return _fused_elementwise(be, [*leaves, prod], shape, dtype, fused)
    blocks, R = made
    dims, views = collapse(shape, [(off, list(st)) for off, st in p["views"]])
    params = [M, N, R, len(dims), *dims]
    for off, st in views:
        params += [off, *st]
    reads = [f"float v{k} = texelFetch(t{k + 1}, at({k + 2}, i{k}), 0).r;"
             for k in range(len(leaves))]  # fmt: skip
    subs = {
        "UNIFORMS": "\n".join(f"uniform sampler2D t{k + 1};" for k in range(len(leaves))),
        "BIAS": "\n  ".join([_fused_index(dims, views, at=3), *reads]),
        "ACT": glsl_expr(p["expr"]),
    }
    ins = [blocks, *(x._h for x in leaves)]
    return simple(be, "unpack_block.glsl", "matmul_epilogue", subs, params, ins, shape, dtype)


KERNELS = {name: _map(name) for name in EXPRESSIONS}
KERNELS.update(
    {
        "cast": _cast,
        "permute": _permute,
        "expand": _expand,
        "slice": _slice,
        "reshape": _reshape,
        "argmax": _argmax,
        "matmul": unpacking(_matmul),
        "dense": unpacking(_dense),
        "fused_elementwise": _fused_elementwise,
        "matmul_epilogue": unpacking(_matmul_epilogue),
        "gemm_operand": _gemm_operand,
        **{name: _reduction(name) for name in REDUCTIONS},
        **CONV_KERNELS,
        **INDEX_KERNELS,
    }
)
KERNELS.update(fused_kernels(KERNELS))
