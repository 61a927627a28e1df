// kernel: conv2d_grad_weight -- dL/dW of conv2d: one workgroup per weight element
//   (kh, kw, cg, o); its 64 threads stride over the N*OH*OW output positions summing
//   X[n, ih, iw, group * CG + cg] * G[n, oh, ow, o], then combine in workgroup memory.
//   Entry point k_conv2d_grad_weight.
// bindings: 0 params (u32 words), 1 X (read-only, NHWC), 2 G (read-only, NHWC of the output),
//   3 O (read_write, HWIO).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left].
// dispatch: KH*KW*CG*O workgroups (folded into (x, y) above 65535), 64 threads each.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn k_conv2d_grad_weight(@builtin(workgroup_id) wid: vec3<u32>,
                        @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let e = wid.x + wid.y * nwg.x;
  let N = p[0]; let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5];
  let OC = p[6]; let KH = p[7]; let KW = p[8]; let CG = p[9]; let OG = OC / p[10];
  let total = KH * KW * CG * OC;
  let o = e % OC;
  let cg = (e / OC) % CG;
  let kw = (e / (OC * CG)) % KW;
  let kh = e / (OC * CG * KW);
  let c = (o / OG) * CG + cg;
  var acc = 0.0;
  if (e < total) {
    for (var r = lid; r < N * OH * OW; r = r + 64u) {
      let ow = r % OW;
      let oh = (r / OW) % OH;
      let n = r / (OW * OH);
      let ih = i32(oh * p[11] + kh * p[13]) - i32(p[15]);
      let iw = i32(ow * p[12] + kw * p[14]) - i32(p[16]);
      if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(Wd)) {
        acc = acc + X[((n * H + u32(ih)) * Wd + u32(iw)) * C + c] * G[r * OC + o];
      }
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u && e < total) { O[e] = part[0]; }
}
