/* The elementwise records of run_program's stream (program.c): OP_EW, one strided loop over
 * up to six axes for every unary, binary, comparison, where, cast, reduction (the output's
 * stride 0 on reduced axes) and copy (permute, expand, slice, pad, concat), with numpy's
 * broadcasting and dtypes float32, int32 and bool; and OP_FILL. Layouts: program.c. The
 * semantics are the numpy kernels' (wasmdl/backend/numpy.py). */
#include "fmath.h"

/* elementwise functions (OP_EW's fn) */
enum {
  F_COPY = 0, F_NEG, F_ABS, F_EXP, F_LOG, F_SQRT, F_TANH, F_SIGMOID, F_RELU, F_SIN, F_COS, F_ERF,
  F_ADD = 16, F_SUB, F_MUL, F_DIV, F_POW, F_MAX, F_MIN, F_RELU_GRAD,
  F_EQ = 32, F_NE, F_LT, F_LE, F_GT, F_GE,
  F_WHERE = 48,
  F_CAST = 64, /* + destination dtype; dt is the source's */
};

/* ------------------------------------------------------------------ inner loops
 * n elements; d, a, b with element strides ds, as, bs. Unit strides (and a broadcast scalar)
 * take four lanes at a time; anything else goes element by element through the same vector
 * expression on splats, so both paths round alike. ds == 0 with d == a is a reduction into
 * d[0]; a row of one element (ds == 0 too once coalesced) is a plain operation. */
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
UN_F32(un_relu, relu4(x))
UN_F32(un_sin, PER_LANE(fsincos, x, 0))
UN_F32(un_cos, PER_LANE(fsincos, x, 1))
UN_F32(un_erf, PER_LANE(ferf, x))

#define BIN(NAME, T, SPLAT, LANE0, EXPR)                                                         \
  static void NAME(i32 n, T *d, i32 ds, const T *a, i32 as, const T *b, i32 bs) {                \
    i32 j = 0;                                                                                   \
    if (ds == 0 && d == a) { /* a reduction of b into d[0] (not a row of length 1) */            \
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

/* Many short rows of a binary float32 op, all three unit-strided within a row (a bias added to
 * every pixel, a gradient summed over the batch into one row): the same vector expression as
 * BIN's unit-stride path, without a call and a dispatch per row. Rows run in order, so an
 * output row that is also the input row (outer stride 0: a sum over rows) accumulates as
 * ew_row would. */
#define BIN2D(NAME, EXPR)                                                                        \
  static void NAME(i32 rows, i32 n, f32 *d, i32 dr, const f32 *a, i32 ar, const f32 *b, i32 br) { \
    for (i32 r = 0; r < rows; r++, d += dr, a += ar, b += br) {                                  \
      i32 j = 0;                                                                                 \
      for (; j + 4 <= n; j += 4) {                                                               \
        v128_t x = wasm_v128_load(a + j), y = wasm_v128_load(b + j);                             \
        wasm_v128_store(d + j, (EXPR));                                                          \
      }                                                                                          \
      for (; j < n; j++) {                                                                       \
        v128_t x = wasm_f32x4_splat(a[j]), y = wasm_f32x4_splat(b[j]);                           \
        d[j] = lane0(EXPR);                                                                      \
      }                                                                                          \
    }                                                                                            \
  }
BIN2D(b2_add, wasm_f32x4_add(x, y))
BIN2D(b2_sub, wasm_f32x4_sub(x, y))
BIN2D(b2_mul, wasm_f32x4_mul(x, y))
BIN2D(b2_div, wasm_f32x4_div(x, y))
BIN2D(b2_max, wasm_f32x4_max(x, y))
BIN2D(b2_min, wasm_f32x4_min(x, y))
BIN2D(b2_relu_grad, wasm_f32x4_mul(x, wasm_v128_and(wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f)),
                                                     wasm_f32x4_splat(1.0f))))

/* rows x n of a binary float32 op through BIN2D; 0 when fn has no 2-D form */
static i32 ew_rows_f32(i32 fn, i32 rows, i32 n, f32 *d, i32 dr, const f32 *a, i32 ar,
                       const f32 *b, i32 br) {
  switch (fn) {
    case F_ADD: b2_add(rows, n, d, dr, a, ar, b, br); return 1;
    case F_SUB: b2_sub(rows, n, d, dr, a, ar, b, br); return 1;
    case F_MUL: b2_mul(rows, n, d, dr, a, ar, b, br); return 1;
    case F_DIV: b2_div(rows, n, d, dr, a, ar, b, br); return 1;
    case F_MAX: b2_max(rows, n, d, dr, a, ar, b, br); return 1;
    case F_MIN: b2_min(rows, n, d, dr, a, ar, b, br); return 1;
    case F_RELU_GRAD: b2_relu_grad(rows, n, d, dr, a, ar, b, br); return 1;
    default: return 0;
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
  } else if (dt == DT_U8 && fn < F_EQ) { /* bool arithmetic as numpy: + and max are or, * and
                                            min are and */
    for (i32 j = 0; j < n; j++) {
      u8 x = a[j * as] != 0, y = b[j * bs] != 0;
      d[j * ds] = fn == F_ADD || fn == F_MAX ? (x | y) : (x & y);
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
void ew_record(const i32 *r) {
  i32 fn = r[0], dt = r[1];
  const i32 *sh = r + 2, *od = r + 8, *oa = r + 16, *ob = r + 24, *oc = r + 32;
#define OFF(o, k) ((o)[1] * (o)[2 + (k)])
  /* short unit-stride rows of a float32 binary op: the last two axes in one call */
  i32 two = dt == DT_F32 && sh[5] < 64 && sh[4] > 1 && od[7] == 1 && oa[7] == 1 && ob[7] == 1;
  for (i32 i0 = 0; i0 < sh[0]; i0++)
    for (i32 i1 = 0; i1 < sh[1]; i1++)
      for (i32 i2 = 0; i2 < sh[2]; i2++)
        for (i32 i3 = 0; i3 < sh[3]; i3++)
          for (i32 i4 = 0; i4 < sh[4]; i4++) {
#define AT(o) PTR(u8, (o)[0] + i0 * OFF(o, 0) + i1 * OFF(o, 1) + i2 * OFF(o, 2) + i3 * OFF(o, 3) + \
                          i4 * OFF(o, 4))
            if (two && i4 == 0 &&
                ew_rows_f32(fn, sh[4], sh[5], (f32 *)AT(od), od[6], (const f32 *)AT(oa), oa[6],
                            (const f32 *)AT(ob), ob[6]))
              break; /* all sh[4] rows done */
            ew_row(fn, dt, sh[5], AT(od), od[7], AT(oa), oa[7], AT(ob), ob[7], AT(oc), oc[7]);
          }
#undef AT
#undef OFF
}

void fill_record(const i32 *r) {
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

