// kernel: gather -- numpy.take(X, idx, axis): O[outer, k, inner] = X[outer, idx[k], inner]
//   ({{T}}: element type; negative indices count from the end, as in numpy). Entry point
//   k_gather.
// bindings: 0 params (u32 words), 1 X (read-only), 2 I (read-only, i32 indices), 3 O
//   (read_write).
// params: [n, K, D, inner]: n output elements, K indices, D = X.shape[axis], inner = product of
//   X.shape[axis+1:].
// dispatch: ceil(n / 256) workgroups, folded into (x, y) above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read> I: array<i32>;
@group(0) @binding(3) var<storage, read_write> O: array<{{T}}>;

@compute @workgroup_size(256)
fn k_gather(@builtin(global_invocation_id) gid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p[0]) { return; }
  let K = p[1]; let D = p[2]; let inner = p[3];
  let e = i % inner;
  let k = (i / inner) % K;
  let outer = i / (inner * K);
  var j = I[k];
  if (j < 0) { j = j + i32(D); }
  let jj = u32(clamp(j, 0, i32(D) - 1));
  O[i] = X[(outer * D + jj) * inner + e];
}
