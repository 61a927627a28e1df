// kernel: cross_entropy -- the mean cross-entropy over R rows of C classes, for two entries:
//   softmax_cross_entropy (x logits: mass * lse - sum(t * z), z = x - max(x), lse =
//   log(sum(exp(z))), mass = sum(t): 0 for a label outside [0, C)) and prob_cross_entropy
//   (x probabilities, Keras: -sum(t * log(clip(x / sum(x), eps, 1 - eps)))). ROW_LOSS is that
//   row's formula; the target t is int labels (R of them) or rows like x (TARGET reads either).
//   Fragment f sums rows [f * chunk, (f + 1) * chunk) divided by R: one fragment gives the
//   loss, more give partial sums the launcher adds with the sum kernel. R = 0 gives NaN.
// textures: t0 x (R32F), t1 t (R32I labels or R32F rows); output O (one float per fragment).
// params: [C, R, chunk, eps bits]

uniform sampler2D t0;
{{TARGET}}
out float o;

float x_at(int i) { return texelFetch(t0, at(1, i), 0).r; }

{{ROW_LOSS}}

void main() {
  int f = out_index();
  if (f >= u_n) discard;
  int C = p[0], R = p[1], chunk = p[2];
  if (R == 0) {
    o = uintBitsToFloat(0x7fc00000u);
    return;
  }
  float acc = 0.0;
  for (int r = f * chunk; r < min(R, (f + 1) * chunk); r++) acc += row_loss(r, C);
  o = acc / float(R);
}
