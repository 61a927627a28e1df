/* 2-D convolution, channels-last (NHWC activations, HWIO kernels), groups = 1, by blocked
 * im2col + sgemm. All N*OH*OW output pixels form one long row dimension P; the patch rows of a
 * block of pixels are gathered into the caller's `col` workspace (cols_floats long), so memory
 * stays bounded whatever the batch. A patch row is ordered (kh, kw, c), which is exactly the
 * HWIO kernel flattened to a (KH*KW*C) x O matrix W:
 *   forward      out[P, O]       = col[P, KKC] @ W[KKC, O]
 *   grad input   dcol[P, KKC]    = g[P, O] @ W^T           then scattered (col2im) into dx
 *   grad weight  dW[KKC, O]     += col^T @ g[P, O]
 * Geometry comes in one int32 array `geo` (geo.h) to keep the call short. Grouped convolutions
 * run the same per group on its channels (program.c's stream); depthwise ones (groups = C = O)
 * take a direct kernel vectorised over channels instead.
 */
#include "geo.h"

/* dst[0:n] = src[0:n] (add != 0: dst += src); src null: zeros. */
INLINE void row_copy(f32 *dst, const f32 *src, i32 n, i32 add) {
  i32 j = 0;
  if (!src) {
    for (; j + 4 <= n; j += 4) wasm_v128_store(dst + j, wasm_f32x4_splat(0.0f));
    for (; j < n; j++) dst[j] = 0.0f;
    return;
  }
  for (; j + 4 <= n; j += 4) {
    v128_t v = wasm_v128_load(src + j);
    if (add) v = wasm_f32x4_add(v, wasm_v128_load(dst + j));
    wasm_v128_store(dst + j, v);
  }
  for (; j < n; j++) dst[j] = add ? dst[j] + src[j] : src[j];
}

/* For pixels q0..q0+np: gather patches of the channels [c0, c0 + cg) into col (add == 0), or
 * scatter-add col into x. A patch row is (kh, kw, c) over those cg channels. */
static void im2col(const i32 *geo, f32 *x, f32 *col, i32 q0, i32 np, i32 scatter, i32 c0,
                   i32 cg) {
  Geo gg = geo_read(geo), *g = &gg;
  i32 kkc = g->kh * g->kw * cg, per_image = g->oh * g->ow;
  for (i32 q = 0; q < np; q++) {
    i32 qq = q0 + q, n = qq / per_image, rem = qq % per_image;
    i32 oh = rem / g->ow, ow = rem % g->ow;
    f32 *crow = col + q * kkc;
    for (i32 i = 0; i < g->kh; i++) {
      i32 ih = oh * g->sh - g->pt + i * g->dh;
      i32 iw0 = ow * g->sw - g->pl;
      if (cg == g->c && g->dw == 1 && ih >= 0 && ih < g->h && iw0 >= 0 && iw0 + g->kw <= g->w) {
        /* the whole window row is inside: kw pixels of all channels are one contiguous run */
        f32 *px = x + ((n * g->h + ih) * g->w + iw0) * g->c, *seg = crow + i * g->kw * cg;
        if (scatter) row_copy(px, seg, g->kw * cg, 1);
        else row_copy(seg, px, g->kw * cg, 0);
        continue;
      }
      for (i32 j = 0; j < g->kw; j++) {
        i32 iw = iw0 + j * g->dw;
        f32 *seg = crow + (i * g->kw + j) * cg;
        i32 inside = ih >= 0 && ih < g->h && iw >= 0 && iw < g->w;
        f32 *px = inside ? x + ((n * g->h + ih) * g->w + iw) * g->c + c0 : 0;
        if (scatter) {
          if (inside) row_copy(px, seg, cg, 1);
        } else {
          row_copy(seg, px, cg, 0);
        }
      }
    }
  }
}

/* d[0:c] += x[0:c] * w[0:c] */
INLINE void madd_row(f32 *d, const f32 *x, const f32 *w, i32 c) {
  i32 k = 0;
  for (; k + 4 <= c; k += 4)
    wasm_v128_store(d + k, MADD(wasm_v128_load(d + k), wasm_v128_load(x + k), wasm_v128_load(w + k)));
  for (; k < c; k++) d[k] += x[k] * w[k];
}

/* Depthwise convolution (groups = C = O: one KH x KW filter per channel, the kernel
 * KH x KW x 1 x C) without im2col: every tap is a multiply-add over a pixel's C channels, four
 * lanes at a time. mode 0: out = conv(a = x, b = w); 1: out += dx from (a = g, b = w) (out
 * zeroed by the caller); 2: out = dw from (a = x, b = g), summed per output row into `col`
 * (KH * KW * C floats) and then into out, which keeps float32 sums short. */
static void depthwise(i32 mode, const i32 *geo, const f32 *a, const f32 *b, f32 *out, f32 *col) {
  Geo g = geo_read(geo);
  i32 C = g.c, taps = g.kh * g.kw;
  if (mode == 2) row_copy(out, 0, taps * C, 0);
  for (i32 n = 0; n < g.n; n++)
    for (i32 oh = 0; oh < g.oh; oh++) {
      if (mode == 2) row_copy(col, 0, taps * C, 0);
      for (i32 ow = 0; ow < g.ow; ow++) {
        i32 q = ((n * g.oh + oh) * g.ow + ow) * C;
        if (mode == 0) row_copy(out + q, 0, C, 0);
        for (i32 i = 0; i < g.kh; i++) {
          i32 ih = oh * g.sh - g.pt + i * g.dh;
          if (ih < 0 || ih >= g.h) continue;
          for (i32 j = 0; j < g.kw; j++) {
            i32 iw = ow * g.sw - g.pl + j * g.dw;
            if (iw < 0 || iw >= g.w) continue;
            i32 t = (i * g.kw + j) * C, px = ((n * g.h + ih) * g.w + iw) * C;
            if (mode == 0) madd_row(out + q, a + px, b + t, C);
            else if (mode == 1) madd_row(out + px, a + q, b + t, C);
            else madd_row(col + t, a + px, b + q, C);
          }
        }
      }
      if (mode == 2) row_copy(out, col, taps * C, 1);
    }
}

INLINE i32 block_pixels(i32 kkc, i32 col_floats) { return imax(1, col_floats / imax(kkc, 1)); }

/* The three convolutions for `groups` groups (cg = C / groups input and og = O / groups output
 * channels each; the kernel is KH x KW x cg x O, group j's outputs the columns [j og, (j + 1)
 * og)). mode 0: out = conv(a = x, b = w); 1: out = dx from (a = g, b = w); 2: out = dw from
 * (a = x, b = g). */
void conv2d_grouped(i32 mode, const i32 *geo, i32 groups, const f32 *a, const f32 *b, f32 *out,
                    f32 *col, i32 col_floats, f32 *work) {
  Geo g = geo_read(geo);
  i32 cg = g.c / groups, og = g.o / groups, kkc = g.kh * g.kw * cg;
  i32 total = g.n * g.oh * g.ow, bp = block_pixels(kkc, col_floats);
  if (groups > 1 && cg == 1 && og == 1 && col_floats >= g.kh * g.kw * g.c) {
    if (mode == 1) row_copy(out, 0, g.n * g.h * g.w * g.c, 0);
    depthwise(mode, geo, a, b, out, col);
    return;
  }
  if (mode == 1) row_copy(out, 0, g.n * g.h * g.w * g.c, 0);
  if (mode == 2 && total == 0) row_copy(out, 0, kkc * g.o, 0);
  for (i32 j = 0; j < groups; j++)
    for (i32 q0 = 0; q0 < total; q0 += bp) {
      i32 np = imin(bp, total - q0);
      if (mode == 0) {
        im2col(geo, (f32 *)a, col, q0, np, 0, j * cg, cg);
        wasmdl_sgemm(0, 0, np, og, kkc, 1.0f, col, kkc, b + j * og, g.o, 0.0f,
                     out + q0 * g.o + j * og, g.o, work);
      } else if (mode == 1) {
        wasmdl_sgemm(0, 1, np, kkc, og, 1.0f, a + q0 * g.o + j * og, g.o, b + j * og, g.o, 0.0f,
                     col, kkc, work);
        im2col(geo, out, col, q0, np, 1, j * cg, cg);
      } else {
        im2col(geo, (f32 *)a, col, q0, np, 0, j * cg, cg);
        wasmdl_sgemm(1, 0, kkc, og, np, 1.0f, col, kkc, b + q0 * g.o + j * og, g.o,
                     q0 ? 1.0f : 0.0f, out + j * og, g.o, work);
      }
    }
}

EXPORT(conv2d_forward)
void conv2d_forward(const i32 *geo, const f32 *x, const f32 *w, f32 *out, f32 *col, i32 col_floats,
                    f32 *work) {
  conv2d_grouped(0, geo, 1, x, w, out, col, col_floats, work);
}

EXPORT(conv2d_grad_input)
void conv2d_grad_input(const i32 *geo, const f32 *gout, const f32 *w, f32 *dx, f32 *col,
                       i32 col_floats, f32 *work) {
  conv2d_grouped(1, geo, 1, gout, w, dx, col, col_floats, work);
}

EXPORT(conv2d_grad_weight)
void conv2d_grad_weight(const i32 *geo, const f32 *x, const f32 *gout, f32 *dw, f32 *col,
                        i32 col_floats, f32 *work) {
  conv2d_grouped(2, geo, 1, x, gout, dw, col, col_floats, work);
}
