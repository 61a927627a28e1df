// kernel: matmul_vec4 -- float32 C[b] = A[b] @ B[b] for contiguous operands whose K and N are
//   multiples of 4 (the common case in training: the VJP's transposes are contiguous copies).
//   Like matmul_regs (no workgroup memory or barriers, a 4x4 block of C per thread), but A and B
//   are read as vec4: 8 loads feed 64 multiply-adds. Entry point k_matmul_vec4.
// bindings: 0 params (u32 words), 1 A (read-only, vec4 rows along K), 2 B (read-only, vec4 rows
//   along N), 3 C (read_write, dense [batch, M, N]).
// params: the matmul layout [M, N, K, nb, bshape[nb], abstrides[nb], bbstrides[nb], sam, sak,
//   sbk, sbn] with sam = K, sak = 1, sbk = N, sbn = 1 (strides in floats).
// dispatch: (ceil(N / 32), ceil(M / 32), batch) workgroups of 8x8 threads.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;

@compute @workgroup_size(8, 8)
fn k_matmul_vec4(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p[0];
  let N = p[1];
  let K = p[2];
  let nb = p[3];
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
  let K4 = K / 4u;
  let N4 = N / 4u;
  let r0 = wid.y * 32u + lid.y * 4u;
  let c4 = min(wid.x * 8u + lid.x, N4 - 1u);  // this thread's vec4 column of C
  let a0 = (oa / 4u) + min(r0, M - 1u) * K4;
  let a1 = (oa / 4u) + min(r0 + 1u, M - 1u) * K4;
  let a2 = (oa / 4u) + min(r0 + 2u, M - 1u) * K4;
  let a3 = (oa / 4u) + min(r0 + 3u, M - 1u) * K4;
  let bb = ob / 4u + c4;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var k = 0u; k < K4; k = k + 1u) {
    let kb = bb + 4u * k * N4;
    let b0 = B[kb];
    let b1 = B[kb + N4];
    let b2 = B[kb + 2u * N4];
    let b3 = B[kb + 3u * N4];
    let x0 = A[a0 + k];
    let x1 = A[a1 + k];
    let x2 = A[a2 + k];
    let x3 = A[a3 + k];
    acc0 = acc0 + x0.x * b0 + x0.y * b1 + x0.z * b2 + x0.w * b3;
    acc1 = acc1 + x1.x * b0 + x1.y * b1 + x1.z * b2 + x1.w * b3;
    acc2 = acc2 + x2.x * b0 + x2.y * b1 + x2.z * b2 + x2.w * b3;
    acc3 = acc3 + x3.x * b0 + x3.y * b1 + x3.z * b2 + x3.w * b3;
  }
  if (wid.x * 8u + lid.x >= N4) { return; }
  let cb = wid.z * M * N4 + c4;
  if (r0 < M) { C[cb + r0 * N4] = acc0; }
  if (r0 + 1u < M) { C[cb + (r0 + 1u) * N4] = acc1; }
  if (r0 + 2u < M) { C[cb + (r0 + 2u) * N4] = acc2; }
  if (r0 + 3u < M) { C[cb + (r0 + 3u) * N4] = acc3; }
}
