// kernel: pool2d_grad (template) -- maxpool2d_grad / avgpool2d_grad: one thread per input
//   element (n, ih, iw, c) gathers from every window that covers it. Max: the window's first
//   maximum (scan order kh, kw) takes the whole gradient, as in the numpy backend. Mean: each
//   counted cell takes g / count. Python substitutes {{NAME}} (entry point k_{{NAME}}) and
//   {{MAX}}.
// bindings: 0 params (u32 words), 1 X (read-only, the pooled input), 2 G (read-only, NHWC of
//   the output), 3 O (read_write, shape of X).
// params: the pool2d layout [N, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, pad_top, pad_left]
// dispatch: ceil(N*H*W*C / 256) workgroups, folded into (x, y) above 65535.

const IS_MAX: bool = {{MAX}};

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

// Flat X index of window (n, oh, ow, c)'s first maximum (max) or its cell count (mean).
fn window(n: u32, oh: u32, ow: u32, c: u32) -> u32 {
  let H = p[1]; let Wd = p[2]; let C = p[3];
  var best = 0.0;
  var at = 0xffffffffu;
  var count = 0u;
  for (var kh = 0u; kh < p[6]; kh = kh + 1u) {
    let ih = i32(oh * p[8] + kh * p[10]) - i32(p[12]);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < p[7]; kw = kw + 1u) {
      let iw = i32(ow * p[9] + kw * p[11]) - i32(p[13]);
      if (iw < 0 || iw >= i32(Wd)) { continue; }
      let k = ((n * H + u32(ih)) * Wd + u32(iw)) * C + c;
      if (count == 0u || X[k] > best) { best = X[k]; at = k; }
      count = count + 1u;
    }
  }
  if (IS_MAX) { return at; }
  return count;
}

@compute @workgroup_size(256)
fn k_{{NAME}}(@builtin(global_invocation_id) gid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5];
  if (i >= p[0] * H * Wd * C) { return; }
  let c = i % C;
  let iw = i32((i / C) % Wd);
  let ih = i32((i / (C * Wd)) % H);
  let n = i / (C * Wd * H);
  let sh = i32(p[8]); let sw = i32(p[9]);
  var acc = 0.0;
  for (var kh = 0u; kh < p[6]; kh = kh + 1u) {
    let th = ih + i32(p[12]) - i32(kh * p[10]);
    if (th < 0 || th % sh != 0 || th / sh >= i32(OH)) { continue; }
    for (var kw = 0u; kw < p[7]; kw = kw + 1u) {
      let tw = iw + i32(p[13]) - i32(kw * p[11]);
      if (tw < 0 || tw % sw != 0 || tw / sw >= i32(OW)) { continue; }
      let oh = u32(th / sh);
      let ow = u32(tw / sw);
      let g = G[((n * OH + oh) * OW + ow) * C + c];
      let w = window(n, oh, ow, c);
      if (IS_MAX) {
        if (w == i) { acc = acc + g; }
      } else {
        acc = acc + g / f32(max(w, 1u));
      }
    }
  }
  O[i] = acc;
}
