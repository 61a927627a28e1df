// kernel: argmax -- index (i32) of the first maximum over the reduced axes, one workgroup per
//   output element; {{T}} is the input element type (f32 or i32). Entry point k_argmax.
// bindings: 0 params (u32 words), 1 X (read-only), 2 O (read_write, i32).
// params: the layout of reduce.wgsl: [nout, R, nk, kshape[nk], kstrides[nk], nr, rshape[nr],
//   rstrides[nr]]; the index is the C-order position among the R reduced elements (for a single
//   axis: the position along it; for axis=None: the flat index).
// dispatch: nout workgroups (folded into (x, y) above 65535), 64 threads each.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> O: array<i32>;

var<workgroup> pv: array<{{T}}, 64>;
var<workgroup> pi: array<u32, 64>;

// (value, index) pairs: the larger value wins, ties go to the smaller index; index R = empty.
fn better(v: {{T}}, i: u32, w: {{T}}, j: u32) -> bool {
  return j < 0xffffffffu && (i == 0xffffffffu || w > v || (w == v && j < i));
}

@compute @workgroup_size(64)
fn k_argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  let nout = p[0];
  let R = p[1];
  let nk = p[2];
  let nr = p[3u + 2u * nk];
  var base = 0u;
  var rem = o;
  for (var d = i32(nk) - 1; d >= 0; d = d - 1) {
    let k = u32(d);
    base = base + (rem % p[3u + k]) * p[3u + nk + k];
    rem = rem / p[3u + k];
  }
  var bv: {{T}} = {{T}}(0);
  var bi = 0xffffffffu;
  if (o < nout) {
    for (var r = lid; r < R; r = r + 64u) {
      var idx = base;
      var rr = r;
      for (var d = i32(nr) - 1; d >= 0; d = d - 1) {
        let k = u32(d);
        idx = idx + (rr % p[4u + 2u * nk + k]) * p[4u + 2u * nk + nr + k];
        rr = rr / p[4u + 2u * nk + k];
      }
      let v = X[idx];
      if (better(bv, bi, v, r)) { bv = v; bi = r; }
    }
  }
  pv[lid] = bv;
  pi[lid] = bi;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s && better(pv[lid], pi[lid], pv[lid + s], pi[lid + s])) {
      pv[lid] = pv[lid + s];
      pi[lid] = pi[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u && o < nout) { O[o] = i32(pi[0]); }
}
