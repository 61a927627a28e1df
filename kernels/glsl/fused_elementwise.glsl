// kernel: fused_elementwise -- the rewrite's elementwise fusion (src/wasmdl/fusion.py): one
//   float32 expression tree over up to 7 inputs, each read through its own view, evaluated per
//   output element with no intermediate array. Python substitutes UNIFORMS (samplers t0..),
//   READS (one "float vK = ..." per input from its flat index iK) and EXPR (the tree as one
//   GLSL expression of v0.., built from the elementwise table's expressions).
// textures: t0 .. t(L-1), the inputs; output O (R32F).
// params: [nd, shape[nd], off0, strides0[nd], off1, strides1[nd], ...] (elements; a stride of 0
//   broadcasts, so slices, transposes and broadcasts of an input need no copy).

{{UNIFORMS}}
out float o;

#include "math.glsl"

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int nd = p[0];
  int idx[7];
  for (int k = 0; k < {{L}}; k++) idx[k] = p[1 + nd + k * (1 + nd)];
  int rem = i;
  for (int d = nd - 1; d >= 0; d--) {
    int dim = p[1 + d];
    int coord = rem % dim;
    rem = rem / dim;
    for (int k = 0; k < {{L}}; k++) idx[k] += coord * p[2 + nd + k * (1 + nd) + d];
  }
  {{READS}}
  o = {{EXPR}};
}
