// kernel: scatter_add -- the VJP of gather: O[outer, j, inner] = sum of G[outer, k, inner] over
//   every k with idx[k] == j (negative indices count from the end). One thread per output
//   element loops over the K indices, so there are no write races and no float atomics.
//   {{T}}: element type. Entry point k_scatter_add.
// bindings: 0 params (u32 words), 1 G (read-only), 2 I (read-only, i32 indices), 3 O
//   (read_write).
// params: [n, K, D, inner]: n output elements, K indices, D = O.shape[axis], inner = product of
//   O.shape[axis+1:].
// dispatch: ceil(n / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> G: array<{{T}}>;
@group(0) @binding(2) var<storage, read> I: array<i32>;
@group(0) @binding(3) var<storage, read_write> O: array<{{T}}>;

@compute @workgroup_size(256)
fn k_scatter_add(@builtin(global_invocation_id) gid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p[0]) { return; }
  let K = p[1]; let D = p[2]; let inner = p[3];
  let e = i % inner;
  let j = i32((i / inner) % D);
  let outer = i / (inner * D);
  var acc: {{T}} = {{T}}(0);
  for (var k = 0u; k < K; k = k + 1u) {
    var t = I[k];
    if (t < 0) { t = t + i32(D); }
    if (t == j) { acc = acc + G[(outer * K + k) * inner + e]; }
  }
  O[i] = acc;
}
