// kernel: elementwise (template) -- one kernel per row of the Python op->expression table
//   (src/wasmdl/backend/webgl_kernels.py: EXPRESSIONS). Python substitutes {{SA}} {{SB}} {{SC}}
//   (sampler2D / isampler2D), {{TA}} {{TB}} {{TC}} (float / int), {{TO}} (output type) and
//   {{EXPR}} (a GLSL expression of a, b, c).
// textures: t0 A, t1 B, t2 C (unary ops bind A three times); output O.
// params: [nd, shape[nd], offA, stridesA[nd], offB, stridesB[nd], offC, stridesC[nd]]
//   Strides are in elements; a stride of 0 broadcasts that axis, so broadcasting, transposes
//   and slices all read through this one template.

uniform {{SA}} t0;
uniform {{SB}} t1;
uniform {{SC}} t2;
out {{TO}} o;

#include "math.glsl"

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int nd = p[0];
  int rem = i;
  int ia = p[1 + nd];
  int ib = p[2 + 2 * nd];
  int ic = p[3 + 3 * nd];
  for (int d = nd - 1; d >= 0; d--) {
    int dim = p[1 + d];
    int coord = rem % dim;
    rem = rem / dim;
    ia += coord * p[2 + nd + d];
    ib += coord * p[3 + 2 * nd + d];
    ic += coord * p[4 + 3 * nd + d];
  }
  {{TA}} a = texelFetch(t0, at(1, ia), 0).r;
  {{TB}} b = texelFetch(t1, at(2, ib), 0).r;
  {{TC}} c = texelFetch(t2, at(3, ic), 0).r;
  o = {{EXPR}};
}
