/* sgemm: C = alpha * op(A) @ op(B) + beta * C, row-major float32, all four transpose cases.
 *
 * op(A) is M x K, op(B) is K x N, C is M x N with leading dimensions lda, ldb, ldc (elements).
 * Blocking: K is split into blocks of at most KC; N into panels of NR = 8 columns; M into
 * panels of MR = 4 rows. A 4x8 register tile (8 f32x4 accumulators) is the micro-kernel: per k
 * it loads two B vectors and splats four A values. V8 keeps 16 xmm registers; a 6x8 tile
 * spilled and was slower.
 * Each KC x 8 panel of op(B) is packed (transposed if needed, zero-padded) into `work` and then
 * stays in L1 while every 4-row tile of op(A) passes over it (reading B in place was ~1.5x
 * slower); only M < 4 reads a full panel of an untransposed B in place. op(A) is never packed: a row
 * of op(A) is either contiguous (A not transposed) or four consecutive floats (A transposed).
 * `work` must hold SGEMM_WORK floats: the packed panel plus a 4x8 edge tile.
 * beta == 0 never reads C (so NaN or garbage in C does not propagate), as in BLAS.
 */
#include "common.h"

#define MR 4
#define NR 8
#ifndef KC
#define KC 256
#endif
#define SGEMM_WORK (KC * NR + MR * NR)

EXPORT(sgemm_work_floats) i32 sgemm_work_floats(void) { return SGEMM_WORK; }

/* Merge a finished accumulator into C: C = alpha * acc + beta * C (beta == 0: C not read). */
INLINE void store_vec(f32 *c, v128_t acc, v128_t va, f32 beta) {
  v128_t r = wasm_f32x4_mul(acc, va);
  if (beta == 1.0f) {
    r = wasm_f32x4_add(r, wasm_v128_load(c));
  } else if (beta != 0.0f) {
    r = wasm_f32x4_add(r, wasm_f32x4_mul(wasm_v128_load(c), wasm_f32x4_splat(beta)));
  }
  wasm_v128_store(c, r);
}

/* 4x8 tile over kc steps. Rows of op(A) start at a0..a3 and advance by aks per k; the B panel
 * starts at b and advances by bks per k. */
INLINE void micro_4x8(i32 kc, const f32 *a0, const f32 *a1, const f32 *a2, const f32 *a3,
                      i32 aks, const f32 *b, i32 bks, f32 *c, i32 ldc, f32 alpha, f32 beta) {
  v128_t z = wasm_f32x4_splat(0.0f);
  v128_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
#ifdef UNROLL2
#pragma clang loop unroll_count(2)
#endif
  for (i32 k = 0; k < kc; k++) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t a = wasm_v128_load32_splat(a0);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(a1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(a2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(a3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, b1));
    a0 += aks, a1 += aks, a2 += aks, a3 += aks, b += bks;
  }
  v128_t va = wasm_f32x4_splat(alpha);
  store_vec(c, c00, va, beta), store_vec(c + 4, c01, va, beta), c += ldc;
  store_vec(c, c10, va, beta), store_vec(c + 4, c11, va, beta), c += ldc;
  store_vec(c, c20, va, beta), store_vec(c + 4, c21, va, beta), c += ldc;
  store_vec(c, c30, va, beta), store_vec(c + 4, c31, va, beta);
}

/* 1x8 tile: one row of op(A) (for M % 4 leftovers and matrix-vector shapes). Four partial
 * sums per column vector break the add latency chain. */
INLINE void micro_1x8(i32 kc, const f32 *a, i32 aks, const f32 *b, i32 bks, f32 *c, f32 alpha,
                      f32 beta) {
  v128_t z = wasm_f32x4_splat(0.0f);
  v128_t s0 = z, s1 = z, t0 = z, t1 = z;
  i32 k = 0;
  for (; k + 1 < kc; k += 2) {
    v128_t x = wasm_v128_load32_splat(a), y = wasm_v128_load32_splat(a + aks);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(b)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(b + 4)));
    t0 = wasm_f32x4_add(t0, wasm_f32x4_mul(y, wasm_v128_load(b + bks)));
    t1 = wasm_f32x4_add(t1, wasm_f32x4_mul(y, wasm_v128_load(b + bks + 4)));
    a += 2 * aks, b += 2 * bks;
  }
  if (k < kc) {
    v128_t x = wasm_v128_load32_splat(a);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(b)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(b + 4)));
  }
  v128_t va = wasm_f32x4_splat(alpha);
  store_vec(c, wasm_f32x4_add(s0, t0), va, beta);
  store_vec(c + 4, wasm_f32x4_add(s1, t1), va, beta);
}

/* Copy a kc x nr block of op(B) (starting at row p, column j) into a kc x 8 panel, zero-padded.
 * Full panels are copied with vector loads: rows of B directly, and for a transposed B four
 * k-steps of eight rows at a time through two 4x4 transposes. */
static void pack_b(f32 *dst, i32 tb, const f32 *B, i32 ldb, i32 p, i32 j, i32 kc, i32 nr) {
  i32 k = 0;
  if (nr == NR && !tb) {
    const f32 *b = B + p * ldb + j;
    for (; k < kc; k++, b += ldb, dst += NR) {
      wasm_v128_store(dst, wasm_v128_load(b));
      wasm_v128_store(dst + 4, wasm_v128_load(b + 4));
    }
    return;
  }
  if (nr == NR) {
    const f32 *b = B + j * ldb + p;
    for (; k + 4 <= kc; k += 4, b += 4, dst += 4 * NR) {
      for (i32 h = 0; h < 2; h++) {
        const f32 *r = b + 4 * h * ldb;
        v128_t r0 = wasm_v128_load(r), r1 = wasm_v128_load(r + ldb);
        v128_t r2 = wasm_v128_load(r + 2 * ldb), r3 = wasm_v128_load(r + 3 * ldb);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(dst + 4 * h, wasm_i64x2_shuffle(t0, t2, 0, 2));
        wasm_v128_store(dst + NR + 4 * h, wasm_i64x2_shuffle(t0, t2, 1, 3));
        wasm_v128_store(dst + 2 * NR + 4 * h, wasm_i64x2_shuffle(t1, t3, 0, 2));
        wasm_v128_store(dst + 3 * NR + 4 * h, wasm_i64x2_shuffle(t1, t3, 1, 3));
      }
    }
  }
  for (; k < kc; k++, dst += NR) {
    for (i32 c = 0; c < NR; c++) {
      f32 v = 0.0f;
      if (c < nr) v = tb ? B[(j + c) * ldb + p + k] : B[(p + k) * ldb + j + c];
      dst[c] = v;
    }
  }
}

/* Add an alpha-scaled mr x nr tile (row stride NR) into C with beta. */
static void merge_tile(const f32 *t, i32 mr, i32 nr, f32 *C, i32 ldc, f32 beta) {
  for (i32 r = 0; r < mr; r++) {
    for (i32 c = 0; c < nr; c++) {
      f32 v = t[r * NR + c];
      C[r * ldc + c] = beta == 0.0f ? v : v + beta * C[r * ldc + c];
    }
  }
}

/* C = beta * C for the degenerate cases K == 0 or alpha == 0. */
static void scale_c(i32 M, i32 N, f32 beta, f32 *C, i32 ldc) {
  for (i32 i = 0; i < M; i++)
    for (i32 j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/* One K block (rows p..p+kc of op(B)) against all of op(A) and C. */
static void gemm_block(i32 ta, i32 tb, i32 M, i32 N, i32 p, i32 kc, f32 alpha, const f32 *A,
                       i32 lda, const f32 *B, i32 ldb, f32 beta, f32 *C, i32 ldc, f32 *work) {
  f32 *tile = work + KC * NR;
  i32 ars = ta ? 1 : lda, aks = ta ? lda : 1;
  /* Packing pays off once a B panel is reused by several 4-row tiles; matrix-vector shapes
   * (M < 4, e.g. inference on one sample) read B in place. */
  i32 direct = !tb && M < MR;
  for (i32 j = 0; j < N; j += NR) {
    i32 nr = imin(NR, N - j);
    const f32 *bp = work;
    i32 bks = NR;
    if (direct && nr == NR) {
      bp = B + p * ldb + j, bks = ldb;
    } else {
      pack_b(work, tb, B, ldb, p, j, kc, nr);
    }
    i32 i = 0;
    for (; i + MR <= M; i += MR) {
      const f32 *a = A + i * ars + p * aks;
      if (nr == NR) {
        micro_4x8(kc, a, a + ars, a + 2 * ars, a + 3 * ars, aks, bp, bks, C + i * ldc + j, ldc,
                  alpha, beta);
      } else {
        micro_4x8(kc, a, a + ars, a + 2 * ars, a + 3 * ars, aks, bp, bks, tile, NR, alpha, 0.0f);
        merge_tile(tile, MR, nr, C + i * ldc + j, ldc, beta);
      }
    }
    for (; i < M; i++) {
      const f32 *a = A + i * ars + p * aks;
      if (nr == NR) {
        micro_1x8(kc, a, aks, bp, bks, C + i * ldc + j, alpha, beta);
      } else {
        micro_1x8(kc, a, aks, bp, bks, tile, alpha, 0.0f);
        merge_tile(tile, 1, nr, C + i * ldc + j, ldc, beta);
      }
    }
  }
}

void wasmdl_sgemm(i32 ta, i32 tb, i32 M, i32 N, i32 K, f32 alpha, const f32 *A, i32 lda,
                  const f32 *B, i32 ldb, f32 beta, f32 *C, i32 ldc, f32 *work) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  i32 nblocks = (K + KC - 1) / KC;
  i32 step = (K + nblocks - 1) / nblocks;
  for (i32 p = 0; p < K; p += step) {
    gemm_block(ta, tb, M, N, p, imin(step, K - p), alpha, A, lda, B, ldb, p == 0 ? beta : 1.0f,
               C, ldc, work);
  }
}

EXPORT(sgemm)
void sgemm(i32 ta, i32 tb, i32 M, i32 N, i32 K, f32 alpha, const f32 *A, i32 lda, const f32 *B,
           i32 ldb, f32 beta, f32 *C, i32 ldc, f32 *work) {
  wasmdl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, work);
}
