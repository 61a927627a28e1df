// kernel: conv2d_grad_weight -- dL/dW of conv2d: one fragment per (chunk, L = {{L}} weight
//   elements (kh, kw, cg, o..)) sums X[n, ih, iw, group * CG + cg] * G[n, oh, ow, o..] over its
//   chunk of the N*OH output rows; a reduce pass then sums the chunks (webgl_conv.py). Few
//   weights with long sums would leave SwiftShader's threads idle: chunks give it fragments to
//   spread. L = 1: G as stored, output R32F ([chunks, KH, KW, CG, O]); L = 4 where a group's
//   channels are a multiple of 4: G packed along O (pack4.glsl: texel row * OL + q holds
//   channels 4q .. 4q + 3 of output pixel row; GREAD "" where it is ".r"), so one X read serves
//   four products, and texel (chunk, e) holds weights 4e .. 4e + 3 (VT vec4), laid out by
//   unpack4.glsl.
// textures: t0 X (NHWC), t1 G (NHWC of the output, or packed RGBA32F); output O (R32F, or
//   RGBA32F: chunks * weights / 4 texels).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left] + [rows per chunk, weight elements / L].

uniform sampler2D t0;
uniform sampler2D t1;
out {{VT}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int rows = p[17];
  int e = i % p[18];
  int r0 = (i / p[18]) * rows;
  int r1 = min(r0 + rows, p[0] * p[4]);
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KW = p[8], CG = p[9], OG = OC / p[10];
  int OL = OC / {{L}};
  int q = e % OL;
  int cg = (e / OL) % CG;
  int kw = (e / (OL * CG)) % KW;
  int kh = e / (OL * CG * KW);
  int c = ({{L}} * q / OG) * CG + cg;
  {{VT}} acc = {{VT}}(0.0);
  for (int r = r0; r < r1; r++) {
    int n = r / OH;
    int oh = r - n * OH;
    {
      int ih = oh * p[11] + kh * p[13] - p[15];
      if (ih < 0 || ih >= H) continue;
      int xrow = (n * H + ih) * Wd;
      int grow = (n * OH + oh) * OW;
      for (int ow = 0; ow < OW; ow++) {
        int iw = ow * p[12] + kw * p[14] - p[16];
        if (iw >= 0 && iw < Wd) {
          acc += texelFetch(t0, at(1, (xrow + iw) * C + c), 0).r
               * texelFetch(t1, at(2, (grow + ow) * OL + q), 0){{GREAD}};
        }
      }
    }
  }
  o = acc;
}
