// kernel: matmul -- batched C[b] = A[b] @ B[b] ({{S}}/{{T}}: sampler and element type), one
//   fragment per output element looping along K. A and B are read through strides, so the
//   VJP's transposed operands and broadcast batches need no copy. A template for two entries
//   (as unpack_block.glsl): matmul (UNIFORMS and BIAS empty, ACT "y") and dense (a Dense layer's
//   act(x @ w + b) in one draw: UNIFORMS declares t2, BIAS adds it at column col, ACT).
// textures: t0 A, t1 B; dense: t2 bias (N elements); output C (dense [batch, M, N]).
// params: [M, N, K, nb, bshape[nb], abstrides[nb], bbstrides[nb], sam, sak, sbk, sbn]
//   (the matmul.wgsl layout; all in elements).

uniform {{S}} t0;
uniform {{S}} t1;
{{UNIFORMS}}
out {{T}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0];
  int N = p[1];
  int K = p[2];
  int nb = p[3];
  int sam = p[4 + 3 * nb];
  int sak = p[5 + 3 * nb];
  int sbk = p[6 + 3 * nb];
  int sbn = p[7 + 3 * nb];
  int col = i % N;
  int row = (i / N) % M;
  int rem = i / (M * N);
  int ia = row * sam;
  int ib = col * sbn;
  for (int d = nb - 1; d >= 0; d--) {
    int c = rem % p[4 + d];
    rem = rem / p[4 + d];
    ia += c * p[4 + nb + d];
    ib += c * p[4 + 2 * nb + d];
  }
  int ma = (1 << u_lw[1]) - 1, la = u_lw[1];
  int mb = (1 << u_lw[2]) - 1, lb = u_lw[2];
  {{T}} acc = {{T}}(0);
  for (int k = 0; k < K; k++) {
    acc += texelFetch(t0, ivec2(ia & ma, ia >> la), 0).r * texelFetch(t1, ivec2(ib & mb, ib >> lb), 0).r;
    ia += sak;
    ib += sbk;
  }
  {{T}} y = acc;
  {{BIAS}}
  o = {{ACT}};
}
