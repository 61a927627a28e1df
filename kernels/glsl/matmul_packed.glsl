// kernel: matmul_packed -- batched C[b] = A[b] @ B[b] in float32 from operands packed along K
//   by pack4.glsl (A4: rows of A, B4: columns of B, 4 K-values per RGBA texel), one fragment
//   per output element: one vec4 multiply-add per 4 products (a quarter of matmul.glsl's
//   fetches), the 4 lanes summed at the end. Entry name: matmul.
// textures: t0 A4, t1 B4 (RGBA32F); output C (R32F, dense [batch, M, N]).
// params: [M, N, K4, nb, bshape[nb], abstrides[nb], bbstrides[nb]]: the batch strides count
//   each operand's own matrices (0 where broadcast).

uniform sampler2D t0;
uniform sampler2D t1;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1], K4 = p[2], nb = p[3];
  int col = i % N;
  int row = (i / N) % M;
  int rem = i / (M * N);
  int ab = 0, bb = 0;
  for (int d = nb - 1; d >= 0; d--) {
    int q = rem % p[4 + d];
    rem = rem / p[4 + d];
    ab += q * p[4 + nb + d];
    bb += q * p[4 + 2 * nb + d];
  }
  int ia = (ab * M + row) * K4;
  int ib = (bb * N + col) * K4;
  int ma = (1 << u_lw[1]) - 1, la = u_lw[1];
  int mb = (1 << u_lw[2]) - 1, lb = u_lw[2];
  vec4 acc = vec4(0.0);
  for (int k = 0; k < K4; k++) {
    acc += texelFetch(t0, ivec2(ia & ma, ia >> la), 0) * texelFetch(t1, ivec2(ib & mb, ib >> lb), 0);
    ia++;
    ib++;
  }
  o = (acc.x + acc.y) + (acc.z + acc.w);
}
