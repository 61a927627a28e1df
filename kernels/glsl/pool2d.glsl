// kernel: pool2d (template) -- maxpool2d / avgpool2d over NHWC X, one fragment per output
//   element. Python substitutes {{MAX}} (true: max, false: mean). Padded cells never win a
//   max and are not counted in a mean (Keras's rule).
// textures: t0 X; output O.
// params: [N, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, pad_top, pad_left]

const bool IS_MAX = {{MAX}};
uniform sampler2D t0;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5];
  int c = i % C;
  int ow = (i / C) % OW;
  int oh = (i / (C * OW)) % OH;
  int n = i / (C * OW * OH);
  float best = 0.0;
  int count = 0;
  float acc = 0.0;
  for (int kh = 0; kh < p[6]; kh++) {
    int ih = oh * p[8] + kh * p[10] - p[12];
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < p[7]; kw++) {
      int iw = ow * p[9] + kw * p[11] - p[13];
      if (iw < 0 || iw >= Wd) continue;
      float v = texelFetch(t0, at(1, ((n * H + ih) * Wd + iw) * C + c), 0).r;
      if (count == 0 || v > best || isnan(v)) best = isnan(best) ? best : v;
      acc += v;
      count++;
    }
  }
  o = IS_MAX ? best : acc / float(max(count, 1));
}
