/* exp, log and tanh for the kernels (no libc: the module links nothing). float32 accuracy:
 * exp within 2 ulp over [-87, 88] (Cephes' range reduction and polynomial); log within 2 ulp
 * for normal positive inputs. tests/pyodide/test_wasm_kernels.py checks them against numpy. */
#ifndef WASMDL_VMATH_H
#define WASMDL_VMATH_H

#include "common.h"

#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f

/* exp(x) for four lanes: x = n ln2 + r, |r| <= ln2/2; exp(r) by a degree-6 polynomial; 2^n by
 * building the exponent bits. Inputs are clamped, so overflow gives ~3.4e38 and underflow 0. */
INLINE v128_t vexp(v128_t x) {
  /* pmin/pmax: one x86 instruction each (min/max's IEEE rules cost ~8); NaN stays NaN */
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.3f)), wasm_f32x4_splat(88.7f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(LOG2E)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(LN2_HI)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(LN2_LO)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r);
  p = wasm_f32x4_add(p, wasm_f32x4_splat(1.0f));
  /* n is in [-126, 128]; split 2^n = 2^(n/2) * 2^(n - n/2) so both factors are normal. */
  v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  v128_t h = wasm_i32x4_shr(ni, 1);
  v128_t bias = wasm_i32x4_splat(127);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(h, bias), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(ni, h), bias), 23);
  return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

INLINE f32 sexp(f32 x) { return wasm_f32x4_extract_lane(vexp(wasm_f32x4_splat(x)), 0); }

/* log(x) for x > 0 (normal): x = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s),
 * s = (m - 1) / (m + 1), by its odd series to s^9 (|s| < 0.172). Zero gives about -87.3*ln2
 * -ish large negative (callers clamp probabilities first). */
INLINE f32 slog(f32 x) {
  union { f32 f; i32 i; } u = {x};
  i32 e = ((u.i >> 23) & 0xff) - 127;
  u.i = (u.i & 0x007fffff) | 0x3f800000; /* m in [1, 2) */
  f32 m = u.f;
  if (m > 1.41421356f) m *= 0.5f, e += 1;
  f32 s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  f32 poly = 1.0f + s2 * (0.333333333f + s2 * (0.2f + s2 * (0.142857143f + s2 * 0.111111111f)));
  return 2.0f * s * poly + (f32)e * 0.693147181f;
}

/* tanh(x) = 1 - 2 / (exp(2x) + 1), with the sign kept for tiny |x| by the identity's form. */
INLINE v128_t vtanh(v128_t x) {
  v128_t e = vexp(wasm_f32x4_add(x, x));
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t t = wasm_f32x4_sub(one, wasm_f32x4_div(wasm_f32x4_splat(2.0f), wasm_f32x4_add(e, one)));
  /* for |x| < 0.0005, tanh x = x to float precision (avoids cancellation in 1 - 2/(e+1)) */
  v128_t small = wasm_f32x4_lt(wasm_f32x4_abs(x), wasm_f32x4_splat(5e-4f));
  return wasm_v128_bitselect(x, t, small);
}

INLINE v128_t vsigmoid(v128_t x) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, vexp(wasm_f32x4_neg(x))));
}

#endif
