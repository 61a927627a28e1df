// kernel: reduce_serial (template) -- sum / max / min over any set of axes, one thread per
//   output element looping over its R inputs. No barriers: the fast form on SwiftShader when
//   there are many outputs or few inputs each (reduce.wgsl, a workgroup tree, serves the rest).
//   Python (webgpu_kernels.py: REDUCTIONS) substitutes {{NAME}} (entry point k_{{NAME}}),
//   {{T}} (element type), {{INIT}} (identity) and {{COMBINE}} (expression of x, y).
// bindings: 0 params (u32 words), 1 X (read-only), 2 O (read_write).
// params: the reduce.wgsl layout [nout, R, nk, kshape[nk], kstrides[nk], nr, rshape[nr],
//   rstrides[nr]].
// dispatch: ceil(nout / 64) workgroups (folded into (x, y) above 65535), 64 threads each.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> O: array<{{T}}>;

fn combine(x: {{T}}, y: {{T}}) -> {{T}} { return {{COMBINE}}; }

@compute @workgroup_size(64)
fn k_{{NAME}}(@builtin(global_invocation_id) gid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * 64u;
  let nout = p[0];
  if (o >= nout) { return; }
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
  if (nr == 1u) {  // one reduced axis (the common case): a plain strided loop
    let st = p[5u + 2u * nk];
    for (var r = 0u; r < R; r = r + 1u) { acc = combine(acc, X[base + r * st]); }
  } else {
    for (var r = 0u; r < R; r = r + 1u) {
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
  O[o] = acc;
}
