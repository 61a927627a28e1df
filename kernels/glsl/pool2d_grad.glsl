// kernel: pool2d_grad (template) -- maxpool2d_grad / avgpool2d_grad: one fragment per input
//   element (n, ih, iw, c) gathers from every window that covers it. Max: the window's first
//   maximum (scan order kh, kw) takes the whole gradient, as in the numpy backend. Mean: each
//   counted cell takes g / count. Python substitutes {{MAX}}.
// textures: t0 X (the pooled input), t1 G (NHWC of the output); output O (shape of X).
// params: the pool2d layout [N, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, pad_top, pad_left]

const bool IS_MAX = {{MAX}};
uniform sampler2D t0;
uniform sampler2D t1;
out float o;

// Flat X index of window (n, oh, ow, c)'s first maximum (max) or its cell count (mean).
int window_(int n, int oh, int ow, int c) {
  int H = p[1], Wd = p[2], C = p[3];
  float best = 0.0;
  int at_ = -1;
  int count = 0;
  for (int kh = 0; kh < p[6]; kh++) {
    int ih = oh * p[8] + kh * p[10] - p[12];
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < p[7]; kw++) {
      int iw = ow * p[9] + kw * p[11] - p[13];
      if (iw < 0 || iw >= Wd) continue;
      int k = ((n * H + ih) * Wd + iw) * C + c;
      float v = texelFetch(t0, at(1, k), 0).r;
      if (count == 0 || (!isnan(best) && (v > best || isnan(v)))) {
        best = v;
        at_ = k;
      }
      count++;
    }
  }
  return IS_MAX ? at_ : count;
}

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int H = p[1], Wd = p[2], C = p[3], OH = p[4], OW = p[5];
  int c = i % C;
  int iw = (i / C) % Wd;
  int ih = (i / (C * Wd)) % H;
  int n = i / (C * Wd * H);
  int sh = p[8], sw = p[9];
  float acc = 0.0;
  for (int kh = 0; kh < p[6]; kh++) {
    int th = ih + p[12] - kh * p[10];
    if (th < 0 || th % sh != 0 || th / sh >= OH) continue;
    for (int kw = 0; kw < p[7]; kw++) {
      int tw = iw + p[13] - kw * p[11];
      if (tw < 0 || tw % sw != 0 || tw / sw >= OW) continue;
      int oh = th / sh;
      int ow = tw / sw;
      float g = texelFetch(t1, at(2, ((n * OH + oh) * OW + ow) * C + c), 0).r;
      int w = window_(n, oh, ow, c);
      if (IS_MAX) {
        if (w == i) acc += g;
      } else {
        acc += g / float(max(w, 1));
      }
    }
  }
  o = acc;
}
