// kernel: elementwise (template)  -- one kernel per row of the Python op->expression table
//   (src/wasmdl/backend/webgpu_kernels.py: EXPRESSIONS). The Python side substitutes
//   {{NAME}} (kernel name; entry point k_{{NAME}}), {{TA}} {{TB}} {{TC}} (input element types),
//   {{TO}} (output element type) and {{EXPR}} (a WGSL expression of a, b, c).
// bindings: 0 params (u32 words), 1 A, 2 B, 3 C (read-only; unary ops bind A three times),
//   4 O (read_write).
// params: [n, ndim, shape[ndim], offA, stridesA[ndim], offB, stridesB[ndim], offC, stridesC[ndim]]
//   Strides are in elements; a stride of 0 broadcasts that axis, so broadcasting, transposes
//   and slices of a contiguous buffer all read through this one template.
// dispatch: ceil(n / 256) workgroups, folded into (x, y) when above 65535.

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> A: array<{{TA}}>;
@group(0) @binding(2) var<storage, read> B: array<{{TB}}>;
@group(0) @binding(3) var<storage, read> C: array<{{TC}}>;
@group(0) @binding(4) var<storage, read_write> O: array<{{TO}}>;

// Float helpers used by the expression table (numerically safe forms).
fn tanh_(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn sigmoid_(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn erf_(x: f32) -> f32 {  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                 + 0.254829592) * t * exp(-x * x);
  return sign(x) * y;
}
// sin/cos with Cody-Waite reduction by pi/2 and Cephes' polynomials (SwiftShader's builtins
// are off by ~1e-4, above the float32 test tolerance).
fn sincos_(x: f32, quarter: i32) -> f32 {
  let q = round(x * 0.6366197723675814);
  let r = ((x - q * 1.5703125) - q * 4.837512969970703e-4) - q * 7.549789954891882e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3
                                    + z * 2.443315711809948e-5));
  let n = (i32(q) + quarter) & 3;
  let v = select(s, c, (n & 1) == 1);
  return select(v, -v, n >= 2);
}
fn sin_(x: f32) -> f32 { return sincos_(x, 0); }
fn cos_(x: f32) -> f32 { return sincos_(x, 1); }
fn pow_(a: f32, b: f32) -> f32 {  // numpy semantics: negative bases with integral exponents
  if (b == 0.0) { return 1.0; }
  let r = pow(abs(a), b);
  if (a >= 0.0) { return r; }
  if (floor(b) != b) { return bitcast<f32>(p[1] | 0x7fc00000u); }  // NaN (runtime: WGSL
  // constant expressions may not hold NaN or infinity)
  return select(r, -r, floor(b * 0.5) * 2.0 != b);
}

@compute @workgroup_size(256)
fn k_{{NAME}}(@builtin(global_invocation_id) gid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p[0]) { return; }
  let nd = p[1];
  var rem = i;
  var ia = p[2u + nd];
  var ib = p[3u + 2u * nd];
  var ic = p[4u + 3u * nd];
  for (var d = i32(nd) - 1; d >= 0; d = d - 1) {
    let k = u32(d);
    let coord = rem % p[2u + k];
    rem = rem / p[2u + k];
    ia = ia + coord * p[3u + nd + k];
    ib = ib + coord * p[4u + 2u * nd + k];
    ic = ic + coord * p[5u + 3u * nd + k];
  }
  let a = A[ia];
  let b = B[ib];
  let c = C[ic];
  O[i] = {{EXPR}};
}
