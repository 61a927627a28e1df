// kernel: matmul_block -- batched C[b] = A[b] @ B[b] in float32, one fragment per 4x4 block of C
//   written to four render targets, the layers of one array texture: layer j holds row r0 + j
//   of the block, columns c0 .. c0 + 3, as one RGBA32F texel (unpack4x4.glsl lays C out). A is packed by pack4.glsl
//   along K (a texel: 4 K-values of one row), B along N (a texel: 4 columns of one K-row, its
//   rows padded with zeros to a multiple of 4). Per 4 K-values, 8 vec4 fetches feed 64 products
//   accumulated as 4 vec4 rows of C (a 2x2 block would take 4 fetches for 16). Rows past M
//   repeat the last one and columns past N are zeros; neither is ever unpacked.
// textures: t0 A4 (rows x K4), t1 B4 (4 * K4 rows x ceil(N/4)); output O (4 RGBA32F layers of
//   batch * ceil(M/4) * ceil(N/4) texels).
// params: [M, N, K4, nb, bshape[nb], abstrides[nb], bbstrides[nb]] (matmul_packed's layout).

uniform sampler2D t0;
uniform sampler2D t1;
layout(location = 0) out vec4 o0;
layout(location = 1) out vec4 o1;
layout(location = 2) out vec4 o2;
layout(location = 3) out vec4 o3;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1], K4 = p[2], nb = p[3];
  int M4 = (M + 3) / 4, N4 = (N + 3) / 4;
  int cb = i % N4;
  int r0 = ((i / N4) % M4) * 4;
  int rem = i / (M4 * N4);
  int ab = 0, bb = 0;
  for (int d = nb - 1; d >= 0; d--) {
    int q = rem % p[4 + d];
    rem = rem / p[4 + d];
    ab += q * p[4 + nb + d];
    bb += q * p[4 + 2 * nb + d];
  }
  int ia0 = (ab * M + r0) * K4;
  int ia1 = (ab * M + min(r0 + 1, M - 1)) * K4;
  int ia2 = (ab * M + min(r0 + 2, M - 1)) * K4;
  int ia3 = (ab * M + min(r0 + 3, M - 1)) * K4;
  int ib = bb * K4 * 4 * N4 + cb;
  int ma = (1 << u_lw[1]) - 1, la = u_lw[1];
  int mb = (1 << u_lw[2]) - 1, lb = u_lw[2];
  vec4 s0 = vec4(0.0), s1 = vec4(0.0), s2 = vec4(0.0), s3 = vec4(0.0);
  for (int k = 0; k < K4; k++) {
    vec4 b0 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 b1 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 b2 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 b3 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 a = texelFetch(t0, ivec2((ia0 + k) & ma, (ia0 + k) >> la), 0);
    s0 += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
    a = texelFetch(t0, ivec2((ia1 + k) & ma, (ia1 + k) >> la), 0);
    s1 += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
    a = texelFetch(t0, ivec2((ia2 + k) & ma, (ia2 + k) >> la), 0);
    s2 += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
    a = texelFetch(t0, ivec2((ia3 + k) & ma, (ia3 + k) >> la), 0);
    s3 += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
  }
  o0 = s0;
  o1 = s1;
  o2 = s2;
  o3 = s3;
}
