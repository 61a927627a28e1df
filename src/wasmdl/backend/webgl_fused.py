"""WebGL launchers of the fused ops (``wasmdl.ops.fused``) that work along rows: softmax and its
gradient, the softmax / probability cross-entropies and their gradients. Each is one draw
where the composite it replaces is five to fifteen (``kernels/glsl/softmax.glsl``,
``softmax_grad.glsl``, ``cross_entropy.glsl``, ``cross_entropy_grad.glsl``); a loss over more
rows than one fragment should walk adds a ``sum`` draw.

The per-element kernels loop over their row, so a row of C classes costs C reads per element:
softmax and its gradient take the composite (max, sub, exp, sum, div) past ``ROW_LOOP_MAX``
classes; the cross-entropy gradients always loop (a loss over thousands of classes is rare in a
page; on such rows they are quadratic in C).

``fused_kernels(table)`` returns the launchers; ``table`` (the backend's kernel table) gives the
composites their kernels.

>>> sorted(fused_kernels({}))[:2]
['prob_cross_entropy', 'prob_cross_entropy_grad']
"""

import math

import numpy as np

from .webgl_glsl import simple

ROW_LOOP_MAX = 64  # softmax(_grad): one looping draw up to this many classes per row
LOSS_CHUNK = 4096  # elements one cross-entropy fragment walks (then a sum draw adds the parts)

# clip(q, eps, 1 - eps) as numpy's minimum(maximum(...)): NaN stays NaN (GLSL's clamp may not);
# a row of probabilities summing to 0 gives NaN, as numpy's 0 / 0
CLIP = (
    "float clip(float q, float eps) { return q < eps ? eps : q > 1.0 - eps ? 1.0 - eps : q; }\n"
    "#define NAN uintBitsToFloat(0x7fc00000u)"
)
TARGET = {  # how the kernels read the target: int labels (one per row) or rows like x
    "int": "uniform highp isampler2D t1;\n"
    "float target(int r, int j, int C) { return float(texelFetch(t1, at(2, r), 0).r == j); }",
    "float": "uniform sampler2D t1;\n"
    "float target(int r, int j, int C) { return texelFetch(t1, at(2, r * C + j), 0).r; }",
}
ROW_LOSS = {
    "softmax_cross_entropy": """float row_loss(int r, int C) {
  int base = r * C;
  float m = x_at(base);
  for (int j = 1; j < C; j++) m = max(m, x_at(base + j));
  float s = 0.0, picked = 0.0, mass = 0.0;
  for (int j = 0; j < C; j++) {
    float z = x_at(base + j) - m, t = target(r, j, C);
    s += exp(z);
    picked += t * z;
    mass += t;
  }
  return mass * log(s) - picked;
}""",
    "prob_cross_entropy": CLIP
    + """
float row_loss(int r, int C) {
  int base = r * C;
  float eps = intBitsToFloat(p[3]);
  float s = 0.0;
  for (int j = 0; j < C; j++) s += x_at(base + j);
  if (s == 0.0) return NAN;  // numpy: 0 / 0 (GLSL's division by 0 is undefined)
  float acc = 0.0;
  for (int j = 0; j < C; j++) acc -= target(r, j, C) * log(clip(x_at(base + j) / s, eps));
  return acc;
}""",
}
GRAD = {
    "softmax_cross_entropy_grad": """float grad(int r, int c, int C) {
  int base = r * C;
  float m = x_at(base);
  for (int j = 1; j < C; j++) m = max(m, x_at(base + j));
  float s = 0.0, mass = 0.0;
  for (int j = 0; j < C; j++) {
    s += exp(x_at(base + j) - m);
    mass += target(r, j, C);
  }
  return exp(x_at(base + c) - m) / s * mass - target(r, c, C);
}""",
    "prob_cross_entropy_grad": CLIP
    + """
float grad(int r, int c, int C) {
  int base = r * C;
  float eps = intBitsToFloat(p[2]);
  float s = 0.0;
  for (int j = 0; j < C; j++) s += x_at(base + j);
  if (s == 0.0) return NAN;
  float dot_ = 0.0, mine = 0.0;
  for (int j = 0; j < C; j++) {
    float q = x_at(base + j) / s;  // numpy's order: t / c, times the mask, negated
    float dq = -(target(r, j, C) / clip(q, eps) * float(q > eps && q < 1.0 - eps));
    dot_ += dq * q;
    if (j == c) mine = dq;
  }
  return (mine - dot_) / s;
}""",
}


class Value:
    """A launcher's result as the next launcher's input (what it reads of a tensor)."""

    def __init__(self, h, shape, dtype):
        self._h, self.shape, self.dtype = h, tuple(shape), dtype


def f32_bits(v) -> int:
    """A float parameter as the int32 word the kernels read with ``intBitsToFloat``."""
    return int(np.array(v, np.float32).view(np.int32))


def _rows(x):
    C = x.shape[-1] if x.shape else 1
    return C, (math.prod(x.shape) // C if C else 0)


def _target(t):
    return "int" if t.dtype.kind in "iub" else "float"


def fused_kernels(table) -> dict:
    """The launchers, ``(backend, xs, out_shape, out_dtype, params) -> Handle`` each."""

    def reduce_last(be, name, x, dtype):
        axis = {"axis": (len(x.shape) - 1,), "keepdims": True}
        return Value(table[name](be, [x], (*x.shape[:-1], 1), dtype, axis), (*x.shape[:-1], 1),
                     dtype)  # fmt: skip

    def ew(be, name, xs, shape, dtype):
        return Value(table[name](be, xs, shape, dtype, {}), shape, dtype)

    def softmax(be, xs, shape, dtype, p):
        (x,) = xs
        C = shape[-1]
        if C <= ROW_LOOP_MAX:
            return simple(be, "softmax.glsl", "softmax", {}, [C], [x._h], shape, dtype)
        e = ew(be, "exp", [ew(be, "sub", [x, reduce_last(be, "max", x, dtype)], shape, dtype)],
               shape, dtype)  # fmt: skip
        return table["div"](be, [e, reduce_last(be, "sum", e, dtype)], shape, dtype, {})

    def softmax_grad(be, xs, shape, dtype, p):
        g, y = xs
        C = shape[-1]
        if C <= ROW_LOOP_MAX:
            return simple(be, "softmax_grad.glsl", "softmax_grad", {}, [C], [g._h, y._h], shape,
                          dtype)  # fmt: skip
        s = reduce_last(be, "sum", ew(be, "mul", [g, y], shape, dtype), dtype)
        return table["mul"](be, [ew(be, "sub", [g, s], shape, dtype), y], shape, dtype, {})

    def loss(name):
        def launch(be, xs, shape, dtype, p):
            x, t = xs
            C, R = _rows(x)
            chunk = max(1, LOSS_CHUNK // max(C, 1))
            parts = max(1, -(-R // chunk))
            subs = {"TARGET": TARGET[_target(t)], "ROW_LOSS": ROW_LOSS[name]}
            params = [C, R, chunk, f32_bits(p.get("eps", 0.0))]
            out = simple(be, "cross_entropy.glsl", name, subs, params, [x._h, t._h],
                         shape if parts == 1 else (parts,), dtype)  # fmt: skip
            if parts == 1:
                return out
            return table["sum"](be, [Value(out, (parts,), dtype)], shape, dtype,
                                {"axis": (0,), "keepdims": False})  # fmt: skip

        return launch

    def grad(name):
        def launch(be, xs, shape, dtype, p):
            x, t, g = xs
            C, R = _rows(x)
            subs = {"TARGET": TARGET[_target(t)], "GRAD": GRAD[name]}
            params = [C, R, f32_bits(p.get("eps", 0.0))]
            return simple(be, "cross_entropy_grad.glsl", name, subs, params, [x._h, t._h, g._h],
                          shape, dtype)  # fmt: skip

        return launch

    return {
        "softmax": softmax,
        "softmax_grad": softmax_grad,
        **{name: loss(name) for name in ROW_LOSS},
        **{name: grad(name) for name in GRAD},
    }
