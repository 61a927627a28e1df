// kernel: reduce (template) -- sum / max / min over any set of axes; one fragment reduces one
//   chunk of one output's R inputs. A long reduction runs as two passes of this kernel: the
//   first writes (nout, nchunks) partial results, the second reduces those rows (chunk =
//   nchunks, nchunks = 1). Python (webgl_kernels.py: REDUCTIONS) substitutes {{S}} (sampler),
//   {{T}} (element type), {{INIT}} (identity) and {{COMBINE}} (expression of x, y).
// textures: t0 X; output O (nout * nchunks elements).
// params: [R, nk, kshape[nk], kstrides[nk], nr, rshape[nr], rstrides[nr], chunk, nchunks]

uniform {{S}} t0;
out {{T}} o;

{{T}} combine({{T}} x, {{T}} y) { return {{COMBINE}}; }

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int R = p[0];
  int nk = p[1];
  int nr = p[2 + 2 * nk];
  int chunk = p[3 + 2 * nk + 2 * nr];
  int nch = p[4 + 2 * nk + 2 * nr];
  int out_ = i / nch;
  int j = i - out_ * nch;
  int base = 0;
  int rem = out_;
  for (int d = nk - 1; d >= 0; d--) {
    base += (rem % p[2 + d]) * p[2 + nk + d];
    rem = rem / p[2 + d];
  }
  {{T}} acc = {{INIT}};
  int r0 = j * chunk;
  int r1 = min(R, r0 + chunk);
  if (nr == 1) {  // one reduced axis (the common case): a plain strided loop
    int st = p[4 + 2 * nk];
    for (int r = r0; r < r1; r++) acc = combine(acc, texelFetch(t0, at(1, base + r * st), 0).r);
  } else {
    for (int r = r0; r < r1; r++) {
      int idx = base;
      int rr = r;
      for (int d = nr - 1; d >= 0; d--) {
        idx += (rr % p[3 + 2 * nk + d]) * p[3 + 2 * nk + nr + d];
        rr = rr / p[3 + 2 * nk + d];
      }
      acc = combine(acc, texelFetch(t0, at(1, idx), 0).r);
    }
  }
  o = acc;
}
