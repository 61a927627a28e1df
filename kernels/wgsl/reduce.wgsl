// kernel: reduce (template) -- sum / max / min / prod over any set of axes, one workgroup per
//   output element. Python (webgpu_kernels.py: REDUCTIONS) substitutes {{NAME}} (entry point
//   k_{{NAME}}), {{T}} (element type), {{INIT}} (identity), {{COMBINE}} (expression of x, y).
// bindings: 0 params (u32 words), 1 X (read-only), 2 O (read_write).
// params: [nout, R, nk, kshape[nk], kstrides[nk], nr, rshape[nr], rstrides[nr]]
//   kshape/kstrides: the kept axes (output layout), rshape/rstrides: the reduced axes (R
//   elements in all). Strides are in elements of X.
// dispatch: nout workgroups (folded into (x, y) above 65535), 64 threads each; every thread
//   strides over R, then a tree in workgroup memory combines the 64 partials.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> O: array<{{T}}>;

var<workgroup> part: array<{{T}}, 64>;

fn combine(x: {{T}}, y: {{T}}) -> {{T}} { return {{COMBINE}}; }

@compute @workgroup_size(64)
fn k_{{NAME}}(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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
  var acc: {{T}} = {{INIT}};
  if (o < nout) {
    for (var r = lid; r < R; r = r + 64u) {
      var idx = base;
      var rr = r;
      for (var d = i32(nr) - 1; d >= 0; d = d - 1) {
        let k = u32(d);
        idx = idx + (rr % p[4u + 2u * nk + k]) * p[4u + 2u * nk + nr + k];
        rr = rr / p[4u + 2u * nk + k];
      }
      acc = combine(acc, X[idx]);
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = combine(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u && o < nout) { O[o] = part[0]; }
}
