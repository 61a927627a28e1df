// kernel: conv2d_grad_input -- dL/dX of conv2d: one thread per input element (n, ih, iw, c)
//   sums G[n, oh, ow, o] * W[kh, kw, c % CG, o] over the windows that read it.
//   Entry point k_conv2d_grad_input.
// bindings: 0 params (u32 words), 1 G (read-only, NHWC of the output), 2 W (read-only, HWIO),
//   3 O (read_write, NHWC of the input).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left].
// dispatch: ceil(N*H*W*C / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(256)
fn k_conv2d_grad_input(@builtin(global_invocation_id) gid: vec3<u32>,
                       @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5]; let OC = p[6];
  let KH = p[7]; let KW = p[8]; let CG = p[9]; let OG = OC / p[10];
  let sh = i32(p[11]); let sw = i32(p[12]);
  if (i >= p[0] * H * Wd * C) { return; }
  let c = i % C;
  let iw = i32((i / C) % Wd);
  let ih = i32((i / (C * Wd)) % H);
  let n = i / (C * Wd * H);
  let grp = c / CG;
  let cg = c % CG;
  var acc = 0.0;
  for (var kh = 0u; kh < KH; kh = kh + 1u) {
    let th = ih + i32(p[15]) - i32(kh * p[13]);
    if (th < 0 || th % sh != 0 || th / sh >= i32(OH)) { continue; }
    let oh = u32(th / sh);
    for (var kw = 0u; kw < KW; kw = kw + 1u) {
      let tw = iw + i32(p[16]) - i32(kw * p[14]);
      if (tw < 0 || tw % sw != 0 || tw / sw >= i32(OW)) { continue; }
      let ow = u32(tw / sw);
      let gb = ((n * OH + oh) * OW + ow) * OC + grp * OG;
      let wb = ((kh * KW + kw) * CG + cg) * OC + grp * OG;
      for (var o = 0u; o < OG; o = o + 1u) {
        acc = acc + G[gb + o] * W[wb + o];
      }
    }
  }
  O[i] = acc;
}
