// kernel: conv2d_grad_weight -- dL/dW of conv2d: one thread per weight element
//   (kh, kw, cg, o) sums X[n, ih, iw, group * CG + cg] * G[n, oh, ow, o] over the N*OH*OW
//   output positions. No workgroup tree: on SwiftShader barriers cost more than the longer
//   loops (a 64-thread tree per weight measured 10x slower). Entry point k_conv2d_grad_weight.
// bindings: 0 params (u32 words), 1 X (read-only, NHWC), 2 G (read-only, NHWC of the output),
//   3 O (read_write, HWIO).
// params: the conv2d layout [N, H, W, C, OH, OW, O, KH, KW, CG, groups, sh, sw, dh, dw,
//   pad_top, pad_left].
// dispatch: ceil(KH*KW*CG*O / 64) workgroups (folded into (x, y) above 65535), 64 threads.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(64)
fn k_conv2d_grad_weight(@builtin(global_invocation_id) gid: vec3<u32>,
                        @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let N = p[0]; let H = p[1]; let Wd = p[2]; let C = p[3]; let OH = p[4]; let OW = p[5];
  let OC = p[6]; let KH = p[7]; let KW = p[8]; let CG = p[9]; let OG = OC / p[10];
  if (e >= KH * KW * CG * OC) { return; }
  let o = e % OC;
  let cg = (e / OC) % CG;
  let kw = (e / (OC * CG)) % KW;
  let kh = e / (OC * CG * KW);
  let c = (o / OG) * CG + cg;
  var acc = 0.0;
  for (var n = 0u; n < N; n = n + 1u) {
    for (var oh = 0u; oh < OH; oh = oh + 1u) {
      let ih = i32(oh * p[11] + kh * p[13]) - i32(p[15]);
      if (ih < 0 || ih >= i32(H)) { continue; }
      let xrow = (n * H + u32(ih)) * Wd;
      let grow = (n * OH + oh) * OW;
      for (var ow = 0u; ow < OW; ow = ow + 1u) {
        let iw = i32(ow * p[12] + kw * p[14]) - i32(p[16]);
        if (iw >= 0 && iw < i32(Wd)) {
          acc = acc + X[(xrow + u32(iw)) * C + c] * G[(grow + ow) * OC + o];
        }
      }
    }
  }
  O[e] = acc;
}
