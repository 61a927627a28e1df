/* Shared definitions for wasmdl's WebAssembly SIMD CPU kernels.
 *
 * Every kernel runs inside Pyodide's own linear memory (the module imports it) on the addresses
 * of numpy arrays. The rules that keep that safe: no stack (no local arrays, no recursion that
 * spills), no heap, no static data, no globals. All scratch space is a caller-provided `work`
 * array. tests/native/test_wasm_modules.py checks the built module for these properties.
 */
#ifndef WASMDL_COMMON_H
#define WASMDL_COMMON_H

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name), visibility("default")))
#define INLINE static inline __attribute__((always_inline))

typedef float f32;
typedef int i32;

/* acc + x * y per lane. The relaxed-SIMD build (-mrelaxed-simd, WASMDL_RELAXED) uses
 * f32x4.relaxed_madd, which engines lower to one fused multiply-add where the CPU has it (half the
 * instructions of mul + add, one rounding instead of two); the plain SIMD128 build, for engines
 * without relaxed SIMD, keeps the separate mul and add. */
#ifdef WASMDL_RELAXED
#define MADD(acc, x, y)                                                                          \
  ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(x), (__f32x4)(y), (__f32x4)(acc)))
#else
#define MADD(acc, x, y) wasm_f32x4_add((acc), wasm_f32x4_mul((x), (y)))
#endif

INLINE i32 imin(i32 a, i32 b) { return a < b ? a : b; }
INLINE i32 imax(i32 a, i32 b) { return a > b ? a : b; }

/* C = alpha * op(A) @ op(B) + beta * C (row-major, float32). Defined in gemm.c. */
void wasmdl_sgemm(i32 ta, i32 tb, i32 M, i32 N, i32 K, f32 alpha, const f32 *A, i32 lda,
                  const f32 *B, i32 ldb, f32 beta, f32 *C, i32 ldc, f32 *work);

/* max(x, 0) with numpy's results (NaN stays NaN, -0 gives +0): f32x4.max's IEEE rules cost V8
 * about eight x86 instructions, f32x4.pmax (x < 0 ? 0 : x) one, and + 0 turns -0 into +0. */
INLINE v128_t relu4(v128_t x) {
  v128_t z = wasm_f32x4_splat(0.0f);
  return wasm_f32x4_add(wasm_f32x4_pmax(x, z), z);
}

/* y = x @ W for one row x (K) and W (K x N, row-major). Defined in gemm.c. */
void wasmdl_gemv(i32 K, i32 N, const f32 *x, const f32 *W, f32 *y);

#endif
