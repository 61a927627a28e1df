/* Per-step kernels: where numpy's ~10-20 us per-call overhead in Pyodide dominates small models.
 * Fused bias + activation, activation gradients, softmax + cross-entropy (+ gradient) and the
 * optimizer updates (SGD with momentum/Nesterov, Adam, AdamW), each one pass over memory.
 * Activation codes (ACT_*) are shared with wasmdl/_wasm/cpu.py. A null pointer (0) means
 * "absent" (numpy never places an array at address 0 in Pyodide's heap).
 */
#include "common.h"
#include "vmath.h"

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_SIGMOID = 2, ACT_TANH = 3 };

INLINE v128_t act4(v128_t x, i32 act) {
  switch (act) {
    case ACT_RELU: return relu4(x);
    case ACT_SIGMOID: return vsigmoid(x);
    case ACT_TANH: return vtanh(x);
    default: return x;
  }
}

/* One row: y[0:n] = act(y + bias). The tail (n % 4) goes through a vector of one lane. */
INLINE void bias_act_row(f32 *y, const f32 *bias, i32 n, i32 act) {
  i32 j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t v = wasm_v128_load(y + j);
    if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + j));
    wasm_v128_store(y + j, act4(v, act));
  }
  for (; j < n; j++) {
    f32 v = y[j] + (bias ? bias[j] : 0.0f);
    y[j] = wasm_f32x4_extract_lane(act4(wasm_f32x4_splat(v), act), 0);
  }
}

/* y[r, :] = act(y[r, :] + bias) in place for rows x cols with row stride ldy. */
EXPORT(bias_act)
void bias_act(f32 *y, const f32 *bias, i32 rows, i32 cols, i32 ldy, i32 act) {
  for (i32 r = 0; r < rows; r++) bias_act_row(y + r * ldy, bias, cols, act);
}

/* out[c] = sum of x[r, c] over the rows (rows x cols, contiguous): a bias's gradient. Rows are
 * added one after another, as numpy reduces leading axes (out stays in L1 for bias widths). */
EXPORT(col_sum)
void col_sum(const f32 *x, i32 rows, i32 cols, f32 *out) {
  i32 c4 = cols & ~3;
  for (i32 c = 0; c < cols; c++) out[c] = 0.0f;
  for (i32 r = 0; r < rows; r++, x += cols) {
    i32 c = 0;
    for (; c < c4; c += 4) {
      wasm_v128_store(out + c, wasm_f32x4_add(wasm_v128_load(out + c), wasm_v128_load(x + c)));
    }
    for (; c < cols; c++) out[c] += x[c];
  }
}

/* C = act(op(A) @ op(B) + bias): one dense layer in one call (the tile is still in cache). */
EXPORT(dense)
void dense(i32 ta, i32 tb, i32 M, i32 N, i32 K, const f32 *A, i32 lda, const f32 *B, i32 ldb,
           const f32 *bias, f32 *C, i32 ldc, i32 act, f32 *work) {
  wasmdl_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, work);
  if (bias || act) bias_act(C, bias, M, N, ldc, act);
}

/* dx = dy * act'(x), from the activation's OUTPUT y (relu: y > 0; sigmoid: y (1 - y);
 * tanh: 1 - y^2). dx may alias dy. */
EXPORT(act_grad)
void act_grad(const f32 *dy, const f32 *y, f32 *dx, i32 n, i32 act) {
  v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t g = wasm_v128_load(dy + i), v = wasm_v128_load(y + i), d;
    if (act == ACT_RELU) d = wasm_v128_and(g, wasm_f32x4_gt(v, zero));
    else if (act == ACT_SIGMOID) d = wasm_f32x4_mul(g, wasm_f32x4_mul(v, wasm_f32x4_sub(one, v)));
    else if (act == ACT_TANH) d = wasm_f32x4_mul(g, wasm_f32x4_sub(one, wasm_f32x4_mul(v, v)));
    else d = g;
    wasm_v128_store(dx + i, d);
  }
  for (; i < n; i++) {
    f32 g = dy[i], v = y[i];
    if (act == ACT_RELU) g = v > 0.0f ? g : 0.0f;
    else if (act == ACT_SIGMOID) g *= v * (1.0f - v);
    else if (act == ACT_TANH) g *= 1.0f - v * v;
    dx[i] = g;
  }
}

/* p[0:n] *= s */
INLINE void scale_row(f32 *p, i32 n, f32 s) {
  v128_t vs = wasm_f32x4_splat(s);
  i32 j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(p + j, wasm_f32x4_mul(wasm_v128_load(p + j), vs));
  for (; j < n; j++) p[j] *= s;
}

INLINE f32 hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

INLINE f32 row_max(const f32 *x, i32 n) {
  f32 mx = x[0];
  for (i32 j = 1; j < n; j++) mx = x[j] > mx ? x[j] : mx;
  return mx;
}

/* p = exp(x - max(x)) (p may alias x, or be null to only sum); returns the sum. */
INLINE f32 exp_shifted(const f32 *x, f32 *p, i32 n, f32 mx) {
  v128_t vmx = wasm_f32x4_splat(mx), acc = wasm_f32x4_splat(0.0f);
  f32 tail = 0.0f;
  i32 j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t e = vexp(wasm_f32x4_sub(wasm_v128_load(x + j), vmx));
    if (p) wasm_v128_store(p + j, e);
    acc = wasm_f32x4_add(acc, e);
  }
  for (; j < n; j++) {
    f32 e = sexp(x[j] - mx);
    if (p) p[j] = e;
    tail += e;
  }
  return hsum(acc) + tail;
}

/* Softmax over the last axis of x (rows x cols, row stride ld) into y (same stride; may alias). */
EXPORT(softmax)
void softmax(const f32 *x, f32 *y, i32 rows, i32 cols, i32 ld) {
  for (i32 r = 0; r < rows; r++) {
    const f32 *xr = x + r * ld;
    f32 *yr = y + r * ld;
    scale_row(yr, cols, 1.0f / exp_shifted(xr, yr, cols, row_max(xr, cols)));
  }
}

/* Cross-entropy of softmax(logits) against integer labels, summed over rows (the caller divides
 * for a mean). If grad is not null it receives (softmax - onehot) * scale, with the same row
 * stride ld (grad may alias logits). A label outside [0, cols) is a zero target row, as in
 * numpy_step: it adds nothing to the loss and gets a zero gradient row. */
EXPORT(softmax_xent_labels)
f32 softmax_xent_labels(const f32 *logits, const i32 *labels, i32 rows, i32 cols, i32 ld,
                        f32 *grad, f32 scale) {
  f32 total = 0.0f;
  for (i32 r = 0; r < rows; r++) {
    const f32 *x = logits + r * ld;
    f32 *g = grad ? grad + r * ld : 0;
    i32 y = labels[r];
    i32 ok = y >= 0 && y < cols;
    f32 mx = row_max(x, cols), xy = ok ? x[y] : 0.0f;
    f32 s = exp_shifted(x, g, cols, mx);
    if (ok) total += slog(s) + mx - xy;
    if (g) { /* a label outside [0, cols) is a zero target row: a zero gradient row */
      scale_row(g, cols, ok ? scale / s : 0.0f);
      if (ok) g[y] -= scale;
    }
  }
  return total;
}

/* Same against target distributions t (rows x cols, row stride ldt): loss = -sum t log p,
 * grad = (p sum(t) - t) * scale. */
EXPORT(softmax_xent_probs)
f32 softmax_xent_probs(const f32 *logits, const f32 *t, i32 rows, i32 cols, i32 ld, i32 ldt,
                       f32 *grad, f32 scale) {
  f32 total = 0.0f;
  for (i32 r = 0; r < rows; r++) {
    const f32 *x = logits + r * ld, *tr = t + r * ldt;
    f32 *g = grad ? grad + r * ld : 0;
    f32 mx = row_max(x, cols);
    f32 lse = slog(exp_shifted(x, g, cols, mx)) + mx;
    f32 ts = 0.0f, tx = 0.0f;
    for (i32 j = 0; j < cols; j++) ts += tr[j], tx += tr[j] * x[j];
    total += ts * lse - tx;
    if (g) {
      f32 k = scale * ts * sexp(mx - lse);  /* p = e * exp(mx - lse), times sum(t) */
      for (i32 j = 0; j < cols; j++) g[j] = g[j] * k - scale * tr[j];
    }
  }
  return total;
}

/* Keras's cross-entropy on probabilities (from_logits=False) over rows x cols, the spec being
 * backend/numpy_step.py: q = p / sum(p) per row, c = clip(q, eps, 1 - eps); returns the sum over
 * rows of -sum(t log c). Targets: int32 labels when `sparse` (a label outside [0, cols) is a
 * zero row) or float rows. With `grad`, also grad = gscale * (dq - sum(dq q)) / sum(p), where
 * dq = -t / c on the entries with eps < q < 1 - eps and 0 elsewhere, masked by a multiply as
 * numpy does, so a NaN anywhere in a row stays NaN (as in the loss). */
EXPORT(prob_xent)
f32 prob_xent(const f32 *p, const void *t, i32 sparse, i32 rows, i32 cols, f32 eps, f32 *grad,
              f32 gscale) {
  f32 total = 0.0f, hi = 1.0f - eps;
  for (i32 r = 0; r < rows; r++) {
    const f32 *pr = p + r * cols;
    const f32 *tr = sparse ? 0 : (const f32 *)t + r * cols;
    i32 label = sparse ? ((const i32 *)t)[r] : -1;
    f32 s = 0.0f, loss = 0.0f, dot = 0.0f;
    for (i32 j = 0; j < cols; j++) s += pr[j];
    for (i32 j = 0; j < cols; j++) {
      f32 q = pr[j] / s, c = q < eps ? eps : q > hi ? hi : q; /* NaN q stays NaN */
      f32 tj = sparse ? (j == label ? 1.0f : 0.0f) : tr[j];
      loss += tj * (c == c ? slog(c) : c);
      if (grad) {
        f32 dq = -((tj / c) * (q > eps && q < hi ? 1.0f : 0.0f));
        grad[r * cols + j] = dq;
        dot += dq * q;
      }
    }
    total -= loss;
    if (grad) {
      for (i32 j = 0; j < cols; j++) grad[r * cols + j] = (grad[r * cols + j] - dot) * gscale / s;
    }
  }
  return total;
}

/* Optimizer state that decays toward zero (a gradient that stays exactly 0: a dead ReLU unit,
 * an input pixel that is always 0) sinks into the subnormals and stays there (0.9 x 1.4e-45
 * rounds back to 1.4e-45); every later step then takes x86's slow subnormal path (~100 cycles an
 * operation; WebAssembly cannot set flush-to-zero): measured, a README-MLP Adam step 0.77 ->
 * 1.28 ms once 7,056 entries of m got stuck. So the state is flushed to +0 below FLT_MIN, as
 * TensorFlow's CPU kernels (FTZ/DAZ) and GPUs do; the effect on p is below 1e-38 * lr / eps.
 * NaN is kept (|NaN| < FLT_MIN is false). numpy_step.flush_subnormal is the same rule. */
#define FLT_MIN_ 1.17549435e-38f
INLINE v128_t ftz4(v128_t x) {
  return wasm_v128_andnot(x, wasm_f32x4_lt(wasm_f32x4_abs(x), wasm_f32x4_splat(FLT_MIN_)));
}
INLINE f32 ftz1(f32 x) { return x < FLT_MIN_ && x > -FLT_MIN_ ? 0.0f : x; }

/* SGD (PyTorch semantics), sign -1 for `maximize`: d = sign g + wd p; buf = momentum buf +
 * (1 - dampening) d (buf = d on the first step); d = nesterov ? d + momentum buf : buf;
 * p -= lr d. buf may be null when momentum == 0. */
INLINE void sgd_core(f32 *p, const f32 *g, f32 *buf, i32 n, f32 lr, f32 momentum, f32 dampening,
                     f32 wd, i32 nesterov, i32 first, f32 sign) {
  v128_t vlr = wasm_f32x4_splat(lr), vwd = wasm_f32x4_splat(wd), vm = wasm_f32x4_splat(momentum);
  v128_t vd = wasm_f32x4_splat(first ? 1.0f : 1.0f - dampening), vs = wasm_f32x4_splat(sign);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t pv = wasm_v128_load(p + i), gv = wasm_f32x4_mul(wasm_v128_load(g + i), vs);
    if (wd != 0.0f) gv = wasm_f32x4_add(gv, wasm_f32x4_mul(vwd, pv));
    if (momentum != 0.0f) {
      v128_t b = wasm_f32x4_mul(vd, gv);
      if (!first) b = wasm_f32x4_add(b, wasm_f32x4_mul(vm, wasm_v128_load(buf + i)));
      b = ftz4(b);
      wasm_v128_store(buf + i, b);
      gv = nesterov ? wasm_f32x4_add(gv, wasm_f32x4_mul(vm, b)) : b;
    }
    wasm_v128_store(p + i, wasm_f32x4_sub(pv, wasm_f32x4_mul(vlr, gv)));
  }
  for (; i < n; i++) {
    f32 gv = g[i] * sign + (wd != 0.0f ? wd * p[i] : 0.0f);
    if (momentum != 0.0f) {
      f32 b = ftz1((first ? 1.0f : 1.0f - dampening) * gv + (first ? 0.0f : momentum * buf[i]));
      buf[i] = b;
      gv = nesterov ? gv + momentum * b : b;
    }
    p[i] -= lr * gv;
  }
}

EXPORT(sgd_step)
void sgd_step(f32 *p, const f32 *g, f32 *buf, i32 n, f32 lr, f32 momentum, f32 dampening,
              f32 wd, i32 nesterov, i32 first) {
  sgd_core(p, g, buf, n, lr, momentum, dampening, wd, nesterov, first, 1.0f);
}

/* numpy_step.sgd_update's signature: the learning rate is hp[0] (read at run time). */
EXPORT(sgd_update)
void sgd_update(f32 *p, const f32 *g, const f32 *hp, f32 *buf, i32 n, f32 momentum,
                f32 dampening, f32 wd, i32 nesterov, i32 maximize, i32 first) {
  sgd_core(p, g, buf, n, hp[0], momentum, dampening, wd, nesterov, first, maximize ? -1.0f : 1.0f);
}

/* Adam / AdamW (PyTorch semantics), d = sign g. decoupled (AdamW): p *= decay (1 - lr wd);
 * else d += l2 p. m = b1 m + c1 d; v = b2 v + c2 d^2 (c = 1 - b); p -= step m / (sqrt(v) / sq +
 * eps), with step = lr / (1 - b1^t) and sq = sqrt(1 - b2^t). */
INLINE void adam_core(f32 *p, const f32 *g, f32 *m, f32 *v, i32 n, f32 step, f32 sq, f32 b1,
                      f32 c1, f32 b2, f32 c2, f32 eps, f32 decay, f32 l2, f32 sign) {
  v128_t vb1 = wasm_f32x4_splat(b1), vc1 = wasm_f32x4_splat(c1), vs = wasm_f32x4_splat(sign);
  v128_t vb2 = wasm_f32x4_splat(b2), vc2 = wasm_f32x4_splat(c2), vsq = wasm_f32x4_splat(sq);
  v128_t veps = wasm_f32x4_splat(eps), vstep = wasm_f32x4_splat(step);
  v128_t vdecay = wasm_f32x4_splat(decay), vl2 = wasm_f32x4_splat(l2);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t pv = wasm_v128_load(p + i), gv = wasm_f32x4_mul(wasm_v128_load(g + i), vs);
    gv = wasm_f32x4_add(gv, wasm_f32x4_mul(vl2, pv));
    v128_t mv = ftz4(
        wasm_f32x4_add(wasm_f32x4_mul(vb1, wasm_v128_load(m + i)), wasm_f32x4_mul(vc1, gv)));
    v128_t vv = ftz4(wasm_f32x4_add(wasm_f32x4_mul(vb2, wasm_v128_load(v + i)),
                                    wasm_f32x4_mul(vc2, wasm_f32x4_mul(gv, gv))));
    wasm_v128_store(m + i, mv);
    wasm_v128_store(v + i, vv);
    v128_t den = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vv), vsq), veps);
    pv = wasm_f32x4_sub(wasm_f32x4_mul(pv, vdecay), wasm_f32x4_mul(vstep, wasm_f32x4_div(mv, den)));
    wasm_v128_store(p + i, pv);
  }
  for (; i < n; i++) {
    f32 gv = g[i] * sign + l2 * p[i];
    f32 mv = ftz1(b1 * m[i] + c1 * gv), vv = ftz1(b2 * v[i] + c2 * gv * gv);
    m[i] = mv, v[i] = vv;
    f32 s = wasm_f32x4_extract_lane(wasm_f32x4_sqrt(wasm_f32x4_splat(vv)), 0);
    p[i] = p[i] * decay - step * mv / (s / sq + eps);
  }
}

INLINE f32 sqrt32(f32 x) { return wasm_f32x4_extract_lane(wasm_f32x4_sqrt(wasm_f32x4_splat(x)), 0); }

/* Adam at step t: bc1 = 1 - beta1^t, bc2 = 1 - beta2^t (computed by the caller). */
EXPORT(adam_step)
void adam_step(f32 *p, const f32 *g, f32 *m, f32 *v, i32 n, f32 lr, f32 b1, f32 b2, f32 eps,
               f32 wd, f32 bc1, f32 bc2, i32 decoupled) {
  adam_core(p, g, m, v, n, lr / bc1, sqrt32(bc2), b1, 1.0f - b1, b2, 1.0f - b2, eps,
            decoupled ? 1.0f - lr * wd : 1.0f, decoupled ? 0.0f : wd, 1.0f);
}

INLINE double dpowi(double b, i32 e) { /* b^e, e >= 0, by squaring */
  double r = 1.0;
  for (; e > 0; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return r;
}

/* numpy_step.adam_update's signature: hp = [lr, step] (read at run time); the betas come in
 * double, so 1 - beta and the bias corrections are rounded once, as numpy's Python floats. */
EXPORT(adam_update)
void adam_update(f32 *p, const f32 *g, const f32 *hp, f32 *m, f32 *v, i32 n, double b1,
                 double b2, f32 eps, f32 wd, i32 decoupled, i32 maximize) {
  double lr = hp[0];
  i32 t = wasm_i32x4_extract_lane(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_splat(hp[1])), 0);
  double bc1 = 1.0 - dpowi(b1, t), bc2 = 1.0 - dpowi(b2, t);
  f32 sq = (f32)wasm_f64x2_extract_lane(wasm_f64x2_sqrt(wasm_f64x2_splat(bc2)), 0);
  adam_core(p, g, m, v, n, (f32)(lr / bc1), sq, (f32)b1, (f32)(1.0 - b1), (f32)b2,
            (f32)(1.0 - b2), eps, decoupled ? (f32)(1.0 - lr * wd) : 1.0f, decoupled ? 0.0f : wd,
            maximize ? -1.0f : 1.0f);
}
