// kernel: elementwise (template) -- one kernel per row of the Python op->expression table
//   (src/wasmdl/backend/webgl_kernels.py: EXPRESSIONS), the views (permute, expand, slice,
//   cast) and the rewrite's fused_elementwise (a tree of those expressions over up to 7 inputs
//   v0..: src/wasmdl/fusion.py). Python substitutes UNIFORMS (a sampler per input:
//   sampler2D / isampler2D), INDEX (straight-line code for each input's flat index iK: i where
//   it is read contiguously, else offset + coordinates * strides from the parameters;
//   webgl_kernels._fused_index), READS (the inputs a, b, c or v0..: float / int), TO (the
//   output type) and EXPR (a GLSL expression of the inputs).
// textures: t0 A, t1 B, t2 C (as many as the op takes; fused_elementwise: t0 .. t6); output O.
// params: [nd, shape[nd], offA, stridesA[nd], offB, stridesB[nd], offC, stridesC[nd]]
//   Strides are in elements; a stride of 0 broadcasts that axis, so broadcasting, transposes
//   and slices all read through this one template.

{{UNIFORMS}}
out {{TO}} o;

#include "math.glsl"

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  {{INDEX}}
  {{READS}}
  o = {{EXPR}};
}
