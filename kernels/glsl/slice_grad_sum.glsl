// kernel: slice_grad_sum -- the rewrite's sum of slice VJPs (wasmdl.rewrite ACCUMULATIONS):
//   O = BASE + each window gradient G_w added where element i lies on its window's lattice
//   start + q * step (S/T: sampler and element type), in window order (the order of the sum it
//   replaces). A draw takes up to 6 windows (ADDS: one win() call each, a sampler per window);
//   more windows are more draws, each reading the previous one's result as its base. UNIT is 1
//   when every window steps by 1 along every dimension (no integer division), else 0.
// textures: t0 the base (when BASE reads it), then one gradient per window; output O.
// params: [nd, shape[nd], nwin, (starts[nd], steps[nd], counts[nd]) per window]
//   (GLSL leaves % and / of negative ints undefined: the lattice test works on magnitudes.)

#define UNIT_STEPS {{UNIT}}
{{UNIFORMS}}
out {{T}} o;

int co[8];  // this fragment's output coordinates

// window w's gradient at this element (its texture t, u_lw index k), or zero off its lattice
{{T}} win({{S}} t, int k, int w) {
  int nd = p[0];
  int b = 2 + nd + w * 3 * nd;
  int gi = 0, gs = 1;
  for (int d = nd - 1; d >= 0; d--) {
    int diff = co[d] - p[b + d];
    int cnt = p[b + 2 * nd + d];
#if UNIT_STEPS  // every step 1 (the usual windows): no division
    int q = diff;
    if (q < 0 || q >= cnt) return {{T}}(0);
#else
    int step = p[b + nd + d];
    if (diff != 0 && (diff < 0) != (step < 0)) return {{T}}(0);
    int ad = abs(diff), as_ = abs(step);
    int q = ad / as_;
    if (ad - q * as_ != 0 || q >= cnt) return {{T}}(0);
#endif
    gi += q * gs;
    gs *= cnt;
  }
  return texelFetch(t, at(k, gi), 0).r;
}

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int nd = p[0];
  int rem = i;
  for (int d = nd - 1; d >= 0; d--) {
    co[d] = rem % p[1 + d];
    rem = rem / p[1 + d];
  }
  {{T}} acc = {{BASE}};
  {{ADDS}}
  o = acc;
}
