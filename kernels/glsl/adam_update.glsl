// kernel: adam_update -- torch.optim.Adam / AdamW step of p, m, v in numpy_step.adam_update's
//   order of float32 operations, written to three new textures (render targets 0, 1, 2) whose
//   ids the Python handles then take over (webgl_step.py): in place for every holder of them.
// textures: t0 P, t1 G, t2 M, t3 V (one geometry), t4 HP = [lr, step] (the step's host values,
//   read here so that a captured step replays with each step's values); outputs P', M', V'.
// params (float32 bits but the last): [1 - beta1, 1 - beta2, beta2, ln(beta1), ln(beta2), eps,
//   weight_decay, flags (1 decoupled, 2 maximize)]. The bias corrections 1 - beta^t are
//   -expm1(t ln beta), a short series while |t ln beta| is small (1 - pow() would cancel).

uniform sampler2D t0;
uniform sampler2D t1;
uniform sampler2D t2;
uniform sampler2D t3;
uniform sampler2D t4;
layout(location = 0) out float op;
layout(location = 1) out float om;
layout(location = 2) out float ov;

float f(int k) { return intBitsToFloat(p[k]); }

// 1 - beta^t from ln(beta): -expm1(x), x = t ln(beta) <= 0
float one_minus_pow(float ln_beta, float t) {
  float x = t * ln_beta;
  if (abs(x) < 0.03) {
    return -x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x / 120.0))));
  }
  return 1.0 - exp(x);
}

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  float w = texelFetch(t0, at(1, i), 0).r;
  float g = texelFetch(t1, at(2, i), 0).r;
  float m = texelFetch(t2, at(3, i), 0).r;
  float v = texelFetch(t3, at(4, i), 0).r;
  float lr = texelFetch(t4, at(5, 0), 0).r;
  float step = texelFetch(t4, at(5, 1), 0).r;
  int flags = p[7];
  float wd = f(6);
  float d = (flags & 2) != 0 ? -g : g;
  if (wd != 0.0 && (flags & 1) != 0) {
    w = w * (1.0 - lr * wd);
  } else if (wd != 0.0) {
    d = d + w * wd;
  }
  m = m + (d - m) * f(0);
  v = v * f(2) + (d * d) * f(1);
  float den = sqrt(v) / sqrt(one_minus_pow(f(4), step)) + f(5);
  op = w - (m / den) * (lr / one_minus_pow(f(3), step));
  om = m;
  ov = v;
}
