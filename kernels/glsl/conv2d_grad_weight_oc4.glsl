// kernel: conv2d_grad_weight_oc4 -- conv2d_grad_weight.glsl for four output channels per
//   fragment (a group's channels a multiple of 4): G comes packed along O (pack4.glsl: texel
//   row * O4 + q holds channels 4q .. 4q + 3 of output pixel row), so one X read serves four
//   products. Texel (chunk, e4) holds the chunk's sums for weights 4 * e4 .. 4 * e4 + 3 (O is
//   HWIO's last axis): the partials in [chunks, KH, KW, CG, O] order, which unpack4.glsl lays
//   out and a reduce pass sums over the chunks (webgl_conv.py).
// textures: t0 X (NHWC), t1 G packed (RGBA32F); output RGBA32F (chunks * weights / 4 texels).
// params: the conv2d layout + [rows per chunk, weight texels].

uniform sampler2D t0;
uniform sampler2D t1;
out vec4 o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int rows = p[17];
  int e = i % p[18];
  int r0 = (i / p[18]) * rows;
  int r1 = min(r0 + rows, p[0] * p[4]);
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KW = p[8], CG = p[9], OG = OC / p[10];
  int O4 = OC / 4;
  int q = e % O4;
  int cg = (e / O4) % CG;
  int kw = (e / (O4 * CG)) % KW;
  int kh = e / (O4 * CG * KW);
  int c = (4 * q / OG) * CG + cg;
  vec4 acc = vec4(0.0);
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
               * texelFetch(t1, at(2, (grow + ow) * O4 + q), 0);
        }
      }
    }
  }
  o = acc;
}
