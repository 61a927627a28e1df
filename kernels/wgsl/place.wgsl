// kernel: place -- write all of X into a strided region of O (concat: one dispatch per input,
//   each placing its block at an offset along the axis). {{T}}: element type. Entry point
//   k_place.
// bindings: 0 params (u32 words), 1 X (read-only, contiguous), 2 O (read_write).
// params: [n, nd, xshape[nd], ostrides[nd], offset]: X's n elements go to
//   O[offset + sum(coord[d] * ostrides[d])].
// dispatch: ceil(n / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> O: array<{{T}}>;

@compute @workgroup_size(256)
fn k_place(@builtin(global_invocation_id) gid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p[0]) { return; }
  let nd = p[1];
  var rem = i;
  var oi = p[2u + 2u * nd];
  for (var d = i32(nd) - 1; d >= 0; d = d - 1) {
    let k = u32(d);
    oi = oi + (rem % p[2u + k]) * p[2u + nd + k];
    rem = rem / p[2u + k];
  }
  O[oi] = X[i];
}
