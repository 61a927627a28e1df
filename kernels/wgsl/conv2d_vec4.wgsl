// kernel: conv2d_vec4 -- conv2d computing 4 adjacent output channels per thread (used when each
//   group's output channels come in multiples of 4): every input value loaded feeds 4 products,
//   and the 4 weights are adjacent in HWIO. Same layouts, bindings and params as conv2d.wgsl.
//   Entry point k_conv2d_vec4.
// bindings: 0 params (u32 words), 1 X (read-only), 2 W (read-only), 3 O (read_write, NHWC).
// params: [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw, pad_top, pad_left]
// dispatch: ceil(N*OH*OW*O/4 / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(256)
fn k_conv2d_vec4(@builtin(global_invocation_id) gid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5]; let OC = p[6];
  let KH = p[7]; let KW = p[8]; let CG = p[9]; let OG = OC / p[10];
  let OC4 = OC / 4u;
  if (i >= p[0] * OH * OW * OC4) { return; }
  let o = (i % OC4) * 4u;
  let ow = (i / OC4) % OW;
  let oh = (i / (OC4 * OW)) % OH;
  let n = i / (OC4 * OW * OH);
  let c0 = (o / OG) * CG;
  var acc = vec4<f32>();
  for (var kh = 0u; kh < KH; kh = kh + 1u) {
    let ih = i32(oh * p[11] + kh * p[13]) - i32(p[15]);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < KW; kw = kw + 1u) {
      let iw = i32(ow * p[12] + kw * p[14]) - i32(p[16]);
      if (iw < 0 || iw >= i32(Wd)) { continue; }
      let xb = ((n * H + u32(ih)) * Wd + u32(iw)) * C + c0;
      var wb = (kh * KW + kw) * CG * OC + o;
      for (var c = 0u; c < CG; c = c + 1u) {
        acc = acc + X[xb + c] * vec4<f32>(W[wb], W[wb + 1u], W[wb + 2u], W[wb + 3u]);
        wb = wb + OC;
      }
    }
  }
  let ob = i * 4u;
  O[ob] = acc.x;
  O[ob + 1u] = acc.y;
  O[ob + 2u] = acc.z;
  O[ob + 3u] = acc.w;
}
