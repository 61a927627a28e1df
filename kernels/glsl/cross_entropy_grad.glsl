// kernel: cross_entropy_grad -- the gradient of cross_entropy.glsl's loss to x times the 0-d
//   cotangent g, one fragment per element looping over its row, for two entries:
//   softmax_cross_entropy_grad ((softmax(x) * mass - t) * g / R) and prob_cross_entropy_grad
//   ((dq - sum(dq * q)) * g / R / s with s = sum(x), q = x / s, dq = -t / clip(q) where the
//   clip passes, else 0). GRAD is that element's formula; TARGET reads t as in cross_entropy.
// textures: t0 x (R32F), t1 t (R32I labels or R32F rows), t2 g (one float); output O (x's shape).
// params: [C, R, eps bits]

uniform sampler2D t0;
{{TARGET}}
uniform sampler2D t2;
out float o;

float x_at(int i) { return texelFetch(t0, at(1, i), 0).r; }

{{GRAD}}

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int C = p[0], R = p[1];
  float g = texelFetch(t2, at(3, 0), 0).r;
  o = grad(i / C, i % C, C) * g / float(R);
}
