// kernel: unpack_block -- lay out matmul_block's R x 4 blocks as the dense [batch, M, N] float32
//   tensor: element (b, r, c) is component c % 4 of texel (b * ceil(M/R) + r / R) * ceil(N/4)
//   + c / 4 of layer r % R (one fetch: the layer is a coordinate, not a choice of sampler).
//   A template for four entries: matmul (the plain product: UNIFORMS and BIAS empty, ACT "y"),
//   dense (a Dense layer's act(x @ w + b) in the same pass:
//   UNIFORMS declares t1, BIAS adds it at column c, ACT applies the activation; the add and
//   relu draws this replaces read and wrote the whole output each) and sgd_matmul
//   (webgl_step.py: the product is a weight's gradient, ACT subtracts lr times it from t1) and
//   matmul_epilogue (the rewrite's elementwise tree over the product y: UNIFORMS declares its
//   other inputs t1.., BIAS computes their indices and reads them as v0.., ACT is the tree).
// textures: t0 the blocks (R RGBA32F layers); then the entry's own (dense: t1 bias (R32F, N
//   elements); sgd_matmul: t1 the weight, t2 the step's host values; matmul_epilogue: the
//   tree's inputs); output O (R32F).
// params: [M, N, R] (matmul_epilogue: then [nd, dims, (offset, strides) per input])

uniform sampler2DArray t0;
{{UNIFORMS}}
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1], R = p[2];
  int MR = (M + R - 1) / R, N4 = (N + 3) / 4;
  int c = i % N;
  int r = (i / N) % M;
  int b = i / (M * N);
  int t = (b * MR + r / R) * N4 + c / 4;
  vec4 v = texelFetch(t0, ivec3(at(1, t), r % R), 0);
  float y = v[c & 3];  // an index, not a dot with a one-hot mask: inf * 0 would be NaN
  {{BIAS}}
  o = {{ACT}};
}
