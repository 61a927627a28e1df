// kernel: conv2d -- direct 2-D cross-correlation, NHWC input X, HWIO weights W (groups,
//   strides, dilation, explicit padding), L output channels per fragment ({{L}}, value type
//   {{VT}}): 1, output R32F; or 4 for layers whose channels per group are a multiple of 4: one
//   read of x serves four products, the weights come packed along O (pack4.glsl: texel
//   (tap * CG + c) * OL + q holds channels 4q .. 4q + 3; WREAD is "" where it is ".r" for one
//   lane), so a tap costs two fetches where one lane pays eight, and the RGBA32F result (texel i
//   holds flat outputs 4i .. 4i + 3, NHWC: O is last) is laid out by unpack4.glsl. A template
//   for two entries: conv2d (UNIFORMS and BIAS empty, ACT "y") and conv2d_bias (a Conv2D
//   layer's act(conv + b) in one draw: UNIFORMS declares t2, BIAS adds it at channels oc.., ACT).
// textures: t0 X (R32F), t1 W (R32F, or packed RGBA32F); conv2d_bias: t2 bias (O elements);
//   output O (NHWC; or RGBA32F, N * OH * OW * O / 4 texels).
// params (shared by the conv2d_* kernels):
//   [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw, pad_top, pad_left]
//   CG = C / groups input channels per group; output channel o belongs to group o / (O/groups).

uniform sampler2D t0;
uniform sampler2D t1;
{{UNIFORMS}}
out {{VT}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KH = p[7], KW = p[8], CG = p[9], OG = OC / p[10];
  int OL = OC / {{L}};
  int q = i % OL;
  int oc = {{L}} * q;
  int ow = (i / OL) % OW;
  int oh = (i / (OL * OW)) % OH;
  int n = i / (OL * OW * OH);
  int c0 = (oc / OG) * CG;
  {{VT}} acc = {{VT}}(0.0);
  for (int kh = 0; kh < KH; kh++) {
    int ih = oh * p[11] + kh * p[13] - p[15];
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      int iw = ow * p[12] + kw * p[14] - p[16];
      if (iw < 0 || iw >= Wd) continue;
      int xb = ((n * H + ih) * Wd + iw) * C + c0;
      int wb = (kh * KW + kw) * CG * OL + q;
      for (int c = 0; c < CG; c++) {
        acc += texelFetch(t0, at(1, xb + c), 0).r * texelFetch(t1, at(2, wb + c * OL), 0){{WREAD}};
      }
    }
  }
  {{VT}} y = acc;
  {{BIAS}}
  o = {{ACT}};
}
