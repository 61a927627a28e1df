// kernel: slice_grad -- scatter G (the gradient of a slice) into zeros of the input's shape:
//   O[i] = G[q] when i lies on the slice lattice start + q * step, else 0. {{T}}: f32 or i32.
//   Entry point k_slice_grad.
// bindings: 0 params (u32 words), 1 G (read-only), 2 O (read_write).
// params: [n, nd, shape[nd], starts[nd], steps[nd] (i32 bits), counts[nd], gstrides[nd]]
// dispatch: ceil(n / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> G: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> O: array<{{T}}>;

@compute @workgroup_size(256)
fn k_slice_grad(@builtin(global_invocation_id) gid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p[0]) { return; }
  let nd = p[1];
  var rem = i;
  var gi = 0u;
  var hit = true;
  for (var d = i32(nd) - 1; d >= 0; d = d - 1) {
    let k = u32(d);
    let coord = i32(rem % p[2u + k]);
    rem = rem / p[2u + k];
    let diff = coord - bitcast<i32>(p[2u + nd + k]);
    let step = bitcast<i32>(p[2u + 2u * nd + k]);
    let q = diff / step;
    if (diff % step != 0 || q < 0 || u32(q) >= p[2u + 3u * nd + k]) { hit = false; }
    gi = gi + u32(q) * p[2u + 4u * nd + k];
  }
  if (hit) { O[i] = G[gi]; } else { O[i] = {{T}}(0); }
}
