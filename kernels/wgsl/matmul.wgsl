// kernel: matmul -- batched C[b] = A[b] @ B[b] ({{T}}: f32 or i32), tiled through workgroup
//   memory: the default on hardware GPUs (matmul_regs.wgsl serves CPU-emulated adapters).
//   A and B are read through strides, so transposed operands (the VJP's A^T and B^T) and
//   broadcast batches need no copy. Entry point k_matmul.
// bindings: 0 params (u32 words), 1 A (read-only), 2 B (read-only), 3 C (read_write, dense
//   [batch, M, N]).
// params: [M, N, K, nb, bshape[nb], abstrides[nb], bbstrides[nb], sam, sak, sbk, sbn]
//   bshape: the output batch dims; abstrides/bbstrides: each operand's batch strides (0 where
//   broadcast); sam, sak / sbk, sbn: the row and column strides of A and B. All in elements.
// dispatch: (ceil(N / 16), ceil(M / 16), batch) workgroups of 16x16 threads; each thread
//   computes one C element, a 16x16 tile of A and of B is staged in workgroup memory per step.

const TS: u32 = 16u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> A: array<{{T}}>;
@group(0) @binding(2) var<storage, read> B: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> C: array<{{T}}>;

var<workgroup> ta: array<array<{{T}}, 16>, 16>;
var<workgroup> tb: array<array<{{T}}, 16>, 16>;

@compute @workgroup_size(16, 16)
fn k_matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p[0];
  let N = p[1];
  let K = p[2];
  let nb = p[3];
  let sam = p[4u + 3u * nb];
  let sak = p[5u + 3u * nb];
  let sbk = p[6u + 3u * nb];
  let sbn = p[7u + 3u * nb];
  var rem = wid.z;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(nb) - 1; d >= 0; d = d - 1) {
    let k = u32(d);
    let c = rem % p[4u + k];
    rem = rem / p[4u + k];
    oa = oa + c * p[4u + nb + k];
    ob = ob + c * p[4u + 2u * nb + k];
  }
  let row = wid.y * TS + lid.y;
  let col = wid.x * TS + lid.x;
  var acc: {{T}} = {{T}}(0);
  let ntiles = (K + TS - 1u) / TS;
  for (var t = 0u; t < ntiles; t = t + 1u) {
    let ka = t * TS + lid.x;
    let kb = t * TS + lid.y;
    var va: {{T}} = {{T}}(0);
    var vb: {{T}} = {{T}}(0);
    if (row < M && ka < K) { va = A[oa + row * sam + ka * sak]; }
    if (kb < K && col < N) { vb = B[ob + kb * sbk + col * sbn]; }
    ta[lid.y][lid.x] = va;
    tb[lid.y][lid.x] = vb;
    workgroupBarrier();
    for (var k = 0u; k < TS; k = k + 1u) {
      acc = acc + ta[lid.y][k] * tb[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < M && col < N) {
    C[(wid.z * M + row) * N + col] = acc;
  }
}
