// kernel: unpack2x2 -- lay out matmul_block's 2x2 blocks (RGBA32F texels) as the dense
//   [batch, M, N] float32 tensor: element (b, r, c) is component 2 * (r % 2) + c % 2 of texel
//   (b * ceil(M/2) + r / 2) * ceil(N/2) + c / 2. Entry name: matmul.
// textures: t0 blocks (RGBA32F); output O (R32F).
// params: [M, N]

uniform sampler2D t0;
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
  o = dot(v, vec4(equal(ivec4(k), ivec4(0, 1, 2, 3))));
}
