// kernel: conv2d_grad_weight -- dL/dW of conv2d: one fragment per (chunk, weight element
//   (kh, kw, cg, o)) sums X[n, ih, iw, group * CG + cg] * G[n, oh, ow, o] over its chunk of the
//   N*OH output rows; a reduce pass then sums the chunks (webgl_conv.py). Few weights with
//   long sums would leave SwiftShader's threads idle: chunks give it fragments to spread.
// textures: t0 X (NHWC), t1 G (NHWC of the output); output O ([chunks, KH, KW, CG, O]).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left] + [rows per chunk, weight elements].

uniform sampler2D t0;
uniform sampler2D t1;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int rows = p[17];
  int e = i % p[18];
  int r0 = (i / p[18]) * rows;
  int r1 = min(r0 + rows, p[0] * p[4]);
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KW = p[8], CG = p[9], OG = OC / p[10];
  int oc = e % OC;
  int cg = (e / OC) % CG;
  int kw = (e / (OC * CG)) % KW;
  int kh = e / (OC * CG * KW);
  int c = (oc / OG) * CG + cg;
  float acc = 0.0;
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
               * texelFetch(t1, at(2, (grow + ow) * OC + oc), 0).r;
        }
      }
    }
  }
  o = acc;
}
