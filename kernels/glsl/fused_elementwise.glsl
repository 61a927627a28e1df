// kernel: fused_elementwise -- the rewrite's elementwise fusion (src/wasmdl/fusion.py): one
//   float32 expression tree over up to 7 inputs, each read through its own view, evaluated per
//   output element with no intermediate array. Python substitutes UNIFORMS (samplers t0..),
//   INDEX (straight-line code for each input's flat index iK: i where it is read
//   contiguously, else offset + coordinates * strides from the parameters), READS (one
//   "float vK = ..." per input) and EXPR (the tree as one GLSL expression of v0.., built from
//   the elementwise table's expressions).
// textures: t0 .. t(L-1), the inputs; output O (R32F).
// params: [nd, shape[nd], off0, strides0[nd], off1, strides1[nd], ...] (elements; a stride of 0
//   broadcasts, so slices, transposes and broadcasts of an input need no copy).

{{UNIFORMS}}
out float o;

#include "math.glsl"

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  {{INDEX}}
  {{READS}}
  o = {{EXPR}};
}
