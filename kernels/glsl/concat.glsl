// kernel: concat -- one draw per input (ping-pong): the output takes X's elements inside X's
//   block along the axis and the previous partial result P everywhere else ({{S}}/{{T}}).
//   A fragment shader writes only its own element, so a concat cannot scatter its inputs.
// textures: t0 P (the previous partial output; any texture of the dtype for the first draw),
//   t1 X (contiguous); output O.
// params: [nd, oshape[nd], axis, start, size]: X covers [start, start + size) along axis.

uniform {{S}} t0;
uniform {{S}} t1;
out {{T}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int nd = p[0];
  int axis = p[1 + nd];
  int start = p[2 + nd];
  int size = p[3 + nd];
  int rem = i;
  int xi = 0;
  int xs = 1;
  bool inside = true;
  for (int d = nd - 1; d >= 0; d--) {
    int c = rem % p[1 + d];
    rem = rem / p[1 + d];
    int xd = p[1 + d];
    if (d == axis) {
      c -= start;
      xd = size;
      if (c < 0 || c >= size) inside = false;
    }
    xi += c * xs;
    xs *= xd;
  }
  o = inside ? texelFetch(t1, at(2, xi), 0).r : texelFetch(t0, at(1, i), 0).r;
}
