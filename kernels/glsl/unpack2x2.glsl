// kernel: unpack2x2 -- lay out matmul_block's 2x2 blocks (RGBA32F texels) as the dense
//   [batch, M, N] float32 tensor: element (b, r, c) is component 2 * (r % 2) + c % 2 of texel
//   (b * ceil(M/2) + r / 2) * ceil(N/2) + c / 2. A template for two entries: matmul (the plain
//   product: UNIFORMS and BIAS empty, ACT "y") and dense (a Dense layer's act(x @ w + b) in the
//   same pass: UNIFORMS declares t1, BIAS adds it at column c, ACT applies the activation; the
//   add and relu draws this replaces read and wrote the whole output each).
// textures: t0 blocks (RGBA32F); dense: t1 bias (R32F, N elements); output O (R32F).
// params: [M, N]

uniform sampler2D t0;
{{UNIFORMS}}
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1];
  int M2 = (M + 1) / 2, N2 = (N + 1) / 2;
  int c = i % N;
  int r = (i / N) % M;
  int b = i / (M * N);
  vec4 v = texelFetch(t0, at(1, (b * M2 + r / 2) * N2 + c / 2), 0);
  int k = 2 * (r & 1) + (c & 1);
  float y = dot(v, vec4(equal(ivec4(k), ivec4(0, 1, 2, 3))));
  {{BIAS}}
  o = {{ACT}};
}
