// kernel: conv2d -- direct 2-D cross-correlation, NHWC input X, HWIO weights W (groups,
//   strides, dilation, explicit padding), one fragment per output element. A template for two
//   entries: conv2d (UNIFORMS and BIAS empty, ACT "y") and conv2d_bias (a Conv2D layer's
//   act(conv + b) in one draw: UNIFORMS declares t2, BIAS adds it at channel oc, ACT).
// textures: t0 X, t1 W; conv2d_bias: t2 bias (O elements); output O (NHWC).
// params (shared by the conv2d_* kernels):
//   [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw, pad_top, pad_left]
//   CG = C / groups input channels per group; output channel o belongs to group o / (O/groups).

uniform sampler2D t0;
uniform sampler2D t1;
{{UNIFORMS}}
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KH = p[7], KW = p[8], CG = p[9], OG = OC / p[10];
  int oc = i % OC;
  int ow = (i / OC) % OW;
  int oh = (i / (OC * OW)) % OH;
  int n = i / (OC * OW * OH);
  int c0 = (oc / OG) * CG;
  float acc = 0.0;
  for (int kh = 0; kh < KH; kh++) {
    int ih = oh * p[11] + kh * p[13] - p[15];
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      int iw = ow * p[12] + kw * p[14] - p[16];
      if (iw < 0 || iw >= Wd) continue;
      int xb = ((n * H + ih) * Wd + iw) * C + c0;
      int wb = (kh * KW + kw) * CG * OC + oc;
      for (int c = 0; c < CG; c++) {
        acc += texelFetch(t0, at(1, xb + c), 0).r * texelFetch(t1, at(2, wb + c * OC), 0).r;
      }
    }
  }
  float y = acc;
  {{BIAS}}
  o = {{ACT}};
}
