/* run_program: a captured step (wasmdl.program.Program) as one opcode stream, executed in one
 * call. wasmdl/_wasm/program.py lowers each instruction to one or more records here; the
 * semantics of every record are the numpy kernels' (wasmdl/backend/numpy*.py).
 *
 * The stream is a flat int32 array of records [opcode, words, operands...] (`words` counts the
 * whole record). Addresses are byte offsets into Pyodide's memory (patched by the caller per
 * run for the batch); float operands are their float32 bit patterns, or two words (low, high)
 * of a float64 where the numpy kernel computes in double (optimizer hyper-parameters). Record
 * layouts (operand words after [opcode, words]) are listed with each opcode below and mirrored
 * by wasmdl/_wasm/program_ops.py and program_kernels.py; OP_EW and OP_FILL (every elementwise
 * op, reduction and copy) are in elementwise.c. Dtypes: program.h.
 * Like every kernel here: no stack, no heap, no data; scratch space comes in as addresses.
 */
#include "geo.h"
#include "program.h"

enum {
  OP_EW = 1,         /* fn dt | shape[6] | 4 x (addr esize strides[6]): d a b c */
  OP_FILL = 2,       /* addr n esize bits */
  OP_MATMUL = 3,     /* ta tb M N K A lda B ldb C ldc nb[3] sa[3] sb[3] work */
  OP_DENSE = 4,      /* M N K A B bias C act work */
  OP_ARGMAX = 5,     /* dt outer len inner x out */
  OP_GATHER = 6,     /* esize outer axis_len nidx inner x idx out */
  OP_SCATTER = 7,    /* outer axis_len nidx inner g idx out */
  OP_CONV = 8,       /* mode in1 in2 out col col_floats work groups geo[15] */
  OP_POOL = 9,       /* mode x g out geo[15] */
  OP_SOFTMAX = 10,   /* x y rows cols */
  OP_SMAX_GRAD = 11, /* g y out rows cols */
  OP_SXENT = 12,     /* x t sparse rows cols gaddr out */
  OP_PXENT = 13,     /* p t sparse rows cols eps gaddr out */
  OP_SGD = 14,       /* p g hp buf n momentum(f64) dampening(f64) wd(f64) nesterov maximize first */
  OP_ADAM = 15,      /* p g hp m v n b1(f64) b2(f64) eps(f64) wd(f64) decoupled maximize */
  OP_BIAS_ACT = 16,  /* y bias rows cols act: y = act(y + bias) in place, bias per column */
  OP_SGD_GEMM = 17,  /* ta tb M N K A lda B ldb C ldc hp sign work: C -= sign hp[0] op(A) op(B) */
  OP_SGD_COLSUM = 18, /* rows cols x p hp sign: p -= sign hp[0] (column sums of x) */
};

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
void conv2d_grouped(i32 mode, const i32 *geo, i32 groups, const f32 *a, const f32 *b, f32 *out,
                    f32 *col, i32 col_floats, f32 *work);
void maxpool2d_forward(const i32 *geo, const f32 *x, f32 *out);
void maxpool2d_grad(const i32 *geo, const f32 *x, const f32 *gy, f32 *dx);
void avgpool2d_forward(const i32 *geo, const f32 *x, f32 *out);
void avgpool2d_grad(const i32 *geo, const f32 *gy, f32 *dx);
void sgd_update(f32 *p, const f32 *g, const f32 *hp, f32 *buf, i32 n, f32 momentum,
                f32 dampening, f32 wd, i32 nesterov, i32 maximize, i32 first);
void adam_update(f32 *p, const f32 *g, const f32 *hp, f32 *m, f32 *v, i32 n, double b1,
                 double b2, f32 eps, f32 wd, i32 decoupled, i32 maximize);

/* OP_MATMUL: up to three broadcast batch axes (nb, with element strides sa, sb; C is
 * contiguous, M x ldc per batch entry). */
static void op_matmul(const i32 *r) {
  i32 ta = r[0], tb = r[1], M = r[2], N = r[3], K = r[4], lda = r[6], ldb = r[8], ldc = r[10];
  const i32 *nb = r + 11, *sa = r + 14, *sb = r + 17;
  f32 *A = PTR(f32, r[5]), *B = PTR(f32, r[7]), *C = PTR(f32, r[9]), *work = PTR(f32, r[20]);
  i32 rows = M < 4 && !ta && !tb && lda == K && ldb == N && ldc == N; /* GEMV row by row */
  for (i32 i = 0; i < nb[0]; i++)
    for (i32 j = 0; j < nb[1]; j++)
      for (i32 k = 0; k < nb[2]; k++, C += M * ldc) {
        const f32 *a = A + i * sa[0] + j * sa[1] + k * sa[2];
        const f32 *b = B + i * sb[0] + j * sb[1] + k * sb[2];
        if (rows)
          for (i32 m = 0; m < M; m++) wasmdl_gemv(K, N, a + m * K, b, C + m * N);
        else
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

/* OP_GATHER: numpy take (negative indices count from the end). An index outside the axis,
 * where numpy raises IndexError, reads nothing and gives zeros. */
static void op_gather(const i32 *r) {
  i32 es = r[0], outer = r[1], len = r[2], nidx = r[3], inner = r[4];
  const u8 *x = PTR(u8, r[5]);
  const i32 *idx = PTR(i32, r[6]);
  u8 *out = PTR(u8, r[7]);
  i32 row = inner * es;
  for (i32 o = 0; o < outer; o++)
    for (i32 i = 0; i < nidx; i++, out += row) {
      i32 k = idx[i] < 0 ? idx[i] + len : idx[i], ok = k >= 0 && k < len;
      const u8 *src = x + (o * len + k) * row;
      for (i32 b = 0; b < row; b++) out[b] = ok ? src[b] : 0;
    }
}

/* OP_SCATTER: out = zeros; out[..., idx[i], ...] += g[..., i, ...] (float32). An index outside
 * the axis (numpy raises) is skipped: nothing outside `out` is ever written. */
static void op_scatter(const i32 *r) {
  i32 outer = r[0], len = r[1], nidx = r[2], inner = r[3];
  const f32 *g = PTR(f32, r[4]);
  const i32 *idx = PTR(i32, r[5]);
  f32 *out = PTR(f32, r[6]);
  for (i32 j = 0; j < outer * len * inner; j++) out[j] = 0.0f;
  for (i32 o = 0; o < outer; o++)
    for (i32 i = 0; i < nidx; i++, g += inner) {
      i32 k = idx[i] < 0 ? idx[i] + len : idx[i];
      if (k < 0 || k >= len) continue;
      f32 *d = out + (o * len + k) * inner;
      i32 t = 0;
      for (; t + 4 <= inner; t += 4)
        wasm_v128_store(d + t, wasm_f32x4_add(wasm_v128_load(d + t), wasm_v128_load(g + t)));
      for (; t < inner; t++) d[t] += g[t];
    }
}

static void op_conv(const i32 *r) {
  conv2d_grouped(r[0], r + 8, r[7], PTR(f32, r[1]), PTR(f32, r[2]), PTR(f32, r[3]),
                 PTR(f32, r[4]), r[5], PTR(f32, r[6]));
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

/* OP_DENSE: act(x @ w + b); fewer than 4 rows (a batch-1 predict) take the GEMV row by row,
 * 1.2-1.5x sgemm's M < 4 path on matrix-vector shapes (see gemm.c). */
static void op_dense(const i32 *r) {
  i32 M = r[0], N = r[1], K = r[2];
  const f32 *x = PTR(f32, r[3]), *w = PTR(f32, r[4]), *b = PTR(f32, r[5]);
  f32 *y = PTR(f32, r[6]);
  if (M >= 4) {
    dense(0, 0, M, N, K, x, K, w, N, b, y, N, r[7], PTR(f32, r[8]));
    return;
  }
  for (i32 m = 0; m < M; m++) wasmdl_gemv(K, N, x + m * K, w, y + m * N);
  bias_act(y, b, M, N, N, r[7]);
}

/* OP_SGD_COLSUM: plain SGD on a bias, its gradient the column sums of x (rows x cols), summed
 * row after row as the sum record does (the same bits as sum + SGD). */
static void op_sgd_colsum(const i32 *r) {
  i32 rows = r[0], cols = r[1];
  const f32 *x = PTR(f32, r[2]);
  f32 *p = PTR(f32, r[3]), lr = PTR(f32, r[4])[0] * (f32)r[5];
  v128_t vlr = wasm_f32x4_splat(lr);
  i32 j = 0;
  for (; j + 4 <= cols; j += 4) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (i32 i = 0; i < rows; i++) acc = wasm_f32x4_add(acc, wasm_v128_load(x + i * cols + j));
    wasm_v128_store(p + j, wasm_f32x4_sub(wasm_v128_load(p + j), wasm_f32x4_mul(vlr, acc)));
  }
  for (; j < cols; j++) {
    f32 acc = 0.0f;
    for (i32 i = 0; i < rows; i++) acc += x[i * cols + j];
    p[j] -= lr * acc;
  }
}

/* Run the records of `code` (nwords int32 words) in order. */
EXPORT(run_program)
void run_program(const i32 *code, i32 nwords) {
  for (const i32 *end = code + nwords; code < end; code += code[1]) {
    const i32 *r = code + 2;
    switch (code[0]) {
      case OP_EW: ew_record(r); break;
      case OP_FILL: fill_record(r); break;
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
      case OP_SGD_GEMM: /* plain SGD with its gradient GEMM: the weight C accumulates -lr A B */
        wasmdl_sgemm(r[0], r[1], r[2], r[3], r[4], -(f32)r[12] * PTR(f32, r[11])[0], PTR(f32, r[5]),
                     r[6], PTR(f32, r[7]), r[8], 1.0f, PTR(f32, r[9]), r[10], PTR(f32, r[13]));
        break;
      case OP_SGD_COLSUM: op_sgd_colsum(r); break;
      case OP_BIAS_ACT: bias_act(PTR(f32, r[0]), PTR(f32, r[1]), r[2], r[3], r[3], r[4]); break;
      default: return; /* unknown opcode: stop (the encoder never emits one) */
    }
  }
}
