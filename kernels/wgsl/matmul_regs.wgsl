// kernel: matmul_regs -- the matmul variant for CPU-emulated adapters (SwiftShader): batched
//   C[b] = A[b] @ B[b] ({{T}}: f32 or i32). Each thread keeps a 4x4
//   block of C in registers and streams A's 4 rows and B's 4 columns along K. No workgroup
//   memory or barriers: on SwiftShader (a CPU) a barrier costs far more than the cache-served
//   loads it would save (a 16x16 shared-memory tiling measured 40x slower here).
//   A and B are read through strides, so transposed operands (the VJP's A^T and B^T) and
//   broadcast batches need no copy. Entry point k_matmul_regs; same params as matmul.wgsl.
// bindings: 0 params (u32 words), 1 A (read-only), 2 B (read-only), 3 C (read_write, dense
//   [batch, M, N]).
// params: [M, N, K, nb, bshape[nb], abstrides[nb], bbstrides[nb], sam, sak, sbk, sbn]
//   bshape: the output batch dims; abstrides/bbstrides: each operand's batch strides (0 where
//   broadcast); sam, sak / sbk, sbn: the row and column strides of A and B. All in elements.
// dispatch: (ceil(N / 32), ceil(M / 32), batch) workgroups of 8x8 threads (a 32x32 C tile).

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> A: array<{{T}}>;
@group(0) @binding(2) var<storage, read> B: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> C: array<{{T}}>;

@compute @workgroup_size(8, 8)
fn k_matmul_regs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
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
  let r0 = wid.y * 32u + lid.y * 4u;
  let c0 = wid.x * 32u + lid.x * 4u;
  // Rows/columns past the edge re-read the last valid one (no branches in the K loop).
  let ra0 = oa + min(r0, M - 1u) * sam;
  let ra1 = oa + min(r0 + 1u, M - 1u) * sam;
  let ra2 = oa + min(r0 + 2u, M - 1u) * sam;
  let ra3 = oa + min(r0 + 3u, M - 1u) * sam;
  let cb0 = ob + min(c0, N - 1u) * sbn;
  let cb1 = ob + min(c0 + 1u, N - 1u) * sbn;
  let cb2 = ob + min(c0 + 2u, N - 1u) * sbn;
  let cb3 = ob + min(c0 + 3u, N - 1u) * sbn;
  var acc0 = vec4<{{T}}>();
  var acc1 = vec4<{{T}}>();
  var acc2 = vec4<{{T}}>();
  var acc3 = vec4<{{T}}>();
  for (var k = 0u; k < K; k = k + 1u) {
    let kb = k * sbk;
    let bk = vec4<{{T}}>(B[cb0 + kb], B[cb1 + kb], B[cb2 + kb], B[cb3 + kb]);
    let ak = k * sak;
    acc0 = acc0 + A[ra0 + ak] * bk;
    acc1 = acc1 + A[ra1 + ak] * bk;
    acc2 = acc2 + A[ra2 + ak] * bk;
    acc3 = acc3 + A[ra3 + ak] * bk;
  }
  let acc = array<vec4<{{T}}>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = r0 + i;
    if (r < M) {
      for (var j = 0u; j < 4u; j = j + 1u) {
        if (c0 + j < N) { C[(wid.z * M + r) * N + c0 + j] = acc[i][j]; }
      }
    }
  }
}
