// kernel: adam_update -- torch.optim.Adam / AdamW step of p, m, v in numpy_step.adam_update's
//   order of float32 operations, written to three new textures (render targets 0, 1, 2) whose
//   ids the Python handles then take over (webgl_step.py): in place for every holder of them.
// textures: t0 P, t1 G, t2 M, t3 V (one geometry), t4 HP = [lr, step] (the step's host values,
//   read here so that a captured step replays with each step's values); outputs P', M', V'.
// params (float32 bits but the last): [1 - beta1, 1 - beta2, beta2, beta1, eps, weight_decay,
//   flags (1 decoupled, 2 maximize)]

uniform sampler2D t0;
uniform sampler2D t1;
uniform sampler2D t2;
uniform sampler2D t3;
uniform sampler2D t4;
layout(location = 0) out float op;
layout(location = 1) out float om;
layout(location = 2) out float ov;

float f(int k) { return intBitsToFloat(p[k]); }

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  float w = texelFetch(t0, at(1, i), 0).r;
  float g = texelFetch(t1, at(2, i), 0).r;
  float m = texelFetch(t2, at(3, i), 0).r;
  float v = texelFetch(t3, at(4, i), 0).r;
  float lr = texelFetch(t4, at(5, 0), 0).r;
  float step = texelFetch(t4, at(5, 1), 0).r;
  int flags = p[6];
  float wd = f(5);
  float d = (flags & 2) != 0 ? -g : g;
  if (wd != 0.0 && (flags & 1) != 0) {
    w = w * (1.0 - lr * wd);
  } else if (wd != 0.0) {
    d = d + w * wd;
  }
  m = m + (d - m) * f(0);
  v = v * f(2) + (d * d) * f(1);
  float den = sqrt(v) / sqrt(1.0 - pow(f(2), step)) + f(4);
  op = w - (m / den) * (lr / (1.0 - pow(f(3), step)));
  om = m;
  ov = v;
}
