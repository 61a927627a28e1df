// kernel: matmul_block -- batched C[b] = A[b] @ B[b] in float32, one fragment per R x 4 block of
//   C (R = {{R}}: 4, or 8 where the context has 8 draw buffers) written to R render targets,
//   the layers of one array texture: layer j holds row r0 + j of the block, columns c0 .. c0 + 3,
//   as one RGBA32F texel (unpack_block.glsl lays C out). A is packed by pack4.glsl along K (a
//   texel: 4 K-values of one row), B along N (a texel: 4 columns of one K-row, its rows padded
//   with zeros to a multiple of 4). Per 4 K-values, R + 4 vec4 fetches feed 16 R products
//   accumulated as R vec4 rows of C (a 2x2 block would take 4 fetches for 16). Rows past M
//   repeat the last one and columns past N are zeros; neither is ever unpacked. Python
//   generates the per-row lines: OUTS (the targets), ROWS_A (each row's first texel), ACC (the
//   accumulators), MAC (a row's fetch and products), WRITE.
// textures: t0 A4 (rows x K4), t1 B4 (4 * K4 rows x ceil(N/4)); output O (R RGBA32F layers of
//   batch * ceil(M/R) * ceil(N/4) texels).
// params: [M, N, K4, nb, bshape[nb], abstrides[nb], bbstrides[nb]] (matmul_packed's layout).

uniform sampler2D t0;
uniform sampler2D t1;
{{OUTS}}

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1], K4 = p[2], nb = p[3];
  int MR = (M + {{R}} - 1) / {{R}}, N4 = (N + 3) / 4;
  int cb = i % N4;
  int r0 = ((i / N4) % MR) * {{R}};
  int rem = i / (MR * N4);
  int ab = 0, bb = 0;
  for (int d = nb - 1; d >= 0; d--) {
    int q = rem % p[4 + d];
    rem = rem / p[4 + d];
    ab += q * p[4 + nb + d];
    bb += q * p[4 + 2 * nb + d];
  }
  {{ROWS_A}}
  int ib = bb * K4 * 4 * N4 + cb;
  int ma = (1 << u_lw[1]) - 1, la = u_lw[1];
  int mb = (1 << u_lw[2]) - 1, lb = u_lw[2];
  {{ACC}}
  for (int k = 0; k < K4; k++) {
    vec4 b0 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 b1 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 b2 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 b3 = texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ib += N4;
    vec4 a;
    {{MAC}}
  }
  {{WRITE}}
}
