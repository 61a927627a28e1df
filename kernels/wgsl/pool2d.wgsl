// kernel: pool2d (template) -- maxpool2d / avgpool2d over NHWC X, one thread per output
//   element. Python substitutes {{NAME}} (entry point k_{{NAME}}) and {{MAX}} (true: max,
//   false: mean). Padded cells never win a max and are not counted in a mean (Keras's rule).
// bindings: 0 params (u32 words), 1 X (read-only), 2 O (read_write).
// params: [N, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, pad_top, pad_left]
// dispatch: ceil(N*OH*OW*C / 256) workgroups, folded into (x, y) above 65535.

const IS_MAX: bool = {{MAX}};

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(256)
fn k_{{NAME}}(@builtin(global_invocation_id) gid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5];
  if (i >= p[0] * OH * OW * C) { return; }
  let c = i % C;
  let ow = (i / C) % OW;
  let oh = (i / (C * OW)) % OH;
  let n = i / (C * OW * OH);
  var best = 0.0;
  var count = 0u;
  var acc = 0.0;
  for (var kh = 0u; kh < p[6]; kh = kh + 1u) {
    let ih = i32(oh * p[8] + kh * p[10]) - i32(p[12]);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < p[7]; kw = kw + 1u) {
      let iw = i32(ow * p[9] + kw * p[11]) - i32(p[13]);
      if (iw < 0 || iw >= i32(Wd)) { continue; }
      let v = X[((n * H + u32(ih)) * Wd + u32(iw)) * C + c];
      if (count == 0u || v > best) { best = v; }
      acc = acc + v;
      count = count + 1u;
    }
  }
  if (IS_MAX) { O[i] = best; } else { O[i] = acc / f32(max(count, 1u)); }
}
