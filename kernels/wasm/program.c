/* run_program: a captured step (wasmdl.program.Program) as one opcode stream, executed in one
 * call. wasmdl/_wasm/program.py lowers each instruction to one or more records here; the
 * semantics of every record are the numpy kernels' (wasmdl/backend/numpy*.py).
 *
 * The stream is a flat int32 array of records [opcode, words, operands...] (`words` counts the
 * whole record). Addresses are byte offsets into Pyodide's memory (patched by the caller per
 * run for the batch); float operands are their float32 bit patterns, or two words (low, high)
 * of a float64 where the numpy kernel computes in double (optimizer hyper-parameters). Record
 * layouts (operand words after [opcode, words]) are listed with each opcode below and mirrored
 * by program_ops.py's encoders. Dtype codes: 0 float32, 1 int32, 2 bool (uint8).
 * Like every kernel here: no stack, no heap, no data; scratch space comes in as addresses.
 */
#include "geo.h"
#include "vmath.h"

typedef unsigned char u8;
typedef unsigned long long u64;

enum {
  OP_EW = 1,         /* fn dt | shape[6] | 4 x (addr esize strides[6]): d a b c */
  OP_FILL = 2,       /* addr n esize bits */
  OP_MATMUL = 3,     /* ta tb M N K A lda B ldb C ldc nb[3] sa[3] sb[3] work */
  OP_DENSE = 4,      /* M N K A B bias C act work */
  OP_ARGMAX = 5,     /* dt outer len inner x out */
  OP_GATHER = 6,     /* esize outer axis_len nidx inner x idx out */
  OP_SCATTER = 7,    /* outer axis_len nidx inner g idx out */
  OP_CONV = 8,       /* mode in1 in2 out col col_floats work geo[15] */
  OP_POOL = 9,       /* mode x g out geo[15] */
  OP_SOFTMAX = 10,   /* x y rows cols */
  OP_SMAX_GRAD = 11, /* g y out rows cols */
  OP_SXENT = 12,     /* x t sparse rows cols gaddr out */
  OP_PXENT = 13,     /* p t sparse rows cols eps gaddr out */
  OP_SGD = 14,       /* p g hp buf n momentum(f64) dampening(f64) wd(f64) nesterov maximize first */
  OP_ADAM = 15,      /* p g hp m v n b1(f64) b2(f64) eps(f64) wd(f64) decoupled maximize */
};

/* elementwise functions (OP_EW's fn) */
enum {
  F_COPY = 0, F_NEG, F_ABS, F_EXP, F_LOG, F_SQRT, F_TANH, F_SIGMOID, F_RELU, F_SIN, F_COS, F_ERF,
  F_ADD = 16, F_SUB, F_MUL, F_DIV, F_POW, F_MAX, F_MIN, F_RELU_GRAD,
  F_EQ = 32, F_NE, F_LT, F_LE, F_GT, F_GE,
  F_WHERE = 48,
  F_CAST = 64, /* + destination dtype; dt is the source's */
};
enum { DT_F32 = 0, DT_I32 = 1, DT_U8 = 2 };

/* the other kernels of the module */
void bias_act(f32 *y, const f32 *bias, i32 rows, i32 cols, i32 ldy, i32 act);
void softmax(const f32 *x, f32 *y, i32 rows, i32 cols, i32 ld);
f32 softmax_xent_labels(const f32 *logits, const i32 *labels, i32 rows, i32 cols, i32 ld,
                        f32 *grad, f32 scale);
f32 softmax_xent_probs(const f32 *logits, const f32 *t, i32 rows, i32 cols, i32 ld, i32 ldt,
                       f32 *grad, f32 scale);
f32 prob_xent(const f32 *p, const void *t, i32 sparse, i32 rows, i32 cols, f32 eps, f32 *grad,
              f32 gscale);
void dense(i32 ta, i32 tb, i32 M, i32 N, i32 K, const f32 *A, i32 lda, const f32 *B, i32 ldb,
           const f32 *bias, f32 *C, i32 ldc, i32 act, f32 *work);
void conv2d_forward(const i32 *geo, const f32 *x, const f32 *w, f32 *out, f32 *col, i32 cf,
                    f32 *work);
void conv2d_grad_input(const i32 *geo, const f32 *g, const f32 *w, f32 *dx, f32 *col, i32 cf,
                       f32 *work);
void conv2d_grad_weight(const i32 *geo, const f32 *x, const f32 *g, f32 *dw, f32 *col, i32 cf,
                        f32 *work);
void maxpool2d_forward(const i32 *geo, const f32 *x, f32 *out);
void maxpool2d_grad(const i32 *geo, const f32 *x, const f32 *gy, f32 *dx);
void avgpool2d_forward(const i32 *geo, const f32 *x, f32 *out);
void avgpool2d_grad(const i32 *geo, const f32 *gy, f32 *dx);
void sgd_update(f32 *p, const f32 *g, const f32 *hp, f32 *buf, i32 n, f32 momentum,
                f32 dampening, f32 wd, i32 nesterov, i32 maximize, i32 first);
void adam_update(f32 *p, const f32 *g, const f32 *hp, f32 *m, f32 *v, i32 n, double b1,
                 double b2, f32 eps, f32 wd, i32 decoupled, i32 maximize);

#define PTR(T, w) ((T *)(__SIZE_TYPE__)(unsigned)(w))

INLINE f32 bits_f32(i32 w) {
  union { i32 i; f32 f; } u = {w};
  return u.f;
}

INLINE double rd64(const i32 *p) {
  union { u64 u; double d; } v = {(u64)(unsigned)p[0] | ((u64)(unsigned)p[1] << 32)};
  return v.d;
}

INLINE f32 lane0(v128_t v) { return wasm_f32x4_extract_lane(v, 0); }

/* float -> int32 as numpy on the CPU: truncation (saturating here, NaN gives 0; a plain C
 * cast would trap out of range) */
INLINE i32 f2i(f32 v) {
  return wasm_i32x4_extract_lane(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_splat(v)), 0);
}

/* ------------------------------------------------------------------ float functions */
/* log with numpy's edges: log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, NaN stays. */
static __attribute__((noinline)) f32 flog(f32 x) {
  if (!(x > 0.0f)) return x == 0.0f ? -__builtin_inff() : __builtin_nanf("");
  if (x > 3.40282347e38f) return x;
  if (x < 1.17549435e-38f) return slog(x * 8388608.0f) - 23.0f * 0.693147181f;
  return slog(x);
}

INLINE v128_t vlog(v128_t x) {
  return wasm_f32x4_make(flog(wasm_f32x4_extract_lane(x, 0)), flog(wasm_f32x4_extract_lane(x, 1)),
                         flog(wasm_f32x4_extract_lane(x, 2)), flog(wasm_f32x4_extract_lane(x, 3)));
}

/* exp with inf and 0 beyond float range (vexp saturates) */
INLINE v128_t vexpf(v128_t x) {
  v128_t e = vexp(x);
  e = wasm_v128_bitselect(wasm_f32x4_splat(__builtin_inff()), e,
                          wasm_f32x4_gt(x, wasm_f32x4_splat(88.7228f)));
  return wasm_v128_bitselect(wasm_f32x4_splat(0.0f), e, wasm_f32x4_lt(x, wasm_f32x4_splat(-103.9f)));
}

INLINE v128_t vsigm(v128_t x) { /* numpy backend: 0.5 tanh(0.5 x) + 0.5 */
  v128_t h = wasm_f32x4_splat(0.5f);
  return wasm_f32x4_add(wasm_f32x4_mul(vtanh(wasm_f32x4_mul(x, h)), h), h);
}

/* sin and cos (Cephes' sinf/cosf): x = j pi/4 + z by a three-part pi/4, then the sine or
 * cosine polynomial of z by octant. Accurate to float32 rounding for |x| up to ~1e5 (the
 * reduction loses bits beyond; numpy reduces exactly). */
static __attribute__((noinline)) f32 fsincos(f32 x, i32 cosine) {
  if (x != x || x - x != 0.0f) return __builtin_nanf(""); /* NaN, +-inf */
  f32 sign = 1.0f;
  if (x < 0.0f) {
    x = -x;
    if (!cosine) sign = -1.0f;
  }
  i32 j = f2i(x * 1.27323954473516f);
  f32 y = (f32)j;
  if (j & 1) j += 1, y += 1.0f;
  j &= 7;
  if (j > 3) sign = -sign, j -= 4;
  if (cosine && j > 1) sign = -sign;
  f32 z = ((x - y * 0.78515625f) - y * 2.4187564849853515625e-4f) - y * 3.77489497744594108e-8f;
  f32 zz = z * z;
  i32 use_cos = cosine ? (j == 0 || j == 3) : (j == 1 || j == 2);
  if (use_cos)
    y = ((2.443315711809948e-5f * zz - 1.388731625493765e-3f) * zz + 4.166664568298827e-2f) *
            zz * zz - 0.5f * zz + 1.0f;
  else
    y = ((-1.9515295891e-4f * zz + 8.3321608736e-3f) * zz - 1.6666654611e-1f) * zz * z + z;
  return sign * y;
}

/* erf: its Taylor series for |x| < 0.5; beyond, 1 - erfc with Numerical Recipes' Chebyshev
 * fit of erfc (fractional error < 1.2e-7). */
static __attribute__((noinline)) f32 ferf(f32 x) {
  if (x != x) return x;
  f32 a = x < 0.0f ? -x : x, r;
  if (a < 0.5f) {
    f32 x2 = a * a;
    r = a * (1.128379167f + x2 * (-0.376126389f + x2 * (0.112837917f + x2 * (-0.026866170f +
        x2 * (0.005223978f + x2 * (-0.000854833f + x2 * 0.000120553f))))));  /* 2/sqrt(pi) terms */
  } else if (a > 10.0f) {
    r = 1.0f;
  } else {
    f32 t = 1.0f / (1.0f + 0.5f * a);
    f32 p = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
            t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
            t * (-0.82215223f + t * 0.17087277f))))))));
    r = 1.0f - t * sexp(p - a * a);
  }
  return x < 0.0f ? -r : r;
}

#define PER_LANE(f, x, ...)                                                                      \
  wasm_f32x4_make(f(wasm_f32x4_extract_lane(x, 0), ##__VA_ARGS__),                                \
                  f(wasm_f32x4_extract_lane(x, 1), ##__VA_ARGS__),                                \
                  f(wasm_f32x4_extract_lane(x, 2), ##__VA_ARGS__),                                \
                  f(wasm_f32x4_extract_lane(x, 3), ##__VA_ARGS__))

/* a ** b: exact products for small integer exponents (x ** 2 is x * x, as numpy), sqrt for
 * 0.5, else exp(b log a) with pow's edges. */
static __attribute__((noinline)) f32 fpow(f32 a, f32 b) {
  if (b == 0.0f) return 1.0f;
  if (b == 0.5f && a >= 0.0f) return lane0(wasm_f32x4_sqrt(wasm_f32x4_splat(a)));
  i32 k = f2i(b > 64.0f || b < -64.0f ? 0.5f : b);
  if ((f32)k == b) {
    i32 e = k < 0 ? -k : k;
    f32 r = 1.0f, s = a;
    for (; e; e >>= 1, s *= s)
      if (e & 1) r *= s;
    return k < 0 ? 1.0f / r : r;
  }
  if (a < 0.0f) return __builtin_nanf("");
  if (a == 0.0f) return b > 0.0f ? 0.0f : __builtin_inff();
  return lane0(vexpf(wasm_f32x4_splat(b * flog(a))));
}

INLINE v128_t vpow(v128_t a, v128_t b) {
  return wasm_f32x4_make(
      fpow(wasm_f32x4_extract_lane(a, 0), wasm_f32x4_extract_lane(b, 0)),
      fpow(wasm_f32x4_extract_lane(a, 1), wasm_f32x4_extract_lane(b, 1)),
      fpow(wasm_f32x4_extract_lane(a, 2), wasm_f32x4_extract_lane(b, 2)),
      fpow(wasm_f32x4_extract_lane(a, 3), wasm_f32x4_extract_lane(b, 3)));
}

/* ------------------------------------------------------------------ inner loops
 * n elements; d, a, b with element strides ds, as, bs. Unit strides (and a broadcast scalar)
 * take four lanes at a time; anything else goes element by element through the same vector
 * expression on splats, so both paths round alike. ds == 0 is a reduction into d[0] (a == d). */
#define UN_F32(NAME, EXPR)                                                                       \
  static void NAME(i32 n, f32 *d, i32 ds, const f32 *a, i32 as) {                                \
    i32 j = 0;                                                                                   \
    if (ds == 1 && as == 1)                                                                      \
      for (; j + 4 <= n; j += 4) {                                                               \
        v128_t x = wasm_v128_load(a + j);                                                        \
        wasm_v128_store(d + j, (EXPR));                                                          \
      }                                                                                          \
    for (; j < n; j++) {                                                                         \
      v128_t x = wasm_f32x4_splat(a[j * as]);                                                    \
      d[j * ds] = lane0(EXPR);                                                                   \
    }                                                                                            \
  }

UN_F32(un_neg, wasm_f32x4_neg(x))
UN_F32(un_abs, wasm_f32x4_abs(x))
UN_F32(un_exp, vexpf(x))
UN_F32(un_log, vlog(x))
UN_F32(un_sqrt, wasm_f32x4_sqrt(x))
UN_F32(un_tanh, vtanh(x))
UN_F32(un_sigmoid, vsigm(x))
UN_F32(un_relu, wasm_f32x4_max(x, wasm_f32x4_splat(0.0f)))
UN_F32(un_sin, PER_LANE(fsincos, x, 0))
UN_F32(un_cos, PER_LANE(fsincos, x, 1))
UN_F32(un_erf, PER_LANE(ferf, x))

#define BIN(NAME, T, SPLAT, LANE0, EXPR)                                                         \
  static void NAME(i32 n, T *d, i32 ds, const T *a, i32 as, const T *b, i32 bs) {                \
    i32 j = 0;                                                                                   \
    if (ds == 0) { /* reduction of b into d[0] */                                                \
      v128_t r = SPLAT(d[0]);                                                                    \
      if (bs == 1 && n >= 4) {                                                                   \
        v128_t acc = wasm_v128_load(b), x, y;                                                    \
        for (j = 4; j + 4 <= n; j += 4) {                                                        \
          x = acc, y = wasm_v128_load(b + j);                                                    \
          acc = (EXPR);                                                                          \
        }                                                                                        \
        x = acc, y = wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1), acc = (EXPR);                     \
        x = acc, y = wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2), acc = (EXPR);                     \
        x = r, y = acc, r = (EXPR);                                                              \
      }                                                                                          \
      for (; j < n; j++) {                                                                       \
        v128_t x = r, y = SPLAT(b[j * bs]);                                                      \
        r = (EXPR);                                                                              \
      }                                                                                          \
      d[0] = LANE0(r);                                                                           \
      return;                                                                                    \
    }                                                                                            \
    if (ds == 1 && as == 1 && bs == 1)                                                           \
      for (; j + 4 <= n; j += 4) {                                                               \
        v128_t x = wasm_v128_load(a + j), y = wasm_v128_load(b + j);                             \
        wasm_v128_store(d + j, (EXPR));                                                          \
      }                                                                                          \
    else if (ds == 1 && as == 1 && bs == 0) {                                                    \
      v128_t y = SPLAT(b[0]);                                                                    \
      for (; j + 4 <= n; j += 4) {                                                               \
        v128_t x = wasm_v128_load(a + j);                                                        \
        wasm_v128_store(d + j, (EXPR));                                                          \
      }                                                                                          \
    } else if (ds == 1 && as == 0 && bs == 1) {                                                  \
      v128_t x = SPLAT(a[0]);                                                                    \
      for (; j + 4 <= n; j += 4) {                                                               \
        v128_t y = wasm_v128_load(b + j);                                                        \
        wasm_v128_store(d + j, (EXPR));                                                          \
      }                                                                                          \
    }                                                                                            \
    for (; j < n; j++) {                                                                         \
      v128_t x = SPLAT(a[j * as]), y = SPLAT(b[j * bs]);                                         \
      d[j * ds] = LANE0(EXPR);                                                                   \
    }                                                                                            \
  }

#define I0(v) wasm_i32x4_extract_lane(v, 0)
BIN(bf_add, f32, wasm_f32x4_splat, lane0, wasm_f32x4_add(x, y))
BIN(bf_sub, f32, wasm_f32x4_splat, lane0, wasm_f32x4_sub(x, y))
BIN(bf_mul, f32, wasm_f32x4_splat, lane0, wasm_f32x4_mul(x, y))
BIN(bf_div, f32, wasm_f32x4_splat, lane0, wasm_f32x4_div(x, y))
BIN(bf_pow, f32, wasm_f32x4_splat, lane0, vpow(x, y))
BIN(bf_max, f32, wasm_f32x4_splat, lane0, wasm_f32x4_max(x, y))
BIN(bf_min, f32, wasm_f32x4_splat, lane0, wasm_f32x4_min(x, y))
/* g * (y > 0) as numpy multiplies: by 1.0 or 0.0 (so inf * 0 is NaN, as there) */
BIN(bf_relu_grad, f32, wasm_f32x4_splat, lane0,
    wasm_f32x4_mul(x, wasm_v128_and(wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f)),
                                    wasm_f32x4_splat(1.0f))))
BIN(bi_add, i32, wasm_i32x4_splat, I0, wasm_i32x4_add(x, y))
BIN(bi_sub, i32, wasm_i32x4_splat, I0, wasm_i32x4_sub(x, y))
BIN(bi_mul, i32, wasm_i32x4_splat, I0, wasm_i32x4_mul(x, y))
BIN(bi_max, i32, wasm_i32x4_splat, I0, wasm_i32x4_max(x, y))
BIN(bi_min, i32, wasm_i32x4_splat, I0, wasm_i32x4_min(x, y))

/* copies of 4-byte and 1-byte elements (bit patterns kept), integer negation and abs */
static void copy4(i32 n, i32 *d, i32 ds, const i32 *a, i32 as) {
  i32 j = 0;
  if (ds == 1 && as == 1)
    for (; j + 4 <= n; j += 4) wasm_v128_store(d + j, wasm_v128_load(a + j));
  for (; j < n; j++) d[j * ds] = a[j * as];
}

static void copy1(i32 n, u8 *d, i32 ds, const u8 *a, i32 as) {
  for (i32 j = 0; j < n; j++) d[j * ds] = a[j * as];
}

static void un_i32(i32 fn, i32 n, i32 *d, i32 ds, const i32 *a, i32 as) {
  for (i32 j = 0; j < n; j++) {
    i32 v = a[j * as];
    d[j * ds] = fn == F_NEG ? -v : (v < 0 ? -v : v);
  }
}

#define CMP_LOOP(OP)                                                                             \
  for (i32 j = 0; j < n; j++) d[j * ds] = a[j * as] OP b[j * bs];                                \
  break;
#define CMP_FN(NAME, T)                                                                          \
  static void NAME(i32 fn, i32 n, u8 *d, i32 ds, const T *a, i32 as, const T *b, i32 bs) {       \
    switch (fn) {                                                                                \
      case F_EQ: CMP_LOOP(==)                                                                    \
      case F_NE: CMP_LOOP(!=)                                                                    \
      case F_LT: CMP_LOOP(<)                                                                     \
      case F_LE: CMP_LOOP(<=)                                                                    \
      case F_GT: CMP_LOOP(>)                                                                     \
      default: CMP_LOOP(>=)                                                                      \
    }                                                                                            \
  }
CMP_FN(cmp_f32, f32)
CMP_FN(cmp_i32, i32)
CMP_FN(cmp_u8, u8)


static void cast(i32 src, i32 dst, i32 n, void *d, i32 ds, const void *a, i32 as) {
  const f32 *af = a;
  const i32 *ai = a;
  const u8 *au = a;
  f32 *df = d;
  i32 *di = d;
  u8 *du = d;
  for (i32 j = 0; j < n; j++) {
    i32 o = j * ds, i = j * as;
    if (src == DT_F32 && dst == DT_I32) di[o] = f2i(af[i]);
    else if (src == DT_F32) du[o] = af[i] != 0.0f;
    else if (src == DT_I32 && dst == DT_F32) df[o] = (f32)ai[i];
    else if (src == DT_I32) du[o] = ai[i] != 0;
    else if (dst == DT_F32) df[o] = (f32)au[i];
    else di[o] = au[i];
  }
}

/* One row of an OP_EW record: n elements at d, a, b, c (byte addresses) with element
 * strides. */
static __attribute__((noinline)) void ew_row(i32 fn, i32 dt, i32 n, u8 *d, i32 ds, u8 *a, i32 as, u8 *b, i32 bs, u8 *c,
                   i32 cs) {
  f32 *df = (f32 *)d, *af = (f32 *)a, *bf = (f32 *)b;
  i32 *di = (i32 *)d, *ai = (i32 *)a, *bi = (i32 *)b;
  if (fn == F_COPY) {
    if (dt == DT_U8) copy1(n, d, ds, a, as);
    else copy4(n, di, ds, ai, as);
  } else if (fn >= F_CAST) {
    if (fn - F_CAST == dt) ew_row(F_COPY, dt, n, d, ds, a, as, b, bs, c, cs);
    else cast(dt, fn - F_CAST, n, d, ds, a, as);
  } else if (fn == F_WHERE) { /* a: the condition; b, c: the values */
    for (i32 j = 0; j < n; j++) {
      i32 t = a[j * as] != 0;
      if (dt == DT_U8) d[j * ds] = t ? b[j * bs] : c[j * cs];
      else di[j * ds] = t ? ((i32 *)b)[j * bs] : ((i32 *)c)[j * cs];
    }
  } else if (fn >= F_EQ) {
    if (dt == DT_F32) cmp_f32(fn, n, d, ds, af, as, bf, bs);
    else if (dt == DT_I32) cmp_i32(fn, n, d, ds, ai, as, bi, bs);
    else cmp_u8(fn, n, d, ds, a, as, b, bs);
  } else if (dt == DT_I32) {
    switch (fn) {
      case F_ADD: bi_add(n, di, ds, ai, as, bi, bs); break;
      case F_SUB: bi_sub(n, di, ds, ai, as, bi, bs); break;
      case F_MUL: bi_mul(n, di, ds, ai, as, bi, bs); break;
      case F_MAX: bi_max(n, di, ds, ai, as, bi, bs); break;
      case F_MIN: bi_min(n, di, ds, ai, as, bi, bs); break;
      default: un_i32(fn, n, di, ds, ai, as);
    }
  } else {
    switch (fn) {
      case F_NEG: un_neg(n, df, ds, af, as); break;
      case F_ABS: un_abs(n, df, ds, af, as); break;
      case F_EXP: un_exp(n, df, ds, af, as); break;
      case F_LOG: un_log(n, df, ds, af, as); break;
      case F_SQRT: un_sqrt(n, df, ds, af, as); break;
      case F_TANH: un_tanh(n, df, ds, af, as); break;
      case F_SIGMOID: un_sigmoid(n, df, ds, af, as); break;
      case F_RELU: un_relu(n, df, ds, af, as); break;
      case F_SIN: un_sin(n, df, ds, af, as); break;
      case F_COS: un_cos(n, df, ds, af, as); break;
      case F_ERF: un_erf(n, df, ds, af, as); break;
      case F_ADD: bf_add(n, df, ds, af, as, bf, bs); break;
      case F_SUB: bf_sub(n, df, ds, af, as, bf, bs); break;
      case F_MUL: bf_mul(n, df, ds, af, as, bf, bs); break;
      case F_DIV: bf_div(n, df, ds, af, as, bf, bs); break;
      case F_POW: bf_pow(n, df, ds, af, as, bf, bs); break;
      case F_MAX: bf_max(n, df, ds, af, as, bf, bs); break;
      case F_MIN: bf_min(n, df, ds, af, as, bf, bs); break;
      default: bf_relu_grad(n, df, ds, af, as, bf, bs);
    }
  }
}

/* OP_EW: fn dt | shape[6] | d: addr esize strides[6] | a | b | c. The last axis is the row. */
static void op_ew(const i32 *r) {
  i32 fn = r[0], dt = r[1];
  const i32 *sh = r + 2, *od = r + 8, *oa = r + 16, *ob = r + 24, *oc = r + 32;
#define OFF(o, k) ((o)[1] * (o)[2 + (k)])
  for (i32 i0 = 0; i0 < sh[0]; i0++)
    for (i32 i1 = 0; i1 < sh[1]; i1++)
      for (i32 i2 = 0; i2 < sh[2]; i2++)
        for (i32 i3 = 0; i3 < sh[3]; i3++)
          for (i32 i4 = 0; i4 < sh[4]; i4++) {
#define AT(o) PTR(u8, (o)[0] + i0 * OFF(o, 0) + i1 * OFF(o, 1) + i2 * OFF(o, 2) + i3 * OFF(o, 3) + \
                          i4 * OFF(o, 4))
            ew_row(fn, dt, sh[5], AT(od), od[7], AT(oa), oa[7], AT(ob), ob[7], AT(oc), oc[7]);
          }
#undef AT
#undef OFF
}

static void op_fill(const i32 *r) {
  i32 n = r[1], bits = r[3];
  if (r[2] == 1) {
    u8 *d = PTR(u8, r[0]);
    for (i32 j = 0; j < n; j++) d[j] = (u8)bits;
  } else {
    i32 *d = PTR(i32, r[0]), j = 0;
    v128_t v = wasm_i32x4_splat(bits);
    for (; j + 4 <= n; j += 4) wasm_v128_store(d + j, v);
    for (; j < n; j++) d[j] = bits;
  }
}

/* OP_MATMUL: up to three broadcast batch axes (nb, with element strides sa, sb; C is
 * contiguous, M x ldc per batch entry). */
static void op_matmul(const i32 *r) {
  i32 ta = r[0], tb = r[1], M = r[2], N = r[3], K = r[4], lda = r[6], ldb = r[8], ldc = r[10];
  const i32 *nb = r + 11, *sa = r + 14, *sb = r + 17;
  f32 *A = PTR(f32, r[5]), *B = PTR(f32, r[7]), *C = PTR(f32, r[9]), *work = PTR(f32, r[20]);
  for (i32 i = 0; i < nb[0]; i++)
    for (i32 j = 0; j < nb[1]; j++)
      for (i32 k = 0; k < nb[2]; k++, C += M * ldc) {
        const f32 *a = A + i * sa[0] + j * sa[1] + k * sa[2];
        const f32 *b = B + i * sb[0] + j * sb[1] + k * sb[2];
        wasmdl_sgemm(ta, tb, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, C, ldc, work);
      }
}

/* OP_ARGMAX: numpy's first maximum, a NaN counting as the maximum (its first one). */
static void op_argmax(const i32 *r) {
  i32 dt = r[0], outer = r[1], len = r[2], inner = r[3];
  const f32 *xf = PTR(f32, r[4]);
  const i32 *xi = PTR(i32, r[4]);
  i32 *out = PTR(i32, r[5]);
  for (i32 o = 0; o < outer; o++)
    for (i32 i = 0; i < inner; i++) {
      i32 base = o * len * inner + i, best = 0;
      if (dt == DT_F32) {
        f32 bv = xf[base];
        for (i32 k = 1; k < len; k++) {
          f32 v = xf[base + k * inner];
          if (v > bv || (v != v && bv == bv)) bv = v, best = k;
        }
      } else {
        i32 bv = xi[base];
        for (i32 k = 1; k < len; k++)
          if (xi[base + k * inner] > bv) bv = xi[base + k * inner], best = k;
      }
      out[o * inner + i] = best;
    }
}

/* OP_GATHER: numpy take (negative indices count from the end). */
static void op_gather(const i32 *r) {
  i32 es = r[0], outer = r[1], len = r[2], nidx = r[3], inner = r[4];
  const u8 *x = PTR(u8, r[5]);
  const i32 *idx = PTR(i32, r[6]);
  u8 *out = PTR(u8, r[7]);
  i32 row = inner * es;
  for (i32 o = 0; o < outer; o++)
    for (i32 i = 0; i < nidx; i++, out += row) {
      i32 k = idx[i] < 0 ? idx[i] + len : idx[i];
      const u8 *src = x + (o * len + k) * row;
      if (es == 4) copy4(inner, (i32 *)out, 1, (const i32 *)src, 1);
      else copy1(row, out, 1, src, 1);
    }
}

/* OP_SCATTER: out = zeros; out[..., idx[i], ...] += g[..., i, ...] (float32) */
static void op_scatter(const i32 *r) {
  i32 outer = r[0], len = r[1], nidx = r[2], inner = r[3];
  const f32 *g = PTR(f32, r[4]);
  const i32 *idx = PTR(i32, r[5]);
  f32 *out = PTR(f32, r[6]);
  for (i32 j = 0; j < outer * len * inner; j++) out[j] = 0.0f;
  for (i32 o = 0; o < outer; o++)
    for (i32 i = 0; i < nidx; i++, g += inner) {
      i32 k = idx[i] < 0 ? idx[i] + len : idx[i];
      f32 *d = out + (o * len + k) * inner;
      bf_add(inner, d, 1, d, 1, g, 1);
    }
}

static void op_conv(const i32 *r) {
  const i32 *geo = r + 7;
  f32 *col = PTR(f32, r[4]), *work = PTR(f32, r[6]), *out = PTR(f32, r[3]);
  const f32 *x = PTR(f32, r[1]), *y = PTR(f32, r[2]);
  if (r[0] == 0) conv2d_forward(geo, x, y, out, col, r[5], work);
  else if (r[0] == 1) conv2d_grad_input(geo, x, y, out, col, r[5], work);
  else conv2d_grad_weight(geo, x, y, out, col, r[5], work);
}

static void op_pool(const i32 *r) {
  const i32 *geo = r + 4;
  const f32 *x = PTR(f32, r[1]), *g = PTR(f32, r[2]);
  f32 *out = PTR(f32, r[3]);
  switch (r[0]) {
    case 0: maxpool2d_forward(geo, x, out); break;
    case 1: maxpool2d_grad(geo, x, g, out); break;
    case 2: avgpool2d_forward(geo, x, out); break;
    default: avgpool2d_grad(geo, g, out);
  }
}

/* softmax_grad: y * (g - sum(g * y)) over the last axis */
static void op_smax_grad(const i32 *r) {
  const f32 *g = PTR(f32, r[0]), *y = PTR(f32, r[1]);
  f32 *out = PTR(f32, r[2]);
  i32 rows = r[3], cols = r[4];
  for (i32 i = 0; i < rows; i++, g += cols, y += cols, out += cols) {
    f32 s = 0.0f;
    for (i32 j = 0; j < cols; j++) s += g[j] * y[j];
    for (i32 j = 0; j < cols; j++) out[j] = (g[j] - s) * y[j];
  }
}

/* softmax_cross_entropy(_grad): the mean over rows; the gradient reads the cotangent g[0]. */
static void op_sxent(const i32 *r) {
  const f32 *x = PTR(f32, r[0]), *gin = PTR(f32, r[5]);
  const void *t = PTR(void, r[1]);
  i32 sparse = r[2], rows = r[3], cols = r[4];
  f32 *out = PTR(f32, r[6]), *grad = gin ? out : 0;
  f32 scale = gin ? gin[0] / (f32)imax(rows, 1) : 0.0f, total;
  if (sparse) total = softmax_xent_labels(x, t, rows, cols, cols, grad, scale);
  else total = softmax_xent_probs(x, t, rows, cols, cols, cols, grad, scale);
  if (!gin) out[0] = rows ? total / (f32)rows : __builtin_nanf("");
}

static void op_pxent(const i32 *r) {
  const f32 *p = PTR(f32, r[0]), *gin = PTR(f32, r[6]);
  i32 rows = r[3];
  f32 *out = PTR(f32, r[7]);
  f32 scale = gin ? gin[0] / (f32)imax(rows, 1) : 0.0f;
  f32 total = prob_xent(p, PTR(void, r[1]), r[2], rows, r[4], bits_f32(r[5]), gin ? out : 0, scale);
  if (!gin) out[0] = rows ? total / (f32)rows : __builtin_nanf("");
}

static void op_dense(const i32 *r) {
  i32 M = r[0], N = r[1], K = r[2];
  dense(0, 0, M, N, K, PTR(f32, r[3]), K, PTR(f32, r[4]), N, PTR(f32, r[5]), PTR(f32, r[6]), N,
        r[7], PTR(f32, r[8]));
}

/* Run the records of `code` (nwords int32 words) in order. */
EXPORT(run_program)
void run_program(const i32 *code, i32 nwords) {
  for (const i32 *end = code + nwords; code < end; code += code[1]) {
    const i32 *r = code + 2;
    switch (code[0]) {
      case OP_EW: op_ew(r); break;
      case OP_FILL: op_fill(r); break;
      case OP_MATMUL: op_matmul(r); break;
      case OP_DENSE: op_dense(r); break;
      case OP_ARGMAX: op_argmax(r); break;
      case OP_GATHER: op_gather(r); break;
      case OP_SCATTER: op_scatter(r); break;
      case OP_CONV: op_conv(r); break;
      case OP_POOL: op_pool(r); break;
      case OP_SOFTMAX: softmax(PTR(f32, r[0]), PTR(f32, r[1]), r[2], r[3], r[3]); break;
      case OP_SMAX_GRAD: op_smax_grad(r); break;
      case OP_SXENT: op_sxent(r); break;
      case OP_PXENT: op_pxent(r); break;
      case OP_SGD:
        sgd_update(PTR(f32, r[0]), PTR(f32, r[1]), PTR(f32, r[2]), PTR(f32, r[3]), r[4],
                   (f32)rd64(r + 5), (f32)rd64(r + 7), (f32)rd64(r + 9), r[11], r[12], r[13]);
        break;
      case OP_ADAM:
        adam_update(PTR(f32, r[0]), PTR(f32, r[1]), PTR(f32, r[2]), PTR(f32, r[3]),
                    PTR(f32, r[4]), r[5], rd64(r + 6), rd64(r + 8), (f32)rd64(r + 10),
                    (f32)rd64(r + 12), r[14], r[15]);
        break;
      default: return; /* unknown opcode: stop (the encoder never emits one) */
    }
  }
}
