/* Float functions of the elementwise records beyond vmath.h, with numpy's edge cases
 * (log(0) = -inf, pow's special cases, ...). Only elementwise.c includes this. */
#ifndef WASMDL_FMATH_H
#define WASMDL_FMATH_H

#include "program.h"
#include "vmath.h"

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

#endif
