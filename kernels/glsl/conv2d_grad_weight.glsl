// kernel: conv2d_grad_weight -- dL/dW of conv2d: one fragment per weight element
//   (kh, kw, cg, o) sums X[n, ih, iw, group * CG + cg] * G[n, oh, ow, o] over the N*OH*OW
//   output positions.
// textures: t0 X (NHWC), t1 G (NHWC of the output); output O (HWIO).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left].

uniform sampler2D t0;
uniform sampler2D t1;
out float o;

void main() {
  int e = out_index();
  if (e >= u_n) discard;
  int N = p[0], H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KW = p[8], CG = p[9], OG = OC / p[10];
  int oc = e % OC;
  int cg = (e / OC) % CG;
  int kw = (e / (OC * CG)) % KW;
  int kh = e / (OC * CG * KW);
  int c = (oc / OG) * CG + cg;
  float acc = 0.0;
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
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
