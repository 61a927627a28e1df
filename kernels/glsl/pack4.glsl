// kernel: pack4 -- copy a matrix operand into an RGBA32F texture, 4 consecutive elements along
//   its K axis per texel (zeros past K), so matmul_packed reads 4 products' operands per fetch.
//   Texel t holds row t / K4's elements 4 * (t % K4) .. + 3. Rows are (batch, row) pairs; rows
//   past Rv in each batch (padding, matmul_block's B) are zeros.
// textures: t0 X (R32F); output O (RGBA32F, rows * K4 texels).
// params: [K, K4, Rb, bs, rs, ks, Rv]: Rb rows per batch, Rv <= Rb of them read; element
//   (b, r, k) of X sits at b * bs + r * rs + k * ks.

uniform sampler2D t0;
out vec4 o;

float fetch_(int idx, bool ok) {
  return ok ? texelFetch(t0, at(1, idx), 0).r : 0.0;
}

void main() {
  int t = out_index();
  if (t >= u_n) discard;
  int K = p[0], K4 = p[1], Rb = p[2], ks = p[5];
  int row = t / K4;
  int k = (t - row * K4) * 4;
  int b = row / Rb;
  int r = row - b * Rb;
  int base = b * p[3] + r * p[4] + k * ks;
  if (r >= p[6]) K = 0;
  o = vec4(fetch_(base, k < K), fetch_(base + ks, k + 1 < K), fetch_(base + 2 * ks, k + 2 < K),
           fetch_(base + 3 * ks, k + 3 < K));
}
