// kernel: conv2d_grad_input -- dL/dX of conv2d: one fragment per input element (n, ih, iw, c)
//   sums G[n, oh, ow, o] * W[kh, kw, c % CG, o] over the windows that read it, the group's
//   output channels L = {{L}} at a time: 1 (G and W as stored, DOT "mul_r"), or 4 where a
//   group's channels are a multiple of 4 (G and W packed along O by pack4.glsl: texel row * OL + q
//   holds channels 4q .. 4q + 3; DOT "dot": one dot product per 4 terms).
// textures: t0 G (NHWC of the output, or packed: rows N * OH * OW), t1 W (HWIO, or packed: rows
//   KH * KW * CG); output O (NHWC of the input).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left].

uniform sampler2D t0;
uniform sampler2D t1;
out float o;

float mul_r(vec4 a, vec4 b) { return a.r * b.r; }

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KH = p[7], KW = p[8], CG = p[9], OG = OC / p[10];
  int sh = p[11], sw = p[12];
  int OL = OC / {{L}}, Q = OG / {{L}};
  int c = i % C;
  int iw = (i / C) % Wd;
  int ih = (i / (C * Wd)) % H;
  int n = i / (C * Wd * H);
  int grp = c / CG;
  int cg = c % CG;
  float acc = 0.0;
  for (int kh = 0; kh < KH; kh++) {
    int th = ih + p[15] - kh * p[13];
    if (th < 0 || th % sh != 0 || th / sh >= OH) continue;
    int oh = th / sh;
    for (int kw = 0; kw < KW; kw++) {
      int tw = iw + p[16] - kw * p[14];
      if (tw < 0 || tw % sw != 0 || tw / sw >= OW) continue;
      int ow = tw / sw;
      int gb = ((n * OH + oh) * OW + ow) * OL + grp * Q;
      int wb = ((kh * KW + kw) * CG + cg) * OL + grp * Q;
      for (int k = 0; k < Q; k++) {
        acc += {{DOT}}(texelFetch(t0, at(1, gb + k), 0), texelFetch(t1, at(2, wb + k), 0));
      }
    }
  }
  o = acc;
}
