// math.glsl -- float helpers of the elementwise expression table (webgl_kernels.EXPRESSIONS),
//   included (``#include "math.glsl"``, replaced by webgl_glsl.template) by the kernels that
//   evaluate its expressions (elementwise.glsl).
// Numerically safe forms: SwiftShader's builtins for tanh/sin/cos are above the float32 test
// tolerance.
float tanh_(float x) {
  float e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
float sigmoid_(float x) {
  float e = exp(-abs(x));
  return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
float erf_(float x) {  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
  float t = 1.0 / (1.0 + 0.3275911 * abs(x));
  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                   + 0.254829592) * t * exp(-x * x);
  return sign(x) * y;
}
// sin/cos with Cody-Waite reduction by pi/2 and Cephes' polynomials
float sincos_(float x, int quarter) {
  float q = floor(x * 0.6366197723675814 + 0.5);
  float r = ((x - q * 1.5703125) - q * 4.837512969970703e-4) - q * 7.549789954891882e-8;
  float z = r * r;
  float s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  float c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3
                                      + z * 2.443315711809948e-5));
  int n = (int(q) + quarter) & 3;
  float v = (n & 1) == 1 ? c : s;
  return n >= 2 ? -v : v;
}
float sin_(float x) { return sincos_(x, 0); }
float cos_(float x) { return sincos_(x, 1); }
float pow_(float a, float b) {  // numpy semantics: negative bases with integral exponents
  if (b == 0.0) return 1.0;
  float r = pow(abs(a), b);
  if (a == 0.0) return b < 0.0 ? uintBitsToFloat(0x7f800000u) : 0.0;
  if (a > 0.0) return r;
  if (floor(b) != b) return uintBitsToFloat(0x7fc00000u | uint(p[0] & 0));  // NaN
  return floor(b * 0.5) * 2.0 != b ? -r : r;
}

