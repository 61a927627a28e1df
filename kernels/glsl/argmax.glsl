// kernel: argmax -- index (int32) of the first maximum over the reduced axes, one fragment per
//   output element; {{S}}/{{T}}: the input's sampler and element type.
// textures: t0 X; output O (int32).
// params: the reduce.glsl layout without the chunks: [R, nk, kshape[nk], kstrides[nk], nr,
//   rshape[nr], rstrides[nr]]; the index is the C-order position among the R reduced elements.

uniform {{S}} t0;
out int o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int R = p[0];
  int nk = p[1];
  int nr = p[2 + 2 * nk];
  int base = 0;
  int rem = i;
  for (int d = nk - 1; d >= 0; d--) {
    base += (rem % p[2 + d]) * p[2 + nk + d];
    rem = rem / p[2 + d];
  }
  {{T}} best = {{T}}(0);
  int at_ = 0;
  for (int r = 0; r < R; r++) {
    int idx = base;
    int rr = r;
    for (int d = nr - 1; d >= 0; d--) {
      idx += (rr % p[3 + 2 * nk + d]) * p[3 + 2 * nk + nr + d];
      rr = rr / p[3 + 2 * nk + d];
    }
    {{T}} v = texelFetch(t0, at(1, idx), 0).r;
    if (r == 0 || v > best) {
      best = v;
      at_ = r;
    }
  }
  o = at_;
}
