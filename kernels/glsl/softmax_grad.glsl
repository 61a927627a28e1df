// kernel: softmax_grad -- the softmax's gradient from its output y: y * (g - sum(g * y)) over
//   the last axis (C classes), one fragment per element looping over its row (short rows).
// textures: t0 g, t1 y (R32F, same shape); output O (same shape).
// params: [C]

uniform sampler2D t0;
uniform sampler2D t1;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int C = p[0];
  int base = i - i % C;
  float s = 0.0;
  for (int j = 0; j < C; j++) {
    s += texelFetch(t0, at(1, base + j), 0).r * texelFetch(t1, at(2, base + j), 0).r;
  }
  o = texelFetch(t1, at(2, i), 0).r * (texelFetch(t0, at(1, i), 0).r - s);
}
