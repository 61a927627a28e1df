// kernel: dense -- a Dense layer's act(x @ w + b) from matmul_block's 2x2 blocks: lays them out
//   as the [M, N] float32 tensor (as unpack2x2.glsl does), adds the bias and applies the
//   activation in the same pass (the add and relu draws it replaces read and wrote the whole
//   output each). Entry name: dense.
// textures: t0 blocks (RGBA32F), t1 bias (R32F, N elements); output O (R32F).
// params: [M, N]

uniform sampler2D t0;
uniform sampler2D t1;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1];
  int N2 = (N + 1) / 2;
  int c = i % N;
  int r = i / N;
  vec4 v = texelFetch(t0, at(1, (r / 2) * N2 + c / 2), 0);
  int k = 2 * (r & 1) + (c & 1);
  float y = dot(v, vec4(equal(ivec4(k), ivec4(0, 1, 2, 3)))) + texelFetch(t1, at(2, c), 0).x;
  o = {{ACT}};
}
