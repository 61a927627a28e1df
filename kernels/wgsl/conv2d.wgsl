// kernel: conv2d -- direct 2-D cross-correlation, NHWC input X, HWIO weights W (groups,
//   strides, dilation, explicit padding), one thread per output element. Entry point k_conv2d.
// bindings: 0 params (u32 words), 1 X (read-only), 2 W (read-only), 3 O (read_write, NHWC).
// params (shared by the conv2d_* kernels):
//   [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw, pad_top, pad_left]
//   CG = C / groups input channels per group; output channel o belongs to group o / (O/groups).
// dispatch: ceil(N*OH*OW*O / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(256)
fn k_conv2d(@builtin(global_invocation_id) gid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5]; let OC = p[6];
  let KH = p[7]; let KW = p[8]; let CG = p[9]; let OG = OC / p[10];
  if (i >= p[0] * OH * OW * OC) { return; }
  let o = i % OC;
  let ow = (i / OC) % OW;
  let oh = (i / (OC * OW)) % OH;
  let n = i / (OC * OW * OH);
  let c0 = (o / OG) * CG;
  var acc = 0.0;
  for (var kh = 0u; kh < KH; kh = kh + 1u) {
    let ih = i32(oh * p[11] + kh * p[13]) - i32(p[15]);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < KW; kw = kw + 1u) {
      let iw = i32(ow * p[12] + kw * p[14]) - i32(p[16]);
      if (iw < 0 || iw >= i32(Wd)) { continue; }
      let xb = ((n * H + u32(ih)) * Wd + u32(iw)) * C + c0;
      let wb = (kh * KW + kw) * CG * OC + o;
      for (var c = 0u; c < CG; c = c + 1u) {
        acc = acc + X[xb + c] * W[wb + c * OC];
      }
    }
  }
  O[i] = acc;
}
