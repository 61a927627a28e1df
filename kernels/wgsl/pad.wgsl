// kernel: pad -- O = X surrounded by a constant: O[i] = X[coords - before] inside, value
//   outside. {{T}}: element type (f32, i32, or u32 for bool). Entry point k_pad.
// bindings: 0 params (u32 words), 1 X (read-only), 2 O (read_write).
// params: [n, nd, oshape[nd], before[nd], xshape[nd], value (bits of a {{T}})]
// dispatch: ceil(n / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> O: array<{{T}}>;

@compute @workgroup_size(256)
fn k_pad(@builtin(global_invocation_id) gid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p[0]) { return; }
  let nd = p[1];
  var rem = i;
  var xi = 0u;
  var xs = 1u;
  var inside = true;
  for (var d = i32(nd) - 1; d >= 0; d = d - 1) {
    let k = u32(d);
    let c = i32(rem % p[2u + k]) - i32(p[2u + nd + k]);
    rem = rem / p[2u + k];
    let xd = p[2u + 2u * nd + k];
    if (c < 0 || c >= i32(xd)) { inside = false; }
    xi = xi + u32(c) * xs;
    xs = xs * xd;
  }
  if (inside) { O[i] = X[xi]; } else { O[i] = bitcast<{{T}}>(p[2u + 3u * nd]); }
}
