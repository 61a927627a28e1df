// kernel: sgd_update -- torch.optim.SGD step of p (and its momentum buffer) in
//   numpy_step.sgd_update's order of float32 operations, written to new textures (render
//   targets 0: P', 1: B') whose ids the Python handles then take over (webgl_step.py).
// textures: t0 P, t1 G, t2 B (P again when there is no momentum), t3 HP = [lr, ...] (the
//   step's host values); outputs P' (and B').
// params (float32 bits but the last): [weight_decay, momentum, 1 - dampening,
//   flags (1 nesterov, 2 maximize, 4 first step of the buffer, 8 momentum, 16 dampening)]

uniform sampler2D t0;
uniform sampler2D t1;
uniform sampler2D t2;
uniform sampler2D t3;
layout(location = 0) out float op;
layout(location = 1) out float ob;

float f(int k) { return intBitsToFloat(p[k]); }

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  float w = texelFetch(t0, at(1, i), 0).r;
  float g = texelFetch(t1, at(2, i), 0).r;
  float b = texelFetch(t2, at(3, i), 0).r;
  int flags = p[3];
  float lr = texelFetch(t3, at(4, 0), 0).r;
  float d = (flags & 2) != 0 ? -g : g;
  if (f(0) != 0.0) d = d + w * f(0);
  if ((flags & 8) != 0) {
    if ((flags & 4) != 0) {
      b = d;
    } else {
      b = b * f(1) + ((flags & 16) != 0 ? d * f(2) : d);
    }
    d = (flags & 1) != 0 ? d + b * f(1) : b;
  }
  op = w - d * lr;
  ob = b;
}
