// kernel: pad -- O = X surrounded by a constant: O[i] = X[coords - before] inside, value
//   outside ({{S}}/{{T}}; {{VALUE}} reads the constant from its int32 bits v).
// textures: t0 X; output O.
// params: [nd, oshape[nd], before[nd], xshape[nd], value bits]

uniform {{S}} t0;
out {{T}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int nd = p[0];
  int rem = i;
  int xi = 0;
  int xs = 1;
  bool inside = true;
  for (int d = nd - 1; d >= 0; d--) {
    int c = rem % p[1 + d] - p[1 + nd + d];
    rem = rem / p[1 + d];
    int xd = p[1 + 2 * nd + d];
    if (c < 0 || c >= xd) inside = false;
    xi += c * xs;
    xs *= xd;
  }
  int v = p[1 + 3 * nd];
  o = inside ? texelFetch(t0, at(1, xi), 0).r : {{VALUE}};
}
