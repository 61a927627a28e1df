// kernel: slice_grad -- scatter G (the gradient of a slice) into zeros of the input's shape:
//   O[i] = G[q] when i lies on the slice lattice start + q * step, else 0 ({{S}}/{{T}}).
// textures: t0 G; output O.
// params: [nd, shape[nd], starts[nd], steps[nd], counts[nd], gstrides[nd]]
//   (GLSL leaves % and / of negative ints undefined: the lattice test works on magnitudes.)

uniform {{S}} t0;
out {{T}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int nd = p[0];
  int rem = i;
  int gi = 0;
  bool hit = true;
  for (int d = nd - 1; d >= 0; d--) {
    int coord = rem % p[1 + d];
    rem = rem / p[1 + d];
    int diff = coord - p[1 + nd + d];
    int step = p[1 + 2 * nd + d];
    if (diff != 0 && (diff < 0) != (step < 0)) { hit = false; continue; }
    int ad = abs(diff);
    int as_ = abs(step);
    int q = ad / as_;
    if (ad - q * as_ != 0 || q >= p[1 + 3 * nd + d]) { hit = false; continue; }
    gi += q * p[1 + 4 * nd + d];
  }
  o = hit ? texelFetch(t0, at(1, gi), 0).r : {{T}}(0);
}
