/* sgemm: C = alpha * op(A) @ op(B) + beta * C, row-major float32, all four transpose cases.
 *
 * op(A) is M x K, op(B) is K x N, C is M x N with leading dimensions lda, ldb, ldc (elements).
 * Blocking: K is split evenly into blocks of at most KC steps; per K block, M into blocks whose
 * packed A fits MC x KC floats and N into blocks whose packed B fits KC x NC floats (a short K
 * block, e.g. K = 64 in a weight gradient, takes more rows and columns, so B is repacked less).
 * Per (K block, M block), the full 4-row tiles of op(A) are packed once into `work`, interleaved
 * (a[k * 4 + r]), so the micro-kernel reads all of A through one pointer with constant offsets.
 * op(B) is packed into kc x 8 panels (zero-padded), each staying in L1 while every 4-row tile
 * passes over it: an untransposed B one panel ahead, copied by the first tile of the panel before
 * (micro_4x8_copy: the copy uses load/store slots the multiply-adds leave idle; packing B alone
 * took ~4% of the time), a transposed B right before its tiles, through 4x4 transposes. The
 * micro-kernel is a 4x8 register tile (8 f32x4 accumulators): per k it loads two B vectors,
 * splats four A values and does eight multiply-adds (MADD: fused in the relaxed-SIMD build); it
 * runs at the CPU's 128-bit FMA peak in L1, and sgemm at ~90% of that. V8 keeps 16 xmm
 * registers: a 6x8 tile, a 4x8 loop unrolled by 2, and a transposed-B tile of splat B x packed A
 * columns (9 loads per 8 multiply-adds) were all slower. Rows left over after the 4-row tiles
 * (M % 4, and matrix-vector shapes with M < 4) take a 1x8 kernel reading op(A) in place, and for
 * M < 4 an untransposed B is read in place too (packing would not be reused).
 * `work` must hold SGEMM_WORK floats: the packed B block, a 4x8 edge tile, the packed A block and
 * 16 floats of slack to align them to 64 bytes (Pyodide's numpy arrays are only 8-byte aligned,
 * and a packed panel straddling cache lines costs ~3%).
 * beta == 0 never reads C (so NaN or garbage in C does not propagate), as in BLAS.
 */
#include "common.h"

#define MR 4
#define NR 8
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 64
#endif
#ifndef NC
#define NC 64
#endif
#define SGEMM_WORK (KC * NC + MR * NR + MC * KC + 16)

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

/* 4x8 tile over kc steps: row r, step k of op(A) at a[r * ars + k * aks], step k of B at
 * b[k * bks] (8 columns). Packed operands: ars 1, aks MR, bks NR; the small-K path reads A and B
 * in place (ars lda, aks 1, bks ldb). Constant strides fold away when inlined. */
INLINE void micro_4x8_s(i32 kc, const f32 *a, i32 ars, i32 aks, const f32 *b, i32 bks, f32 *c,
                        i32 ldc, f32 alpha, f32 beta) {
  v128_t z = wasm_f32x4_splat(0.0f);
  v128_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  for (i32 k = 0; k < kc; k++, a += aks, b += bks) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t x = wasm_v128_load32_splat(a);
    c00 = MADD(c00, x, b0), c01 = MADD(c01, x, b1);
    x = wasm_v128_load32_splat(a + ars);
    c10 = MADD(c10, x, b0), c11 = MADD(c11, x, b1);
    x = wasm_v128_load32_splat(a + 2 * ars);
    c20 = MADD(c20, x, b0), c21 = MADD(c21, x, b1);
    x = wasm_v128_load32_splat(a + 3 * ars);
    c30 = MADD(c30, x, b0), c31 = MADD(c31, x, b1);
  }
  v128_t va = wasm_f32x4_splat(alpha);
  store_vec(c, c00, va, beta), store_vec(c + 4, c01, va, beta), c += ldc;
  store_vec(c, c10, va, beta), store_vec(c + 4, c11, va, beta), c += ldc;
  store_vec(c, c20, va, beta), store_vec(c + 4, c21, va, beta), c += ldc;
  store_vec(c, c30, va, beta), store_vec(c + 4, c31, va, beta);
}

/* 4x8 tile over packed operands: `a` a packed 4-row tile (a[k * 4 + r]), `b` a packed panel
 * (b[k * 8 + c]). */
INLINE void micro_4x8(i32 kc, const f32 *a, const f32 *b, f32 *c, i32 ldc, f32 alpha, f32 beta) {
  micro_4x8_s(kc, a, 1, MR, b, NR, c, ldc, alpha, beta);
}

/* micro_4x8 that also copies a kc x 8 block (rows lds apart) from src to the panel dst: the
 * next panel's packing rides on the load/store ports while the multiply-adds keep the FMA ports
 * busy. */
INLINE void micro_4x8_copy(i32 kc, const f32 *a, const f32 *b, f32 *c, i32 ldc, f32 alpha,
                           f32 beta, const f32 *src, i32 lds, f32 *dst) {
  v128_t z = wasm_f32x4_splat(0.0f);
  v128_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  for (i32 k = 0; k < kc; k++, a += MR, b += NR, src += lds, dst += NR) {
    wasm_v128_store(dst, wasm_v128_load(src));
    wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t x = wasm_v128_load32_splat(a);
    c00 = MADD(c00, x, b0), c01 = MADD(c01, x, b1);
    x = wasm_v128_load32_splat(a + 1);
    c10 = MADD(c10, x, b0), c11 = MADD(c11, x, b1);
    x = wasm_v128_load32_splat(a + 2);
    c20 = MADD(c20, x, b0), c21 = MADD(c21, x, b1);
    x = wasm_v128_load32_splat(a + 3);
    c30 = MADD(c30, x, b0), c31 = MADD(c31, x, b1);
  }
  v128_t va = wasm_f32x4_splat(alpha);
  store_vec(c, c00, va, beta), store_vec(c + 4, c01, va, beta), c += ldc;
  store_vec(c, c10, va, beta), store_vec(c + 4, c11, va, beta), c += ldc;
  store_vec(c, c20, va, beta), store_vec(c + 4, c21, va, beta), c += ldc;
  store_vec(c, c30, va, beta), store_vec(c + 4, c31, va, beta);
}

/* Pack four rows of op(A) (the first at `a`; rows ars apart, k steps aks apart) over kc steps
 * into dst[k * 4 + r]. Contiguous rows go four k-steps at a time through a 4x4 transpose. */
static void pack_a(f32 *dst, const f32 *a, i32 ars, i32 aks, i32 kc) {
  i32 k = 0;
  if (aks == 1) {
    for (; k + 4 <= kc; k += 4, dst += 16) {
      v128_t r0 = wasm_v128_load(a + k), r1 = wasm_v128_load(a + ars + k);
      v128_t r2 = wasm_v128_load(a + 2 * ars + k), r3 = wasm_v128_load(a + 3 * ars + k);
      v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
      v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
      wasm_v128_store(dst, wasm_i64x2_shuffle(t0, t2, 0, 2));
      wasm_v128_store(dst + 4, wasm_i64x2_shuffle(t0, t2, 1, 3));
      wasm_v128_store(dst + 8, wasm_i64x2_shuffle(t1, t3, 0, 2));
      wasm_v128_store(dst + 12, wasm_i64x2_shuffle(t1, t3, 1, 3));
    }
  } else if (ars == 1) {  /* op(A) = A^T: the four values of one k are adjacent */
    for (; k < kc; k++, dst += MR) wasm_v128_store(dst, wasm_v128_load(a + k * aks));
  }
  for (; k < kc; k++, dst += MR) {
    for (i32 r = 0; r < MR; r++) dst[r] = a[r * ars + k * aks];
  }
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
    s0 = MADD(s0, x, wasm_v128_load(b)), s1 = MADD(s1, x, wasm_v128_load(b + 4));
    t0 = MADD(t0, y, wasm_v128_load(b + bks)), t1 = MADD(t1, y, wasm_v128_load(b + bks + 4));
    a += 2 * aks, b += 2 * bks;
  }
  if (k < kc) {
    v128_t x = wasm_v128_load32_splat(a);
    s0 = MADD(s0, x, wasm_v128_load(b)), s1 = MADD(s1, x, wasm_v128_load(b + 4));
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

/* Pack columns j..j+nc of an untransposed B (rows p..p+kc) into consecutive kc x 8 panels, the
 * last one zero-padded, reading each row of B once across all full panels. */
static void pack_b_block(f32 *dst, const f32 *B, i32 ldb, i32 p, i32 j, i32 kc, i32 nc) {
  i32 nfull = nc / NR, ps = kc * NR;
  const f32 *b = B + p * ldb + j;
  f32 *d = dst;
  for (i32 k = 0; k < kc; k++, b += ldb, d += NR) {
    for (i32 q = 0; q < nfull; q++) {
      wasm_v128_store(d + q * ps, wasm_v128_load(b + q * NR));
      wasm_v128_store(d + q * ps + 4, wasm_v128_load(b + q * NR + 4));
    }
  }
  if (nc > nfull * NR) pack_b(dst + nfull * ps, 0, B, ldb, p, j + nfull * NR, kc, nc - nfull * NR);
}

/* C = alpha A @ B + beta C for K <= SMALL_K, no transposes, N a multiple of 8 (e.g. a first
 * convolution's im2col GEMM: K = 3 x 3 x 1 = 9, N = 16 filters): every operand read in place.
 * Measured in Node on 676 x 16 x 9 (the MNIST CNN's first layer): packing A cost more than the
 * arithmetic. */
#define SMALL_K 16
static void sgemm_small_k(i32 M, i32 N, i32 K, f32 alpha, const f32 *A, i32 lda, const f32 *B,
                          i32 ldb, f32 beta, f32 *C, i32 ldc) {
  i32 m = 0;
  for (; m + MR <= M; m += MR)
    for (i32 j = 0; j < N; j += NR)
      micro_4x8_s(K, A + m * lda, lda, 1, B + j, ldb, C + m * ldc + j, ldc, alpha, beta);
  for (; m < M; m++)
    for (i32 j = 0; j < N; j += NR) micro_1x8(K, A + m * lda, 1, B + j, ldb, C + m * ldc + j, alpha, beta);
}

/* Even split of n into blocks of at most cap (a multiple of unit): the block step. */
INLINE i32 block_step(i32 n, i32 cap, i32 unit) {
  i32 nb = (n + cap - 1) / cap;
  return ((n + nb - 1) / nb + unit - 1) / unit * unit;
}

void wasmdl_sgemm(i32 ta, i32 tb, i32 M, i32 N, i32 K, f32 alpha, const f32 *A, i32 lda,
                  const f32 *B, i32 ldb, f32 beta, f32 *C, i32 ldc, f32 *work) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  if (!ta && !tb && K <= SMALL_K && N % NR == 0 && M >= MR) {
    sgemm_small_k(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  work = (f32 *)(((unsigned long)work + 63) & ~63ul); /* 64-byte aligned packed panels */
  f32 *bpack = work, *tile = bpack + KC * NC, *apack = tile + MR * NR;
  i32 ars = ta ? 1 : lda, aks = ta ? lda : 1;
  /* Packing B pays off once a panel is reused by several 4-row tiles; matrix-vector shapes
   * (M < 4, e.g. inference on one sample) read an untransposed B in place. */
  i32 direct = !tb && M < MR;
  i32 kstep = block_step(K, KC, 1);
  for (i32 p = 0; p < K; p += kstep) {
    i32 kc = imin(kstep, K - p);
    f32 bt = p == 0 ? beta : 1.0f;
    /* the packed blocks hold MC x KC and KC x NC floats: shorter k blocks take more rows/columns */
    i32 mstep = block_step(M, imax(MR, MC * KC / kc / MR * MR), MR);
    i32 nstep = block_step(N, imax(NR, KC * NC / kc / NR * NR), NR);
    for (i32 i0 = 0; i0 < M; i0 += mstep) {
      i32 mc = imin(mstep, M - i0), mfull = mc / MR * MR;
      for (i32 i = 0; i < mfull; i += MR)
        pack_a(apack + i * kc, A + (i0 + i) * ars + p * aks, ars, aks, kc);
      for (i32 j0 = 0; j0 < N; j0 += nstep) {
        i32 nc = imin(nstep, N - j0);
        /* an untransposed B: the block's first panel is packed here, each next one while the
         * first tile runs over the panel before (or all at once when there is no full tile) */
        i32 ahead = !tb && !direct && mfull > 0;
        if (ahead) pack_b(bpack, 0, B, ldb, p, j0, kc, imin(NR, nc));
        else if (!tb && !direct) pack_b_block(bpack, B, ldb, p, j0, kc, nc);
        for (i32 j = j0; j < j0 + nc; j += NR) {
          i32 nr = imin(NR, j0 + nc - j);
          const f32 *bp = bpack + (j - j0) * kc;
          i32 bks = NR;
          if (tb) { /* a transposed B: each panel packed right before its tiles */
            pack_b(bpack, 1, B, ldb, p, j, kc, nr);
            bp = bpack;
          } else if (direct && nr == NR) {
            bp = B + p * ldb + j, bks = ldb;
          } else if (direct) {
            pack_b(bpack, 0, B, ldb, p, j, kc, nr);
            bp = bpack;
          }
          f32 *c = C + i0 * ldc + j;
          i32 i = 0;
          if (ahead) {
            f32 *next = bpack + (j - j0 + NR) * kc;
            i32 nn = imin(NR, j0 + nc - j - NR); /* columns of the next panel */
            if (nr == NR && nn == NR) {
              micro_4x8_copy(kc, apack, bp, c, ldc, alpha, bt, B + p * ldb + j + NR, ldb, next);
              i = MR, c += MR * ldc;
            } else if (nn > 0) {
              pack_b(next, 0, B, ldb, p, j + NR, kc, nn);
            }
          }
          for (; i < mfull; i += MR, c += MR * ldc) {
            if (nr == NR) {
              micro_4x8(kc, apack + i * kc, bp, c, ldc, alpha, bt);
            } else {
              micro_4x8(kc, apack + i * kc, bp, tile, NR, alpha, 0.0f);
              merge_tile(tile, MR, nr, c, ldc, bt);
            }
          }
          for (i = mfull; i < mc; i++, c += ldc) {
            const f32 *a = A + (i0 + i) * ars + p * aks;
            if (nr == NR) {
              micro_1x8(kc, a, aks, bp, bks, c, alpha, bt);
            } else {
              micro_1x8(kc, a, aks, bp, bks, tile, alpha, 0.0f);
              merge_tile(tile, 1, nr, c, ldc, bt);
            }
          }
        }
      }
    }
  }
}

EXPORT(sgemm)
void sgemm(i32 ta, i32 tb, i32 M, i32 N, i32 K, f32 alpha, const f32 *A, i32 lda, const f32 *B,
           i32 ldb, f32 beta, f32 *C, i32 ldc, f32 *work) {
  wasmdl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, work);
}

/* y = x @ W (wasmdl_gemv, used by program.c) for one row x (K) and W (K x N, row-major):
 * matrix-vector shapes, i.e. inference on one sample. W is streamed in order, 8 rows at a time: each 4-column slice of y is loaded once
 * per 8 rows and gets their 8 products as one multiply-add chain (the slices are independent,
 * so out-of-order execution overlaps the chains). Measured in V8 (Node 20) on the benchmark's
 * networks (d1..d8 x w128/w256, one sample): 1.2-1.5x sgemm's M = 1 path (micro_1x8 over
 * 8-column panels, whose cache lines each serve two panels); 1.0-1.3x a 32-column register
 * block walking all of K (fastest while W stays in L2 alone, slower once the layers together
 * leave it); ~8% faster than summing the 8 products pairwise; 4 or 16 rows at a time, or 8
 * columns per step, were slower. Columns past a multiple of 4 (the 10 outputs) go one at a
 * time. */
void wasmdl_gemv(i32 K, i32 N, const f32 *x, const f32 *W, f32 *y) {
  i32 n4 = N & ~3, k = 0;
  for (i32 j = 0; j < N; j++) y[j] = 0.0f;
  for (; k + 8 <= K; k += 8) {
    const f32 *w = W + k * N;
    v128_t x0 = wasm_v128_load32_splat(x + k), x1 = wasm_v128_load32_splat(x + k + 1);
    v128_t x2 = wasm_v128_load32_splat(x + k + 2), x3 = wasm_v128_load32_splat(x + k + 3);
    v128_t x4 = wasm_v128_load32_splat(x + k + 4), x5 = wasm_v128_load32_splat(x + k + 5);
    v128_t x6 = wasm_v128_load32_splat(x + k + 6), x7 = wasm_v128_load32_splat(x + k + 7);
    for (i32 j = 0; j < n4; j += 4) {
      const f32 *c = w + j;
      v128_t a = wasm_v128_load(y + j);
      a = MADD(a, x0, wasm_v128_load(c)), a = MADD(a, x1, wasm_v128_load(c + N));
      a = MADD(a, x2, wasm_v128_load(c + 2 * N)), a = MADD(a, x3, wasm_v128_load(c + 3 * N));
      a = MADD(a, x4, wasm_v128_load(c + 4 * N)), a = MADD(a, x5, wasm_v128_load(c + 5 * N));
      a = MADD(a, x6, wasm_v128_load(c + 6 * N)), a = MADD(a, x7, wasm_v128_load(c + 7 * N));
      wasm_v128_store(y + j, a);
    }
    for (i32 j = n4; j < N; j++) {
      for (i32 r = 0; r < 8; r++) y[j] += x[k + r] * w[r * N + j];
    }
  }
  for (; k < K; k++) {
    const f32 *w = W + k * N;
    v128_t xk = wasm_v128_load32_splat(x + k);
    for (i32 j = 0; j < n4; j += 4) {
      wasm_v128_store(y + j, MADD(wasm_v128_load(y + j), xk, wasm_v128_load(w + j)));
    }
    for (i32 j = n4; j < N; j++) y[j] += x[k] * w[j];
  }
}
