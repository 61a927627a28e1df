/* A whole dense network in one call: inference forward, and one SGD training step with softmax
 * cross-entropy. For the small MLPs of the benchmark (784-64-10 ...) the ~20-30 primitive ops of
 * an autograd step cost more in per-call overhead than in arithmetic; here Python crosses into
 * wasm once per batch.
 *
 * The network is described by an int32 array `desc`, LF ints per layer (see L_* below): sizes,
 * activation code (ACT_* of step.c, plus ACT_SOFTMAX on the last layer), and the addresses of
 * the kernel W (in x out, row-major, Keras layout), the bias (0: none), the layer's output
 * buffer H (batch x out) and P, a copy of W packed by `gemv_pack` for inference on fewer than 4
 * rows (0: none; the caller keeps it in step with W). Gradient buffers ga, gb hold
 * batch x max(width) floats each.
 */
#include "common.h"

void bias_act(f32 *y, const f32 *bias, i32 rows, i32 cols, i32 ldy, i32 act);
void act_grad(const f32 *dy, const f32 *y, f32 *dx, i32 n, i32 act);
void softmax(const f32 *x, f32 *y, i32 rows, i32 cols, i32 ld);
f32 softmax_xent_labels(const f32 *logits, const i32 *labels, i32 rows, i32 cols, i32 ld,
                        f32 *grad, f32 scale);
f32 softmax_xent_probs(const f32 *logits, const f32 *t, i32 rows, i32 cols, i32 ld, i32 ldt,
                       f32 *grad, f32 scale);

enum { L_IN, L_OUT, L_ACT, L_W, L_B, L_H, L_P, LF };
#define ACT_SOFTMAX 4
#define PTR(v) ((f32 *)(v))

/* Inference on one row against a packed copy of W: the columns in panels of PW = 32, each panel
 * stored K x 32 contiguously (the last one zero-padded), so the whole matrix is read as one
 * sequential stream, one 128-byte row of a panel per k. `gemv_packed` keeps a panel's 32 outputs
 * in 8 accumulators for all of K (8 independent multiply-add chains, no loads or stores of y).
 * Measured in Chromium 156 on the benchmark's networks, interleaved, best of 40 rounds: 1.3-1.6x
 * `gemv` (d1_w128 15.0 -> 11.5 us, d4_w256 54 -> 30, d8_w256 157 -> 98 at the same moment);
 * panels of 16 with two k-chains, or a 32-column block read in place (stride N), were slower. */
#define PW 32

EXPORT(gemv_packed_floats)
i32 gemv_packed_floats(i32 K, i32 N) { return K * ((N + PW - 1) / PW) * PW; }

/* P (gemv_packed_floats(K, N) floats) = W (K x N, row-major) in panels of PW columns. */
EXPORT(gemv_pack)
void gemv_pack(i32 K, i32 N, const f32 *W, f32 *P) {
  for (i32 j0 = 0; j0 < N; j0 += PW) {
    i32 w = imin(PW, N - j0);
    for (i32 k = 0; k < K; k++, P += PW) {
      const f32 *row = W + k * N + j0;
      i32 c = 0;
      for (; c + 4 <= w; c += 4) wasm_v128_store(P + c, wasm_v128_load(row + c));
      for (; c < w; c++) P[c] = row[c];
      for (; c < PW; c++) P[c] = 0.0f;
    }
  }
}

/* y[0:n] = v[0:n] for n <= 4 (nothing when n <= 0): the last panel's outputs past N are padding. */
INLINE void store_upto4(f32 *y, v128_t v, i32 n) {
  if (n >= 4) {
    wasm_v128_store(y, v);
  } else if (n > 0) {
    y[0] = wasm_f32x4_extract_lane(v, 0);
    if (n > 1) y[1] = wasm_f32x4_extract_lane(v, 1);
    if (n > 2) y[2] = wasm_f32x4_extract_lane(v, 2);
  }
}

#define PANEL_STEP(xa, P)                                                                        \
  a0 = MADD(a0, xa, wasm_v128_load(P)), a1 = MADD(a1, xa, wasm_v128_load((P) + 4));               \
  a2 = MADD(a2, xa, wasm_v128_load((P) + 8)), a3 = MADD(a3, xa, wasm_v128_load((P) + 12));        \
  a4 = MADD(a4, xa, wasm_v128_load((P) + 16)), a5 = MADD(a5, xa, wasm_v128_load((P) + 20));       \
  a6 = MADD(a6, xa, wasm_v128_load((P) + 24)), a7 = MADD(a7, xa, wasm_v128_load((P) + 28))

static void gemv_packed(i32 K, i32 N, const f32 *x, const f32 *P, f32 *y) {
  for (i32 j0 = 0; j0 < N; j0 += PW) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0;
    v128_t a7 = a0;
    i32 k = 0;
    for (; k + 2 <= K; k += 2, P += 2 * PW) {
      v128_t xa = wasm_v128_load32_splat(x + k);
      PANEL_STEP(xa, P);
      xa = wasm_v128_load32_splat(x + k + 1);
      PANEL_STEP(xa, P + PW);
    }
    if (k < K) {
      v128_t xa = wasm_v128_load32_splat(x + k);
      PANEL_STEP(xa, P);
      P += PW;
    }
    i32 n = N - j0;
    f32 *o = y + j0;
    store_upto4(o, a0, n), store_upto4(o + 4, a1, n - 4), store_upto4(o + 8, a2, n - 8);
    store_upto4(o + 12, a3, n - 12), store_upto4(o + 16, a4, n - 16);
    store_upto4(o + 20, a5, n - 20), store_upto4(o + 24, a6, n - 24);
    store_upto4(o + 28, a7, n - 28);
  }
}

/* H_l = act(H_{l-1} @ W_l + b_l) for every layer; the last layer's softmax is left out (its H
 * holds the logits) when `logits_only`. Batches of fewer than 4 rows (sgemm's row tile) take
 * the GEMV row by row, on the packed copy of W where the descriptor has one and `packed` allows
 * (inference only: a training step's forward reads W itself, which the previous step updated). */
static void forward(i32 nl, const i32 *d, const f32 *x, i32 batch, i32 logits_only, i32 packed,
                    f32 *work) {
  const f32 *in = x;
  for (i32 l = 0; l < nl; l++) {
    const i32 *L = d + l * LF;
    i32 k = L[L_IN], n = L[L_OUT], act = L[L_ACT];
    f32 *h = PTR(L[L_H]);
    if (batch < 4 && packed && L[L_P]) {
      for (i32 r = 0; r < batch; r++) gemv_packed(k, n, in + r * k, PTR(L[L_P]), h + r * n);
    } else if (batch < 4) {
      for (i32 r = 0; r < batch; r++) wasmdl_gemv(k, n, in + r * k, PTR(L[L_W]), h + r * n);
    } else {
      wasmdl_sgemm(0, 0, batch, n, k, 1.0f, in, k, PTR(L[L_W]), n, 0.0f, h, n, work);
    }
    if (act == ACT_SOFTMAX) {
      if (L[L_B]) bias_act(h, PTR(L[L_B]), batch, n, n, 0);
      if (!logits_only) softmax(h, h, batch, n, n);
    } else if (L[L_B] || act) {
      bias_act(h, PTR(L[L_B]), batch, n, n, act);
    }
    in = h;
  }
}

EXPORT(mlp_forward)
void mlp_forward(i32 nl, const i32 *desc, const f32 *x, i32 batch, f32 *work) {
  forward(nl, desc, x, batch, 0, 1, work);
}

/* One SGD step (lr, no momentum or decay) on mean softmax cross-entropy; the last layer must be
 * ACT_SOFTMAX. Targets: int32 labels (sparse) or rows of class probabilities. Returns the mean
 * loss. Weights and biases are updated in place; each layer's input gradient is computed from
 * the weights before their update. */
EXPORT(mlp_sgd_step)
f32 mlp_sgd_step(i32 nl, const i32 *desc, const f32 *x, i32 batch, const void *target,
                 i32 sparse, f32 lr, f32 *ga, f32 *gb, f32 *work) {
  forward(nl, desc, x, batch, 1, 0, work);
  const i32 *last = desc + (nl - 1) * LF;
  i32 classes = last[L_OUT];
  f32 scale = 1.0f / (f32)batch, loss;
  if (sparse) {
    loss = softmax_xent_labels(PTR(last[L_H]), (const i32 *)target, batch, classes, classes, ga,
                               scale);
  } else {
    loss = softmax_xent_probs(PTR(last[L_H]), (const f32 *)target, batch, classes, classes,
                              classes, ga, scale);
  }
  f32 *g = ga, *gn = gb;
  for (i32 l = nl - 1; l >= 0; l--) {
    const i32 *L = desc + l * LF;
    i32 in_n = L[L_IN], out_n = L[L_OUT];
    const f32 *in = l ? PTR(desc[(l - 1) * LF + L_H]) : x;
    f32 *w = PTR(L[L_W]), *b = PTR(L[L_B]);
    if (l) {
      wasmdl_sgemm(0, 1, batch, in_n, out_n, 1.0f, g, out_n, w, out_n, 0.0f, gn, in_n, work);
      act_grad(gn, in, gn, batch * in_n, desc[(l - 1) * LF + L_ACT]);
    }
    wasmdl_sgemm(1, 0, in_n, out_n, batch, -lr, in, in_n, g, out_n, 1.0f, w, out_n, work);
    if (b) {
      v128_t vlr = wasm_f32x4_splat(lr);
      for (i32 i = 0; i < batch; i++) { /* b -= lr * column sums of g */
        const f32 *gi = g + i * out_n;
        i32 j = 0;
        for (; j + 4 <= out_n; j += 4) {
          v128_t step = wasm_f32x4_mul(vlr, wasm_v128_load(gi + j));
          wasm_v128_store(b + j, wasm_f32x4_sub(wasm_v128_load(b + j), step));
        }
        for (; j < out_n; j++) b[j] -= lr * gi[j];
      }
    }
    f32 *t = g;
    g = gn, gn = t;
  }
  return loss * scale;
}
