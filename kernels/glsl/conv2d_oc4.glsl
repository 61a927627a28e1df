// kernel: conv2d_oc4 -- conv2d.glsl's cross-correlation for four output channels per fragment
//   (layers whose channels per group are a multiple of 4): one read of x serves four products,
//   the weights come packed along O (pack4.glsl: texel (tap * CG + c) * O4 + q holds channels
//   4q .. 4q + 3), so a tap costs two fetches where conv2d.glsl pays eight. The result is
//   RGBA32F, texel i holding flat outputs 4i .. 4i + 3 (NHWC: O is last), which unpack4.glsl
//   lays out as the tensor. A template for conv2d (UNIFORMS and BIAS empty, ACT "y") and
//   conv2d_bias (UNIFORMS declares t2, BIAS adds channels oc0 .. oc0 + 3, ACT).
// textures: t0 X (R32F), t1 W packed (RGBA32F); conv2d_bias: t2 bias (O elements);
//   output RGBA32F (N * OH * OW * O / 4 texels).
// params: conv2d.glsl's.

uniform sampler2D t0;
uniform sampler2D t1;
{{UNIFORMS}}
out vec4 o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5], OC = p[6];
  int KH = p[7], KW = p[8], CG = p[9], OG = OC / p[10];
  int O4 = OC / 4;
  int q = i % O4;
  int oc0 = 4 * q;
  int ow = (i / O4) % OW;
  int oh = (i / (O4 * OW)) % OH;
  int n = i / (O4 * OW * OH);
  int c0 = (oc0 / OG) * CG;
  vec4 acc = vec4(0.0);
  for (int kh = 0; kh < KH; kh++) {
    int ih = oh * p[11] + kh * p[13] - p[15];
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      int iw = ow * p[12] + kw * p[14] - p[16];
      if (iw < 0 || iw >= Wd) continue;
      int xb = ((n * H + ih) * Wd + iw) * C + c0;
      int wb = (kh * KW + kw) * CG * O4 + q;
      for (int c = 0; c < CG; c++) {
        acc += texelFetch(t0, at(1, xb + c), 0).r * texelFetch(t1, at(2, wb + c * O4), 0);
      }
    }
  }
  vec4 y = acc;
  {{BIAS}}
  o = {{ACT}};
}
