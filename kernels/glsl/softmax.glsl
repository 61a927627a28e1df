// kernel: softmax -- exp(x - max(x)) / sum(exp(x - max(x))) over the last axis (C classes),
//   one fragment per element looping over its row (launched for short rows; longer ones take
//   the max, sub, exp, sum and div kernels in turn).
// textures: t0 x (R32F); output O (same shape).
// params: [C]

uniform sampler2D t0;
out float o;

float x_at(int i) { return texelFetch(t0, at(1, i), 0).r; }

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int C = p[0];
  int base = i - i % C;
  float m = x_at(base);
  for (int j = 1; j < C; j++) m = max(m, x_at(base + j));
  float s = 0.0;
  for (int j = 0; j < C; j++) s += exp(x_at(base + j) - m);
  o = exp(x_at(i) - m) / s;
}
