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
 * take a direct kernel vectorised over channels instead, and so do forward convolutions over
 * few input channels (a first layer on images), vectorised over output channels.
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

/* The output pixel after (n, oh, ow), counted without divisions (an integer division costs
 * more than a pixel's arithmetic in these small layers). */
typedef struct {
  i32 n, oh, ow;
} Pixel;

INLINE Pixel pixel_at(const Geo *g, i32 q) {
  i32 per_image = g->oh * g->ow, rem = q % per_image;
  Pixel p = {q / per_image, rem / g->ow, rem % g->ow};
  return p;
}

INLINE Pixel pixel_next(const Geo *g, Pixel p) {
  if (++p.ow == g->ow) {
    p.ow = 0;
    if (++p.oh == g->oh) p.oh = 0, p.n++;
  }
  return p;
}

/* For pixels q0..q0+np: gather patches of the channels [c0, c0 + cg) into col (add == 0), or
 * scatter-add col into x. A patch row is (kh, kw, c) over those cg channels. */
static void im2col(const i32 *geo, f32 *x, f32 *col, i32 q0, i32 np, i32 scatter, i32 c0,
                   i32 cg) {
  Geo gg = geo_read(geo), *g = &gg;
  i32 kkc = g->kh * g->kw * cg;
  Pixel p = pixel_at(g, q0);
  for (i32 q = 0; q < np; q++, p = pixel_next(g, p)) {
    i32 n = p.n, oh = p.oh, ow = p.ow;
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

/* Direct forward convolution for few input channels per group (first layers on images:
 * cg <= DIRECT_C, patches of at most DIRECT_KKC values), where GEMM's packing of short rows
 * and im2col's gathering cost more than the arithmetic. Two output pixels of a row at a time:
 * every weight vector W[t, o : o + 4] loaded serves both (2 x 16 outputs in 8 accumulators,
 * then 2 x 4, then single columns). Their taps are read from x itself where both windows lie
 * inside the image, else from patches gathered into col (zeros outside). Writes the output
 * columns [o0, o0 + og) of rows of O, from the input channels [c0, c0 + cg). */
enum { DIRECT_C = 4, DIRECT_KKC = 64 };

/* The taps of two pixels: tap (i, j, c) at a[i rs + j js + c], the second pixel's at + ps. */
typedef struct {
  const f32 *a;
  i32 ps, rs, js;
} Taps;

INLINE void pair_block(const Geo *g, Taps s, i32 cg, const f32 *wb, f32 *d0, f32 *d1, i32 og,
                       i32 two) {
  i32 O = g->o, o = 0;
  for (; o + 16 <= og; o += 16) {
    v128_t z = wasm_f32x4_splat(0.0f);
    v128_t a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
    const f32 *wr = wb + o;
    for (i32 i = 0; i < g->kh; i++)
      for (i32 j = 0; j < g->kw; j++) {
        const f32 *t = s.a + i * s.rs + j * s.js;
        for (i32 c = 0; c < cg; c++, wr += O) {
          v128_t x = wasm_f32x4_splat(t[c]), y = wasm_f32x4_splat(t[c + s.ps]);
          v128_t w0 = wasm_v128_load(wr), w1 = wasm_v128_load(wr + 4);
          v128_t w2 = wasm_v128_load(wr + 8), w3 = wasm_v128_load(wr + 12);
          a0 = MADD(a0, x, w0), a1 = MADD(a1, x, w1), a2 = MADD(a2, x, w2), a3 = MADD(a3, x, w3);
          b0 = MADD(b0, y, w0), b1 = MADD(b1, y, w1), b2 = MADD(b2, y, w2), b3 = MADD(b3, y, w3);
        }
      }
    wasm_v128_store(d0 + o, a0), wasm_v128_store(d0 + o + 4, a1);
    wasm_v128_store(d0 + o + 8, a2), wasm_v128_store(d0 + o + 12, a3);
    if (two) {
      wasm_v128_store(d1 + o, b0), wasm_v128_store(d1 + o + 4, b1);
      wasm_v128_store(d1 + o + 8, b2), wasm_v128_store(d1 + o + 12, b3);
    }
  }
  for (; o + 4 <= og; o += 4) {
    v128_t a = wasm_f32x4_splat(0.0f), b = a;
    const f32 *wr = wb + o;
    for (i32 i = 0; i < g->kh; i++)
      for (i32 j = 0; j < g->kw; j++) {
        const f32 *t = s.a + i * s.rs + j * s.js;
        for (i32 c = 0; c < cg; c++, wr += O) {
          v128_t wv = wasm_v128_load(wr);
          a = MADD(a, wasm_f32x4_splat(t[c]), wv), b = MADD(b, wasm_f32x4_splat(t[c + s.ps]), wv);
        }
      }
    wasm_v128_store(d0 + o, a);
    if (two) wasm_v128_store(d1 + o, b);
  }
  for (; o < og; o++) {
    f32 a = 0.0f, b = 0.0f;
    const f32 *wr = wb + o;
    for (i32 i = 0; i < g->kh; i++)
      for (i32 j = 0; j < g->kw; j++) {
        const f32 *t = s.a + i * s.rs + j * s.js;
        for (i32 c = 0; c < cg; c++, wr += O) a += t[c] * *wr, b += t[c + s.ps] * *wr;
      }
    d0[o] = a;
    if (two) d1[o] = b;
  }
}

INLINE void gather_patch(const Geo *g, const f32 *x, f32 *dst, Pixel p, i32 c0, i32 cg) {
  for (i32 i = 0; i < g->kh; i++) {
    i32 ih = p.oh * g->sh - g->pt + i * g->dh;
    for (i32 j = 0; j < g->kw; j++, dst += cg) {
      i32 iw = p.ow * g->sw - g->pl + j * g->dw;
      const f32 *px = x + ((p.n * g->h + ih) * g->w + iw) * g->c + c0;
      i32 inside = ih >= 0 && ih < g->h && iw >= 0 && iw < g->w;
      for (i32 c = 0; c < cg; c++) dst[c] = inside ? px[c] : 0.0f;
    }
  }
}

static void conv_direct(const i32 *geo, const f32 *x, const f32 *w, f32 *out, f32 *col, i32 c0,
                        i32 cg, i32 o0, i32 og) {
  Geo g = geo_read(geo);
  i32 kkc = g.kh * g.kw * cg, total = g.n * g.oh * g.ow, O = g.o;
  /* rows ih0 .. ih0 + (kh - 1) dh and columns iw0 .. iw0 + (kw - 1) dw of a window */
  i32 span_h = (g.kh - 1) * g.dh, span_w = (g.kw - 1) * g.dw;
  Pixel p = {0, 0, 0};
  for (i32 q = 0; q < total; q += 2) {
    i32 two = q + 1 < total && p.ow + 1 < g.ow;  /* a pair shares its row */
    i32 ih0 = p.oh * g.sh - g.pt, iw0 = p.ow * g.sw - g.pl;
    i32 iw_end = iw0 + (two ? g.sw : 0) + span_w;
    f32 *d0 = out + q * O + o0;
    Taps s;
    if (ih0 >= 0 && ih0 + span_h < g.h && iw0 >= 0 && iw_end < g.w) {
      s.a = x + ((p.n * g.h + ih0) * g.w + iw0) * g.c + c0;
      s.ps = two ? g.sw * g.c : 0, s.rs = g.dh * g.w * g.c, s.js = g.dw * g.c;
    } else {
      gather_patch(&g, x, col, p, c0, cg);
      if (two) gather_patch(&g, x, col + kkc, pixel_next(&g, p), c0, cg);
      s.a = col, s.ps = two ? kkc : 0, s.rs = g.kw * cg, s.js = cg;
    }
    pair_block(&g, s, cg, w + o0, d0, d0 + O, og, two);
    p = pixel_next(&g, p);
    if (two) p = pixel_next(&g, p);
    else q--;  /* a row's last pixel alone: the next pair starts on the next row */
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
  if (mode == 0 && cg <= DIRECT_C && kkc <= DIRECT_KKC && col_floats >= 2 * kkc) {
    for (i32 j = 0; j < groups; j++)
      conv_direct(geo, a, b, out, col, j * cg, cg, j * og, og);
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
