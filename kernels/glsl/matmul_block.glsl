// kernel: matmul_block -- batched C[b] = A[b] @ B[b] in float32 from operands packed along K by
//   pack4.glsl, one fragment per 2x2 block of C written as one RGBA32F texel
//   (C[r, c], C[r, c+1], C[r+1, c], C[r+1, c+1]); unpack2x2.glsl then lays C out as a tensor.
//   Per 4 K-values: 4 vec4 fetches feed 16 products (matmul_packed: 2 fetches for 4).
//   Rows/columns past the edge repeat the last one (their results are never unpacked).
// textures: t0 A4, t1 B4 (RGBA32F); output O (RGBA32F, batch * ceil(M/2) * ceil(N/2) texels).
// params: [M, N, K4, nb, bshape[nb], abstrides[nb], bbstrides[nb]] (matmul_packed's layout).

uniform sampler2D t0;
uniform sampler2D t1;
out vec4 o;

float hsum(vec4 v) { return (v.x + v.y) + (v.z + v.w); }

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1], K4 = p[2], nb = p[3];
  int M2 = (M + 1) / 2, N2 = (N + 1) / 2;
  int c0 = (i % N2) * 2;
  int r0 = ((i / N2) % M2) * 2;
  int rem = i / (M2 * N2);
  int ab = 0, bb = 0;
  for (int d = nb - 1; d >= 0; d--) {
    int q = rem % p[4 + d];
    rem = rem / p[4 + d];
    ab += q * p[4 + nb + d];
    bb += q * p[4 + 2 * nb + d];
  }
  int ia0 = (ab * M + r0) * K4;
  int ia1 = (ab * M + min(r0 + 1, M - 1)) * K4;
  int ib0 = (bb * N + c0) * K4;
  int ib1 = (bb * N + min(c0 + 1, N - 1)) * K4;
  int ma = (1 << u_lw[1]) - 1, la = u_lw[1];
  int mb = (1 << u_lw[2]) - 1, lb = u_lw[2];
  vec4 s00 = vec4(0.0), s01 = vec4(0.0), s10 = vec4(0.0), s11 = vec4(0.0);
  for (int k = 0; k < K4; k++) {
    vec4 a0 = texelFetch(t0, ivec2((ia0 + k) & ma, (ia0 + k) >> la), 0);
    vec4 a1 = texelFetch(t0, ivec2((ia1 + k) & ma, (ia1 + k) >> la), 0);
    vec4 b0 = texelFetch(t1, ivec2((ib0 + k) & mb, (ib0 + k) >> lb), 0);
    vec4 b1 = texelFetch(t1, ivec2((ib1 + k) & mb, (ib1 + k) >> lb), 0);
    s00 += a0 * b0;
    s01 += a0 * b1;
    s10 += a1 * b0;
    s11 += a1 * b1;
  }
  o = vec4(hsum(s00), hsum(s01), hsum(s10), hsum(s11));
}
