/* 2-D max and average pooling, channels-last (NHWC), forward and gradient, with strides,
 * padding and dilation; the window is geo.h's KH x KW. Each output pixel's window is walked
 * cell by cell in (kh, kw) order, four channels at a time; cells in the padding take no memory
 * access, and a window wholly inside the input (all but the border ones) skips the bounds
 * checks.
 *
 * The numpy kernels (backend/numpy_conv.py) are the specification, window by window:
 *   max   padding cells count as -inf; NaN wins (wasm's f32x4.max propagates it, as numpy).
 *   max'  each output's gradient goes to its window's first maximal cell in (kh, kw) order,
 *         padding included (a padding cell wins only when the whole window is -inf: its
 *         gradient is dropped), where NaN counts as the maximum (numpy's argmax); windows
 *         overlap when strides < pool, so dx accumulates.
 *   avg   the sum over the cells inside the input, divided by their number (padding excluded).
 *   avg'  each cell inside the input gets g / that number.
 */
#include "geo.h"

#define NEG_INF (-__builtin_inff())

/* Every output pixel (n, oh, ow), in memory order. */
#define FOR_PIXELS                                                                               \
  for (i32 n = 0; n < G.n; n++)                                                                  \
    for (i32 oh = 0; oh < G.oh; oh++)                                                            \
      for (i32 ow = 0; ow < G.ow; ow++)

/* An output pixel's window: its top-left cell (may lie in the padding), the input offset that
 * cell would have, and whether the whole window is inside the input. */
typedef struct {
  i32 ih, iw, base, full;
} Pix;

INLINE Pix pixel(const Geo *g, i32 n, i32 oh, i32 ow) {
  Pix p;
  p.ih = oh * g->sh - g->pt, p.iw = ow * g->sw - g->pl;
  p.base = ((n * g->h + p.ih) * g->w + p.iw) * g->c;
  p.full = p.ih >= 0 && p.ih + (g->kh - 1) * g->dh < g->h && p.iw >= 0 &&
           p.iw + (g->kw - 1) * g->dw < g->w;
  return p;
}

/* Offset (floats) of window cell (i, j) in the input, or -1 in the padding. */
INLINE i32 cell(const Geo *g, Pix p, i32 i, i32 j) {
  i32 at = p.base + (i * g->dh * g->w + j * g->dw) * g->c;
  if (p.full) return at;
  i32 ih = p.ih + i * g->dh, iw = p.iw + j * g->dw;
  return ih < 0 || ih >= g->h || iw < 0 || iw >= g->w ? -1 : at;
}

/* How many cells of the window lie inside the input. */
INLINE i32 inside(const Geo *g, Pix p) {
  if (p.full) return g->kh * g->kw;
  i32 count = 0;
  for (i32 i = 0; i < g->kh; i++)
    for (i32 j = 0; j < g->kw; j++) count += cell(g, p, i, j) >= 0;
  return count;
}

/* Zero n floats. */
INLINE void zero(f32 *d, i32 n) {
  i32 t = 0;
  for (; t + 4 <= n; t += 4) wasm_v128_store(d + t, wasm_f32x4_splat(0.0f));
  for (; t < n; t++) d[t] = 0.0f;
}

EXPORT(maxpool2d_forward)
void maxpool2d_forward(const i32 *geo, const f32 *x, f32 *out) {
  Geo G = geo_read(geo);
  f32 *o = out;
  FOR_PIXELS {
    Pix p = pixel(&G, n, oh, ow);
    i32 c = 0;
    for (; c + 4 <= G.c; c += 4) {
      v128_t m = wasm_f32x4_splat(NEG_INF);
      for (i32 i = 0; i < G.kh; i++)
        for (i32 j = 0; j < G.kw; j++) {
          i32 at = cell(&G, p, i, j);
          if (at >= 0) m = wasm_f32x4_max(m, wasm_v128_load(x + at + c));
        }
      wasm_v128_store(o + c, m);
    }
    for (; c < G.c; c++) {
      v128_t m = wasm_f32x4_splat(NEG_INF);
      for (i32 i = 0; i < G.kh; i++)
        for (i32 j = 0; j < G.kw; j++) {
          i32 at = cell(&G, p, i, j);
          if (at >= 0) m = wasm_f32x4_max(m, wasm_v128_load32_splat(x + at + c));
        }
      o[c] = wasm_f32x4_extract_lane(m, 0);
    }
    o += G.c;
  }
}

/* Lanes where `v` beats `best` in numpy's argmax order: greater, or NaN over a non-NaN. */
INLINE v128_t beats(v128_t v, v128_t best) {
  v128_t v_nan = wasm_f32x4_ne(v, v), best_num = wasm_f32x4_eq(best, best);
  return wasm_v128_or(wasm_f32x4_gt(v, best), wasm_v128_and(v_nan, best_num));
}

/* The window's first maximal cell per lane (index k = i * KW + j), four channels from c.
 * `one` != 0: only lane 0 is meaningful (the channel tail, loaded by splat). */
INLINE v128_t argmax4(const Geo *g, Pix p, const f32 *x, i32 c, i32 one) {
  v128_t best = wasm_f32x4_splat(0.0f), at = wasm_i32x4_splat(0);
  for (i32 k = 0, i = 0; i < g->kh; i++)
    for (i32 j = 0; j < g->kw; j++, k++) {
      i32 a = cell(g, p, i, j);
      v128_t v = a < 0 ? wasm_f32x4_splat(NEG_INF)
                 : one ? wasm_v128_load32_splat(x + a + c)
                       : wasm_v128_load(x + a + c);
      if (k == 0) {
        best = v;
        continue;
      }
      v128_t win = beats(v, best);
      best = wasm_v128_bitselect(v, best, win);
      at = wasm_v128_bitselect(wasm_i32x4_splat(k), at, win);
    }
  return at;
}

/* dx (N x H x W x C, zeroed here) += each output gradient at its window's first maximum. */
EXPORT(maxpool2d_grad)
void maxpool2d_grad(const i32 *geo, const f32 *x, const f32 *gy, f32 *dx) {
  Geo G = geo_read(geo);
  zero(dx, G.n * G.h * G.w * G.c);
  const f32 *gp = gy;
  FOR_PIXELS {
    Pix p = pixel(&G, n, oh, ow);
    i32 c = 0;
    for (; c + 4 <= G.c; c += 4) {
      v128_t at = argmax4(&G, p, x, c, 0), gv = wasm_v128_load(gp + c);
      for (i32 k = 0, i = 0; i < G.kh; i++)
        for (i32 j = 0; j < G.kw; j++, k++) {
          i32 a = cell(&G, p, i, j);
          v128_t sel = wasm_i32x4_eq(at, wasm_i32x4_splat(k));
          if (a >= 0 && wasm_v128_any_true(sel)) {
            f32 *d = dx + a + c;
            wasm_v128_store(d, wasm_f32x4_add(wasm_v128_load(d), wasm_v128_and(gv, sel)));
          }
        }
    }
    for (; c < G.c; c++) {
      i32 k = wasm_i32x4_extract_lane(argmax4(&G, p, x, c, 1), 0);
      i32 a = cell(&G, p, k / G.kw, k % G.kw);
      if (a >= 0) dx[a + c] += gp[c];
    }
    gp += G.c;
  }
}

EXPORT(avgpool2d_forward)
void avgpool2d_forward(const i32 *geo, const f32 *x, f32 *out) {
  Geo G = geo_read(geo);
  f32 *o = out;
  FOR_PIXELS {
    Pix p = pixel(&G, n, oh, ow);
    v128_t inv = wasm_f32x4_splat(1.0f / (f32)inside(&G, p));
    i32 c = 0;
    for (; c + 4 <= G.c; c += 4) {
      v128_t s = wasm_f32x4_splat(0.0f);
      for (i32 i = 0; i < G.kh; i++)
        for (i32 j = 0; j < G.kw; j++) {
          i32 at = cell(&G, p, i, j);
          if (at >= 0) s = wasm_f32x4_add(s, wasm_v128_load(x + at + c));
        }
      wasm_v128_store(o + c, wasm_f32x4_mul(s, inv));
    }
    for (; c < G.c; c++) {
      f32 s = 0.0f;
      for (i32 i = 0; i < G.kh; i++)
        for (i32 j = 0; j < G.kw; j++) {
          i32 at = cell(&G, p, i, j);
          if (at >= 0) s += x[at + c];
        }
      o[c] = s * wasm_f32x4_extract_lane(inv, 0);
    }
    o += G.c;
  }
}

/* dx (zeroed here) += g / (cells inside) over each window's cells inside the input. */
EXPORT(avgpool2d_grad)
void avgpool2d_grad(const i32 *geo, const f32 *gy, f32 *dx) {
  Geo G = geo_read(geo);
  zero(dx, G.n * G.h * G.w * G.c);
  const f32 *gp = gy;
  FOR_PIXELS {
    Pix p = pixel(&G, n, oh, ow);
    f32 inv = 1.0f / (f32)inside(&G, p);
    v128_t vinv = wasm_f32x4_splat(inv);
    for (i32 i = 0; i < G.kh; i++)
      for (i32 j = 0; j < G.kw; j++) {
        i32 at = cell(&G, p, i, j);
        if (at < 0) continue;
        f32 *d = dx + at;
        i32 c = 0;
        for (; c + 4 <= G.c; c += 4) {
          v128_t v = wasm_f32x4_mul(wasm_v128_load(gp + c), vinv);
          wasm_v128_store(d + c, wasm_f32x4_add(wasm_v128_load(d + c), v));
        }
        for (; c < G.c; c++) d[c] += gp[c] * inv;
      }
    gp += G.c;
  }
}
