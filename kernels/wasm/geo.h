/* The geometry of a 2-D window over an NHWC input (convolution, pooling): one int32 array
 * `geo` (indices G_* below), read into locals by `geo_read` so the kernels' stores cannot make
 * the compiler reload it, and so no Geo's address escapes to the C stack, which these modules
 * must not use. For pooling, KH x KW is the window and O is unused. */
#ifndef WASMDL_GEO_H
#define WASMDL_GEO_H

#include "common.h"

enum { G_N, G_H, G_W, G_C, G_OH, G_OW, G_O, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW, G_LEN };

typedef struct {
  i32 n, h, w, c, oh, ow, o, kh, kw, sh, sw, pt, pl, dh, dw;
} Geo;

INLINE Geo geo_read(const i32 *g) {
  Geo r = {g[G_N], g[G_H], g[G_W], g[G_C], g[G_OH], g[G_OW], g[G_O],
           g[G_KH], g[G_KW], g[G_SH], g[G_SW], g[G_PT], g[G_PL], g[G_DH], g[G_DW]};
  return r;
}

#endif
